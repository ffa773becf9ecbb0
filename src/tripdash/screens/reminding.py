"""The dashboard's reminder keys and notice: dismiss, snooze 5 minutes, open the event.

:class:`ReminderKeys` is mixed into the dashboard (first: ``class DashboardScreen(
ReminderKeys, TripScreen, Screen[None])``). The app broadcasts
:class:`RemindersChanged` when a trip's notices change; the screen of that trip
redraws its :class:`~tripdash.widgets.reminder.ReminderNotice`. The keys are bindings
with ids (``<screen>.reminder-dismiss``...) that are active only while a notice shows,
so the key bar lists them then, and only then.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual.binding import Binding
from textual.message import Message

from tripdash.domain.text import one_line
from tripdash.domain.times import clock_time, zone_abbrev
from tripdash.widgets.reminder import ReminderNotice

if TYPE_CHECKING:
    from tripdash.domain.model import Event
    from tripdash.screens.base import TripScreen

    class _Base(TripScreen):
        """What the mixin needs of its screen besides a trip screen's parts."""

        def select_event(self, event_id: str | None) -> None: ...

        def open_event(self, event: Event) -> None: ...

else:
    _Base = object

_ACTIONS = ("dismiss_reminder", "snooze_reminder", "open_reminder")


class RemindersChanged(Message, bubble=False):
    """A trip's reminder notices changed (one fired, went, or its countdown moved)."""

    def __init__(self, key: str) -> None:
        self.key = key
        super().__init__()


def reminder_bindings(screen: str) -> list[Binding]:
    """The notice's keys, with ids ``<screen>.reminder-dismiss``, ``-snooze`` and ``-open``."""
    return [
        Binding(
            "escape",
            "dismiss_reminder",
            "Dismiss",
            key_display="esc",
            id=f"{screen}.reminder-dismiss",
        ),
        Binding("z", "snooze_reminder", "Snooze 5 min", id=f"{screen}.reminder-snooze"),
        Binding("e", "open_reminder", "Event", id=f"{screen}.reminder-open"),
    ]


class ReminderKeys(_Base):
    """The reminder notice of one trip's screen, and the keys acting on its first line."""

    def reminder_notice(self) -> ReminderNotice:
        """The notice widget, for ``compose`` (hidden until a reminder comes)."""
        return ReminderNotice(id="reminders")

    def on_mount(self) -> None:
        # A reminder may have fired while another screen was in front (the picker).
        if self.session.reminder_notices(self.key):
            self.show_reminders()

    def on_reminders_changed(self, message: RemindersChanged) -> None:
        if message.key == self.key:
            self.show_reminders()

    def show_reminders(self) -> None:
        reminders = self.session.reminders
        shown = reminders.notices(self.key)
        self.query_one(ReminderNotice).show(
            reminders.texts(self.key),
            summary_first=bool(shown) and shown[0].is_summary,
            can_snooze=reminders.can_snooze(self.key),
        )
        self.refresh_bindings()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action in _ACTIONS:
            shown = self.session.reminder_notices(self.key)
            if not shown:
                return False  # no notice: the keys are not bound (escape does nothing)
            if action == "snooze_reminder" and shown[0].is_summary:
                return None  # a summary cannot be snoozed: shown dimmed
            return True
        result: bool | None = super().check_action(action, parameters)
        return result

    def action_dismiss_reminder(self) -> None:
        self.session.reminders.dismiss(self.key)
        self.show_reminders()

    def action_snooze_reminder(self) -> None:
        notice = self.session.reminders.snooze(self.key)
        self.show_reminders()
        if notice is not None and notice.reminder is not None and notice.snoozed_until:
            place = notice.reminder.event.place.tz
            back = notice.snoozed_until.astimezone(place)
            until = clock_time(back, self.session.options.time_format)
            self.notify(f"Snoozed until {until} {zone_abbrev(back)}", timeout=3)

    def action_open_reminder(self) -> None:
        """Open the event of the first notice (and take the notice away: it was seen)."""
        reminders = self.session.reminders
        shown = reminders.notices(self.key)
        if not shown:
            return
        event = shown[0].event(self.clock.now())
        reminders.dismiss(self.key)
        self.show_reminders()
        if event is None:
            return
        current = next((e for e in self.trip.events if e.id == event.id), None)
        if current is None:
            self.notify(f"{one_line(event.title)} is no longer in the trip", timeout=5)
            return
        self.select_event(current.id)
        self.open_event(current)
