"""The note editor: a text area over the screen for an event's or a counterpart's note.

Opened with `N` on the timeline, the event box and the counterparts screen. ctrl+s
commits a new version through the session *before* the box closes: when the save
is refused (too long, a full disk), the box stays open with the text as typed, so
nothing written is lost. escape closes it; with unsaved changes, only a second
escape does, so a tired key press cannot throw a readout away.

When two laptops edited the note before syncing, both versions are put in the
text area one after the other, each under a line saying whose it is, and saving
them (as they are, or merged by hand) replaces both.
"""

from __future__ import annotations

from typing import ClassVar
from zoneinfo import ZoneInfo

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Static, TextArea

from tripdash.domain.records import NoteVersion, RecordError
from tripdash.domain.store import StoreError
from tripdash.messages import NoteSaved
from tripdash.recorded import written
from tripdash.screens.base import TripScreen
from tripdash.session import Session
from tripdash.widgets.keybar import KeyBar


def editable_text(versions: list[NoteVersion], me: str, home: ZoneInfo) -> str:
    """The text the editor starts with: the note, or every conflicting version in turn."""
    if not versions:
        return ""
    if len(versions) == 1:
        return versions[0].text
    parts = [
        f"──── version {i} of {len(versions)}, {written(v, me, home)} ────\n{v.text}"
        for i, v in enumerate(versions, 1)
    ]
    return "\n\n".join(parts)


class NoteScreen(TripScreen, ModalScreen[None]):
    """Write or change the note of one item; saved as a new version."""

    HELP_GROUP = "Note"

    BINDINGS: ClassVar[list[BindingType]] = [
        # Priority: the text area would otherwise take both keys as typing.
        Binding("ctrl+s", "save", "Save", priority=True, id="note.save"),
        Binding("escape", "cancel", "Cancel", priority=True, id="note.cancel"),
    ]

    DEFAULT_CSS = """
    NoteScreen {
        align: center middle;
    }
    NoteScreen > Vertical {
        width: 90;
        max-width: 100%;
        height: 80%;
        border: round $primary;
        background: $surface;
        padding: 0 1;
    }
    NoteScreen #note-title {
        text-style: bold;
    }
    NoteScreen #note-about {
        color: $text-muted;
    }
    NoteScreen #note-conflict {
        color: $text-warning;
    }
    NoteScreen TextArea {
        height: 1fr;
    }
    """

    def __init__(self, session: Session, key: str, item_id: str, label: str) -> None:
        super().__init__(session, key)
        self.item_id = item_id
        self.label = label
        self._versions = session.note(key, item_id)
        self._start = editable_text(self._versions, session.options.who, self.trip.home_tz)
        self._warned = False

    def compose(self) -> ComposeResult:
        home = self.trip.home_tz
        with Vertical():
            yield Static(f"Note: {self.label}", id="note-title", markup=False)
            if len(self._versions) == 1:
                options = self.session.options
                saved = written(self._versions[0], options.who, home, options.time_format)
                about = f"Last saved {saved}"
            elif not self._versions:
                about = "No note yet. ctrl+s saves, escape closes."
            else:
                about = ""
            if about:
                yield Static(about, id="note-about", markup=False)
            if len(self._versions) > 1:
                yield Static(
                    f"⚠ {len(self._versions)} versions: this note was edited on two laptops "
                    "before they synced. Both are below; saving keeps what the box holds "
                    "and replaces both.",
                    id="note-conflict",
                    markup=False,
                )
            yield TextArea(self._start, id="note-text", soft_wrap=True, show_line_numbers=False)
        yield KeyBar()

    def on_mount(self) -> None:
        area = self.query_one(TextArea)
        area.focus()
        area.move_cursor(area.document.end)

    @property
    def text(self) -> str:
        return self.query_one(TextArea).text

    def action_save(self) -> None:
        """Commit the text as a new version, then close (stay open when refused)."""
        text = self.text
        if text == self._start and len(self._versions) <= 1:
            self.dismiss(None)  # nothing changed: no new version
            return
        try:
            # Replacing only what the box showed: a version that arrived meanwhile stays.
            self.session.save_note(self.key, self.item_id, text, [v.id for v in self._versions])
        except (RecordError, StoreError) as exc:
            self.notify(
                f"{exc}. The note is still here.",
                title="Note not saved",
                severity="error",
                timeout=10,
            )
            return
        self.app.post_message(NoteSaved(self.key, self.item_id))
        self.notify(
            "Note deleted" if not text.strip() else f"Note saved: {self.label}", timeout=2.5
        )
        self.dismiss(None)

    def action_cancel(self) -> None:
        if self.text != self._start and not self._warned:
            self._warned = True
            self.notify(
                "Unsaved note: escape again to throw it away, ctrl+s to save",
                severity="warning",
                timeout=4,
            )
            return
        self.dismiss(None)

    def records_changed(self) -> None:
        # Another laptop's version arrived while typing: say so; saving merges it in
        # (the new version replaces every version current when it is saved).
        fresh = self.session.note(self.key, self.item_id)
        if [v.id for v in fresh] != [v.id for v in self._versions]:
            self.notify(
                "Someone else saved this note meanwhile: their version is kept beside "
                "yours when you save (both are shown until merged)",
                severity="warning",
                timeout=8,
            )
