"""The user's settings: ``config.toml``, the environment and the command line, in that order.

:func:`load_config` reads ``$XDG_CONFIG_HOME/tripdash/config.toml`` (platformdirs' user
config folder; ``TRIPDASH_CONFIG`` or ``--config FILE`` name another file), validates
it with pydantic and returns a frozen :class:`Config` and a list of
:class:`~tripdash.domain.loader.Problem`, worded like trip files' (``FILE:LINE: field:
message``, with did-you-mean for typos). A bad setting is reported and ignored: the
next layer's value is used, so the dashboard can open with what is good and say what
was not. Precedence: command-line flag, then environment, then file, then default;
:meth:`Config.origin` says where each value came from.

No textual here at module level: the keymap's binding ids and Textual's theme names
are looked up (importing the screens) only when a config actually sets them.
"""

from __future__ import annotations

import difflib
import os
import re
import shlex
import stat
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, Literal
from urllib.parse import urlsplit

from tripdash.domain.loader import Problem, describe_toml_type, field_path
from tripdash.domain.model import EVENT_KINDS
from tripdash.domain.text import escaped

if TYPE_CHECKING:
    from pydantic import BaseModel

#: Config files larger than this are refused unread (a full one is about 3 KiB).
MAX_CONFIG_BYTES = 1024 * 1024

#: Minutes before an event's start at which a reminder is due, by kind of event.
DEFAULT_STAGES: Mapping[str, tuple[int, ...]] = MappingProxyType(
    {kind: ((60,) if kind == "travel" else (15, 5)) for kind in EVENT_KINDS}
)

_QUIET = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)-([01]\d|2[0-3]):([0-5]\d)$")
_TRUE = frozenset({"1", "true", "yes", "on"})
_FALSE = frozenset({"0", "false", "no", "off", ""})


@dataclass(frozen=True)
class Setting:
    """One scalar setting: its key in the file, default, variable, flag and meaning."""

    name: str
    kind: Literal["str", "int", "bool", "path"]
    default: Any
    help: str
    env: str | None = None
    flag: str | None = None
    example: Any = None


#: Every scalar setting, in the order ``tripdash config`` shows them.
SETTINGS: tuple[Setting, ...] = (
    Setting("theme", "str", "textual-dark", "one of Textual's themes", "TRIPDASH_THEME"),
    Setting(
        "time_format",
        "int",
        24,
        "12 or 24-hour times (9:15 am or 09:15)",
        "TRIPDASH_TIME_FORMAT",
        "--time-format",
    ),
    Setting(
        "clock_seconds",
        "bool",
        False,
        "show the seconds on the header's clocks (the screen is then redrawn every second)",
        "TRIPDASH_CLOCK_SECONDS",
    ),
    Setting(
        "trips",
        "path",
        "trips",
        "the trip file or folder opened when no PATH is given (~ is expanded)",
        "TRIPDASH_TRIPS",
    ),
    Setting(
        "refresh",
        "int",
        60,
        "seconds between fetches of a trip address (0: never)",
        "TRIPDASH_REFRESH",
        "--refresh",
    ),
    Setting(
        "sync_url",
        "str",
        None,
        "the team's CouchDB server (no password in it)",
        "TRIPDASH_SYNC_URL",
        "--sync",
        "https://couch.example.org",
    ),
    Setting(
        "sync_user",
        "str",
        None,
        "the sync server's user name",
        "TRIPDASH_SYNC_USER",
        None,
        "delegation",
    ),
    Setting(
        "sync_password_file",
        "path",
        None,
        "a file holding the sync password, mode 0600 (else $TRIPDASH_SYNC_PASSWORD)",
        "TRIPDASH_SYNC_PASSWORD_FILE",
        None,
        "~/.config/tripdash/sync-password",
    ),
    Setting("remind", "bool", True, "reminders before events", "TRIPDASH_REMIND"),
    Setting("bell", "bool", True, "ring the terminal bell for a reminder", "TRIPDASH_BELL"),
    Setting(
        "osc", "bool", True, "desktop notifications by OSC escape for a reminder", "TRIPDASH_OSC"
    ),
    Setting(
        "reminder_command",
        "str",
        None,
        "a shell command run for each reminder (the event in TRIPDASH_* variables)",
        "TRIPDASH_REMINDER_COMMAND",
        None,
        "notify-send tripdash",
    ),
    Setting(
        "quiet_hours",
        "str",
        None,
        "HH:MM-HH:MM, local time where the delegation is, when reminders make no sound",
        "TRIPDASH_QUIET_HOURS",
        None,
        "22:00-07:00",
    ),
)
_BY_NAME = {s.name: s for s in SETTINGS}
TABLES = ("reminder_stages", "keymap")

DEFAULT_ORIGIN = "default"


@dataclass(frozen=True)
class Config:
    """The effective settings (frozen). :meth:`origin` says where each one came from."""

    theme: str = "textual-dark"
    time_format: int = 24
    clock_seconds: bool = False
    trips: str = "trips"
    refresh: int = 60
    sync_url: str | None = None
    sync_user: str | None = None
    sync_password_file: str | None = None
    remind: bool = True
    bell: bool = True
    osc: bool = True
    reminder_command: str | None = None
    quiet_hours: str | None = None
    #: Minutes before the start, largest first, per kind of event (every kind present).
    reminder_stages: Mapping[str, tuple[int, ...]] = field(default_factory=lambda: DEFAULT_STAGES)
    #: Binding id -> keys (Textual's keymap form: comma-separated), only those changed.
    keymap: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))
    #: The config file read (or that would be read), and whether it exists.
    path: Path | None = None
    path_exists: bool = False
    origins: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))

    def origin(self, name: str) -> str:
        """Where setting ``name`` came from: default, the file (with line), a variable, a flag."""
        return self.origins.get(name, DEFAULT_ORIGIN)

    def trips_path(self) -> Path:
        """:attr:`trips` with ``~`` expanded."""
        return Path(self.trips).expanduser()

    def reminder_argv(self) -> list[str] | None:
        """:attr:`reminder_command` split into words (validated when loaded)."""
        return shlex.split(self.reminder_command) if self.reminder_command else None

    def quiet_span(self) -> tuple[tuple[int, int], tuple[int, int]] | None:
        """Quiet hours as ((hour, minute), (hour, minute)); the span may cross midnight."""
        if not self.quiet_hours:
            return None
        m = _QUIET.match(self.quiet_hours)
        assert m is not None  # validated when loaded
        h1, m1, h2, m2 = (int(g) for g in m.groups())
        return (h1, m1), (h2, m2)


class EnvProblem(Problem):
    """A bad environment variable: ``TRIPDASH_REFRESH: message`` (no file, no line)."""

    __slots__ = ()

    def __str__(self) -> str:
        return escaped(f"{self.field}: {self.message}")


# -- where the file is ------------------------------------------------------------------


def default_config_path() -> Path:
    """``config.toml`` in platformdirs' user config folder for tripdash."""
    from platformdirs import user_config_path

    return user_config_path("tripdash", appauthor=False) / "config.toml"


def config_location(
    flag: str | os.PathLike[str] | None = None, environ: Mapping[str, str] | None = None
) -> tuple[Path, str]:
    """The config file to read and what named it: ``--config``, ``TRIPDASH_CONFIG`` or default."""
    env = os.environ if environ is None else environ
    if flag:
        return Path(flag).expanduser(), "--config"
    if env.get("TRIPDASH_CONFIG"):
        return Path(env["TRIPDASH_CONFIG"]).expanduser(), "TRIPDASH_CONFIG"
    return default_config_path(), DEFAULT_ORIGIN


# -- loading ------------------------------------------------------------------------------


def load_config(
    path: str | os.PathLike[str] | None = None,
    *,
    environ: Mapping[str, str] | None = None,
    flags: Mapping[str, Any] | None = None,
) -> tuple[Config, list[Problem]]:
    """The effective settings and every problem found on the way (never raises for bad input).

    ``path`` is ``--config`` (None: ``TRIPDASH_CONFIG``, else the default file, which
    may be absent); ``environ`` defaults to ``os.environ``; ``flags`` maps setting names
    to command-line values (None: not given). Invalid values are reported and skipped.
    """
    env = os.environ if environ is None else environ
    file_path, named_by = config_location(path, env)
    problems: list[Problem] = []
    values: dict[str, Any] = {s.name: s.default for s in SETTINGS}
    origins: dict[str, str] = {}
    stages = dict(DEFAULT_STAGES)
    keymap: dict[str, str] = {}

    exists = file_path.is_file()
    if exists or named_by != DEFAULT_ORIGIN:
        parsed = _read_file(file_path, problems)
        if parsed is not None:
            data, lines = parsed
            where = str(file_path)
            for name, (value, line) in data.items():
                if name == "reminder_stages":
                    for kind, (minutes, kline) in value.items():
                        stages[kind] = minutes
                        origins[f"reminder_stages.{kind}"] = f"{where}:{kline}"
                elif name == "keymap":
                    keymap = {k: v for k, (v, _) in value.items()}
                    for binding_id, (_, kline) in value.items():
                        origins[f"keymap.{binding_id}"] = f"{where}:{kline}"
                else:
                    values[name] = value
                    origins[name] = f"{where}:{line}"
            _check_keymap(keymap, file_path, lines, problems)
            problems.sort(key=lambda p: p.line)

    for setting in SETTINGS:
        if setting.env and setting.env in env:
            value = _from_env(setting, env[setting.env], problems)
            if value is not _BAD:
                values[setting.name] = value
                origins[setting.name] = f"${setting.env}"
    for name, value in (flags or {}).items():
        if value is not None and name in _BY_NAME:
            values[name] = value
            origins[name] = _BY_NAME[name].flag or f"--{name}"

    config = Config(
        **values,
        reminder_stages=MappingProxyType(stages),
        keymap=MappingProxyType(keymap),
        path=file_path,
        path_exists=exists,
        origins=MappingProxyType(origins),
    )
    return config, problems


_BAD = object()


def _from_env(setting: Setting, raw: str, problems: list[Problem]) -> Any:
    """A variable's text as the setting's type, or ``_BAD`` (reported) when it is not one."""
    assert setting.env is not None
    value: Any = raw
    if setting.kind == "bool":
        low = raw.strip().lower()
        if low not in _TRUE | _FALSE:
            problems.append(
                EnvProblem(
                    "environment", 0, setting.env, f"expected 1/0, true/false, yes/no; got {raw!r}"
                )
            )
            return _BAD
        value = low in _TRUE
    elif setting.kind == "int":
        try:
            value = int(raw.strip())
        except ValueError:
            problems.append(
                EnvProblem("environment", 0, setting.env, f"expected a whole number; got {raw!r}")
            )
            return _BAD
    elif not raw:
        return None  # an empty variable unsets an optional text setting
    message = _check_value(setting.name, value, in_file=False)
    if message is not None:
        problems.append(EnvProblem("environment", 0, setting.env, message))
        return _BAD
    return value


def _check_value(name: str, value: Any, *, in_file: bool = True) -> str | None:
    """What is wrong with a well-typed value of setting ``name``, or None.

    A sync address may carry credentials in the environment or on the command line (as
    before there was a config file), never in the file: it is often shared or backed up.
    """
    if value is None:
        return None
    if name == "theme":
        themes = textual_themes()
        if value not in themes:
            close = difflib.get_close_matches(value, themes, n=1, cutoff=0.6)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            return f"{value!r} is not a Textual theme{hint}; one of: {', '.join(themes)}"
    elif name == "time_format":
        if value not in (12, 24):
            return f"expected 12 or 24; got {value!r}"
    elif name == "refresh":
        if not 0 <= value <= 86400:
            return f"expected seconds from 0 (never) to 86400; got {value!r}"
    elif name == "sync_url" and in_file:
        parts = urlsplit(value)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            return f"expected an https:// address; got {value!r}"
        if parts.password:
            return (
                "a password may not be written in the config: put it in the file named by "
                "sync_password_file (mode 0600) or in $TRIPDASH_SYNC_PASSWORD"
            )
    elif name == "sync_password_file":
        return _check_password_file(Path(value).expanduser())
    elif name == "reminder_command":
        try:
            words = shlex.split(value)
        except ValueError as exc:
            return f"cannot be split into words: {exc}"
        if not words:
            return "is empty (leave it out for no command)"
    elif name == "quiet_hours" and not _QUIET.match(value):
        return f"expected HH:MM-HH:MM such as 22:00-07:00; got {value!r}"
    return None


def _check_password_file(path: Path) -> str | None:
    try:
        info = path.stat()
    except OSError as exc:
        return f"{path}: {exc.strerror or exc}"
    if not stat.S_ISREG(info.st_mode):
        return f"{path}: not a file"
    if info.st_mode & 0o077:
        return (
            f"{path} is mode {stat.S_IMODE(info.st_mode):04o}: others could read the password; "
            f"refused until it is 0600 (chmod 600 {path})"
        )
    return None


def sync_password(config: Config, environ: Mapping[str, str] | None = None) -> str | None:
    """``$TRIPDASH_SYNC_PASSWORD``, else the first line of :attr:`Config.sync_password_file`.

    Raises ``OSError`` when the file cannot be read, ``PermissionError`` when its mode
    lets others read it (checked again: it may have changed since loading).
    """
    env = os.environ if environ is None else environ
    if env.get("TRIPDASH_SYNC_PASSWORD"):
        return env["TRIPDASH_SYNC_PASSWORD"]
    if not config.sync_password_file:
        return None
    path = Path(config.sync_password_file).expanduser()
    problem = _check_password_file(path)
    if problem is not None:
        raise PermissionError(problem)
    text = path.read_text(encoding="utf-8")
    return text.splitlines()[0] if text else ""


# -- the file -----------------------------------------------------------------------------


def _read_file(
    path: Path, problems: list[Problem]
) -> tuple[dict[str, tuple[Any, int]], Any] | None:
    """The file's valid settings as ``{name: (value, line)}`` (tables: ``{key: (v, line)}``),
    and its line map; None when it cannot be read or parsed. Problems are appended."""
    import tomli

    from tripdash.domain.tomlpos import LineMap

    source = str(path)
    try:
        size = path.stat().st_size
        if size > MAX_CONFIG_BYTES:
            problems.append(
                Problem(source, 1, "(file)", f"{size:,} bytes: too big for a config file")
            )
            return None
        data = path.read_bytes()
    except OSError as exc:
        problems.append(Problem(source, 1, "(file)", f"cannot read: {exc.strerror or exc}"))
        return None
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        problems.append(Problem(source, line, "(file)", f"not UTF-8 text: {exc.reason}"))
        return None
    text = text.removeprefix("\ufeff")
    try:
        doc = tomli.loads(text)
    except tomli.TOMLDecodeError as exc:
        line = getattr(exc, "lineno", None) or 1
        col = getattr(exc, "colno", None)
        msg = getattr(exc, "msg", None) or str(exc)
        where = f" (line {line}, column {col})" if col else ""
        problems.append(Problem(source, line, "TOML syntax", f"{msg}{where}"))
        return None
    except RecursionError:
        problems.append(Problem(source, 1, "TOML syntax", "nested too deeply"))
        return None
    lines = LineMap(text)
    cached = _cache_read(data)
    if cached is not None:
        good, shape_problems = cached
        problems += [Problem(source, line, name, message) for line, name, message in shape_problems]
    else:
        found: list[Problem] = []
        good = _validated(_model(), doc, source, lines, found)
        _cache_write(data, good, [(p.line, p.field, p.message) for p in found])
        problems += found
    out: dict[str, tuple[Any, int]] = {}
    for name, value in good.items():
        line = lines.line_of((name,))
        if name in TABLES:
            out[name] = ({k: (v, lines.line_of((name, k))) for k, v in value.items()}, line)
            continue
        message = _check_value(name, value)
        if message is not None:
            problems.append(Problem(source, line, name, message))
            continue
        out[name] = (value, line)
    return out, lines


def _validated(
    model: type[BaseModel], doc: dict[str, Any], source: str, lines: Any, problems: list[Problem]
) -> dict[str, Any]:
    """The keys of ``doc`` that pass the model; a problem for each that does not.

    A bad entry of a table (one keymap binding, one kind's stages) drops only itself.
    """
    from pydantic import ValidationError

    try:
        parsed = model.model_validate(doc)
        return {k: _plain(getattr(parsed, k)) for k in doc}
    except ValidationError as exc:
        bad: set[tuple[str | int, ...]] = set()
        for error in exc.errors(include_url=False):
            loc = tuple(error["loc"])
            at = loc[:2] if loc and loc[0] in TABLES and len(loc) >= 2 else loc[:1]
            if at in bad:
                continue
            bad.add(at)
            value = _at(doc, loc)
            problems.append(
                Problem(source, lines.line_of(loc), _label(at), _friendly(error, loc, value))
            )
    kept: dict[str, Any] = {}
    for key, value in doc.items():
        if (key,) in bad:
            continue
        if key in TABLES and isinstance(value, dict):
            value = {k: v for k, v in value.items() if (key, k) not in bad}
        kept[key] = value
    try:
        parsed = model.model_validate(kept)
    except ValidationError:  # not expected: every failing key is gone
        return {}
    return {k: _plain(getattr(parsed, k)) for k in kept}


#: Bumped when what the cache holds, or how the file is validated, changes.
_CACHE_VERSION = "1"


def _cache_path(data: bytes) -> Path:
    import hashlib

    from tripdash.domain.sources import default_cache_dir

    digest = hashlib.sha256(_CACHE_VERSION.encode() + b"\0" + data)
    try:  # this module's own code: a changed check never reads an older one's results
        digest.update(Path(__file__).read_bytes())
    except OSError:
        digest.update(b"?")
    key = digest.hexdigest()[:32]
    return default_cache_dir() / "config" / f"{key}.json"


def _cache_read(data: bytes) -> tuple[dict[str, Any], list[tuple[int, str, str]]] | None:
    """The pydantic check of these exact bytes, if done before: a dashboard start with a
    config file then imports no pydantic (its import and models cost ~130 ms). Only
    the check of types and keys is kept: files named, themes and keymaps are checked
    on every load."""
    import json

    try:
        raw = json.loads(_cache_path(data).read_text(encoding="utf-8"))
        good = raw["good"]
        stages = good.get("reminder_stages")
        if isinstance(stages, dict):
            good["reminder_stages"] = {k: tuple(v) for k, v in stages.items()}
        shape = [(int(a), str(b), str(c)) for a, b, c in raw["problems"]]
    except Exception:  # missing, damaged, from another version: validate instead
        return None
    if not isinstance(good, dict):
        return None
    return good, shape


def _cache_write(data: bytes, good: dict[str, Any], shape: list[tuple[int, str, str]]) -> None:
    import json

    path = _cache_path(data)
    try:
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        tmp = path.with_name(f"{path.stem}.{os.getpid()}.tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            json.dump({"good": good, "problems": shape}, fh)
        os.replace(tmp, path)
        for old in sorted(path.parent.glob("*.json"), key=lambda p: p.stat().st_mtime)[:-8]:
            old.unlink(missing_ok=True)
    except (OSError, TypeError, ValueError):
        pass  # a cache that cannot be written only costs speed


def _label(loc: Sequence[Any]) -> str:
    """``keymap."app.quit"``: a field path whose keys are quoted when they hold a dot."""
    return field_path([f'"{p}"' if isinstance(p, str) and "." in p else p for p in loc])


def _plain(value: Any) -> Any:
    if hasattr(value, "model_dump"):
        return {k: tuple(v) for k, v in value.model_dump(exclude_unset=True).items()}
    return value


def _at(doc: Any, loc: Sequence[Any]) -> Any:
    here = doc
    for part in loc:
        if (isinstance(here, dict) and part in here) or (
            isinstance(here, list) and isinstance(part, int) and 0 <= part < len(here)
        ):
            here = here[part]
        else:
            return None
    return here


def _friendly(error: Any, loc: tuple[Any, ...], value: Any) -> str:
    kind = error["type"]
    name = str(loc[-1]) if loc else ""
    if kind == "extra_forbidden":
        if len(loc) == 1:
            choices: Sequence[str] = [*_BY_NAME, *TABLES]
        elif loc[0] == "reminder_stages":
            choices = EVENT_KINDS
        else:
            choices = []
        close = difflib.get_close_matches(name, list(choices), n=1, cutoff=0.6)
        hint = f" (did you mean {close[0]!r}?)" if close else ""
        return f"unknown key {name!r}{hint}"
    got = describe_toml_type(value)
    if loc and loc[0] == "reminder_stages":
        return f"expected an array of minutes before the start (0 to 1440); got {got}" + (
            f" {value!r}" if isinstance(value, int) else ""
        )
    if loc and loc[0] == "keymap":
        return f'expected keys as a string such as "ctrl+q" or "q,ctrl+q"; got {got}'
    if loc and loc[0] in TABLES:
        return f"expected a table [{loc[0]}]; got {got}"
    setting = _BY_NAME.get(name)
    want = {
        "bool": "true or false",
        "int": "an integer",
        "str": "a string",
        "path": "a string (a path)",
    }
    if setting is not None:
        return f"expected {want[setting.kind]}; got {got}"
    return f"{error['msg']}; got {got}"


_MODEL: Any = None


def _model() -> type[BaseModel]:
    """The pydantic model of the file, built on first use (pydantic is imported lazily)."""
    global _MODEL
    if _MODEL is not None:
        return _MODEL  # type: ignore[no-any-return]
    from typing import Annotated

    from pydantic import ConfigDict, Field, create_model

    strict = ConfigDict(extra="forbid", strict=True, frozen=True)
    minutes = list[Annotated[int, Field(ge=0, le=1440)]]
    stages = create_model(  # type: ignore[call-overload]
        "ReminderStages",
        __config__=strict,
        **{kind: (minutes | None, None) for kind in EVENT_KINDS},
    )
    types = {"str": str, "path": str, "int": int, "bool": bool}
    fields: dict[str, Any] = {s.name: (types[s.kind] | None, None) for s in SETTINGS}
    fields["reminder_stages"] = (stages | None, None)
    fields["keymap"] = (dict[str, str] | None, None)
    _MODEL = create_model("ConfigFile", __config__=strict, **fields)
    return _MODEL  # type: ignore[no-any-return]


# -- keymap ----------------------------------------------------------------------------------

#: The bindings active together on each screen: the app's, the screen's (first) and its
#: focusable widgets'. A key bound twice within one of these is reported (two widgets'
#: keys never clash: only the focused one's are active). Classes as "module:name".
SCREEN_BINDINGS: Mapping[str, tuple[str, ...]] = MappingProxyType(
    {
        "dashboard": (
            "tripdash.screens.dashboard:DashboardScreen",
            "tripdash.widgets.timeline:Timeline",
            "tripdash.widgets.details:EventDetails",
            "tripdash.widgets.search:SearchBar",
            "tripdash.widgets.search:SearchInput",
        ),
        "event": ("tripdash.screens.event:EventScreen", "tripdash.widgets.points:PointList"),
        "counterparts": (
            "tripdash.screens.counterparts:CounterpartsScreen",
            "tripdash.widgets.points:PointList",
            "tripdash.widgets.search:SearchBar",
            "tripdash.widgets.search:SearchInput",
        ),
        "overview": (
            "tripdash.screens.overview:OverviewScreen",
            "tripdash.widgets.overview_grid:OverviewGrid",
        ),
        "jump": ("tripdash.screens.jump:JumpScreen",),
        "note": ("tripdash.screens.note:NoteScreen",),
        "late": ("tripdash.screens.late:LateScreen",),
        "picker": ("tripdash.screens.picker:PickerScreen",),
        "help": ("tripdash.screens.help:HelpScreen",),
        "changes": ("tripdash.screens.changes:ChangesScreen",),
    }
)


@dataclass(frozen=True)
class BindingInfo:
    """One binding of the app: its id (None for Textual's own), default keys, description."""

    id: str | None
    keys: str
    description: str
    action: str = ""
    #: The app, screen or widget class whose bindings (its own or inherited) it is.
    owner: str = ""


def _app_class() -> type:
    """The dashboard's App subclass, found by type (its name is the app module's business)."""
    from textual.app import App

    import tripdash.app as app_module

    for value in vars(app_module).values():
        if (
            isinstance(value, type)
            and issubclass(value, App)
            and value.__module__ == app_module.__name__
        ):
            return value
    raise LookupError("no App in tripdash.app")


def screen_bindings() -> dict[str, list[BindingInfo]]:
    """Per screen, every binding active on it (imports textual and the screens)."""
    import importlib

    from textual.binding import Binding

    def of(cls: type) -> list[BindingInfo]:
        found = []
        owner = cls.__qualname__
        for klass in reversed(cls.__mro__):
            for b in klass.__dict__.get("BINDINGS", ()):
                if isinstance(b, Binding):
                    found.append(BindingInfo(b.id, b.key, b.description, b.action, owner))
                elif isinstance(b, tuple) and len(b) >= 2:
                    desc = b[2] if len(b) > 2 else b[1]
                    found.append(BindingInfo(None, b[0], desc, b[1], owner))
        return found

    app_bindings = of(_app_class())
    out: dict[str, list[BindingInfo]] = {}
    for screen, paths in SCREEN_BINDINGS.items():
        bindings = list(app_bindings)
        for dotted in paths:
            module, _, name = dotted.partition(":")
            bindings.extend(of(getattr(importlib.import_module(module), name)))
        out[screen] = bindings
    return out


def binding_ids() -> dict[str, BindingInfo]:
    """Every binding id of the app, with its default keys and description."""
    ids: dict[str, BindingInfo] = {}
    for bindings in screen_bindings().values():
        for b in bindings:
            if b.id is not None:
                ids.setdefault(b.id, b)
    return ids


def textual_themes() -> list[str]:
    """The names of Textual's built-in themes."""
    from textual.theme import BUILTIN_THEMES

    return list(BUILTIN_THEMES)


_MODIFIERS = frozenset({"ctrl", "shift", "alt", "meta", "super", "hyper"})


def _key_problem(key: str) -> str | None:
    """Why ``key`` (one key, such as ``ctrl+q``) is not a key Textual knows, or None."""
    from textual.keys import KEY_NAME_REPLACEMENTS, Keys

    if not key:
        return "an empty key"
    if key == "+" or key.endswith("++"):
        base, mods = "plus", key[:-1].rstrip("+").split("+") if key != "+" else []
    else:
        *mods, base = key.split("+")
    for mod in mods:
        if mod not in _MODIFIERS:
            return f"{mod!r} in {key!r} is not a modifier (ctrl, shift, alt, meta, super, hyper)"
    if len(base) == 1 and base.isprintable() and base != " ":
        return None
    names = {k.value for k in Keys} | set(KEY_NAME_REPLACEMENTS.values())
    if base in names:
        return None
    import unicodedata

    try:
        unicodedata.lookup(base.replace("_", " ").upper())
        return None
    except KeyError:
        pass
    close = difflib.get_close_matches(base, sorted(names), n=1, cutoff=0.7)
    hint = f" (did you mean {close[0]!r}?)" if close else ""
    return f"{base!r} is not a key name{hint}"


def _is_widget(binding: BindingInfo) -> bool:
    """Widgets' bindings are active only while they have focus: two widgets never clash."""
    widgets = {d.partition(":")[2] for paths in SCREEN_BINDINGS.values() for d in paths[1:]}
    return binding.owner in widgets


def _normal_keys(keys: str) -> list[str]:
    from textual.keys import _character_to_key

    return [
        _character_to_key(k) if len(k) == 1 else k for k in (p.strip() for p in keys.split(","))
    ]


def _check_keymap(keymap: dict[str, str], path: Path, lines: Any, problems: list[Problem]) -> None:
    """Unknown binding ids, unknown key names and keys bound twice on one screen.

    A binding with a problem is removed from ``keymap`` (it keeps its default keys);
    of two bindings given the same key, each one the keymap changed is removed.
    """
    if not keymap:
        return
    source = str(path)
    screens = screen_bindings()
    ids = {b.id: b for bindings in screens.values() for b in bindings if b.id}
    for binding_id in list(keymap):
        where = ("keymap", binding_id)
        if binding_id not in ids:
            close = difflib.get_close_matches(binding_id, list(ids), n=1, cutoff=0.6)
            hint = (
                f" (did you mean {close[0]!r}?)"
                if close
                else "; `tripdash config --init` lists them"
            )
            problems.append(
                Problem(
                    source,
                    lines.line_of(where),
                    _label(where),
                    f"unknown binding id {binding_id!r}{hint}",
                )
            )
            del keymap[binding_id]
            continue
        parts = [p.strip() for p in keymap[binding_id].split(",")]
        bad = next((m for m in map(_key_problem, parts) if m), None)
        if bad is not None:
            problems.append(Problem(source, lines.line_of(where), _label(where), bad))
            del keymap[binding_id]
    clashes: dict[tuple[str, str], str] = {}
    for screen, bindings in screens.items():
        owners: dict[str, list[BindingInfo]] = {}
        for b in bindings:
            keys = keymap.get(b.id, b.keys) if b.id else b.keys
            for key in dict.fromkeys(_normal_keys(keys)):
                owners.setdefault(key, []).append(b)
        for key, holders in owners.items():
            distinct = list({(b.id, b.keys): b for b in holders}.values())
            changed = [b for b in distinct if b.id in keymap]
            if len(distinct) < 2 or not changed:
                continue
            for b in changed:
                # The same action under two bindings (Textual's own ctrl+q and app.quit) is
                # no clash: the key does what the user asked either way.
                # A class's own bindings replace those it inherits from Textual on the
                # same key (the timeline's "home" over ScrollView's): no clash either.
                others = [
                    o
                    for o in distinct
                    if o is not b
                    and o.action != b.action
                    and not (o.id is None and o.owner == b.owner)
                    and not (_is_widget(o) and _is_widget(b) and o.owner != b.owner)
                ]
                if not others:
                    continue
                names = ", ".join(o.id or f"Textual's {o.description or o.keys}" for o in others)
                clashes.setdefault((b.id or "", key), f"{names} on the {screen} screen")
    for (binding_id, key), text in clashes.items():
        where = ("keymap", binding_id)
        problems.append(
            Problem(
                source,
                lines.line_of(where),
                _label(where),
                f"key {key!r} is also bound to {text}",
            )
        )
    for binding_id, _ in clashes:
        keymap.pop(binding_id, None)  # ignored, as reported: it keeps its default keys


# -- showing and writing ------------------------------------------------------------------------


def effective_settings(config: Config) -> list[tuple[str, Any, str]]:
    """Every setting as (name, value, origin), tables' entries as ``table.key``."""
    rows: list[tuple[str, Any, str]] = [
        (s.name, getattr(config, s.name), config.origin(s.name)) for s in SETTINGS
    ]
    for kind, minutes in config.reminder_stages.items():
        name = f"reminder_stages.{kind}"
        rows.append((name, list(minutes), config.origin(name)))
    for binding_id, keys in config.keymap.items():
        name = f"keymap.{binding_id}"
        rows.append((name, keys, config.origin(name)))
    return rows


def init_text(bindings: Mapping[str, BindingInfo] | None = None) -> str:
    """A config file with every setting at its default, each explained; loads as the defaults.

    Settings with no default (the sync server, a command) are written commented out,
    with an example. ``bindings`` (default: the app's) are listed, commented, under [keymap].
    """
    from tripdash.domain.tomlwrite import toml_key, toml_value

    out = [
        "# tripdash settings. Precedence: command-line flag, then environment, then this",
        "# file, then the default. `tripdash config` shows what is in force and why.",
        "",
    ]
    for s in SETTINGS:
        extra = []
        if s.env:
            extra.append(f"${s.env}")
        if s.flag:
            extra.append(s.flag)
        out.append(f"# {s.help}" + (f" ({', '.join(extra)})" if extra else ""))
        if s.name == "theme":
            out.append(f"# themes: {', '.join(textual_themes())}")
        if s.default is None:
            out.append(f"# {s.name} = {toml_value(s.example)}")
        else:
            out.append(f"{s.name} = {toml_value(s.default)}")
        out.append("")
    out += [
        "# Minutes before an event's start at which to remind, per kind of event.",
        "[reminder_stages]",
    ]
    out += [f"{kind} = {toml_value(list(m))}" for kind, m in DEFAULT_STAGES.items()]
    out += [
        "",
        "# Keys: binding id = keys (comma-separated for several), for example",
        '# "app.quit" = "ctrl+q". Every binding id, with its default keys:',
        "[keymap]",
    ]
    for binding_id, info in sorted((bindings if bindings is not None else binding_ids()).items()):
        out.append(f"# {toml_key(binding_id)} = {toml_value(info.keys)}  # {info.description}")
    out.append("")
    return "\n".join(out)
