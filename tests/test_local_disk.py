"""When the state disk says no: a read-only and a full disk, for real.

Each case runs tripdash in a private mount namespace (``unshare -m``): the state
directory is bind-mounted read-only, or lives on a small tmpfs filled to the last
block. Reading never needs writing: ``log``, ``agenda`` and the dashboard still run
and show the marks there are; a mark is refused and reported (exit 1), and the
dashboard's header says marks cannot be saved. Nothing is written beside the
database (a WAL index half made on a full disk would stop every later opening).

Skipped where mount namespaces are not permitted (not root, no ``unshare``).
"""

from __future__ import annotations

import json
import os
import shlex
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
FS = ROOT / "trips" / "fs-north-america-2023-01.toml"
TRIP_ID = "fs-north-america-2023-01"
DONE = ("csis-speech", "blinken/ukraine-tools-to-win")


def _namespaces_work() -> bool:
    unshare = shutil.which("unshare")
    if unshare is None or not sys.platform.startswith("linux"):
        return False
    try:
        probe = subprocess.run(
            [unshare, "-m", "sh", "-c", "mount -t tmpfs -o size=16k tmpfs /mnt"],
            capture_output=True,
            timeout=20,
        )
    except (OSError, subprocess.SubprocessError):
        return False
    return probe.returncode == 0


pytestmark = pytest.mark.skipif(
    not _namespaces_work(), reason="needs unshare -m and mount (root in a mount namespace)"
)


def _env(tmp_path: Path) -> dict[str, str]:
    env = dict(os.environ)
    env["TRIPDASH_CACHE_DIR"] = str(tmp_path / "cache")  # writable: only the state is not
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT / "tests"), env.get("PYTHONPATH", "")])
    env.pop("TRIPDASH_STATE_DIR", None)
    return env


def _tripdash(*args: str) -> str:
    return " ".join(shlex.quote(a) for a in (sys.executable, "-m", "tripdash", *args))


def _in_namespace(
    tmp_path: Path, setup: str, commands: dict[str, str]
) -> dict[str, tuple[int, str, str]]:
    """Run ``setup`` then each command in one private mount namespace.

    Returns, per command name, (exit status, stdout, stderr), kept outside the mounts.
    """
    out = tmp_path / "out"
    out.mkdir(exist_ok=True)
    lines = ["set -e", setup, "set +e"]
    for name, command in commands.items():
        o, e, r = (shlex.quote(str(out / f"{name}.{x}")) for x in ("out", "err", "rc"))
        lines.append(f"{command} >{o} 2>{e} </dev/null; echo $? >{r}")
    script = "\n".join(lines)
    done = subprocess.run(
        ["unshare", "-m", "sh", "-c", script],
        env=_env(tmp_path),
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert done.returncode == 0, done.stderr
    results = {}
    for name in commands:
        code = int((out / f"{name}.rc").read_text())
        stdout = (out / f"{name}.out").read_text(encoding="utf-8")
        stderr = (out / f"{name}.err").read_text(encoding="utf-8")
        assert "Traceback" not in stdout + stderr, stderr
        results[name] = (code, stdout, stderr)
    return results


def _marked_state(state: Path, tmp_path: Path) -> None:
    """A state directory with two marks, made by `tripdash mark` as a person would."""
    for item in DONE:
        done = subprocess.run(
            [sys.executable, "-m", "tripdash", "mark", str(FS), item, "--state-dir", str(state)],
            env=_env(tmp_path),
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert done.returncode == 0, done.stderr


def _files(directory: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(directory.iterdir())}


def _read_and_write(state: Path) -> dict[str, str]:
    return {
        "log": _tripdash("log", str(FS), "--state-dir", str(state)),
        "agenda": _tripdash("agenda", str(FS), "--json", "--state-dir", str(state)),
        "plain": _tripdash(str(FS), "--state-dir", str(state)),  # the dashboard, into a file
        "mark": _tripdash("mark", str(FS), "blinken-bilateral", "--state-dir", str(state)),
        "log_after": _tripdash("log", str(FS), "--state-dir", str(state)),
    }


def _check_reading_works_and_marking_is_refused(
    results: dict[str, tuple[int, str, str]], why: str
) -> None:
    code, out, err = results["log"]
    assert code == 0, err
    # The item's id, wherever it falls: the marks were made at the real time, and near
    # midnight GMT the line gains a day mark ("+1d") before it.
    assert [next(w for w in line.split() if w in DONE) for line in out.splitlines()] == list(DONE)
    code, out, err = results["agenda"]
    assert code == 0, err
    done = {e["id"] for e in json.loads(out) if e["done"]}
    assert done == {"csis-speech"}
    code, out, err = results["plain"]
    assert code == 0, err
    assert "Speech on UK foreign policy priorities  [DONE]" in out
    code, out, err = results["mark"]
    assert code == 1
    assert out == ""
    assert err.startswith("tripdash: the mark was not saved (marks cannot be saved: "), err
    assert why in err and "try again" not in err, err
    code, out, err = results["log_after"]
    assert code == 0, err
    assert len(out.splitlines()) == 2  # the refused mark is nowhere


def test_a_read_only_disk_still_reads_and_refuses_marks(tmp_path: Path) -> None:
    disk = tmp_path / "disk"
    state = disk / "state"
    _marked_state(state, tmp_path)
    before = _files(state)
    q = shlex.quote(str(disk))
    results = _in_namespace(
        tmp_path,
        f"mount --bind {q} {q} && mount -o remount,bind,ro {q}",
        _read_and_write(state),
    )
    _check_reading_works_and_marking_is_refused(results, "read-only file system")
    assert _files(state) == before  # not a byte written, nothing made beside it


def test_a_full_disk_still_reads_refuses_marks_and_leaves_nothing_behind(tmp_path: Path) -> None:
    seed = tmp_path / "seed"
    _marked_state(seed, tmp_path)
    disk = tmp_path / "disk"
    disk.mkdir()
    state = disk / "state"
    q, s, d = (shlex.quote(str(p)) for p in (disk, state, seed))
    commands = _read_and_write(state)
    # After every command has run on the full disk: what is in the state directory.
    commands["listing"] = f"ls -A {s}"
    results = _in_namespace(
        tmp_path,
        f"mount -t tmpfs -o size=256k tmpfs {q} && mkdir -m 700 {s} && cp -p {d}/* {s}/ "
        f"&& (dd if=/dev/zero of={q}/filler bs=4k 2>/dev/null || true) "
        f"&& df {q} | grep -q ' 100% '",
        commands,
    )
    _check_reading_works_and_marking_is_refused(results, "is full")
    # No WAL file nor WAL index made by reading: each would be left half made.
    assert results["listing"][1].split() == sorted(["marks.sqlite3", "marks.sqlite3.clean"])


def test_empty_wal_files_left_on_a_full_disk_do_not_stop_reading(tmp_path: Path) -> None:
    # What an older tripdash left on a full disk: an empty WAL, a WAL index of 3 bytes.
    seed = tmp_path / "seed"
    _marked_state(seed, tmp_path)
    disk = tmp_path / "disk"
    disk.mkdir()
    state = disk / "state"
    q, s, d = (shlex.quote(str(p)) for p in (disk, state, seed))
    results = _in_namespace(
        tmp_path,
        f"mount -t tmpfs -o size=256k tmpfs {q} && mkdir -m 700 {s} && cp -p {d}/* {s}/ "
        f"&& : > {s}/marks.sqlite3-wal && printf abc > {s}/marks.sqlite3-shm "
        f"&& chmod 600 {s}/marks.sqlite3-* "
        f"&& (dd if=/dev/zero of={q}/filler bs=4k 2>/dev/null || true)",
        {
            "log": _tripdash("log", str(FS), "--state-dir", str(state)),
            "mark": _tripdash("mark", str(FS), "blinken-bilateral", "--state-dir", str(state)),
        },
    )
    code, out, err = results["log"]
    assert code == 0, err
    assert len(out.splitlines()) == 2
    code, _, err = results["mark"]
    assert code == 1 and "is full" in err, err


DASHBOARD = """
import asyncio, json, sys
from fakes import FakeClock
from tripdash.app import make_app
from tripdash.domain.loader import load_trip
from tripdash.domain.times import parse_instant
from tripdash.widgets.header import TripHeader
from tripdash.widgets.timeline import Timeline

def lines(widget):
    return [widget.render_line(y).text for y in range(widget.size.height)]

async def main():
    trip = load_trip(sys.argv[1]).trip
    clock = FakeClock(parse_instant("2023-01-17T09:00 America/New_York"))
    app = make_app([trip], clock=clock, state_dir=sys.argv[2], who="test")
    async with app.run_test(size=(160, 34)) as pilot:
        await pilot.pause()
        header = lines(app.screen.query_one(TripHeader))
        timeline = lines(app.screen.query_one(Timeline))
        await pilot.press("j")  # past the done speech, to an event not done
        await pilot.pause()
        selected = app.screen.query_one(Timeline).selected
        await pilot.press("space")
        await pilot.pause()
        notes = [n.message for n in app._notifications]
        done = sorted(app.session.marks.done_ids(trip.id))
    print(json.dumps({"header": header, "timeline": timeline, "notes": notes,
                      "done": done, "selected": getattr(selected, "id", None)}))

asyncio.run(main())
"""


@pytest.mark.parametrize("disk", ["read-only", "full"])
def test_the_dashboard_runs_shows_the_marks_and_says_they_cannot_be_saved(
    tmp_path: Path, disk: str
) -> None:
    seed = tmp_path / "seed"
    _marked_state(seed, tmp_path)
    mount = tmp_path / "disk"
    state = mount / "state"
    q, s, d = (shlex.quote(str(p)) for p in (mount, state, seed))
    if disk == "read-only":
        shutil.copytree(seed, state)
        setup = f"mount --bind {q} {q} && mount -o remount,bind,ro {q}"
        why = "read-only file system"
    else:
        mount.mkdir()
        setup = (
            f"mount -t tmpfs -o size=256k tmpfs {q} && mkdir -m 700 {s} && cp -p {d}/* {s}/ "
            f"&& (dd if=/dev/zero of={q}/filler bs=4k 2>/dev/null || true)"
        )
        why = "is full"
    script = tmp_path / "dashboard.py"
    script.write_text(textwrap.dedent(DASHBOARD), encoding="utf-8")
    command = " ".join(shlex.quote(a) for a in (sys.executable, str(script), str(FS), str(state)))
    results = _in_namespace(tmp_path, setup, {"app": command})
    code, out, err = results["app"]
    assert code == 0, err
    seen = json.loads(out.splitlines()[-1])
    header = "\n".join(seen["header"])
    assert "⚠ marks cannot be saved" in header and why in header.replace("\n", " "), header
    speech = [line for line in seen["timeline"] if "Speech on UK foreign policy" in line]
    assert speech and "✓" in speech[0], seen["timeline"]
    # The key was pressed on an event not done: refused, said, and not shown as done.
    assert seen["selected"] not in (None, "csis-speech")
    assert any("the mark was not saved" in n for n in seen["notes"]), seen["notes"]
    assert seen["done"] == ["blinken/ukraine-tools-to-win", "csis-speech"]
