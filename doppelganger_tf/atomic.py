"""Atomic writes: a reader never sees a half-written file or directory."""
from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
import uuid
from pathlib import Path
from typing import Iterable, Optional


@contextlib.contextmanager
def atomic_directory(path, replaceable: Optional[Iterable[str]] = None):
    """Yield a temporary sibling directory to fill; on success it is swapped into ``path``.

    If the block raises, ``path`` is left untouched.  An existing ``path`` is replaced only if it
    is a directory holding nothing but files named in ``replaceable`` (when given), so a save
    never wipes a folder of unrelated files.
    """
    path = Path(path)
    if path.exists():
        if not path.is_dir():
            raise FileExistsError(f"{path} exists and is not a directory")
        if replaceable is not None:
            foreign = sorted(p.name for p in path.iterdir() if p.name not in set(replaceable))
            if foreign:
                raise FileExistsError(f"refusing to replace {path}: it holds other files "
                                      f"({foreign[:5]}); choose a new or empty directory")
    path.parent.mkdir(parents=True, exist_ok=True)
    token = uuid.uuid4().hex[:12]
    tmp = path.with_name(f".{path.name}.tmp-{token}")
    old = path.with_name(f".{path.name}.old-{token}")
    tmp.mkdir()  # plain mkdir (not mkdtemp) so the directory gets the usual umask permissions
    try:
        yield tmp
        if path.exists():
            os.rename(path, old)
            try:
                os.rename(tmp, path)
            except BaseException:
                os.rename(old, path)
                raise
            shutil.rmtree(old, ignore_errors=True)
        else:
            os.rename(tmp, path)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


@contextlib.contextmanager
def atomic_file(path, mode="w"):
    """Open a temporary sibling file for writing; it is renamed onto ``path`` on success."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.tmp-", dir=path.parent)
    try:
        with os.fdopen(fd, mode) as f:
            yield f
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, 0o666 & ~_umask())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask
