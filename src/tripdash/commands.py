"""One source for every key: the help screen and the command palette are built from bindings.

The footer shows the same ``Binding`` objects (those with ``show=True``), so a
key added to a widget's ``BINDINGS`` appears in the footer, in ``?`` help and
in ctrl+p without being written down anywhere else.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from functools import partial

from textual.app import SystemCommand
from textual.binding import Binding
from textual.dom import DOMNode
from textual.screen import Screen


@dataclass(frozen=True)
class KeyHelp:
    """One action with every key that triggers it."""

    keys: tuple[str, ...]
    description: str
    action: str
    node: DOMNode
    binding_id: str | None
    group: str

    @property
    def key_text(self) -> str:
        return ", ".join(self.keys)


def _group_of(node: DOMNode) -> str:
    from textual.app import App

    if isinstance(node, App):
        return "Everywhere"
    return str(getattr(node, "HELP_GROUP", type(node).__name__))


def collect_keys(screen: Screen[object]) -> list[KeyHelp]:
    """Every binding of the app, ``screen`` and the widgets on it, grouped per action."""
    app = screen.app
    nodes: list[DOMNode] = [screen]
    # Parts a screen mounts only when first used (the search line, under the header) still
    # list their keys, where they would be.
    unmounted = getattr(screen, "help_unmounted_nodes", None)
    if unmounted is not None:
        nodes.extend(unmounted())
    nodes.extend(w for w in screen.query("*") if w._bindings.key_to_bindings and w.display)
    nodes.append(app)
    seen: dict[tuple[int, str], list[str]] = {}
    found: dict[tuple[int, str], tuple[Binding, DOMNode]] = {}
    keymap = app._keymap
    for node in nodes:
        # The user's keymap, applied as Textual applies it for key presses (to a copy), so
        # help and the palette show the keys that work, as the key bar does.
        bindings_map = node._bindings.copy()
        if keymap:
            bindings_map.apply_keymap(keymap)
        for key, bindings in bindings_map.key_to_bindings.items():
            for binding in bindings:
                # Our own bindings all have ids; inherited ones (a scroll view's
                # "Scroll Left") would only clutter help. The palette key is the exception.
                if not binding.description or (
                    binding.id is None and binding.action != "command_palette"
                ):
                    continue
                # An action its owner disables here (no server to sync with, one trip to
                # pick from) is left out, as the footer leaves it out.
                action_name = binding.action.split("(", 1)[0]
                if node.check_action(action_name, ()) is False:
                    continue
                ident = (id(node), binding.action)
                display = app.get_key_display(Binding(key, binding.action))
                if binding.key_display and len(binding.key.split(",")) == 1:
                    display = binding.key_display
                seen.setdefault(ident, [])
                if display not in seen[ident]:
                    seen[ident].append(display)
                found.setdefault(ident, (binding, node))
    rows = []
    descriptions: set[str] = set()
    for ident, (binding, node) in found.items():
        if binding.description in descriptions:
            continue  # the same action offered twice (e.g. a default and our own): list it once
        descriptions.add(binding.description)
        rows.append(
            KeyHelp(
                tuple(seen[ident]),
                binding.description,
                binding.action,
                node,
                binding.id,
                _group_of(node),
            )
        )
    return rows


def binding_commands(screen: Screen[object]) -> Iterator[SystemCommand]:
    """Command palette entries for every action that has a key."""
    app = screen.app
    for row in collect_keys(screen):
        if row.action == "command_palette":
            continue
        yield SystemCommand(
            row.description,
            f"{row.key_text}  ({row.group})",
            partial(app.run_action, row.action, row.node),
        )
