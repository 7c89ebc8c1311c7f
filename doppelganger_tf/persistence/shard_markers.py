"""What says that a sharded dataset is whole: the run's description (``sharding.json``), one
completion marker per shard, and :func:`check_complete`, which ``Dataset.load`` runs before
reading a sharded directory. :mod:`doppelganger_tf.persistence.sharded_storage` writes them."""
from __future__ import annotations

import hashlib
import itertools
import json
import re
from pathlib import Path
from typing import Dict, List

SHARDING_FILE = "sharding.json"
SHARDS_DIR = "shards"
FORMAT_NAME = "doppelganger_tf-sharded-dataset"
FORMAT_VERSION = 1

# shards an incomplete run's error lists by number (a damaged description may declare 10**9)
MAX_LISTED = 1000


class IncompleteShardsError(ValueError):
    """A sharded directory some of whose shards have not finished.

    Attributes:
        missing: The indices of the unfinished shards.
    """

    def __init__(self, message: str, missing: List[int]):
        super().__init__(message)
        self.missing = missing


def check_complete(path) -> None:
    """Raise unless every shard of the sharded directory ``path`` has finished (its marker is
    there and belongs to this run): :class:`IncompleteShardsError` naming the missing ones and
    how to finish them."""
    path = Path(path)
    sharding = read_sharding(path)
    expected_digest = sharding_digest(path)
    num_shards, n = sharding["num_shards"], sharding["n"]
    # the markers there, so the work is bounded by the files present, not by num_shards (a
    # damaged sharding.json may declare 10**9 shards)
    present = present_shards(path, num_shards)
    absent = num_shards - len(present)
    missing = list(itertools.islice((s for s in range(num_shards) if s not in present),
                                    MAX_LISTED))
    invalid, stop = [], 0
    for shard in sorted(present):
        marker = marker_path(path, shard, num_shards)
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


def present_shards(path: Path, num_shards: int) -> set:
    """The shard numbers whose completion marker (of a run of ``num_shards``) is in ``path``."""
    pattern = re.compile(rf"shard-(\d{{5,}})-of-0*{num_shards}\.json")
    found = set()
    folder = path / SHARDS_DIR
    for entry in (folder.iterdir() if folder.is_dir() else ()):
        match = pattern.fullmatch(entry.name)
        if match and int(match.group(1)) < num_shards and \
                entry.name == marker_path(path, int(match.group(1)), num_shards).name:
            found.add(int(match.group(1)))
    return found


def marker_path(path: Path, shard: int, num_shards: int) -> Path:
    """The completion marker of ``shard`` (of a run of ``num_shards``) in ``path``."""
    return path / SHARDS_DIR / f"shard-{shard:05d}-of-{num_shards:05d}.json"


def read_sharding(path: Path) -> Dict:
    """The run's description, ``path/sharding.json``, checked (a ValueError saying how it is
    damaged)."""
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


def sharding_digest(path: Path) -> str:
    """The SHA-256 of ``path/sharding.json``, which each shard's marker records."""
    return hashlib.sha256((path / SHARDING_FILE).read_bytes()).hexdigest()
