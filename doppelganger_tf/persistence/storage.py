"""Dataset storage: three directory layouts, all read back by :func:`load` (``Dataset.load``).

- ours (:func:`save`): ``data.npz`` (features, attributes, gen_flags and the min/max arrays when
  present) and ``specs.json`` (the outputs, with names and categories, and the description of
  the DataFrame the data were read from, :class:`~doppelganger_tf.data.frames.FrameInfo`, when
  there is one; saves without it load with none);
- the original release's (:func:`save_original`): ``data_train.npz`` with its array names and
  ``data_{feature,attribute}_output.pkl``, the Python-2 pickles that
  :mod:`doppelganger_tf.data.outputs` writes and reads, plus our ``specs.json`` for the names and
  categories those pickles cannot hold;
- streamed (:class:`DatasetStreamWriter`): one ``<array>.npy`` per array plus ``specs.json``,
  written batch by batch and read back memory-mapped; also written in shards by several
  processes (:mod:`doppelganger_tf.persistence.sharded_storage`), read once every shard has
  finished.

Every save is atomic (:func:`doppelganger_tf.persistence.atomic.atomic_directory`), and :func:`load`
first finishes or undoes a save that was killed between its two renames.
"""
from __future__ import annotations

import dataclasses
import json
import math
import os
import zipfile
import zlib
from pathlib import Path
from typing import TYPE_CHECKING, Dict, List, Optional, Tuple, Type

import numpy as np

from .. import arguments
from ..data.frames import FrameInfo
from ..data.outputs import Output, dump_original_specs, load_original_specs
from .atomic import atomic_directory, recover

if TYPE_CHECKING:  # only for annotations: the container module imports this one
    from ..data.dataset import Dataset

FORMAT_NAME = "doppelganger_tf-dataset"
FORMAT_VERSION = 1
DATA_FILE = "data.npz"
SPECS_FILE = "specs.json"
ORIGINAL_DATA_FILE = "data_train.npz"
ORIGINAL_FEATURE_SPECS = "data_feature_output.pkl"
ORIGINAL_ATTRIBUTE_SPECS = "data_attribute_output.pkl"

# Stored arrays (the first three required), and their names in the original layout.
ARRAY_KEYS = ("features", "attributes", "gen_flags", "feature_min", "feature_max",
              "attribute_min", "attribute_max")
# the per-sample arrays, written row block by row block and memory-mapped when read back
ROW_ARRAYS = ARRAY_KEYS[:3]
_ORIGINAL_KEYS = {"features": "data_feature", "attributes": "data_attribute",
                  "gen_flags": "data_gen_flag", "feature_min": "data_feature_min",
                  "feature_max": "data_feature_max", "attribute_min": "data_attribute_min",
                  "attribute_max": "data_attribute_max"}


_OWN = object()  # specs_json's default frame: the dataset's own


# --- writing --------------------------------------------------------------------------------------

def save(dataset: Dataset, path) -> None:
    """Our layout into directory ``path``, atomically (see Dataset.save)."""
    with atomic_directory(path, replaceable={DATA_FILE, SPECS_FILE}) as directory:
        np.savez_compressed(directory / DATA_FILE, **_stored_arrays(dataset, original=False))
        (directory / SPECS_FILE).write_text(specs_json(dataset))


def save_original(dataset: Dataset, directory) -> None:
    """The original release's layout into ``directory``, atomically (see
    Dataset.save_original)."""
    names = {ORIGINAL_DATA_FILE, ORIGINAL_FEATURE_SPECS, ORIGINAL_ATTRIBUTE_SPECS, SPECS_FILE}
    with atomic_directory(directory, replaceable=names) as target:
        np.savez_compressed(target / ORIGINAL_DATA_FILE, **_stored_arrays(dataset, original=True))
        (target / ORIGINAL_FEATURE_SPECS).write_bytes(
            dump_original_specs(dataset.feature_outputs))
        (target / ORIGINAL_ATTRIBUTE_SPECS).write_bytes(
            dump_original_specs(dataset.attribute_outputs))
        (target / SPECS_FILE).write_text(specs_json(dataset))


def specs_json(dataset: Dataset, frame=_OWN) -> str:
    """The ``specs.json`` of a dataset: its outputs, with names and categories, and the
    description of the frame it was read from (``frame``: the dataset's by default), which
    readers before it ignore."""
    spec = {"format": FORMAT_NAME, "version": FORMAT_VERSION,
            "feature_outputs": [o.to_dict() for o in dataset.feature_outputs],
            "attribute_outputs": [o.to_dict() for o in dataset.attribute_outputs]}
    frame = dataset.frame if frame is _OWN else frame
    if frame is not None:
        spec["frame"] = frame.to_dict()
    return json.dumps(spec, indent=2)


def _stored_arrays(dataset: Dataset, original: bool) -> Dict[str, np.ndarray]:
    """The arrays to store, keyed as in our layout or the original one (min/max only when
    present)."""
    arrays = {k: getattr(dataset, k) for k in ARRAY_KEYS if getattr(dataset, k) is not None}
    return {_ORIGINAL_KEYS[k] if original else k: v for k, v in arrays.items()}


class DatasetStreamWriter:
    """Write a Dataset batch by batch, memory flat in N, for :meth:`Dataset.load` to read back
    memory-mapped.

    Each array goes to its own ``<name>.npy`` (plus ``specs.json``), appended row block by row
    block with plain writes (a memory map would keep every written page resident). Atomic: the
    directory appears only once all samples were appended and the block exited cleanly::

        with DatasetStreamWriter("out/generated", 1_000_000) as writer:
            for batch in batches:          # Datasets with the same specs
                writer.append(batch)

    Args:
        path: The directory to write.
        num_samples: The number of samples that will be appended.

    Raises:
        ValueError: When ``num_samples`` is not an integer >= 1.
    """

    def __init__(self, path, num_samples: int):
        arguments.count("num_samples", num_samples)
        self.path = Path(path)
        self.num_samples = int(num_samples)
        self.written = 0
        self._arrays = None
        self._specs = None
        self._frame = None
        self._ids, self._starts = [], []
        self._directory_context = None
        self._directory = None

    def __enter__(self) -> "DatasetStreamWriter":
        names = {SPECS_FILE, *(npy_name(k) for k in ARRAY_KEYS)}
        self._directory_context = atomic_directory(self.path, replaceable=names)
        self._directory = self._directory_context.__enter__()
        return self

    def append(self, batch: Dataset) -> None:
        """Append the samples of ``batch``.

        Args:
            batch: A Dataset with the specs, frame description and T of the first batch.

        Raises:
            RuntimeError: Outside a with-block.
            ValueError: When the batch would exceed ``num_samples``, or does not match the
                first batch.
        """
        if self._directory is None:
            raise RuntimeError("use DatasetStreamWriter in a with-block")
        if self.written + len(batch) > self.num_samples:
            raise ValueError(f"appending {len(batch)} samples would exceed the declared "
                             f"num_samples={self.num_samples} ({self.written} written)")
        if self._arrays is None:
            self._start(batch)
        elif (self._batch_specs(batch) != self._specs
              or batch.max_length != self._max_length):
            raise ValueError("every appended batch must have the specs, frame description and "
                             "length of the first")
        if batch.frame is not None:  # the series' own ids and starts, when all batches have them
            self._ids = None if self._ids is None or batch.frame.ids is None \
                else self._ids + list(batch.frame.ids)
            self._starts = None if self._starts is None or batch.frame.starts is None \
                else self._starts + list(batch.frame.starts)
        for key in ROW_ARRAYS:
            self._arrays[key].write(np.ascontiguousarray(getattr(batch, key), "<f4").tobytes())
        self.written += len(batch)

    @staticmethod
    def _batch_specs(batch: Dataset) -> str:
        return specs_json(batch, None if batch.frame is None else batch.frame.template())

    def _start(self, first: Dataset) -> None:
        self._specs = self._batch_specs(first)
        self._frame = first.frame
        self._max_length = first.max_length
        (self._directory / SPECS_FILE).write_text(self._specs)
        self._arrays = {}
        for key in ROW_ARRAYS:
            handle = open(self._directory / npy_name(key), "wb")
            self._arrays[key] = handle
            header = {"descr": np.lib.format.dtype_to_descr(np.dtype("<f4")),
                      "fortran_order": False,
                      "shape": (self.num_samples, *getattr(first, key).shape[1:])}
            np.lib.format.write_array_header_2_0(handle, header)
        for key in ARRAY_KEYS[3:]:  # the raw-unit min/max, when present
            if getattr(first, key) is not None:
                np.save(self._directory / npy_name(key), getattr(first, key))

    def __exit__(self, exc_type, exc, tb):
        if exc is None and self.written != self.num_samples:
            exc = ValueError(f"only {self.written} of the declared {self.num_samples} samples "
                             "were appended; nothing was written")
        if self._arrays is not None:
            for handle in self._arrays.values():
                if exc is None:
                    handle.flush()
                    os.fsync(handle.fileno())
                handle.close()
            self._arrays = None
        if exc is None:
            if self._frame is not None and self._ids is not None:
                frame = dataclasses.replace(
                    self._frame, ids=tuple(self._ids),
                    starts=None if self._starts is None else tuple(self._starts))
                spec = json.loads(self._specs)
                spec["frame"] = frame.to_dict()
                (self._directory / SPECS_FILE).write_text(json.dumps(spec, indent=2))
            self._directory_context.__exit__(None, None, None)
            return False
        self._directory_context.__exit__(type(exc), exc, exc.__traceback__)  # drops the temp dir
        if exc_type is None:
            raise exc
        return False


# --- reading --------------------------------------------------------------------------------------

def load(cls: Type[Dataset], path) -> Dataset:
    """Read a directory in any of the three layouts into ``cls`` (see Dataset.load)."""
    path = Path(path)
    recover(path)  # a save killed between its renames left the previous version aside
    if not path.exists():
        raise FileNotFoundError(f"no saved dataset at {path}")
    if not path.is_dir():
        raise ValueError(f"{path} is a file; Dataset.load expects the directory holding "
                         f"{DATA_FILE} (our layout) or {ORIGINAL_DATA_FILE} (original layout)")
    if (path / "sharding.json").exists():  # written by shards: whole once all finished
        from .shard_markers import check_complete
        check_complete(path)
    frame = None
    if (path / DATA_FILE).exists():
        data_file = path / DATA_FILE
        arrays = _read_npz(data_file, {k: k for k in ARRAY_KEYS})
        feature_outputs, attribute_outputs = _read_specs_json(path / SPECS_FILE)
        frame = _read_frame(path / SPECS_FILE)
    elif (path / npy_name("features")).exists():
        data_file = path / npy_name("features")
        arrays = _read_npy_layout(path)
        feature_outputs, attribute_outputs = _read_specs_json(path / SPECS_FILE)
        frame = _read_frame(path / SPECS_FILE)
    elif (path / ORIGINAL_DATA_FILE).exists():
        data_file = path / ORIGINAL_DATA_FILE
        arrays = _read_npz(data_file, {k: _ORIGINAL_KEYS[k] for k in ARRAY_KEYS})
        feature_outputs, attribute_outputs = _read_original_specs(path)
        if (path / SPECS_FILE).exists():
            frame = _read_frame(path / SPECS_FILE)
    else:
        raise FileNotFoundError(
            f"{path} holds neither {DATA_FILE} (doppelganger_tf layout), "
            f"{npy_name('features')} (streamed layout) nor {ORIGINAL_DATA_FILE} (the "
            "original release's layout)")
    try:
        return cls(feature_outputs=feature_outputs, attribute_outputs=attribute_outputs,
                   frame=frame, **arrays)
    except ValueError as exc:
        raise ValueError(f"{data_file}: {exc}") from exc


class UnreadableArrays(ValueError):
    """An .npz that :func:`npz_arrays` cannot read.

    Attributes:
        reason: Why, for the caller's message.
        kind: The type of the error numpy or zipfile raised, if any.
    """

    def __init__(self, reason: str, kind: str = ""):
        super().__init__(reason)
        self.reason = reason
        self.kind = kind  # the type of the error numpy or zipfile raised, if any

    @property
    def detail(self) -> str:
        return f"{self.kind}: {self.reason}" if self.kind else self.reason


def npz_arrays(source) -> Optional[Dict[str, np.ndarray]]:
    """Every array of the .npz ``source`` (a path's open handle or a file object), pickles
    refused and each member's declared size checked against the bytes it holds before numpy
    allocates; None when ``source`` is a single .npy array. Raises :class:`UnreadableArrays`."""
    try:
        contents = np.load(source, allow_pickle=False)
        if not isinstance(contents, np.lib.npyio.NpzFile):
            return None
        with contents:
            oversized = npz_size_problem(contents.zip)  # before numpy allocates
            if oversized:
                raise UnreadableArrays(oversized)
            return {name: contents[name] for name in contents.files}
    except MemoryError:
        raise UnreadableArrays("its arrays need more memory than this machine can "
                               "allocate") from None
    except UnreadableArrays:
        raise
    # what numpy and zipfile raise for an empty, truncated or garbled file (RuntimeError: an
    # encrypted member, or a compression method zipfile lacks)
    except (OSError, ValueError, EOFError, KeyError, RuntimeError, zipfile.BadZipFile,
            zlib.error) as exc:
        raise UnreadableArrays(str(exc), type(exc).__name__) from None


def _read_npz(file: Path, keys: Dict[str, str]) -> Dict[str, np.ndarray]:
    """Read the arrays named by ``keys`` (our name -> stored name; the first three required)."""
    if not file.exists():
        raise FileNotFoundError(f"{file} is missing")
    try:
        # our own handle: np.load leaks the file it opened when the archive is corrupt
        with open(file, "rb") as handle:
            stored = npz_arrays(handle)
    except UnreadableArrays as exc:
        raise ValueError(f"cannot read {file}: {exc.reason}; it is damaged or not an .npz "
                         "archive written by doppelganger_tf: get an intact copy") from None
    if stored is None:
        raise ValueError(f"{file} holds a single array, not an .npz archive of arrays")
    missing = [name for name in list(keys.values())[:3] if name not in stored]
    if missing:
        raise ValueError(f"{file} lacks the arrays {missing} (it holds {sorted(stored)})")
    return {ours: stored[name] for ours, name in keys.items() if name in stored}


def _read_specs_json(file: Path) -> Tuple[List[Output], List[Output]]:
    if not file.exists():
        raise FileNotFoundError(f"{file} is missing; a saved dataset keeps its output specs "
                                "there")
    try:
        spec = json.loads(file.read_text())
    # RecursionError: nested too deeply for the parser
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError) as exc:
        raise ValueError(f"{file} is not valid JSON ({type(exc).__name__}: {exc}); it is "
                         "damaged: get an intact copy, or save the dataset again") from None
    if not isinstance(spec, dict) or spec.get("format") != FORMAT_NAME:
        raise ValueError(f"{file} is not a doppelganger_tf dataset spec (expected "
                         f"\"format\": {FORMAT_NAME!r})")
    if spec.get("version") != FORMAT_VERSION:
        raise ValueError(f"{file} has format version {spec.get('version')!r}; this "
                         f"doppelganger_tf reads version {FORMAT_VERSION}")
    try:
        return ([Output.from_dict(d) for d in spec["feature_outputs"]],
                [Output.from_dict(d) for d in spec["attribute_outputs"]])
    except (KeyError, TypeError, ValueError) as exc:
        raise ValueError(f"{file} has invalid output specs: {exc!r}") from exc


def _read_frame(file: Path) -> Optional[FrameInfo]:
    """The frame description in a ``specs.json`` (None in those written before it existed)."""
    spec = json.loads(file.read_text())  # _read_specs_json read it already: valid JSON
    if spec.get("frame") is None:
        return None
    try:
        return FrameInfo.from_dict(spec["frame"])
    except (KeyError, TypeError, ValueError) as exc:
        raise ValueError(f"{file} has an invalid frame description: {exc!r}") from exc


def _read_original_specs(path: Path) -> Tuple[List[Output], List[Output]]:
    """The outputs of the original layout: the pickles' types and dims, with the names and
    categories of our ``specs.json`` when one lies beside them."""
    pickled = []
    for name in (ORIGINAL_FEATURE_SPECS, ORIGINAL_ATTRIBUTE_SPECS):
        if not (path / name).exists():
            raise FileNotFoundError(f"{path / name} is missing; the original layout keeps the "
                                    f"output specs there, beside {ORIGINAL_DATA_FILE}")
        pickled.append(load_original_specs(path / name))
    if not (path / SPECS_FILE).exists():
        return pickled[0], pickled[1]
    named = _read_specs_json(path / SPECS_FILE)
    for name, from_pickle, from_json in zip((ORIGINAL_FEATURE_SPECS, ORIGINAL_ATTRIBUTE_SPECS),
                                            pickled, named):
        _check_same_encoding(from_pickle, from_json, path / name, path / SPECS_FILE)
    return named


def _check_same_encoding(from_pickle: List[Output], from_json: List[Output], pickle_file: Path,
                         json_file: Path) -> None:
    """``specs.json`` must encode like the pickles beside it."""
    def key(out):
        return (out.type, out.dim, out.normalization if out.is_continuous else None,
                out.is_gen_flag)
    if [key(o) for o in from_pickle] != [key(o) for o in from_json]:
        raise ValueError(f"{json_file} does not describe the same outputs as {pickle_file}; "
                         f"delete {json_file.name} to use the pickles alone")


def npy_name(key: str) -> str:
    return f"{key}.npy"


def _read_npy_layout(path: Path) -> Dict[str, np.ndarray]:
    """The arrays of a streamed dataset, the per-sample ones memory-mapped read-only."""
    arrays = {}
    for key in ARRAY_KEYS:
        file = path / npy_name(key)
        if not file.exists():
            if key in ROW_ARRAYS:
                raise FileNotFoundError(f"{file} is missing: {path} is an incomplete streamed "
                                        "dataset; write it again")
            continue
        try:
            with open(file, "rb") as handle:
                oversized = npy_size_problem(handle, os.fstat(handle.fileno()).st_size)
            if oversized:
                raise ValueError(f"it {oversized}")
            arrays[key] = np.load(file, mmap_mode="r" if key in ROW_ARRAYS else None,
                                  allow_pickle=False)
        except MemoryError:
            raise ValueError(f"cannot read {file}: it needs more memory than this machine can "
                             "allocate; load it on a larger machine, or check that it is the "
                             "file you expected") from None
        except (OSError, ValueError, EOFError) as exc:
            raise ValueError(f"cannot read {file}: {exc}; it is corrupt, write it again") from exc
    return arrays


def npy_size_problem(fp, size: int) -> Optional[str]:
    """What is wrong when the .npy read from ``fp`` (``size`` bytes in all, from its current
    position) declares more data than it holds, or None: numpy allocates the shape a header
    declares before reading any data, so a forged header could ask for any amount of memory.
    Headers it cannot parse are left to ``np.load``, which says what is wrong."""
    start = fp.tell()
    try:
        version = np.lib.format.read_magic(fp)
        if version == (1, 0):
            shape, _, dtype = np.lib.format.read_array_header_1_0(fp)
        elif version == (2, 0):
            shape, _, dtype = np.lib.format.read_array_header_2_0(fp)
        else:  # (3, 0), UTF-8 field names: no public reader; MemoryError stays the fallback
            return None
    except (ValueError, OSError, EOFError):
        return None
    if dtype.hasobject:  # refused by np.load(allow_pickle=False), with numpy's own message
        return None
    declared = math.prod(shape) * dtype.itemsize
    holds = size - (fp.tell() - start)
    if declared <= holds:
        return None
    return (f"declares a {dtype} array of shape {shape} ({declared:,} bytes) but holds "
            f"{max(holds, 0):,} bytes of data")


def npz_size_problem(archive: zipfile.ZipFile) -> Optional[str]:
    """:func:`npy_size_problem` of the first ``.npy`` member of ``archive`` that has one
    (the members' sizes are those the archive records uncompressed)."""
    for info in archive.infolist():
        if info.filename.endswith(".npy"):
            with archive.open(info) as member:
                problem = npy_size_problem(member, info.file_size)
            if problem:
                return f"its member {info.filename} {problem}"
    return None
