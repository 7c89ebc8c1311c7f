"""WWT: Kaggle's Wikipedia Web Traffic ``train_1.csv`` -> canonical train/test datasets.

The raw file (Kaggle competition "web-traffic-time-series-forecasting", ``train_1.csv`` inside
``train_1.csv.zip``; see docs/data_prep_wwt.md) has a header ``Page`` + 550 daily date columns
(2015-07-01 .. 2016-12-31) and one row per page; an empty field is a missing day.  The page name
ends with ``_<domain>_<access>_<agent>``.

What this converter does (the paper's Appendix A / section 5.1):

1. streams the CSV in chunks and drops, counting each reason once per row, in this order:
   ``wrong_field_count`` (a row without exactly 1 + 550 fields), ``bad_page_name`` (no valid
   ``_domain_access_agent`` suffix, see :func:`parse_page_name`), ``unparsable_value`` (a field
   that is not a finite number), ``missing_values`` (any empty day), ``negative_values`` (any
   view count below 0), ``duplicate_page`` (a page name seen before; the first is kept);
2. samples ``num_samples`` of the remaining rows uniformly without replacement (all of them when
   fewer remain; the report says so) and splits them into train and test (``test_fraction``);
3. encodes metadata (attributes) ``domain``, ``access``, ``agent`` one-hot over the full known
   category lists, so train and test (and any later conversion) share one encoding; the single
   feature ``views`` has length 550, every generation flag 1;
4. scales ``views`` (optionally ``log1p(views)``) to [-1, 1] (``minusone_one``, the paper's WWT
   runs) or [0, 1] (``zero_one``) with ONE global min/max computed on all sampled rows (train
   and test together, before the split, as the original code scaled the whole dataset), so
   train and test are scaled identically.

Run ``python -m data_prep.wwt --input train_1.csv --output data/wwt``; it writes
``<output>/train``, ``<output>/test``, ``<output>/report.json`` and ``<output>/pages.csv`` (which
page each sample came from).
"""
from __future__ import annotations

import csv
import datetime as dt
import gzip
import io
import zipfile
from collections import OrderedDict
from pathlib import Path
from typing import Dict, Iterator, List, Optional, Tuple

import numpy as np
import pandas as pd
from absl import app, flags

from data_prep.report import Report, command_line_errors, finish_run
from doppelganger_tf.atomic import atomic_file
from doppelganger_tf.dataset import Dataset
from doppelganger_tf.outputs import Normalization, Output, OutputType

FLAGS = flags.FLAGS

NUM_DAYS = 550
PAGE_COLUMN = "Page"
FEATURE_NAME = "views"
# The full category lists (sorted): always all of them, so every split shares one encoding.
DOMAINS = ("commons.wikimedia.org", "de.wikipedia.org", "en.wikipedia.org", "es.wikipedia.org",
           "fr.wikipedia.org", "ja.wikipedia.org", "ru.wikipedia.org", "www.mediawiki.org",
           "zh.wikipedia.org")
ACCESSES = ("all-access", "desktop", "mobile-web")
AGENTS = ("all-agents", "spider")
ATTRIBUTE_CATEGORIES = OrderedDict([("domain", DOMAINS), ("access", ACCESSES),
                                    ("agent", AGENTS)])

# Row filters in the order they run; each dropped row is counted under the first that fails.
DROP_REASONS = ("wrong_field_count", "bad_page_name", "unparsable_value", "missing_values",
                "negative_values", "duplicate_page")
NOT_SAMPLED = "not_sampled"
MAX_EXAMPLES = 5
DEFAULT_CHUNK_ROWS = 5000
BUILD_BLOCK_ROWS = 10000  # rows encoded per Dataset.from_arrays call (bounds its intermediates)

_DOMAIN_SET, _ACCESS_SET, _AGENT_SET = set(DOMAINS), set(ACCESSES), set(AGENTS)


def parse_page_name(name) -> Optional[Tuple[str, str, str, str]]:
    """``"<article>_<domain>_<access>_<agent>"`` -> ``(article, domain, access, agent)``.

    The article may itself hold underscores, apostrophes, commas, ...; the last three
    ``_``-separated parts must be a known domain (:data:`DOMAINS`), access (:data:`ACCESSES`)
    and agent (:data:`AGENTS`), and the article must be non-empty.  Returns None otherwise.
    """
    if not isinstance(name, str):
        return None
    parts = name.rsplit("_", 3)
    if len(parts) != 4:
        return None
    article, domain, access, agent = parts
    if (not article or domain not in _DOMAIN_SET or access not in _ACCESS_SET
            or agent not in _AGENT_SET):
        return None
    return article, domain, access, agent


def feature_output(normalization) -> Output:
    """The spec of the single feature ``views`` with the given normalisation."""
    return Output(OutputType.CONTINUOUS, 1, _normalization(normalization), name=FEATURE_NAME)


def attribute_outputs() -> List[Output]:
    """The specs of the metadata: ``domain``, ``access``, ``agent``, over the full category
    lists."""
    return [Output(OutputType.DISCRETE, len(cats), name=name, categories=cats)
            for name, cats in ATTRIBUTE_CATEGORIES.items()]


def convert(input_path, *, num_samples: int = 100000, test_fraction: float = 0.5,
            seed: int = 0, normalization="minusone_one", log1p: bool = False,
            chunk_rows: int = DEFAULT_CHUNK_ROWS) -> Tuple[Dict[str, Dataset], Report]:
    """Convert ``train_1.csv`` (also ``.csv.gz`` or Kaggle's ``train_1.csv.zip``).

    Returns ``({"train": Dataset, "test": Dataset}, report)``; ``"test"`` is omitted when
    ``test_fraction == 0``.  See the module docstring for the filters, sampling and scaling.
    Raises ``ValueError`` for an unusable file (empty, no ``Page`` column, not 550 consecutive
    daily date columns, no data rows, no usable rows) or bad arguments.  ``chunk_rows`` rows are
    parsed at a time (memory: those plus the kept rows as float32).
    """
    datasets, report, _ = convert_with_pages(
        input_path, num_samples=num_samples, test_fraction=test_fraction, seed=seed,
        normalization=normalization, log1p=log1p, chunk_rows=chunk_rows)
    return datasets, report


def convert_with_pages(input_path, *, num_samples: int = 100000, test_fraction: float = 0.5,
                       seed: int = 0, normalization="minusone_one", log1p: bool = False,
                       chunk_rows: int = DEFAULT_CHUNK_ROWS
                       ) -> Tuple[Dict[str, Dataset], Report, Dict[str, List[str]]]:
    """:func:`convert`, plus the page name of each sample: ``{split: [page, ...]}`` in the
    datasets' sample order."""
    norm = _normalization(normalization)
    _check_arguments(num_samples, test_fraction, seed, chunk_rows)
    path = Path(input_path)
    report = Report("wwt")
    for reason in DROP_REASONS:
        report.drop(reason, 0)
    report.note("source", str(path))
    report.note("settings", {"num_samples": int(num_samples), "test_fraction": float(test_fraction),
                             "seed": int(seed), "normalization": norm.value, "log1p": bool(log1p)})

    rows = _read_rows(path, report, chunk_rows)
    values, pages, attrs = rows["values"], rows["pages"], rows["attributes"]
    valid = len(pages)
    notes = []
    if valid == 0:
        raise ValueError(
            f"{path}: none of its {rows['rows_read']} rows is usable (dropped: "
            f"{report.nonzero_drops()}; examples: {report.facts.get('examples', {})}); "
            "check that this is Kaggle's train_1.csv")

    # uniform sample without replacement, then the split, from one seeded permutation
    order = np.random.default_rng(seed).permutation(valid)
    chosen = order[:num_samples]
    sampled = len(chosen)
    if sampled < num_samples:
        notes.append(f"only {valid} rows survived the filters, fewer than num_samples="
                     f"{num_samples}: all of them were kept")
    num_test = int(sampled * test_fraction)
    if test_fraction > 0 and (num_test == 0 or num_test == sampled):
        raise ValueError(f"{sampled} sampled rows cannot be split with test_fraction="
                         f"{test_fraction} (train {sampled - num_test}, test {num_test}); use "
                         "more rows or test_fraction=0 for no test set")
    report.drop(NOT_SAMPLED, valid - sampled)
    splits = OrderedDict([("train", np.sort(chosen[num_test:]))])
    if test_fraction > 0:
        splits["test"] = np.sort(chosen[:num_test])

    # one global min/max over all sampled rows (train and test together)
    low = float(values.min(axis=1)[chosen].min())
    high = float(values.max(axis=1)[chosen].max())
    if log1p:
        low, high = float(np.log1p(low)), float(np.log1p(high))
        notes.append("the feature 'views' holds log1p(views): apply numpy.expm1 to values in "
                     "real units (Dataset.feature_values / to_dataframe / generated data) to get "
                     "page views back")
    if high <= low:
        raise ValueError(f"every sampled view count equals {low:g}; a constant feature carries "
                         "nothing to learn (check the input file)")
    report.note("scaling", {
        "feature": FEATURE_NAME, "units": "log1p(views)" if log1p else "views",
        "normalization": norm.value, "feature_min": low, "feature_max": high,
        "computed_on": "all sampled rows (train and test together), before the split"})

    f_out = feature_output(norm)
    a_outs = attribute_outputs()
    datasets, split_pages, categories = OrderedDict(), OrderedDict(), OrderedDict()
    for name, index in splits.items():
        frame = pd.DataFrame({attr: [attrs[i][k] for i in index]
                              for k, attr in enumerate(ATTRIBUTE_CATEGORIES)})
        datasets[name] = _build_dataset(values, index, frame, f_out, a_outs, low, high, log1p)
        split_pages[name] = [pages[i] for i in index]
        categories[name] = {attr: {c: int((frame[attr] == c).sum()) for c in cats}
                            for attr, cats in ATTRIBUTE_CATEGORIES.items()}
        report.note(f"{name}_size", int(len(index)))
    report.kept = sampled
    report.note("sampled", sampled)
    report.note("categories", categories)
    report.note("feature_names", [FEATURE_NAME])
    report.note("attribute_names", list(ATTRIBUTE_CATEGORIES))
    report.note("notes", notes)
    return dict(datasets), report, dict(split_pages)


def _build_dataset(values: np.ndarray, index: np.ndarray, frame: pd.DataFrame, f_out: Output,
                   a_outs: List[Output], low: float, high: float, log1p: bool,
                   block_rows: Optional[int] = None) -> Dataset:
    """Encode the rows ``values[index]`` with ``Dataset.from_arrays`` (fixed specs and min/max),
    ``block_rows`` rows at a time so its float64 intermediates stay small, then join the
    blocks."""
    block_rows = block_rows or BUILD_BLOCK_ROWS
    blocks = []
    for start in range(0, len(index), block_rows):
        x = values[index[start:start + block_rows]]
        if log1p:
            x = np.log1p(x.astype(np.float64))
        blocks.append(Dataset.from_arrays(
            x[:, :, None], frame.iloc[start:start + block_rows].reset_index(drop=True),
            feature_outputs=[f_out], attribute_outputs=a_outs, feature_min=[low],
            feature_max=[high]))
        del x
    if len(blocks) == 1:
        return blocks[0]
    first = blocks[0]
    features = np.concatenate([b.features for b in blocks])
    attributes = np.concatenate([b.attributes for b in blocks])
    gen_flags = np.concatenate([b.gen_flags for b in blocks])
    del blocks
    return Dataset(features, attributes, gen_flags, first.feature_outputs,
                   first.attribute_outputs, **first.scaling())


# --- reading --------------------------------------------------------------------------------------

def _read_rows(path: Path, report: Report, chunk_rows: int) -> dict:
    """Stream the file; apply the row filters; return the kept rows (file order)."""
    examples: Dict[str, List[str]] = OrderedDict()

    def example(reason, text):
        bucket = examples.setdefault(reason, [])
        if len(bucket) < MAX_EXAMPLES:
            bucket.append(text)

    kept_values: List[np.ndarray] = []
    pages: List[str] = []
    attributes: List[Tuple[str, str, str]] = []
    seen = set()
    rows_read = 0
    with _open_text(path) as fh:
        records = _records(fh, path)
        header = None
        for line_no, record in records:
            header = (line_no, record)
            break
        if header is None:
            raise ValueError(f"{path} is empty; expected Kaggle's train_1.csv (header 'Page' + "
                             f"{NUM_DAYS} daily date columns, one row per page)")
        dates = _check_header(path, *header)
        report.note("dates", {"first": dates[0].isoformat(), "last": dates[-1].isoformat(),
                              "days": len(dates)})
        date_labels = [d.isoformat() for d in dates]

        while True:
            chunk = _take(records, chunk_rows)
            if not chunk:
                break
            rows_read += len(chunk)
            good_lines, good_records = [], []
            for line_no, record in chunk:
                count = _field_count(record)
                if count != NUM_DAYS + 1:
                    report.drop("wrong_field_count")
                    example("wrong_field_count", f"line {line_no}: {count} fields, expected "
                                                 f"{NUM_DAYS + 1} (Page + {NUM_DAYS} days)")
                    continue
                good_lines.append(line_no)
                good_records.append(record if record.endswith(("\n", "\r"))
                                    else record + "\n")
            if not good_records:
                continue
            page_col, vals, unparsable = _parse_chunk(path, good_records, good_lines)
            missing = np.isnan(vals) & ~unparsable
            keep = np.zeros(len(page_col), bool)
            for r, page in enumerate(page_col):
                parsed = parse_page_name(page)
                if parsed is None:
                    report.drop("bad_page_name")
                    example("bad_page_name", page[:200])
                    continue
                if unparsable[r].any():
                    j = int(np.flatnonzero(unparsable[r])[0])
                    report.drop("unparsable_value")
                    example("unparsable_value", f"line {good_lines[r]}: {page}: "
                                                f"{date_labels[j]} is not a finite number")
                    continue
                if missing[r].any():
                    report.drop("missing_values")
                    continue
                if (vals[r] < 0).any():
                    report.drop("negative_values")
                    example("negative_values", f"line {good_lines[r]}: {page}: min "
                                               f"{np.min(vals[r]):g}")
                    continue
                if page in seen:
                    report.drop("duplicate_page")
                    example("duplicate_page", f"line {good_lines[r]}: {page}")
                    continue
                seen.add(page)
                keep[r] = True
                pages.append(page)
                attributes.append(parsed[1:])
            if keep.any():
                kept_values.append(vals[keep].astype(np.float32))
            del vals, unparsable, missing
    if rows_read == 0:
        raise ValueError(f"{path} has a header but no rows; expected one row per page after "
                         "the header")
    report.note("rows_read", rows_read)
    report.note("rows_valid", len(pages))
    report.note("examples", dict(examples))
    values = (np.concatenate(kept_values) if kept_values
              else np.zeros((0, NUM_DAYS), np.float32))
    del kept_values
    return {"values": values, "pages": pages, "attributes": attributes, "rows_read": rows_read}


def _open_text(path: Path):
    """A text handle on ``path`` (plain, ``.gz`` or a ``.zip`` holding one ``.csv``),
    universal newlines kept in the lines (``newline=""``), a UTF-8 byte-order mark skipped."""
    if not path.exists():
        raise FileNotFoundError(f"no such input file: {path} (download train_1.csv.zip from "
                                "Kaggle, see docs/data_prep_wwt.md)")
    if path.is_dir():
        raise ValueError(f"{path} is a directory; give the path of train_1.csv")
    suffix = path.suffix.lower()
    if suffix == ".gz":
        return gzip.open(path, "rt", encoding="utf-8-sig", newline="")
    if suffix == ".zip":
        try:
            archive = zipfile.ZipFile(path)
        except zipfile.BadZipFile as exc:
            raise ValueError(f"{path} is not a readable zip archive ({exc}); download "
                             "train_1.csv.zip again or pass the unzipped train_1.csv") from None
        members = [n for n in archive.namelist() if n.lower().endswith(".csv")]
        if len(members) != 1:
            archive.close()
            raise ValueError(f"{path} holds {len(members)} .csv files ({members[:5]}); expected "
                             "exactly one (train_1.csv); unzip it and pass the .csv")
        return _ZipText(archive, members[0])
    return open(path, "r", encoding="utf-8-sig", newline="")


class _ZipText:
    """Context manager: a text stream on one member of an open zip archive."""

    def __init__(self, archive: zipfile.ZipFile, member: str):
        self.archive = archive
        self.stream = io.TextIOWrapper(archive.open(member), encoding="utf-8-sig", newline="")

    def __enter__(self):
        return self.stream

    def __exit__(self, *exc):
        self.stream.close()
        self.archive.close()
        return False


def _records(fh, path: Path) -> Iterator[Tuple[int, str]]:
    """Yield (first line number, text) of each non-blank CSV record.

    A record ends at a line end outside quotes: in well-formed CSV (quotes doubled inside
    quoted fields) that is where the running count of '"' is even, so quoted fields may hold
    commas and line breaks.
    """
    line_no = 0
    buffer: List[str] = []
    start = 0
    quotes = 0
    try:
        for line in fh:
            line_no += 1
            if not buffer:
                start = line_no
            buffer.append(line)
            quotes += line.count('"')
            if quotes % 2 == 0:
                record = "".join(buffer)
                buffer, quotes = [], 0
                if record.strip():
                    yield start, record
    except UnicodeDecodeError as exc:
        raise ValueError(f"{path}: not UTF-8 text after line {line_no} ({exc}); expected "
                         "Kaggle's train_1.csv") from None
    except (EOFError, zipfile.BadZipFile, gzip.BadGzipFile) as exc:
        raise ValueError(f"{path}: the compressed file is damaged after line {line_no} ({exc}); "
                         "download it again") from None
    if buffer:
        raise ValueError(f"{path}: the quoted field starting on line {start} is never closed "
                         "(odd number of '\"'); fix the quoting of that row")


def _take(records: Iterator[Tuple[int, str]], n: int) -> List[Tuple[int, str]]:
    chunk = []
    for item in records:
        chunk.append(item)
        if len(chunk) == n:
            break
    return chunk


def _split_fields(record: str) -> List[List[str]]:
    return list(csv.reader(io.StringIO(record, newline="")))


def _field_count(record: str) -> int:
    """Number of CSV fields in one record (-1 when it is not exactly one CSV row)."""
    if '"' not in record:
        return record.rstrip("\r\n").count(",") + 1
    rows = _split_fields(record)
    return len(rows[0]) if len(rows) == 1 else -1


def _check_header(path: Path, line_no: int, record: str) -> List[dt.date]:
    """Validate the header (``Page`` + NUM_DAYS consecutive ISO dates); return the dates."""
    rows = _split_fields(record)
    fields = [f.strip().lstrip("\ufeff") for f in rows[0]] if len(rows) == 1 else []
    if not fields or fields[0] != PAGE_COLUMN:
        shown = fields[0] if fields else record[:60]
        raise ValueError(f"{path}: line {line_no}: the header must start with a {PAGE_COLUMN!r} "
                         f"column (found {shown!r}); this does not look like Kaggle's "
                         f"train_1.csv (header 'Page,2015-07-01,...,2016-12-31', comma-separated)")
    date_fields = fields[1:]
    if len(date_fields) != NUM_DAYS:
        raise ValueError(f"{path}: the header has {len(date_fields)} date columns after "
                         f"{PAGE_COLUMN!r}, expected {NUM_DAYS} (2015-07-01 .. 2016-12-31, "
                         "Kaggle's train_1.csv; train_2.csv's 803 days are not the paper's "
                         "dataset)")
    dates = []
    for i, text in enumerate(date_fields):
        try:
            dates.append(dt.date.fromisoformat(text))
        except ValueError:
            raise ValueError(f"{path}: header column {i + 2} is {text!r}, not a date "
                             "YYYY-MM-DD; every column after 'Page' must be a day") from None
    gaps = [i for i in range(1, len(dates)) if dates[i] - dates[i - 1] != dt.timedelta(days=1)]
    if gaps:
        i = gaps[0]
        raise ValueError(f"{path}: the header dates are not consecutive days ({dates[i - 1]} is "
                         f"followed by {dates[i]} in columns {i + 1}-{i + 2}); expected one "
                         "column per day")
    return dates


def _parse_chunk(path: Path, records: List[str], lines: List[int]
                 ) -> Tuple[List[str], np.ndarray, np.ndarray]:
    """Records of exactly 1 + NUM_DAYS fields -> (pages, values float64 [n, NUM_DAYS] with NaN
    for empty fields, unparsable [n, NUM_DAYS] bool: non-empty fields that are not finite
    numbers)."""
    frame = pd.read_csv(io.StringIO("".join(records)), header=None,
                        names=list(range(NUM_DAYS + 1)), index_col=False, dtype={0: str},
                        keep_default_na=False, na_values=[""], engine="c")
    if len(frame) != len(records):
        raise ValueError(f"{path}: lines {lines[0]}..{lines[-1]}: read {len(frame)} rows from "
                         f"{len(records)} CSV records; the quoting of these lines is unusual "
                         "(a stray '\"' inside an unquoted field?); fix them")
    pages = frame[0].fillna("").tolist()
    block = frame.iloc[:, 1:]
    unparsable = np.zeros(block.shape, bool)
    if all(pd.api.types.is_numeric_dtype(t) for t in block.dtypes):
        values = block.to_numpy(np.float64)
    else:
        values = np.empty(block.shape, np.float64)
        for j, column in enumerate(block.columns):
            series = block[column]
            if pd.api.types.is_numeric_dtype(series.dtype):
                values[:, j] = series.to_numpy(np.float64)
                continue
            numbers = pd.to_numeric(series, errors="coerce").to_numpy(np.float64)
            unparsable[:, j] = series.notna().to_numpy() & np.isnan(numbers)
            values[:, j] = numbers
    unparsable |= np.isinf(values)
    return pages, values, unparsable


# --- helpers --------------------------------------------------------------------------------------

def _normalization(value) -> Normalization:
    if isinstance(value, Normalization):
        return value
    try:
        return Normalization(str(value).lower())
    except ValueError:
        raise ValueError(f"unknown normalization {value!r}; use 'minusone_one' (the paper's "
                         "WWT runs) or 'zero_one'") from None


def _check_arguments(num_samples, test_fraction, seed, chunk_rows) -> None:
    for name, value in (("num_samples", num_samples), ("chunk_rows", chunk_rows)):
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
            raise ValueError(f"{name} must be a positive integer, got {value!r}")
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ValueError(f"seed must be a non-negative integer, got {seed!r}")
    if not isinstance(test_fraction, (int, float, np.floating)) or not 0 <= test_fraction < 1:
        raise ValueError(f"test_fraction must be in [0, 1) (0.5 = the paper's half/half split, "
                         f"0 = no test set), got {test_fraction!r}")



def write_pages(path, pages: Dict[str, List[str]]) -> None:
    """Write ``pages.csv``: split, sample (index in that split's Dataset), page."""
    with atomic_file(Path(path)) as f:
        writer = csv.writer(f, lineterminator="\n")
        writer.writerow(["split", "sample", "page"])
        for split, names in pages.items():
            for i, name in enumerate(names):
                writer.writerow([split, i, name])


# --- command line ---------------------------------------------------------------------------------

_FLAGS_DEFINED = False


def define_flags() -> None:
    """Define this script's absl flags (not at import: converters share one flag registry)."""
    global _FLAGS_DEFINED
    if _FLAGS_DEFINED:
        return
    flags.DEFINE_string("input", None, "Kaggle's train_1.csv (or train_1.csv.zip / .csv.gz).")
    flags.DEFINE_string("output", None, "Output directory: train/, test/, report.json, "
                                        "pages.csv.")
    flags.DEFINE_integer("seed", 0, "Seed of the uniform sampling and the train/test split.")
    flags.DEFINE_integer("num_samples", 100000, "Rows to sample after the filters (all when "
                                                "fewer remain).")
    flags.DEFINE_float("test_fraction", 0.5, "Fraction of the sampled rows held out as test "
                                             "(0 = no test set).")
    flags.DEFINE_enum("normalization", "minusone_one", ["minusone_one", "zero_one"],
                      "Global scaling of views: [-1, 1] (the paper's WWT runs) or [0, 1].")
    flags.DEFINE_bool("log1p", False, "Scale log1p(views) instead of views (generated data must "
                                      "then be expm1'd).")
    flags.DEFINE_bool("original_layout", False, "Also write <output>/original/<split> in the "
                                                "original release's layout.")
    flags.mark_flags_as_required(["input", "output"])
    _FLAGS_DEFINED = True


def main(argv) -> None:
    if len(argv) > 1:
        raise app.UsageError(f"unexpected arguments: {argv[1:]}")
    with command_line_errors("data_prep.wwt"):
        datasets, report, pages = convert_with_pages(
            FLAGS.input, num_samples=FLAGS.num_samples, test_fraction=FLAGS.test_fraction,
            seed=FLAGS.seed, normalization=FLAGS.normalization, log1p=FLAGS.log1p)
    sizes = ", ".join(f"{n} {len(d)}" for n, d in datasets.items())
    finish_run("data_prep.wwt", FLAGS.output, datasets, report, FLAGS.original_layout,
               f"read {report.facts['rows_read']} rows, kept {report.kept} ({sizes})",
               extra=lambda out: write_pages(out / "pages.csv", pages))

if __name__ == "__main__":
    define_flags()
    app.run(main)
