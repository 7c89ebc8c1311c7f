"""Sharded datasets: one streamed Dataset directory that several processes or hosts fill part
by part, what ``DoppelGANger.generate_to(path, n, shard=i, num_shards=k)`` writes. Shard i
writes rows [start_i, stop_i), the shards' ranges following each other in shard order.

Layout: the streamed layout of :class:`~doppelganger_tf.persistence.storage.DatasetStreamWriter`
(the same ``specs.json`` and ``<array>.npy`` files, byte for byte once all shards are written), plus
the run's description and one completion marker per shard::

    path/sharding.json                      n, num_shards and the writer's arguments
    path/specs.json, <array>.npy            the arrays at full size (all n rows) from the start
    path/shards/shard-00001-of-00003.json   shard 1's marker: its rows are on disk

- The first shard to arrive creates the layout, race-free without locks (also across hosts on
  a shared filesystem): each file is written and synced under a temporary name, then
  hard-linked to its name, which fails if another shard linked one first. ``sharding.json``
  comes first, so a shard run with other arguments is refused before it creates anything, and
  the later files are the same whichever shard creates them.
- A shard removes its own marker, writes its rows in place (positioned writes: a memory map
  would keep every written page resident), syncs them, then writes its marker atomically. A
  killed shard leaves no marker; running it again rewrites its rows.
- :func:`check_complete` (``Dataset.load`` calls it) refuses the directory, naming the missing
  shards, until every marker is there; then it loads like a streamed one, the features as ONE
  memory-mapped array over all shards.

Several hosts writing disjoint ranges of one file needs a POSIX-like shared filesystem (local
disk, NFS, Lustre, GPFS), not an object-store mount.
"""
from __future__ import annotations

import errno
import hashlib
import json
import os
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Dict, Optional, Tuple

import numpy as np

from .. import arguments as argument_checks
from .atomic import fsync_directory, atomic_file
from .shard_markers import (FORMAT_NAME, FORMAT_VERSION, SHARDING_FILE, SHARDS_DIR,
                            IncompleteShardsError, check_complete, marker_path, read_sharding,
                            sharding_digest)
from .storage import ARRAY_KEYS, ROW_ARRAYS, SPECS_FILE, npy_name, specs_json

if TYPE_CHECKING:
    from ..data.dataset import Dataset

# what the completion markers' module holds is importable from here too
__all__ = ["FORMAT_NAME", "FORMAT_VERSION", "SHARDING_FILE", "SHARDS_DIR", "IncompleteShardsError",
           "ShardWriter", "check_complete", "check_shard", "digest", "shard_file", "split"]

_TEMPORARY = ".tmp-"  # in the names of files being created (a killed creator's stay, unused)


def check_shard(shard, num_shards) -> Optional[Tuple[int, int]]:
    """(shard, num_shards) checked, or None when neither is given (no sharding)."""
    if shard is None and num_shards is None:
        return None
    if shard is None or num_shards is None:
        raise ValueError("give both shard and num_shards (shard=i of num_shards=k, i in "
                         "0..k-1), or neither")
    num_shards = argument_checks.integer("num_shards", num_shards, minimum=1)
    shard = argument_checks.integer("shard", shard)
    if not 0 <= shard < num_shards:
        raise ValueError(f"shard must lie in 0..{num_shards - 1} (shards are numbered from 0 "
                         f"to num_shards - 1), got shard={shard}")
    return shard, num_shards


def split(count: int, shard: int, num_shards: int) -> Tuple[int, int]:
    """Shard ``shard``'s contiguous part [start, stop) of ``count`` items, the parts in shard
    order and within one item of each other in size (empty when count < num_shards)."""
    return count * shard // num_shards, count * (shard + 1) // num_shards


def shard_file(path, shard: int, num_shards: int) -> Path:
    """``out.csv`` -> ``out-00001-of-00003.csv``: a shard's own file of a file output."""
    path = Path(path)
    return path.with_name(f"{path.stem}-{shard:05d}-of-{num_shards:05d}{path.suffix}")


def digest(*arrays) -> Optional[str]:
    """SHA-256 of arrays' dtypes, shapes and bytes (None for no array or a None one): what
    sharding.json records of arguments too large to store."""
    if not arrays or arrays[0] is None:
        return None
    sha = hashlib.sha256()
    for array in arrays:
        array = np.ascontiguousarray(array)
        sha.update(f"{array.dtype.str}{array.shape}".encode())
        sha.update(array.tobytes())
    return sha.hexdigest()


class ShardWriter:
    """Write rows ``rows`` = [start, stop) of a sharded dataset of ``num_samples`` samples in
    directory ``path``, batch by batch, as shard ``shard`` of ``num_shards``::

        with ShardWriter(path, template, n, shard, num_shards, rows, arguments) as writer:
            for batch in batches:          # Datasets like template, stop - start rows in all
                writer.append(batch)

    ``template``: a Dataset (zero rows will do) with the specs, T, min/max and frame of the
    data, from which the layout is created. ``arguments``: a JSON-able dict every shard must
    agree on (with n and num_shards), checked against ``sharding.json``.
    """

    def __init__(self, path, template: Dataset, num_samples: int, shard: int, num_shards: int,
                 rows: Tuple[int, int], arguments: Dict):
        self.path = Path(path)
        self.template = template
        self.shard, self.num_shards = shard, num_shards
        self.rows = rows
        self.written = 0
        self.sharding = {"format": FORMAT_NAME, "version": FORMAT_VERSION,
                         "n": int(num_samples), "num_shards": num_shards,
                         **arguments,
                         "specs_sha256": hashlib.sha256(_specs(template).encode()).hexdigest()}
        self._files = {}  # array name -> (open file, offset of row 0, bytes per row)

    def __enter__(self) -> "ShardWriter":
        _claim(self.path, self.sharding)
        _create_layout(self.path, self.template, self.sharding["n"])
        self._marker = marker_path(self.path, self.shard, self.num_shards)
        self._marker.parent.mkdir(exist_ok=True)
        fsync_directory(self.path)
        # from here until the new marker, this shard's rows are not known complete
        if self._marker.exists():
            self._marker.unlink()
            fsync_directory(self._marker.parent)
        try:
            for key in ROW_ARRAYS:
                self._files[key] = _open_rows(self.path / npy_name(key),
                                              self._shape(key))
        except BaseException:
            self._close()
            raise
        return self

    def _shape(self, key: str) -> Tuple[int, ...]:
        return (self.sharding["n"], *getattr(self.template, key).shape[1:])

    def append(self, batch: Dataset) -> None:
        """Write ``batch``'s samples as this shard's next rows."""
        start, stop = self.rows
        if self.written + len(batch) > stop - start:
            raise ValueError(f"appending {len(batch)} samples would exceed shard "
                             f"{self.shard}'s {stop - start} rows ({self.written} written)")
        for key, (handle, offset, row_bytes) in self._files.items():
            values = getattr(batch, key)
            if values.shape[1:] != self._shape(key)[1:]:
                raise ValueError(f"a batch's {key} have shape {values.shape[1:]} per sample, "
                                 f"the layout {self._shape(key)[1:]}")
            handle.seek(offset + (start + self.written) * row_bytes)
            handle.write(np.ascontiguousarray(values, "<f4"))
        self.written += len(batch)

    def __exit__(self, exc_type, exc, tb):
        start, stop = self.rows
        try:
            if exc_type is None and self.written != stop - start:
                raise ValueError(f"only {self.written} of shard {self.shard}'s {stop - start} "
                                 "rows were appended; its marker was not written")
            if exc_type is None:
                for handle, _, _ in self._files.values():
                    handle.flush()
                    os.fsync(handle.fileno())  # the rows on disk before the marker says so
        finally:
            self._close()
        if exc_type is None:
            with atomic_file(self._marker) as f:
                json.dump({"shard": self.shard, "num_shards": self.num_shards,
                           "rows": [start, stop], "sharding_sha256": sharding_digest(
                               self.path)}, f, indent=2)
        return False

    def _close(self) -> None:
        for handle, _, _ in self._files.values():
            handle.close()
        self._files = {}


# --- the layout ---------------------------------------------------------------------------------

def _claim(path: Path, sharding: Dict) -> None:
    """Create ``path/sharding.json`` as ``sharding`` unless a shard did first; then it must
    hold ``sharding``, else a ValueError naming what differs and the fix."""
    if path.exists() and not path.is_dir():
        raise FileExistsError(f"{path} exists and is not a directory; sharded generation "
                              "writes a directory")
    path.mkdir(parents=True, exist_ok=True)
    if not (path / SHARDING_FILE).exists():
        # sharding.json is the first file of the layout: anything else here is not ours
        foreign = sorted(p.name for p in path.iterdir() if _TEMPORARY not in p.name)
        if foreign:
            raise FileExistsError(f"{path} holds other files ({foreign[:5]}) and no "
                                  f"{SHARDING_FILE}: it is not a sharded dataset; choose a "
                                  "new or empty directory")
    _create_once(path / SHARDING_FILE,
                 lambda f: f.write(json.dumps(sharding, indent=2).encode()))
    recorded = read_sharding(path)
    if recorded != sharding:
        keys = [k for k in {**recorded, **sharding} if recorded.get(k) != sharding.get(k)]
        differences = ", ".join(
            f"{k} (this shard: a different {k[:-7]})" if k.endswith("_sha256")
            else f"{k}={sharding.get(k)!r} (recorded: {recorded.get(k)!r})" for k in keys)
        raise ValueError(f"{path} holds the shards of another run: {differences}. Run every "
                         f"shard with the same model and arguments as recorded in "
                         f"{path / SHARDING_FILE}, or remove {path} to start over")


def _create_layout(path: Path, template: Dataset, n: int) -> None:
    """specs.json, the min/max arrays and the full-size row arrays, each unless it exists."""
    _create_once(path / SPECS_FILE, lambda f: f.write(_specs(template).encode()))
    for key in ARRAY_KEYS[3:]:  # the raw-unit min/max, when present
        if getattr(template, key) is not None:
            _create_once(path / npy_name(key),
                         lambda f, key=key: np.save(f, getattr(template, key)))
    for key in ROW_ARRAYS:
        shape = (n, *getattr(template, key).shape[1:])

        def full_size(f, shape=shape):
            # the streamed layout's header; the rows as a hole each shard fills
            np.lib.format.write_array_header_2_0(f, {
                "descr": np.lib.format.dtype_to_descr(np.dtype("<f4")),
                "fortran_order": False, "shape": shape})
            f.truncate(f.tell() + int(np.prod(shape)) * 4)
        _create_once(path / npy_name(key), full_size)


def _specs(template: Dataset) -> str:
    # as DatasetStreamWriter writes it: generated data carry no series ids or starts
    return specs_json(template, None if template.frame is None else template.frame.template())


def _create_once(target: Path, write) -> None:
    """Create ``target`` by write(binary file) unless it exists, never visible half-written:
    written and synced under a temporary name, then hard-linked to ``target``, which fails
    when another shard linked it first."""
    if target.exists():
        return
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}{_TEMPORARY}", dir=target.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            write(f)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, 0o666 & ~_umask())  # mkstemp's 0600 would lock out other users' shards
        try:
            os.link(tmp, target)
        except FileExistsError:
            pass  # another shard's, the same file
        except OSError as error:
            if error.errno not in (errno.EPERM, errno.ENOTSUP, errno.EOPNOTSUPP, errno.ENOSYS):
                raise
            # no hard links on this filesystem: a rename, which a concurrent creator may
            # overwrite (with the same content, as sharding.json was claimed first)
            if not target.exists():
                os.replace(tmp, target)
        fsync_directory(target.parent)
    finally:
        if os.path.lexists(tmp):
            os.unlink(tmp)


def _open_rows(file: Path, shape: Tuple[int, ...]):
    """(file open for in-place writes, offset of row 0, bytes per row) of a full-size .npy,
    whose header must say float32 ``shape``."""
    handle = open(file, "r+b")
    try:
        version = np.lib.format.read_magic(handle)
        header = (np.lib.format.read_array_header_1_0 if version == (1, 0)
                  else np.lib.format.read_array_header_2_0)(handle)
    except (ValueError, OSError) as exc:
        handle.close()
        raise ValueError(f"cannot read {file}: {exc}; remove {file.parent} and run every "
                         "shard again") from exc
    if header != (shape, False, np.dtype("<f4")):
        handle.close()
        raise ValueError(f"{file} holds {header[2]} of shape {header[0]}, not float32 of "
                         f"shape {shape}: it is not this run's; remove {file.parent} and run "
                         "every shard again")
    return handle, handle.tell(), int(np.prod(shape[1:])) * 4


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask
