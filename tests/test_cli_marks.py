"""``tripdash mark``, ``log`` and ``agenda --json`` marks, through the real entry point.

Every run gets its own $HOME and XDG directories under tmp_path, and an odd
machine zone, so nothing reads or writes the user's files or leans on the zone.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

import pytest

from tripdash.domain.store import DB_NAME, MarkStore

REPO = Path(__file__).resolve().parent.parent
FS = "trips/fs-north-america-2023-01.toml"
FS_ID = "fs-north-america-2023-01"
FIXED = datetime(2023, 1, 18, 12, 0, tzinfo=timezone.utc)  # the test never reads the time

#: `tripdash log`'s first two columns: local time where the delegation was (the trip is
#: over when these tests run, so the last place, Toronto), then home time.
WHEN = (
    r"(Mon|Tue|Wed|Thu|Fri|Sat|Sun) \d\d (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) "
    r"\d{4} \d\d:\d\d (EST|EDT)  \d\d:\d\d (GMT|BST)( [+-]\dd)?"
)


@dataclass
class Run:
    code: int
    out: str
    err: str


Runner = Callable[..., Run]


@pytest.fixture
def home(tmp_path: Path) -> Path:
    h = tmp_path / "home"
    h.mkdir()
    return h


@pytest.fixture
def state_dir(tmp_path: Path) -> Path:
    return tmp_path / "state"


@pytest.fixture
def run(home: Path) -> Runner:
    """``python -m tripdash ARGS`` from the repository root; never a traceback."""
    base = {
        **os.environ,
        "HOME": str(home),
        "XDG_CONFIG_HOME": str(home / ".config"),
        "XDG_DATA_HOME": str(home / ".local/share"),
        "XDG_STATE_HOME": str(home / ".local/state"),
        "XDG_CACHE_HOME": str(home / ".cache"),
        "TZ": "Pacific/Chatham",
        "PYTHONIOENCODING": "utf-8",
        "NO_COLOR": "1",
    }
    for name in ("TRIPDASH_STATE_DIR", "TRIPDASH_AS"):
        base.pop(name, None)

    def runner(*args: str, env: dict[str, str] | None = None) -> Run:
        proc = subprocess.run(
            [sys.executable, "-m", "tripdash", *args],
            cwd=REPO,
            env={**base, **(env or {})},
            capture_output=True,
            text=True,
            encoding="utf-8",
            timeout=60,
            stdin=subprocess.DEVNULL,
        )
        assert "Traceback" not in proc.stdout + proc.stderr, proc.stderr
        return Run(proc.returncode, proc.stdout, proc.stderr)

    return runner


def done_events(r: Run) -> set[str]:
    assert r.code == 0, r.err
    return {e["id"] for e in json.loads(r.out) if e["done"]}


def stored_done(state_dir: Path) -> set[str]:
    with MarkStore(state_dir, clock=lambda: FIXED) as store:
        assert store.notice is None
        return store.done_ids(FS_ID)


# -- mark and agenda ---------------------------------------------------------------------


def test_mark_event_and_talking_point_then_agenda(run: Runner, state_dir: Path) -> None:
    sd = ("--state-dir", str(state_dir))
    assert done_events(run("agenda", FS, "--json", *sd)) == set()

    r = run("mark", FS, "csis-speech", *sd, "--as", "alice")
    assert r.code == 0, r.err
    assert r.err == ""
    assert r.out == ("csis-speech: done (Speech on UK foreign policy priorities), by alice\n")
    r = run("mark", FS, "blinken/indo-pacific", *sd, "--as", "alice")
    assert r.code == 0, r.err
    assert r.out.startswith("blinken/indo-pacific: done (")
    assert "Deepening cooperation in the Indo-Pacific" in r.out

    agenda = json.loads(run("agenda", FS, "--json", *sd).out)
    assert {e["id"]: e["done"] for e in agenda} == {
        e["id"]: e["id"] == "csis-speech" for e in agenda
    }
    # agenda --json lists events only; the talking point is done in the same store.
    assert stored_done(state_dir) == {"csis-speech", "blinken/indo-pacific"}
    # The same point of another counterpart is another item.
    assert "joly/indo-pacific" not in stored_done(state_dir)

    text = run("agenda", FS, *sd)
    assert text.code == 0
    done_lines = [line for line in text.out.splitlines() if "[DONE]" in line]
    assert len(done_lines) == 1 and "Speech on UK foreign policy priorities" in done_lines[0]


def test_mark_undo(run: Runner, state_dir: Path) -> None:
    sd = ("--state-dir", str(state_dir))
    for item in ("csis-speech", "blinken-press-conference", "joly/cptpp-accession"):
        assert run("mark", FS, item, *sd).code == 0
    r = run("mark", FS, "blinken-press-conference", "--undo", *sd, "--as", "bob")
    assert r.code == 0, r.err
    assert r.out.startswith("blinken-press-conference: not done (")
    assert r.out.rstrip().endswith("by bob")
    r = run("mark", FS, "joly/cptpp-accession", "--undo", *sd)
    assert r.code == 0, r.err
    assert done_events(run("agenda", FS, "--json", *sd)) == {"csis-speech"}
    assert stored_done(state_dir) == {"csis-speech"}
    # Undoing an item that was never marked is harmless and recorded.
    assert run("mark", FS, "arlington-wreath", "--undo", *sd).code == 0
    assert stored_done(state_dir) == {"csis-speech"}
    with MarkStore(state_dir, clock=lambda: FIXED) as store:
        assert len(store.history(FS_ID)) == 6  # append-only: every mark and unmark


def test_log_lists_when_who_and_what_in_order(run: Runner, state_dir: Path) -> None:
    sd = ("--state-dir", str(state_dir))
    r = run("log", FS, *sd)
    assert r.code == 0, r.err
    assert r.out == f"No marks yet for {FS_ID}.\n"

    steps = [
        ("csis-speech", "alice", False),
        ("blinken/indo-pacific", "Bob Smith", False),
        ("csis-speech", "carol", True),
    ]
    for item, who, undo in steps:
        args = ["mark", FS, item, *sd, "--as", who] + (["--undo"] if undo else [])
        assert run(*args).code == 0
    r = run("log", FS, *sd)
    assert r.code == 0, r.err
    assert r.err == ""
    lines = r.out.splitlines()
    assert len(lines) == 3
    expected = [
        (r"alice\s+done\s+csis-speech\s+Speech on UK foreign policy priorities"),
        (r"Bob Smith\s+done\s+blinken/indo-pacific\s+.*Deepening cooperation in the Indo-Pacific"),
        (r"carol\s+undone\s+csis-speech\s+Speech on UK foreign policy priorities"),
    ]
    for line, pattern in zip(lines, expected, strict=True):
        assert re.fullmatch(WHEN + "  " + pattern, line), line
    # The columns line up: who, mark, item and what start at the same place on every line.
    for word in ("done", "csis-speech"):
        starts = {line.find(word) for line in lines if word in line and "undone" not in line}
        assert len(starts) == 1, (word, lines)
    assert len({line.find("Speech") for line in (lines[0], lines[2])}) == 1
    # The times are in order (and in home time, London).
    with MarkStore(state_dir, clock=lambda: FIXED) as store:
        history = store.history(FS_ID)
    assert [m.who for m in history] == ["alice", "Bob Smith", "carol"]
    assert [m.at for m in history] == sorted(m.at for m in history)


def test_default_author_is_the_login_name(run: Runner, state_dir: Path) -> None:
    sd = ("--state-dir", str(state_dir))
    r = run("mark", FS, "csis-speech", *sd, env={"LOGNAME": "duty-officer", "USER": "x"})
    assert r.code == 0, r.err
    assert r.out.rstrip().endswith("by duty-officer")
    assert "duty-officer" in run("log", FS, *sd).out


def test_tripdash_state_dir_environment(run: Runner, tmp_path: Path, home: Path) -> None:
    env_dir = tmp_path / "from-env"
    env = {"TRIPDASH_STATE_DIR": str(env_dir)}
    assert run("mark", FS, "arlington-wreath", env=env).code == 0
    assert (env_dir / DB_NAME).exists()
    assert done_events(run("agenda", FS, "--json", env=env)) == {"arlington-wreath"}
    assert "arlington-wreath" in run("log", FS, env=env).out
    # --state-dir wins over the environment.
    other = tmp_path / "flag"
    assert done_events(run("agenda", FS, "--json", "--state-dir", str(other), env=env)) == set()
    # Nothing was written under $HOME.
    assert not any(p.name == DB_NAME for p in home.rglob("*"))


def test_default_state_dir_is_the_user_state_directory(run: Runner, home: Path) -> None:
    assert run("mark", FS, "csis-speech").code == 0
    if sys.platform.startswith("linux"):
        db = home / ".local/state" / "tripdash" / DB_NAME
        assert db.exists()
        assert done_events(run("agenda", FS, "--json")) == {"csis-speech"}
        assert stored_done(db.parent) == {"csis-speech"}


def test_a_corrupt_database_is_reported_and_kept(run: Runner, state_dir: Path) -> None:
    state_dir.mkdir()
    garbage = b"\x00\xffnot a database at all" * 100
    (state_dir / DB_NAME).write_bytes(garbage)
    r = run("log", FS, "--state-dir", str(state_dir))
    assert r.code == 0
    (moved,) = [p for p in state_dir.iterdir() if ".unreadable-" in p.name]
    assert moved.read_bytes() == garbage
    assert str(moved) in r.err
    assert r.out == f"No marks yet for {FS_ID}.\n"


# -- errors ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("item", "suggestion"),
    [
        ("csis-speach", "csis-speech"),
        ("blinken-press-conferance", "blinken-press-conference"),
        ("blinken/indo-pacifc", "blinken/indo-pacific"),
    ],
)
def test_unknown_item_suggests(run: Runner, state_dir: Path, item: str, suggestion: str) -> None:
    r = run("mark", FS, item, "--state-dir", str(state_dir))
    assert r.code == 1
    assert r.out == ""
    assert "did you mean" in r.err
    assert suggestion in r.err
    assert repr(item) in r.err
    # Nothing was marked.
    assert not (state_dir / DB_NAME).exists() or stored_done(state_dir) == set()


def test_unknown_item_without_a_close_match(run: Runner, state_dir: Path) -> None:
    r = run("mark", FS, "zzzzzzzz", "--state-dir", str(state_dir))
    assert r.code == 1
    assert "'zzzzzzzz'" in r.err and FS_ID in r.err
    assert r.err.count("\n") == 1


@pytest.mark.parametrize(
    "args",
    [
        ["mark"],
        ["mark", FS],
        ["mark", FS, "csis-speech", "--bogus"],
        ["mark", FS, "csis-speech", "--as"],
        ["mark", FS, "csis-speech", "extra"],
        ["log"],
        ["log", FS, "--undo"],
        ["agenda", FS, "--json", "--state-dir"],
        ["mark", "no/such/file.toml", "csis-speech"],
        ["log", "no/such/file.toml"],
    ],
)
def test_usage_errors_exit_2(run: Runner, args: list[str], tmp_path: Path) -> None:
    r = run(*args, env={"TRIPDASH_STATE_DIR": str(tmp_path / "state")})
    assert r.code == 2, (r.code, r.err)
    assert r.out == ""
    assert r.err.strip()
    assert not (tmp_path / "state" / DB_NAME).exists()


def test_unusable_state_dir_exits_2(run: Runner, tmp_path: Path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("x")
    r = run("mark", FS, "csis-speech", "--state-dir", str(blocker))
    assert r.code == 2
    assert "a-file" in r.err
    assert blocker.read_text() == "x"


def test_help_mentions_the_options(run: Runner) -> None:
    r = run("mark", "--help")
    assert r.code == 0
    for word in ("--undo", "--as", "--state-dir", "ITEM"):
        assert word in r.out
    r = run("log", "--help")
    assert r.code == 0 and "--state-dir" in r.out


# -- the shell as a person meets it (issue 12, items 14-16) ------------------------------


def test_marking_an_item_already_done_records_nothing_and_says_so(
    run: Runner, state_dir: Path
) -> None:
    sd = ("--state-dir", str(state_dir))
    assert run("mark", FS, "csis-speech", *sd, "--as", "alice").code == 0
    again = run("mark", FS, "csis-speech", *sd, "--as", "bob")
    assert again.code == 0
    assert "already done" in again.out and "by alice" in again.out
    assert "nothing recorded" in again.out
    assert len(run("log", FS, *sd).out.splitlines()) == 1
    # Undoing is a change, and is recorded.
    assert "not done" in run("mark", FS, "csis-speech", "--undo", *sd).out
    assert len(run("log", FS, *sd).out.splitlines()) == 2


def test_the_dashboard_into_a_pipe_prints_todays_agenda_with_marks(
    run: Runner, state_dir: Path
) -> None:
    sd = ("--state-dir", str(state_dir))
    run("mark", FS, "csis-speech", *sd)
    r = run(FS, "--at", "2023-01-17T12:00 America/New_York", *sd)
    assert r.code == 0, r.err
    assert "Tuesday 17 January 2023" in r.out and "Wednesday" not in r.out
    assert re.search(
        r"09:15 EST\s+14:15 GMT\s+Speech on UK foreign policy priorities\s+\[DONE\]", r.out
    )
    assert "\x1b" not in r.out  # plain text: no screen, no colours
    # Running late, as `agenda` says it.
    r = run("late", FS, "10", "--from", "blinken-press-conference", *sd)
    assert r.code == 0, r.err
    r = run(FS, "--at", "2023-01-17T12:00 America/New_York", *sd)
    assert "[+10: expected 15:40 EST | 20:40 GMT]" in r.out, r.out
    # A day without events: the whole programme, said so.
    r = run(FS, "--at", "2023-02-01T12:00 Europe/London", *sd)
    assert r.code == 0 and r.out.startswith("No events today (Wed 01 Feb 2023)")
    assert "Wednesday 18 January 2023" in r.out


def test_term_dumb_gets_the_plain_agenda_in_a_terminal_too(state_dir: Path, home: Path) -> None:
    import pty

    main, child = pty.openpty()
    env = {**os.environ, "TERM": "dumb", "HOME": str(home), "PYTHONIOENCODING": "utf-8"}
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "tripdash",
            FS,
            "--at",
            "2023-01-17T12:00 America/New_York",
            "--state-dir",
            str(state_dir),
        ],
        cwd=REPO,
        env=env,
        stdin=child,
        stdout=child,
        stderr=subprocess.PIPE,
        timeout=60,
    )
    os.close(child)
    chunks = []
    while True:
        try:
            chunk = os.read(main, 65536)
        except OSError:
            break
        if not chunk:
            break
        chunks.append(chunk)
    os.close(main)
    out = b"".join(chunks).decode()
    assert proc.returncode == 0, proc.stderr
    assert "Joint press conference with Secretary Blinken" in out
    assert "\x1b[" not in out  # never the full screen


@pytest.mark.parametrize(
    ("encoding", "extra"),
    [("iso-8859-1", {}), ("ascii", {"LC_ALL": "C", "PYTHONUTF8": "0"})],
)
def test_an_output_encoding_that_cannot_hold_the_text_never_raises(
    state_dir: Path, home: Path, tmp_path: Path, encoding: str, extra: dict[str, str]
) -> None:
    env = {**os.environ, "HOME": str(home), "PYTHONIOENCODING": encoding, **extra}
    moved = tmp_path / "moved.toml"
    text = Path(FS).read_text(encoding="utf-8")
    moved.write_text(text.replace("start = 2023-01-17T15:30:00", "start = 2023-01-17T16:00:00"))

    def run_raw(*args: str) -> tuple[int, str, str]:
        proc = subprocess.run(
            [sys.executable, "-m", "tripdash", *args],
            cwd=REPO, env=env, capture_output=True, timeout=60,
        )  # fmt: skip
        return proc.returncode, proc.stdout.decode(encoding), proc.stderr.decode(encoding)

    code, out, err = run_raw("diff", FS, str(moved))
    assert code == 1 and "Traceback" not in err
    assert "\\u2192" in out  # the arrow, escaped
    code, out, err = run_raw("agenda", FS, "--state-dir", str(state_dir))
    assert code == 0 and "Traceback" not in err
    assert "Joly" in out
