"""The laptop's own files against another local user: symbolic links, foreign owners,
a careless umask, planted temporary names, planted pickles and crafted cache entries.

What is guarded (see :mod:`tripdash.domain.safedir`): the marks database is never used
through a symbolic link; a state or cache directory is followed through a link only
when the link and its target are the user's; a directory of someone else's is refused;
what tripdash creates is 0700 / 0600 whatever the umask; files are written under fresh
names created exclusively and renamed into place, so a link planted under any name is
replaced, never written through; the parsed-trip cache is JSON checked against the trip
file's content hash, so nothing in it can run code or pass for another trip.

Foreign owners are made with ``chown`` to another uid where the tests run as root, and
by faking the ownership check (``safedir.current_uid``) otherwise.
"""

from __future__ import annotations

import hashlib
import json
import os
import pickle
import stat
import subprocess
import sys
from collections.abc import Iterator
from datetime import datetime, timezone
from pathlib import Path

import pytest
from fakes import FakeClock

from tripdash.domain import parsed_cache, safedir
from tripdash.domain.fetch import CachedCopy, TripCache
from tripdash.domain.loader import load_trip
from tripdash.domain.store import DB_NAME, MarkStore, StoreError

ROOT = Path(__file__).resolve().parents[1]
FS = ROOT / "trips" / "fs-north-america-2023-01.toml"
SEOUL = ROOT / "trips" / "secstate-seoul-anchorage-2021-03.toml"
T0 = datetime(2023, 1, 17, 14, 0, tzinfo=timezone.utc)
OTHER_UID = 4242  # nobody's on a test machine: "another local user"
ROOT_USER = hasattr(os, "geteuid") and os.geteuid() == 0
as_root = pytest.mark.skipif(not ROOT_USER, reason="chown to another uid needs root")


def mode(path: Path) -> int:
    return stat.S_IMODE(os.lstat(path).st_mode)


def victim(tmp_path: Path) -> Path:
    """A file of the user's that an attacker would like tripdash to overwrite."""
    path = tmp_path / "victim" / "precious.txt"
    path.parent.mkdir(exist_ok=True)
    path.write_bytes(b"the victim's own words\n")
    path.chmod(0o644)
    return path


def untouched(path: Path) -> bool:
    return path.read_bytes() == b"the victim's own words\n" and mode(path) == 0o644


def store(state: Path) -> MarkStore:
    return MarkStore(state, clock=FakeClock(T0))


def cli(
    *args: str, env: dict[str, str], umask: int | None = None
) -> subprocess.CompletedProcess[str]:
    def set_umask() -> None:
        if umask is not None:
            os.umask(umask)

    done = subprocess.run(
        [sys.executable, "-m", "tripdash", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        preexec_fn=set_umask,
        stdin=subprocess.DEVNULL,
    )
    assert "Traceback" not in done.stdout + done.stderr, done.stderr
    return done


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    out = dict(os.environ)
    out["TRIPDASH_STATE_DIR"] = str(tmp_path / "state")
    out["TRIPDASH_CACHE_DIR"] = str(tmp_path / "cache")
    return out


# -- the marks file through symbolic links ----------------------------------------------


def _real_database(directory: Path) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    with store(directory) as s:
        s.mark("trip", "a", True, "me")
    return directory / DB_NAME


@pytest.mark.parametrize("target", ["a database", "an empty file", "nothing (dangling)"])
def test_a_symlinked_marks_file_is_refused_and_its_target_left_alone(
    tmp_path: Path, target: str
) -> None:
    state = tmp_path / "state"
    state.mkdir(mode=0o700)
    if target == "a database":
        aim = _real_database(tmp_path / "elsewhere")
        aim.chmod(0o644)
    elif target == "an empty file":
        aim = tmp_path / "elsewhere" / "empty"
        aim.parent.mkdir()
        aim.write_bytes(b"")
        aim.chmod(0o644)
    else:
        aim = tmp_path / "elsewhere" / "missing.sqlite3"
        aim.parent.mkdir()
    before = aim.read_bytes() if aim.exists() else None
    (state / DB_NAME).symlink_to(aim)
    with pytest.raises(StoreError, match="is a symbolic link: refusing to use it"):
        store(state)
    if before is None:
        assert not os.path.lexists(aim)  # a dangling link never creates its target
    else:
        assert aim.read_bytes() == before and mode(aim) == 0o644  # no chmod 0600 either
    assert sorted(p.name for p in state.iterdir()) == [DB_NAME]  # nothing made beside


@pytest.mark.parametrize("side", ["-wal", "-shm"])
def test_a_symlinked_wal_file_is_refused(tmp_path: Path, side: str) -> None:
    state = tmp_path / "state"
    _real_database(state)
    target = victim(tmp_path)
    (state / f"{DB_NAME}{side}").symlink_to(target)
    with pytest.raises(StoreError, match=f"{side} is a symbolic link"):
        store(state)
    assert untouched(target)


def test_the_commands_say_a_symlinked_marks_file_is_refused(
    tmp_path: Path, env: dict[str, str]
) -> None:
    state = Path(env["TRIPDASH_STATE_DIR"])
    state.mkdir(mode=0o700)
    aim = _real_database(tmp_path / "elsewhere")
    (state / DB_NAME).symlink_to(aim)
    before = aim.read_bytes()
    for args in (["mark", str(FS), "csis-speech"], ["log", str(FS)], ["agenda", str(FS)]):
        done = cli(*args, env=env)
        assert done.returncode == 2, done.stderr
        assert "is a symbolic link: refusing to use it" in done.stderr
    assert aim.read_bytes() == before


def test_a_planted_link_at_the_clean_close_record_is_replaced_not_followed(
    tmp_path: Path,
) -> None:
    state = tmp_path / "state"
    _real_database(state)
    target = victim(tmp_path)
    clean = state / f"{DB_NAME}.clean"
    clean.unlink()
    clean.symlink_to(target)
    with store(state) as s:
        assert s.done_ids("trip") == {"a"}  # the record is not readable: a full check
    assert untouched(target)
    assert not clean.is_symlink() and mode(clean) == 0o600


# -- state and cache directories through links, and of other users ------------------------


def test_a_symlinked_state_directory_of_the_users_own_is_followed(tmp_path: Path) -> None:
    real = tmp_path / "real-state"
    real.mkdir()
    real.chmod(0o755)
    link = tmp_path / "state"
    link.symlink_to(real)
    with store(link) as s:
        s.mark("trip", "a", True, "me")
    assert (real / DB_NAME).is_file()
    assert mode(real) == 0o700  # the user's own: tightened, as any of its directories


def test_a_dangling_state_directory_link_is_refused_and_creates_nothing(
    tmp_path: Path,
) -> None:
    link = tmp_path / "state"
    link.symlink_to(tmp_path / "gone")
    with pytest.raises(StoreError, match="symbolic link to something missing"):
        store(link)
    assert not os.path.lexists(tmp_path / "gone")


@as_root
def test_a_state_directory_link_to_another_users_directory_is_refused(tmp_path: Path) -> None:
    theirs = tmp_path / "theirs"
    theirs.mkdir(mode=0o777)
    theirs.chmod(0o777)
    os.chown(theirs, OTHER_UID, OTHER_UID)
    link = tmp_path / "state"
    link.symlink_to(theirs)
    with pytest.raises(StoreError, match=f"belongs to uid {OTHER_UID}, not to you"):
        store(link)
    assert list(theirs.iterdir()) == [] and mode(theirs) == 0o777  # not chmodded, empty


@as_root
def test_a_state_directory_link_made_by_another_user_is_refused(tmp_path: Path) -> None:
    ours = tmp_path / "ours"
    ours.mkdir(mode=0o700)
    link = tmp_path / "state"
    link.symlink_to(ours)
    os.lchown(link, OTHER_UID, OTHER_UID)
    with pytest.raises(StoreError, match=f"symbolic link made by uid {OTHER_UID}"):
        store(link)
    assert list(ours.iterdir()) == []


@as_root
@pytest.mark.parametrize("which", ["state", "cache"])
def test_a_directory_made_first_by_another_user_is_refused_by_the_commands(
    tmp_path: Path, env: dict[str, str], which: str
) -> None:
    directory = Path(env["TRIPDASH_STATE_DIR" if which == "state" else "TRIPDASH_CACHE_DIR"])
    directory.mkdir(mode=0o777)
    directory.chmod(0o777)
    os.chown(directory, OTHER_UID, OTHER_UID)
    done = cli("mark", str(FS), "csis-speech", env=env)
    assert done.returncode == 2
    assert f"belongs to uid {OTHER_UID}, not to you: refusing to use it" in done.stderr
    assert (which == "cache") == ("TRIPDASH_CACHE_DIR" in done.stderr)
    assert list(directory.iterdir()) == [] and mode(directory) == 0o777


def test_a_state_directory_of_another_user_is_refused_faked(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Without root: the ownership check is told the user is someone else.
    state = tmp_path / "state"
    state.mkdir(mode=0o700)
    monkeypatch.setattr(safedir, "current_uid", lambda: os.stat(state).st_uid + 1)
    with pytest.raises(StoreError, match="not to you: refusing to use it"):
        store(state)
    assert list(state.iterdir()) == []


# -- the umask --------------------------------------------------------------------------


def test_umask_000_still_gives_private_directories_and_files(
    tmp_path: Path, env: dict[str, str]
) -> None:
    env["TRIPDASH_STATE_DIR"] = str(tmp_path / "s1" / "s2" / "state")
    env["TRIPDASH_CACHE_DIR"] = str(tmp_path / "c1" / "c2" / "cache")
    assert cli("mark", str(FS), "csis-speech", env=env, umask=0).returncode == 0
    assert cli("check", str(FS), env=env, umask=0).returncode == 0  # fills the parsed cache
    assert cli("remind", str(FS), "--at", "2023-01-17T09:00Z", env=env, umask=0).returncode == 0
    made_dirs = [tmp_path / d for d in ("s1", "s1/s2", "s1/s2/state", "c1", "c1/c2", "c1/c2/cache")]
    made_dirs.append(tmp_path / "c1/c2/cache/parsed")
    assert {str(d.relative_to(tmp_path)): mode(d) for d in made_dirs} == {
        str(d.relative_to(tmp_path)): 0o700 for d in made_dirs
    }
    files = [p for p in tmp_path.rglob("*") if p.is_file() and p.parts[-2] != "victim"]
    names = {p.name for p in files}
    assert {DB_NAME, f"{DB_NAME}.clean"} <= names
    assert any(p.suffix == ".json" for p in files if p.parent.name == "parsed")
    assert {str(p.relative_to(tmp_path)): mode(p) for p in files} == {
        str(p.relative_to(tmp_path)): 0o600 for p in files
    }


# -- the parsed-trip cache: planted links, pickles, crafted entries -------------------------


def _entry_name(path: Path) -> tuple[str, str]:
    data = path.read_bytes()
    return parsed_cache.key(data, str(path), path.stem), parsed_cache.content_hash(data)


@pytest.fixture
def cache_dir(tmp_path: Path) -> Path:
    directory = tmp_path / "parsed"
    directory.mkdir(mode=0o700)
    return directory


def test_planted_temporary_and_entry_links_are_never_written_through(
    tmp_path: Path, cache_dir: Path
) -> None:
    target = victim(tmp_path)
    entry, _ = _entry_name(FS)
    # Every name an older tripdash (or a guess) might write: the entry, and temporary ones.
    planted = [
        f"{entry}.json",
        f"{entry}.json.tmp",
        f".{entry}.json.tmp",
        f"{entry}.tmp",
        f".{entry}.json.{os.getpid()}.tmp",
    ]
    for name in planted:
        (cache_dir / name).symlink_to(target)
    result = load_trip(FS, cache_dir=cache_dir)
    assert result.trip.id == "fs-north-america-2023-01"
    assert untouched(target)
    written = cache_dir / f"{entry}.json"
    assert not written.is_symlink() and mode(written) == 0o600  # the link was replaced
    assert load_trip(FS, cache_dir=cache_dir).trip == result.trip  # and is a usable entry


def test_a_planted_pickle_is_never_loaded(tmp_path: Path, cache_dir: Path) -> None:
    ran = tmp_path / "ran"

    class Payload:
        def __reduce__(self) -> tuple[object, tuple[str, ...]]:
            return (os.system, (f"touch {ran}",))

    bomb = pickle.dumps(Payload())
    entry, _ = _entry_name(FS)
    for name in (f"{entry}.json", f"{entry}.pickle", f"{entry}.pkl", f"{entry}"):
        (cache_dir / name).write_bytes(bomb)
    for _ in range(2):
        assert load_trip(FS, cache_dir=cache_dir).trip.id == "fs-north-america-2023-01"
    assert not ran.exists()
    # The entry is JSON now, and nothing by a pickle's name is kept.
    head = (cache_dir / f"{entry}.json").read_bytes().split(b"\n", 1)[0]
    assert json.loads(head)["format"] == parsed_cache.FORMAT
    assert not list(cache_dir.glob("*.pickle"))


def _craft(cache_dir: Path, entry: str, recorded_hash: str, from_trip: Path) -> None:
    """An entry for ``entry`` whose body is ``from_trip``'s, claiming ``recorded_hash``."""
    other_entry, other_hash = _entry_name(from_trip)
    parsed_cache.write(cache_dir, other_entry, other_hash, load_trip(from_trip))
    raw = (cache_dir / f"{other_entry}.json").read_bytes()
    _, _, body = raw.partition(b"\n")
    head = {
        "format": parsed_cache.FORMAT,
        "key": entry,
        "sha256": recorded_hash,
        "body_sha256": hashlib.sha256(body).hexdigest(),
    }
    (cache_dir / f"{entry}.json").write_bytes(json.dumps(head).encode() + b"\n" + body)
    (cache_dir / f"{other_entry}.json").unlink()


def test_an_entry_of_another_trips_content_is_ignored(cache_dir: Path) -> None:
    entry, _ = _entry_name(FS)
    _, seoul_hash = _entry_name(SEOUL)
    # Under this trip's name, well formed, but made from the Seoul file's bytes.
    _craft(cache_dir, entry, seoul_hash, SEOUL)
    assert load_trip(FS, cache_dir=cache_dir).trip.title.startswith("Foreign Secretary")


def test_an_entry_copied_under_another_name_is_ignored(cache_dir: Path) -> None:
    entry, _ = _entry_name(FS)
    seoul_entry, seoul_hash = _entry_name(SEOUL)
    parsed_cache.write(cache_dir, seoul_entry, seoul_hash, load_trip(SEOUL))
    (cache_dir / f"{entry}.json").write_bytes((cache_dir / f"{seoul_entry}.json").read_bytes())
    assert load_trip(FS, cache_dir=cache_dir).trip.id == "fs-north-america-2023-01"


def test_the_content_hash_is_what_keeps_a_crafted_entry_out(cache_dir: Path) -> None:
    # The control for the two tests above: an entry that records this file's own hash
    # is used as it is, whatever trip its body holds. Only the user can write one: the
    # directory must be the user's and private (below), or it is not read at all.
    entry, fs_hash = _entry_name(FS)
    _craft(cache_dir, entry, fs_hash, SEOUL)
    assert load_trip(FS, cache_dir=cache_dir).trip.id != "fs-north-america-2023-01"


def test_a_cache_directory_others_can_write_is_tightened_before_use(cache_dir: Path) -> None:
    cache_dir.chmod(0o777)
    load_trip(FS, cache_dir=cache_dir)
    assert mode(cache_dir) == 0o700


@as_root
def test_a_crafted_entry_in_another_users_cache_directory_is_never_read(
    tmp_path: Path, cache_dir: Path
) -> None:
    entry, fs_hash = _entry_name(FS)
    _craft(cache_dir, entry, fs_hash, SEOUL)  # would be used, were the directory ours
    os.chown(cache_dir, OTHER_UID, OTHER_UID)
    cache_dir.chmod(0o777)
    before = sorted(p.name for p in cache_dir.iterdir())
    assert load_trip(FS, cache_dir=cache_dir).trip.id == "fs-north-america-2023-01"
    assert sorted(p.name for p in cache_dir.iterdir()) == before  # nor written to
    assert mode(cache_dir) == 0o777


@as_root
def test_a_crafted_entry_file_of_another_user_is_never_read(cache_dir: Path) -> None:
    entry, fs_hash = _entry_name(FS)
    _craft(cache_dir, entry, fs_hash, SEOUL)
    os.chown(cache_dir / f"{entry}.json", OTHER_UID, OTHER_UID)
    assert load_trip(FS, cache_dir=cache_dir).trip.id == "fs-north-america-2023-01"


# -- TripCache: the cached copies of trips from addresses ----------------------------------

URL = "https://trips.example.invalid/fs.toml"


def _copy(body: bytes) -> CachedCopy:
    return CachedCopy(body, '"v1"', None, T0, T0)


@pytest.fixture
def trips(tmp_path: Path) -> Iterator[TripCache]:
    yield TripCache(tmp_path / "trips")


def test_trip_cache_round_trip_is_private(trips: TripCache) -> None:
    trips.save(URL, _copy(FS.read_bytes()), ("fs", "FS"))
    copy = trips.load(URL)
    assert copy is not None and copy.body == FS.read_bytes()
    assert trips.trip_of(URL) == ("fs", "FS")
    assert mode(trips.directory) == 0o700
    assert {mode(p) for p in trips.directory.iterdir()} == {0o600}


def test_trip_cache_links_planted_at_its_names_are_replaced(
    tmp_path: Path, trips: TripCache
) -> None:
    target = victim(tmp_path)
    trips.directory.mkdir(mode=0o700)
    body = FS.read_bytes()
    key = trips._key(URL)
    digest = hashlib.sha256(body).hexdigest()
    for name in (f"{key}.json", f"{key}.json.tmp", f"{key}-{digest[:16]}.toml"):
        (trips.directory / name).symlink_to(target)
    assert trips.load(URL) is None  # a link is not read either
    trips.save(URL, _copy(body))
    assert untouched(target)
    copy = trips.load(URL)
    assert copy is not None and copy.body == body


def test_trip_cache_metadata_naming_a_file_elsewhere_is_ignored(
    tmp_path: Path, trips: TripCache
) -> None:
    trips.save(URL, _copy(FS.read_bytes()))
    meta_path = trips.directory / f"{trips._key(URL)}.json"
    target = victim(tmp_path)
    meta = json.loads(meta_path.read_bytes())
    for name in (str(target), f"../victim/{target.name}", f"{trips._key(URL)}/../../x"):
        meta["body"] = name
        meta["sha256"] = hashlib.sha256(target.read_bytes()).hexdigest()
        meta_path.write_text(json.dumps(meta))
        assert trips.load(URL) is None
    assert untouched(target)


def test_trip_cache_body_damaged_on_disk_is_ignored(trips: TripCache) -> None:
    trips.save(URL, _copy(FS.read_bytes()))
    (body,) = trips.directory.glob("*.toml")
    body.write_bytes(body.read_bytes().replace(b"Foreign Secretary", b"Forged Secretary"))
    assert trips.load(URL) is None


@as_root
def test_trip_cache_of_another_user_is_neither_read_nor_written(trips: TripCache) -> None:
    trips.save(URL, _copy(FS.read_bytes()))
    os.chown(trips.directory, OTHER_UID, OTHER_UID)
    assert trips.load(URL) is None and trips.trip_of(URL) is None
    with pytest.raises(safedir.UnsafeLocation, match=f"uid {OTHER_UID}"):
        trips.save(URL, _copy(SEOUL.read_bytes()))


# -- the reminders record beside the marks -----------------------------------------------


@pytest.mark.parametrize("planted", ["", "-wal", "-shm"])
@pytest.mark.parametrize("target", ["a file", "an empty file", "nothing (dangling)"])
def test_the_reminders_record_is_never_used_through_a_link(
    tmp_path: Path, planted: str, target: str
) -> None:
    from tripdash.domain.reminder_record import RecordError, ReminderRecord

    state = tmp_path / "state"
    state.mkdir(mode=0o700)
    aim = tmp_path / "victim" / "aim"
    aim.parent.mkdir()
    if target != "nothing (dangling)":
        aim.write_bytes(b"" if target == "an empty file" else b"the victim's own words\n")
        aim.chmod(0o644)
    (state / f"reminders.sqlite3{planted}").symlink_to(aim)
    with pytest.raises(RecordError, match="is a symbolic link: refusing to use it"):
        ReminderRecord(state, clock=FakeClock(T0))
    if target == "nothing (dangling)":
        assert not os.path.lexists(aim)  # no target created
    else:
        expected = b"" if target == "an empty file" else b"the victim's own words\n"
        assert aim.read_bytes() == expected  # an empty file is not made a database
        assert mode(aim) == 0o644  # nor chmodded


def test_the_watcher_says_a_linked_reminders_record_is_refused(
    tmp_path: Path, env: dict[str, str]
) -> None:
    from tripdash.domain.reminder_record import open_record

    state = Path(env["TRIPDASH_STATE_DIR"])
    state.mkdir(mode=0o700)
    target = victim(tmp_path)
    (state / "reminders.sqlite3").symlink_to(target)
    record = open_record(state, clock=FakeClock(T0))
    assert "is a symbolic link: refusing to use it" in (record.notice or "")
    assert untouched(target)
