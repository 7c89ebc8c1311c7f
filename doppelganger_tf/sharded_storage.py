"""Sharded datasets: one streamed Dataset directory that several processes or hosts fill part
by part, what ``DoppelGANger.generate_to(path, n, shard=i, num_shards=k)`` writes. Shard i
writes rows [start_i, stop_i), the shards' ranges following each other in shard order.

Layout: the streamed layout of :class:`~doppelganger_tf.storage.DatasetStreamWriter` (the
same ``specs.json`` and ``<array>.npy`` files, byte for byte once all shards are written), plus
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
import itertools
import json
import os
import re
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Dict, List, Optional, Tuple

import numpy as np

from . import arguments as argument_checks
from .atomic import fsync_directory, atomic_file
from .storage import ARRAY_KEYS, ROW_ARRAYS, SPECS_FILE, npy_name, specs_json

if TYPE_CHECKING:
    from .dataset import Dataset

SHARDING_FILE = "sharding.json"
SHARDS_DIR = "shards"
FORMAT_NAME = "doppelganger_tf-sharded-dataset"
FORMAT_VERSION = 1

# shards an incomplete run's error lists by number (a damaged description may declare 10**9)
MAX_LISTED = 1000
_TEMPORARY = ".tmp-"  # in the names of files being created (a killed creator's stay, unused)


class IncompleteShardsError(ValueError):
    """A sharded directory some of whose shards have not finished.

    Attributes:
        missing: The indices of the unfinished shards.
    """

    def __init__(self, message: str, missing: List[int]):
        super().__init__(message)
        self.missing = missing


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
        self._marker = _marker(self.path, self.shard, self.num_shards)
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
                           "rows": [start, stop], "sharding_sha256": _sharding_digest(
                               self.path)}, f, indent=2)
        return False

    def _close(self) -> None:
        for handle, _, _ in self._files.values():
            handle.close()
        self._files = {}


def check_complete(path) -> None:
    """Raise unless every shard of the sharded directory ``path`` has finished (its marker is
    there and belongs to this run): :class:`IncompleteShardsError` naming the missing ones and
    how to finish them."""
    path = Path(path)
    sharding = _read_sharding(path)
    expected_digest = _sharding_digest(path)
    num_shards, n = sharding["num_shards"], sharding["n"]
    # the markers there, so the work is bounded by the files present, not by num_shards (a
    # damaged sharding.json may declare 10**9 shards)
    present = _present_shards(path, num_shards)
    absent = num_shards - len(present)
    missing = list(itertools.islice((s for s in range(num_shards) if s not in present),
                                    MAX_LISTED))
    invalid, stop = [], 0
    for shard in sorted(present):
        marker = _marker(path, shard, num_shards)
        try:
            record = json.loads(marker.read_text())
            rows = [int(r) for r in record["rows"]]
            ok = (record["sharding_sha256"] == expected_digest and record["shard"] == shard
                  and len(rows) == 2)
        except FileNotFoundError:  # removed since the listing
            missing.append(shard)
            absent += 1
            continue
        except (ValueError, KeyError, TypeError, RecursionError):  # a damaged marker
            ok = False
        if not ok:
            invalid.append(shard)
            continue
        if not missing and not invalid and rows[0] != stop:
            raise ValueError(f"{marker} says rows {rows}, but the shards before it end at row "
                             f"{stop}: {path} is inconsistent; remove it and run every shard "
                             "again")
        stop = rows[1]
    if missing or invalid:
        shown = ", ".join(f"{k}={sharding[k]!r}" for k in sharding
                          if k not in ("format", "version") and not k.endswith("_sha256"))
        more = f" (and {absent - len(missing)} more)" if absent > len(missing) else ""
        problems = ([f"shards {missing}{more} of {num_shards} have no completion marker (not "
                     "run, still running, or killed)"] if missing else []) + \
            ([f"the markers of shards {invalid} are corrupt or from another run"]
             if invalid else [])
        raise IncompleteShardsError(
            f"{path} is an incomplete sharded dataset: {'; '.join(problems)}. Finish it by "
            f"running generate_to({str(path)!r}, ..., shard=i, num_shards={num_shards}) for "
            f"each of these i, with the same model and arguments as the other shards "
            f"({shown}; the same attributes and length too): a rerun rewrites the shard's "
            "rows", missing + invalid)
    if stop != n:
        raise ValueError(f"the shards of {path} cover rows 0..{stop}, not its n={n}: remove "
                         "it and run every shard again")


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
    recorded = _read_sharding(path)
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


def _present_shards(path: Path, num_shards: int) -> set:
    """The shard numbers whose completion marker (of a run of ``num_shards``) is in ``path``."""
    pattern = re.compile(rf"shard-(\d{{5,}})-of-0*{num_shards}\.json")
    found = set()
    folder = path / SHARDS_DIR
    for entry in (folder.iterdir() if folder.is_dir() else ()):
        match = pattern.fullmatch(entry.name)
        if match and int(match.group(1)) < num_shards and \
                entry.name == _marker(path, int(match.group(1)), num_shards).name:
            found.add(int(match.group(1)))
    return found


def _marker(path: Path, shard: int, num_shards: int) -> Path:
    return path / SHARDS_DIR / f"shard-{shard:05d}-of-{num_shards:05d}.json"


def _read_sharding(path: Path) -> Dict:
    file = path / SHARDING_FILE
    try:
        sharding = json.loads(file.read_text())
    # RecursionError: nested too deeply for the parser
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError) as exc:
        raise ValueError(f"{file} is not valid JSON ({type(exc).__name__}: {exc}); remove "
                         f"{path} and run every shard again") from None
    if not isinstance(sharding, dict) or sharding.get("format") != FORMAT_NAME:
        raise ValueError(f"{file} is not a doppelganger_tf sharding description")
    if sharding.get("version") != FORMAT_VERSION:
        raise ValueError(f"{file} has format version {sharding.get('version')!r}; this "
                         f"doppelganger_tf reads version {FORMAT_VERSION}")
    for key in ("num_shards", "n"):  # what check_complete counts with
        value = sharding.get(key)
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise ValueError(f"{file} has {key}={value!r}, not a positive integer: it is "
                             f"damaged; remove {path} and run every shard again")
    return sharding


def _sharding_digest(path: Path) -> str:
    return hashlib.sha256((path / SHARDING_FILE).read_bytes()).hexdigest()


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask
