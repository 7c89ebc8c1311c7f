"""Atomic writes: a reader never sees a half-written file or directory, even after a kill.

:func:`atomic_directory` fills a temporary sibling ``.NAME.tmp-<token>``, syncs it to disk and
then puts it in place:

- where the filesystem exchanges two names in one step (Linux ``renameat2(RENAME_EXCHANGE)``:
  ext4, xfs, btrfs, tmpfs, overlayfs) ``NAME`` and the temporary swap names, so ``NAME`` names
  a complete version at every instant, and the previous version, now under the temporary's
  name, is removed;
- elsewhere the previous version is first renamed to ``.NAME.old-<token>``: a kill between the
  two renames leaves ``NAME`` missing, and :func:`recover` renames the ``.old`` one back.

A previous version that is no longer needed gets a temporary's name before it is removed, so
only an ``.old`` directory that was complete and in use is ever restored.

Every saver holds an advisory lock (``flock``) on its temporary directory until it is done, and
on the previous version while it swaps the two, so :func:`recover` tells a dead saver's
leftovers (removed, or restored) from a live saver's (left alone). :func:`atomic_directory`
calls it first; loaders call it too, to get the previous version back where a kill left
``NAME`` missing.
"""
from __future__ import annotations

import contextlib
import ctypes
import errno
import os
import re
import shutil
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Iterable, List, Optional, Tuple

try:
    import fcntl
except ImportError:  # Windows: no advisory locks
    fcntl = None

_KINDS = ("tmp", "old")
_TOKEN = re.compile(r"[0-9a-f]{1,32}")
# how long recover() waits for a live saver that is between its two renames (microseconds
# normally; the bound only keeps a stuck saver from hanging a loader)
_SWAP_WAIT_S = 10.0


def check_parents(path) -> None:
    """Raise NotADirectoryError naming the file when a parent of ``path`` is a file (pathlib
    would raise a bare FileExistsError while creating the folders)."""
    for parent in Path(path).absolute().parents:
        if parent.exists():
            if not parent.is_dir():
                raise NotADirectoryError(
                    f"cannot write {path}: {parent} is a file, not a folder. Choose a path "
                    "outside it, or move the file away")
            return


# what a write returns when the disk or the process's file size limit is full
_FULL = {errno.ENOSPC: "the disk is full", errno.EFBIG: "the file size limit was reached",
         errno.EDQUOT: "the disk quota is exhausted"}


@contextlib.contextmanager
def _clear_full_disk_errors(path, previous: str):
    """Re-raise a full-disk OSError as one that names ``path``, the cause and what became of
    the previous version (``previous``); other errors pass unchanged."""
    try:
        yield
    except OSError as error:
        if error.errno not in _FULL:
            raise
        raise OSError(error.errno, f"writing {path} failed: {_FULL[error.errno]} "
                                   f"({error.strerror}). {previous} Free some space (or raise "
                                   "the limit) and write again") from error


@contextlib.contextmanager
def atomic_directory(path, replaceable: Optional[Iterable[str]] = None):
    """Yield a temporary sibling directory to fill; on success it replaces ``path``.

    If the block raises, or the process is killed at any instant, ``path`` keeps its previous
    version (or, killed after the swap, holds the new one): never a mix, never missing for
    good (see :func:`recover`). An existing ``path`` is replaced only if it is a directory
    holding nothing but files named in ``replaceable`` (when given), so a save never wipes a
    folder of unrelated files.
    """
    path = Path(path)
    check_parents(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    recover(path)  # a killed save's leftovers: put back what it left missing, drop the rest
    if path.exists():
        if not path.is_dir():
            raise FileExistsError(f"{path} exists and is not a directory")
        if replaceable is not None:
            foreign = sorted(p.name for p in path.iterdir() if p.name not in set(replaceable))
            if foreign:
                raise FileExistsError(f"refusing to replace {path}: it holds other files "
                                      f"({foreign[:5]}); choose a new or empty directory")
    tmp, lock = _new_temporary(path)
    previous = (f"The previous version of {path} is intact." if path.exists() else
                f"Nothing was left at {path}.")
    try:
        with _clear_full_disk_errors(path, previous):
            yield tmp
            _fsync_tree(tmp)  # the data must be on disk before a rename makes it the version
        _put_in_place(tmp, path)
    finally:
        _remove(tmp)  # an unfinished temporary, or after an exchange the previous version
        _unlock(lock)


def recover(path) -> Optional[Path]:
    """Clean up after a save into ``path`` by :func:`atomic_directory` that was killed.

    Where ``path`` is missing and a dead saver left the previous version as
    ``.NAME.old-<token>``, rename that back to ``path`` (waiting for a live saver that is
    between its two renames instead). Then remove every leftover of dead savers: unfinished
    temporaries, and previous versions that are no longer needed. A live saver's directories
    are left alone. Returns the leftover that became ``path``, or None. Cheap when there is
    nothing to do (one directory listing); call it before reading a directory that
    :func:`atomic_directory` writes.
    """
    path = Path(path)
    if path.name in ("", ".", ".."):
        return None
    deadline = time.monotonic() + _SWAP_WAIT_S
    while True:
        restored, saver_swapping = _recover_once(path)
        if not saver_swapping or time.monotonic() > deadline:
            return restored
        time.sleep(0.01)


def _recover_once(path: Path) -> Tuple[Optional[Path], bool]:
    """One pass of :func:`recover`: (the leftover restored as ``path``, whether ``path`` is
    missing because a live saver is between its two renames)."""
    held: List[Tuple[str, Path, int]] = []
    live_old = False
    try:
        for kind, entry in _leftovers(path):
            if kind == "tmp" and fcntl is None:
                continue  # without locks a live saver's temporary looks like a dead one's
            fd = _lock(entry, wait=False)
            if fd is None:  # a live saver's (or gone meanwhile)
                live_old |= kind == "old"
                continue
            held.append((kind, entry, fd))
        restored = None
        if not os.path.lexists(path):
            olds = [entry for kind, entry, _ in held if kind == "old"]
            if olds:
                newest = max(olds, key=_mtime)
                restored = newest if _move_back(newest, path) else None
            elif live_old:
                return None, True
        complete = os.path.lexists(path)
        for kind, entry, _ in held:
            # a temporary is never known complete; an old version is not needed once path is
            if entry != restored and (kind == "tmp" or complete):
                _discard(entry, path)
        return restored, False
    finally:
        for _, _, fd in held:
            _unlock(fd)


def _leftovers(path: Path) -> List[Tuple[str, Path]]:
    """(kind, directory) of each ``.NAME.tmp-<token>`` / ``.NAME.old-<token>`` beside path."""
    prefix = f".{path.name}."
    found = []
    try:
        entries = os.scandir(path.parent)
    except (FileNotFoundError, NotADirectoryError):
        return found
    with entries:
        for entry in entries:
            if not entry.name.startswith(prefix):
                continue
            kind, _, token = entry.name[len(prefix):].partition("-")
            if kind in _KINDS and _TOKEN.fullmatch(token) and \
                    entry.is_dir(follow_symlinks=False):
                found.append((kind, Path(entry.path)))
    return found


def _move_back(old: Path, path: Path) -> bool:
    """Rename the previous version ``old`` back to the missing ``path``; False when a
    concurrent saver (or recover) put a version there first."""
    try:
        os.rename(old, path)
    except OSError as error:
        if os.path.lexists(path):
            return False
        raise OSError(error.errno, f"{path} is missing after an interrupted save, and its "
                      f"previous version {old} could not be moved back ({error.strerror}): "
                      f"rename {old} to {path}") from error
    fsync_directory(path.parent)
    return True


def _new_temporary(path: Path) -> Tuple[Path, int]:
    """A new, locked, empty temporary sibling of ``path`` and its lock."""
    while True:
        tmp = _sibling(path, "tmp")
        try:
            tmp.mkdir()  # plain mkdir (not mkdtemp) so the directory gets the usual umask
        except FileExistsError:
            continue
        lock = _lock(tmp, wait=True)
        # between mkdir and the lock a concurrent recover() may take it for a dead saver's
        if lock is not None and _is_locked_directory(lock, tmp):
            return tmp, lock
        _unlock(lock)


def _put_in_place(tmp: Path, path: Path) -> None:
    """Make the complete directory ``tmp`` the version at ``path``. Afterwards ``tmp`` names
    nothing, or the previous version (the caller removes it)."""
    try:
        if _exchange(tmp, path):
            fsync_directory(path.parent)
            return
    except FileNotFoundError:
        pass  # no previous version to exchange with
    if os.path.lexists(path):
        _replace_in_two_renames(tmp, path)
    else:
        os.rename(tmp, path)
    fsync_directory(path.parent)


def _replace_in_two_renames(tmp: Path, path: Path) -> None:
    """Where names cannot be exchanged: previous version aside, then the new one in place.
    The previous version stays locked until the new one is in place, so recover() waits for
    this saver rather than restoring it underneath."""
    old = _sibling(path, "old")
    lock = _lock_current(path)
    try:
        os.rename(path, old)
        try:
            os.rename(tmp, path)
        except BaseException:
            os.rename(old, path)
            raise
    finally:
        _unlock(lock)
    fsync_directory(path.parent)
    _discard(old, path)


def _lock_current(path: Path) -> int:
    """A lock on the directory that ``path`` names now (a concurrent saver may swap it)."""
    while True:
        lock = _lock(path, wait=True)
        if lock is None or _is_locked_directory(lock, path):
            return -1 if lock is None else lock
        _unlock(lock)


# --- locks ----------------------------------------------------------------------------------

def _lock(directory: Path, wait: bool) -> Optional[int]:
    """A descriptor holding an exclusive flock on ``directory`` (-1: no locks on this
    platform), or None when another process holds one (``wait=False``) or it is gone."""
    if fcntl is None:
        return -1
    try:
        fd = os.open(directory, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    except (FileNotFoundError, NotADirectoryError):
        return None
    try:
        fcntl.flock(fd, fcntl.LOCK_EX if wait else fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(fd)
        return None
    except BaseException:
        os.close(fd)
        raise
    return fd


def _unlock(fd: Optional[int]) -> None:
    if fd is not None and fd >= 0:
        os.close(fd)  # releases the flock


def _is_locked_directory(fd: int, path: Path) -> bool:
    """Whether ``path`` still names the directory that ``fd`` locks."""
    if fd < 0:
        return True
    try:
        named = os.stat(path, follow_symlinks=False)
    except FileNotFoundError:
        return False
    held = os.fstat(fd)
    return (named.st_dev, named.st_ino) == (held.st_dev, held.st_ino)


# --- renames --------------------------------------------------------------------------------

def _renameat2():
    """libc's renameat2 (glibc >= 2.28), or None."""
    if not sys.platform.startswith("linux"):
        return None
    try:
        function = ctypes.CDLL(None, use_errno=True).renameat2
    except (OSError, AttributeError):
        return None
    function.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p,
                         ctypes.c_uint]
    function.restype = ctypes.c_int
    return function


_RENAMEAT2 = _renameat2()
_AT_FDCWD = -100
_RENAME_EXCHANGE = 2


def _exchange(a: Path, b: Path) -> bool:
    """Swap the names ``a`` and ``b`` in one step; False where the system or filesystem
    cannot (FileNotFoundError when one of them does not exist)."""
    if _RENAMEAT2 is None:
        return False
    if _RENAMEAT2(_AT_FDCWD, os.fsencode(a), _AT_FDCWD, os.fsencode(b), _RENAME_EXCHANGE) == 0:
        return True
    code = ctypes.get_errno()
    if code in (errno.EINVAL, errno.ENOSYS, errno.EOPNOTSUPP, errno.ENOTSUP):
        return False  # e.g. NFS, or a kernel older than 3.15
    raise OSError(code, os.strerror(code), str(a), None, str(b))


# --- helpers --------------------------------------------------------------------------------

def _sibling(path: Path, kind: str) -> Path:
    return path.with_name(f".{path.name}.{kind}-{uuid.uuid4().hex[:12]}")


def _mtime(path: Path) -> float:
    try:
        return os.stat(path).st_mtime
    except FileNotFoundError:
        return 0.0


def _discard(leftover: Path, path: Path) -> None:
    """Remove a leftover of ``path``; a previous version is first renamed to a temporary's
    name, so a kill midway leaves a part that recover() removes, never one it restores."""
    if leftover.name.startswith(f".{path.name}.old-"):
        renamed = _sibling(path, "tmp")
        with contextlib.suppress(OSError):
            os.rename(leftover, renamed)
            leftover = renamed
    _remove(leftover)


def _remove(path: Path) -> None:
    if os.path.islink(path):
        with contextlib.suppress(OSError):
            os.unlink(path)
    else:
        shutil.rmtree(path, ignore_errors=True)


def _fsync_tree(directory: Path) -> None:
    for root, _, files in os.walk(directory):
        for name in files:
            file = os.path.join(root, name)
            if not os.path.islink(file):
                fd = os.open(file, os.O_RDONLY)
                try:
                    os.fsync(fd)
                finally:
                    os.close(fd)
        fsync_directory(root)


def fsync_directory(directory) -> None:
    """Make a directory's entries (renames, new files) durable; a no-op where directories
    cannot be opened (Windows) or synced."""
    try:
        fd = os.open(directory, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


@contextlib.contextmanager
def atomic_file(path, mode="w"):
    """Open a temporary sibling file for writing; it is renamed onto ``path`` on success."""
    path = Path(path)
    check_parents(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.tmp-", dir=path.parent)
    previous = (f"The previous version of {path} is intact." if path.exists() else
                f"Nothing was left at {path}.")
    try:
        with _clear_full_disk_errors(path, previous), os.fdopen(fd, mode) as f:
            yield f
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, 0o666 & ~_umask())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise
    fsync_directory(path.parent)


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask
