"""tripdash's own directories and files, safe from the other users of the machine.

Every state and cache directory is checked each time it is used:

* it must belong to the user running tripdash; one that belongs to someone
  else (made first by another local user, say) is refused with a message;
* group and other permission bits are removed when the user owns it (trip
  contents are sensitive, and a directory others can write to lets them plant
  files and links);
* a symbolic link to a directory is followed only when the link and its
  target both belong to the user;
* directories tripdash creates, parents included, are made 0700 whatever the
  umask.

Files are opened without following symbolic links, and written under a fresh
name created exclusively (``O_EXCL``), then renamed over the old one: a link
planted under the final or the temporary name is never written through.
"""

from __future__ import annotations

import contextlib
import errno
import os
import secrets
import stat
from pathlib import Path

_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)
_CLOEXEC = getattr(os, "O_CLOEXEC", 0)
_DIRECTORY = getattr(os, "O_DIRECTORY", 0)


class UnsafeLocation(OSError):
    """A directory or file tripdash refuses to use; the message says why and where."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:
        return self.message


def current_uid() -> int:
    """Whose files tripdash may use: the effective user's."""
    return os.geteuid() if hasattr(os, "geteuid") else -1


def _owner_name(uid: int) -> str:
    try:
        import pwd

        return f"{pwd.getpwuid(uid).pw_name} (uid {uid})"
    except (ImportError, KeyError):
        return f"uid {uid}"


def _ours(st: os.stat_result) -> bool:
    uid = current_uid()
    return uid < 0 or st.st_uid == uid  # no uids (Windows): nothing to compare


def private_dir(path: Path, *, create: bool = True) -> Path:
    """Check (and, with ``create``, make) one of tripdash's directories; return it.

    Raises :class:`UnsafeLocation` for a directory tripdash must not use, and
    ``OSError`` when it does not exist (``create=False``) or cannot be made.
    """
    path = Path(path)
    if create:
        make_dirs(path)
    lst = os.lstat(path)
    if stat.S_ISLNK(lst.st_mode):
        if not _ours(lst):
            raise UnsafeLocation(
                f"{path} is a symbolic link made by {_owner_name(lst.st_uid)}, not by you: "
                "refusing to follow it"
            )
        try:
            st = os.stat(path)
        except OSError as exc:
            raise UnsafeLocation(
                f"{path} is a symbolic link to something missing ({exc.strerror or exc})"
            ) from None
        if not _ours(st):
            raise UnsafeLocation(
                f"{path} is a symbolic link to {os.path.realpath(path)}, which belongs to "
                f"{_owner_name(st.st_uid)}, not to you: refusing to use it"
            )
    else:
        st = lst
    if not stat.S_ISDIR(st.st_mode):
        raise UnsafeLocation(f"{path} is not a directory")
    if not _ours(st):
        raise UnsafeLocation(
            f"{path} belongs to {_owner_name(st.st_uid)}, not to you: refusing to use it "
            "(another user could read or replace what tripdash keeps there); remove it, or "
            "point tripdash elsewhere"
        )
    mode = stat.S_IMODE(st.st_mode)
    if mode & 0o077:
        try:
            os.chmod(path, mode & 0o700)
        except OSError as exc:
            if exc.errno != errno.EROFS:
                raise UnsafeLocation(
                    f"{path} can be used by other users (mode {mode:04o}) and could not be "
                    f"made private: {exc.strerror or exc}"
                ) from None
            # A read-only file system: nobody can plant anything there either.
    return path


def make_dirs(path: Path) -> None:
    """Create ``path`` and its missing parents, each 0700 whatever the umask."""
    missing: list[Path] = []
    current = Path(path)
    while True:
        try:
            os.lstat(current)
            break
        except FileNotFoundError:
            missing.append(current)
            if current.parent == current:
                break
            current = current.parent
    for directory in reversed(missing):
        try:
            os.mkdir(directory, 0o700)
        except FileExistsError:
            continue  # made meanwhile by another process: checked like any other
        os.chmod(directory, 0o700)  # mkdir's mode is cut by the umask (and only by it)


def read_file(path: Path, *, limit: int = 64 * 1024 * 1024) -> bytes:
    """The bytes of a regular file of the user's, never through a symbolic link."""
    fd = os.open(path, os.O_RDONLY | _NOFOLLOW | _CLOEXEC)
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            raise UnsafeLocation(f"{path} is not a regular file")
        if not _ours(st):
            raise UnsafeLocation(f"{path} belongs to {_owner_name(st.st_uid)}, not to you")
        if st.st_size > limit:
            raise UnsafeLocation(f"{path} is larger than expected")
        chunks = []
        while True:
            chunk = os.read(fd, 1 << 20)
            if not chunk:
                break
            chunks.append(chunk)
        return b"".join(chunks)
    finally:
        os.close(fd)


def create_exclusive(path: Path, mode: int = 0o600) -> int:
    """A new file at ``path`` (never an existing one, nor a link's target); its descriptor."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | _NOFOLLOW | _CLOEXEC, mode)
    try:
        os.fchmod(fd, mode)  # the umask does not get a say either
    except BaseException:
        os.close(fd)
        raise
    return fd


def temporary_name(path: Path) -> Path:
    """A fresh name beside ``path`` for writing it (unguessable, so nothing waits there)."""
    return path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(6)}.tmp")


def write_file(path: Path, data: bytes, *, mode: int = 0o600, durable: bool = True) -> None:
    """Replace ``path`` with ``data``: all or nothing, never through a planted link.

    ``durable=False`` skips the fsync, for a file that can be rebuilt and whose reader
    checks it (the parsed-trip cache): the rename still makes it all or nothing while
    the system runs, and a copy left torn by a crash is detected and ignored.
    """
    tmp = temporary_name(path)
    fd = create_exclusive(tmp, mode)
    try:
        try:
            view = memoryview(data)
            while view:
                written = os.write(fd, view)
                view = view[written:]
            if durable:
                os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(tmp, path)  # renames over a link, never writes through it
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
