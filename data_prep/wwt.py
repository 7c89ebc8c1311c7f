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
import io
from collections import OrderedDict
from pathlib import Path
from typing import Iterator, List, Optional, Tuple

import numpy as np
import pandas as pd
from absl import flags

from data_prep import arguments, assemble, cli, csv_reader
from data_prep.conversion import Conversion
from data_prep.report import Examples, Report
from doppelganger_tf import Normalization, Output, OutputType

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
DEFAULT_CHUNK_ROWS = 5000
BUILD_BLOCK_ROWS = assemble.BUILD_BLOCK_ROWS  # rows encoded per Dataset.from_arrays call
EXPECTED = "Kaggle's train_1.csv"

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
            chunk_rows: int = DEFAULT_CHUNK_ROWS) -> Conversion:
    """Convert ``train_1.csv`` (also ``.csv.gz`` or Kaggle's ``train_1.csv.zip``).

    Returns a :class:`~data_prep.conversion.Conversion`: ``datasets`` ``{"train": Dataset,
    "test": Dataset}`` (no ``"test"`` when ``test_fraction == 0``), the report, and ``samples``
    naming the page of each sample (``split``, ``sample``, ``page``; written as ``pages.csv``).
    See the module docstring for the filters, sampling and scaling.  Raises ``ValueError`` for
    an unusable file (empty, no ``Page`` column, not 550 consecutive daily date columns, no data
    rows, no usable rows) or bad arguments.  ``chunk_rows`` rows are parsed at a time (memory:
    those plus the kept rows as float32).
    """
    norm = _normalization(normalization)
    arguments.positive_int(num_samples, "num_samples")
    arguments.positive_int(chunk_rows, "chunk_rows")
    arguments.seed(seed)
    arguments.fraction(test_fraction, "0.5 = the paper's half/half split, 0 = no test set")
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
    chosen = assemble.uniform_sample(valid, num_samples, seed)
    sampled = len(chosen)
    shortfall = assemble.shortfall_note(valid, num_samples, "rows", "survived")
    if shortfall:
        notes.append(shortfall)
    splits = assemble.split(chosen, test_fraction, "rows")
    report.drop(NOT_SAMPLED, valid - sampled)

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
    datasets, tables, categories = OrderedDict(), [], OrderedDict()
    for name, index in splits.items():
        frame = pd.DataFrame({attr: [attrs[i][k] for i in index]
                              for k, attr in enumerate(ATTRIBUTE_CATEGORIES)})

        def raw(start, stop, index=index, frame=frame):
            x = values[index[start:stop]]
            if log1p:
                x = np.log1p(x.astype(np.float64))
            return x[:, :, None], frame.iloc[start:stop].reset_index(drop=True)

        datasets[name] = assemble.build(len(index), NUM_DAYS, raw, feature_outputs=[f_out],
                                        attribute_outputs=a_outs, feature_min=[low],
                                        feature_max=[high], block_rows=BUILD_BLOCK_ROWS)
        tables.append(pd.DataFrame({"split": name, "sample": np.arange(len(index)),
                                    "page": [pages[i] for i in index]}))
        categories[name] = {attr: {c: int((frame[attr] == c).sum()) for c in cats}
                            for attr, cats in ATTRIBUTE_CATEGORIES.items()}
        report.note(f"{name}_size", int(len(index)))
    report.kept = sampled
    report.note("sampled", sampled)
    report.note("categories", categories)
    report.note("feature_names", [FEATURE_NAME])
    report.note("attribute_names", list(ATTRIBUTE_CATEGORIES))
    report.note("notes", notes)
    return Conversion(dict(datasets), report, pd.concat(tables, ignore_index=True), "pages.csv")


# --- reading --------------------------------------------------------------------------------------

def _read_rows(path: Path, report: Report, chunk_rows: int) -> dict:
    """Stream the file; apply the row filters; return the kept rows (file order)."""
    arguments.input_file(path, kind="input file", name="train_1.csv", advice=(
        "download train_1.csv.zip from Kaggle, see docs/data_prep_wwt.md"))
    examples = Examples()
    kept_values: List[np.ndarray] = []
    pages: List[str] = []
    attributes: List[Tuple[str, str, str]] = []
    seen = set()
    rows_read = 0
    records = _records(path)
    header = next(records, None)
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
                examples.add("wrong_field_count", f"line {line_no}: {count} fields, expected "
                                                  f"{NUM_DAYS + 1} (Page + {NUM_DAYS} days)")
                continue
            good_lines.append(line_no)
            good_records.append(record)
        if not good_records:
            continue
        page_col, vals, unparsable = _parse_chunk(path, good_records, good_lines)
        missing = np.isnan(vals) & ~unparsable
        keep = np.zeros(len(page_col), bool)
        for r, page in enumerate(page_col):
            parsed = parse_page_name(page)
            if parsed is None:
                report.drop("bad_page_name")
                examples.add("bad_page_name", page[:200])
                continue
            if unparsable[r].any():
                j = int(np.flatnonzero(unparsable[r])[0])
                report.drop("unparsable_value")
                examples.add("unparsable_value", f"line {good_lines[r]}: {page}: "
                                                 f"{date_labels[j]} is not a finite number")
                continue
            if missing[r].any():
                report.drop("missing_values")
                continue
            if (vals[r] < 0).any():
                report.drop("negative_values")
                examples.add("negative_values", f"line {good_lines[r]}: {page}: min "
                                                f"{np.min(vals[r]):g}")
                continue
            if page in seen:
                report.drop("duplicate_page")
                examples.add("duplicate_page", f"line {good_lines[r]}: {page}")
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
    report.note("examples", dict(examples.items))
    values = (np.concatenate(kept_values) if kept_values
              else np.zeros((0, NUM_DAYS), np.float32))
    del kept_values
    return {"values": values, "pages": pages, "attributes": attributes, "rows_read": rows_read}


def _records(path: Path) -> Iterator[Tuple[int, str]]:
    """(first line number, text) of each non-blank CSV record; quoted fields may hold commas
    and line breaks."""
    for block in csv_reader.blocks(path, quoting=True, describe=EXPECTED):
        for line, record in csv_reader.records(block, quoting=True):
            yield line, csv_reader.decode(record, path, line, EXPECTED)


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


# --- command line ---------------------------------------------------------------------------------

@cli.define_once
def define_flags() -> None:
    """Define this script's absl flags (not at import: converters share one flag registry)."""
    flags.DEFINE_string("input", None, "Kaggle's train_1.csv (or train_1.csv.zip / .csv.gz).")
    cli.define_common_flags(
        outputs="train/, test/, report.json, pages.csv", noun="Rows", num_samples=100000,
        seed="Seed of the uniform sampling and the train/test split.",
        test_fraction=(0.5, "Fraction of the sampled rows held out as test (0 = no test set)."))
    flags.DEFINE_enum("normalization", "minusone_one", ["minusone_one", "zero_one"],
                      "Global scaling of views: [-1, 1] (the paper's WWT runs) or [0, 1].")
    flags.DEFINE_bool("log1p", False, "Scale log1p(views) instead of views (generated data must "
                                      "then be expm1'd).")
    flags.mark_flags_as_required(["input", "output"])


def _convert_flags(values) -> Conversion:
    return convert(values.input, num_samples=values.num_samples,
                   test_fraction=values.test_fraction, seed=values.seed,
                   normalization=values.normalization, log1p=values.log1p)


def _summary(conversion: Conversion) -> str:
    report = conversion.report
    return f"read {report.facts['rows_read']} rows, kept {report.kept} ({conversion.sizes()})"


if __name__ == "__main__":
    cli.run("data_prep.wwt", define_flags, _convert_flags, _summary)
