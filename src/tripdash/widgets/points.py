"""A list of talking points with their done state; space or x toggles the highlighted one."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from typing import ClassVar

from rich.text import Text
from textual.binding import Binding, BindingType
from textual.message import Message
from textual.widgets import OptionList
from textual.widgets.option_list import Option

from tripdash.domain.model import Counterpart, TalkingPoint
from tripdash.domain.people import covered_count
from tripdash.domain.text import one_line


class PointList(OptionList):
    """Talking points, each ``☐``/``☑``; optionally under their counterpart's name."""

    HELP_GROUP = "Talking points"

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("space,x", "toggle_point", "Done / not done", id="points.toggle"),
        Binding("j", "cursor_down", "Down", show=False, id="points.down"),
        Binding("k", "cursor_up", "Up", show=False, id="points.up"),
    ]

    DEFAULT_CSS = """
    PointList {
        height: auto;
        max-height: 100%;
        border: none;
        background: $surface;
        padding: 0;
    }
    PointList:focus {
        border: none;
    }
    """

    class Toggle(Message):
        """The user asked to flip ``point``'s done state."""

        def __init__(self, point: TalkingPoint) -> None:
            self.point = point
            super().__init__()

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._points: list[TalkingPoint] = []
        #: The order the points are shown in, kept while the same points are shown.
        self._order: list[str] = []

    def set_points(
        self,
        groups: Sequence[tuple[Counterpart, Sequence[TalkingPoint]]],
        done: Collection[str],
        *,
        headings: bool = True,
        reorder: bool = False,
    ) -> None:
        """Show ``groups`` of points, keeping the highlight on the same point where possible.

        While the same points are shown, their order stays put (ticking one must not
        move it, and the cursor with it, to the end of the list: people tick points in
        order during a meeting); the order given is taken when the points are others,
        or with ``reorder`` (say, when the event has just started and its open points
        go first).
        """
        keep = self.highlighted_point
        ids = [p.item_id for _, points in groups for p in points]
        if not reorder and sorted(ids) == sorted(self._order):
            rank = {item_id: i for i, item_id in enumerate(self._order)}
            groups = [(c, sorted(points, key=lambda p: rank[p.item_id])) for c, points in groups]
            ids = [p.item_id for _, points in groups for p in points]
        self._order = ids
        self._points = []
        options: list[Option | None] = []
        for counterpart, points in groups:
            if headings:
                covered = covered_count(counterpart, done)
                title = Text(one_line(counterpart.name), style="bold")
                title.append(f"  {covered}/{len(counterpart.talking_points)} covered", "dim")
                options.append(Option(title, disabled=True))
            for point in points:
                box = "☑ " if point.item_id in done else "☐ "
                prompt = Text(box)
                prompt.append(one_line(point.text), "dim" if point.item_id in done else "")
                options.append(Option(prompt, id=point.item_id))
                self._points.append(point)
        self.clear_options()
        self.add_options([o for o in options if o is not None])
        if keep is not None:
            self._highlight(keep.item_id)
        elif self.option_count:
            self.action_first()

    def _highlight(self, item_id: str) -> None:
        try:
            self.highlighted = self.get_option_index(item_id)
        except Exception:  # the point is gone after a reload: start at the top
            self.action_first()

    @property
    def highlighted_point(self) -> TalkingPoint | None:
        if self.highlighted is None:
            return None
        option = self.get_option_at_index(self.highlighted)
        for point in self._points:
            if point.item_id == option.id:
                return point
        return None

    def action_toggle_point(self) -> None:
        point = self.highlighted_point
        if point is not None:
            self.post_message(self.Toggle(point))
