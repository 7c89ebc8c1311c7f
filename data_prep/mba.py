"""MBA: FCC Measuring Broadband America raw data -> the paper's canonical MBA dataset.

Inputs (see docs/data_prep_mba.md; the script never downloads anything):

- the UDP latency/loss table ``curr_udplatency.csv`` (``curr_ping.csv`` / ``curr_udpping.csv`` in
  some releases): one row per unit, hour and target server; default layout (no header)
  ``unit_id, dtime, target, rtt_avg, rtt_min, rtt_max, rtt_std, successes, failures
  [, location_id]`` (:data:`DEFAULT_LOSS_COLUMNS`);
- a traffic byte-counter table (``curr_netusage.csv`` / ``curr_datausage.csv``): one row per unit
  and reporting interval.  The column positions differ between releases; the default
  (:data:`DEFAULT_USAGE_COLUMNS`) is the documented ``curr_netusage`` layout ``unit_id, dtime,
  wan_rx_bytes, wan_tx_bytes, sk_rx_bytes, sk_tx_bytes, location_id``, i.e. bytes received at
  position 2 and bytes sent at 3.  **Check it against the release's data dictionary** and pass
  ``usage_columns`` (``--usage_columns``) when it differs;
- the unit profile CSV of the same period (``unit-profile-sept2017.csv``): Unit ID -> ISP,
  Technology, State (:func:`load_unit_profiles`).

Processing (the paper's Appendix A; ``start``/``end``/``window_hours`` default to its
2017-10-01 .. 2017-10-15, 6 hours -> 56 windows):

1. both tables are streamed in chunks; a row is used when it parses and ``start <= dtime < end``
   (row-level drops are counted per table in the report's ``rows``);
2. loss: per unit, hour (counted from ``start``) and target, loss rate = failures / (successes +
   failures) summed over that hour's rows; per unit and hour the MINIMUM over targets; per
   window the MEAN of those hourly values (:func:`hourly_loss`, :func:`window_loss`);
3. traffic: per unit and window the SUM of bytes sent + bytes received over the window's rows
   (total traffic of the window, not a mean; :func:`window_traffic`);
4. a unit is kept only if it has a profile (``no_profile``), is not marked ``REMOVE`` in it
   (``profile_removed``, 2014-style profiles), and every window has at least one loss hour
   (``missing_windows_loss``) and one traffic row (``missing_windows_traffic``);
5. ``num_samples`` of the kept units are sampled uniformly without replacement (seeded);
6. features ``traffic_bytes`` then ``loss_rate`` (the released dataset's order), both ZERO_ONE:
   traffic by its global min/max over the sampled units, loss by the fixed range [0, 1] (as the
   release); attributes ``isp``, ``technology``, ``state`` one-hot over the full category lists
   of the profile (as the release, whose blocks also list categories no sampled home uses).

Run ``python -m data_prep.mba --loss_input curr_udplatency.csv --usage_input curr_netusage.csv
--profiles unit-profile-sept2017.csv --output data/mba``.
"""
from __future__ import annotations

import contextlib
import csv
import io
import re
from collections import OrderedDict
from pathlib import Path
from typing import Callable, Dict, Iterator, List, Optional, Sequence, Tuple, Union

import numpy as np
import pandas as pd
from absl import flags

from data_prep import arguments, assemble, cli, csv_reader
from data_prep.conversion import Conversion
from data_prep.report import Examples, Report
from doppelganger_tf import Dataset, Normalization, Output, OutputType

PathLike = Union[str, Path]
Columns = Union[None, str, Dict[str, Union[int, str]]]

FEATURE_NAMES = ("traffic_bytes", "loss_rate")
ATTRIBUTE_NAMES = ("isp", "technology", "state")
UNKNOWN = "UNKNOWN"
REMOVED_TECHNOLOGY = "REMOVE"
# state values meaning "not known", mapped to UNKNOWN (after strip + upper-case)
_UNKNOWN_STATES = {"", "UNKNOWN", "NA", "N/A", "NULL", "NONE", "-"}

# Default column positions (0-based) of the raw tables; positions or header names are accepted.
DEFAULT_LOSS_COLUMNS = OrderedDict([("unit_id", 0), ("dtime", 1), ("target", 2),
                                    ("successes", 7), ("failures", 8)])
DEFAULT_USAGE_COLUMNS = OrderedDict([("unit_id", 0), ("dtime", 1), ("bytes_received", 2),
                                     ("bytes_sent", 3)])
# header names expected at each role (lower case), to warn when a header disagrees
_KNOWN_NAMES = {"unit_id": {"unit_id", "unitid"}, "dtime": {"dtime", "datetime", "time"},
                "target": {"target"}, "successes": {"successes"}, "failures": {"failures"},
                "bytes_sent": {"bytes_sent", "wan_tx_bytes", "tx_bytes", "bytes_tx"},
                "bytes_received": {"bytes_received", "wan_rx_bytes", "rx_bytes", "bytes_rx"}}

UNIT_DROP_REASONS = ("no_profile", "profile_removed", "missing_windows_loss",
                     "missing_windows_traffic")
NOT_SAMPLED = "not_sampled"
ROW_DROP_REASONS = ("wrong_field_count", "unparsable_field", "unparsable_timestamp",
                    "outside_window", "negative_count", "zero_packets")
DEFAULT_CHUNK_ROWS = 500_000
_COMPACT_ROWS = 2_000_000  # re-aggregate the partial sums when they grow past this
# the dates datetime64[ns] can hold, in microseconds
_NS_DATES = (np.datetime64(pd.Timestamp.min.ceil("us"), "us"),
             np.datetime64(pd.Timestamp.max.floor("us"), "us"))


# --- unit profiles --------------------------------------------------------------------------------

def _header_key(name) -> str:
    """Header name -> comparison key: BOM/spaces/punctuation removed, lower case."""
    return re.sub(r"[^0-9a-z]", "", str(name).replace("\ufeff", "").lower())


_PROFILE_HEADERS = {"unit_id": {"unitid", "unit"}, "isp": {"isp"},
                    "technology": {"technology", "tech"}, "state": {"state"}}


def _clean_text(series: pd.Series) -> pd.Series:
    """Strip, collapse inner runs of whitespace."""
    return series.fillna("").astype(str).str.replace(r"\s+", " ", regex=True).str.strip()


def load_unit_profiles(path: PathLike) -> pd.DataFrame:
    """Read a unit profile CSV -> DataFrame[unit_id (int64), isp, technology, state].

    Header names are matched case-insensitively ignoring spaces/punctuation (``Unit ID``,
    ``ISP``, ``Technology``, ``State``/``STATE``; other columns are ignored); a UTF-8 BOM and
    CRLF line ends are fine.  Values are normalised: whitespace stripped (ISP names carry
    trailing spaces, e.g. ``"Verizon "``), technology and state upper-cased (``Cable`` ->
    ``CABLE``, ``sc`` -> ``SC``), an empty ISP/technology and an empty or unknown state
    (``""``, ``UNKNOWN``, ``N/A``, ...) become ``UNKNOWN``.  Rows whose Unit ID is not an
    integer are dropped, and so are repeated unit ids (the first row is kept); the counts are
    in ``frame.attrs`` (``rows``, ``bad_unit_id``, ``duplicate_unit_id``).  Raises
    ``ValueError`` for a missing or empty file or a missing column.
    """
    path = Path(path)
    _check_file(path, "unit profile CSV (e.g. unit-profile-sept2017.csv)")
    try:
        raw = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig",
                          skipinitialspace=False)
    except pd.errors.EmptyDataError:
        raise ValueError(f"{path} is empty; expected the unit profile CSV with a header "
                         "'Unit ID,ISP,Technology,State,...'") from None
    except (UnicodeDecodeError, pd.errors.ParserError) as exc:
        raise ValueError(f"{path}: not a readable CSV ({exc})") from None
    found = {}
    for column in raw.columns:
        key = _header_key(column)
        for role, keys in _PROFILE_HEADERS.items():
            if key in keys and role not in found:
                found[role] = column
    missing = [r for r in _PROFILE_HEADERS if r not in found]
    if missing:
        raise ValueError(f"{path}: no column for {missing} in the header {list(raw.columns)}; "
                         "expected a unit profile with 'Unit ID', 'ISP', 'Technology' and "
                         "'State' columns (any case)")
    if len(raw) == 0:
        raise ValueError(f"{path} has a header but no units")
    unit_text = _clean_text(raw[found["unit_id"]])
    unit = pd.to_numeric(unit_text, errors="coerce")
    good = unit.notna() & (unit == np.floor(unit))
    isp = _clean_text(raw[found["isp"]])
    tech = _clean_text(raw[found["technology"]]).str.upper()
    state = _clean_text(raw[found["state"]]).str.upper()
    frame = pd.DataFrame({
        "unit_id": unit[good].astype(np.int64),
        "isp": isp[good].where(isp[good] != "", UNKNOWN),
        "technology": tech[good].where(tech[good] != "", UNKNOWN),
        "state": state[good].where(~state[good].isin(_UNKNOWN_STATES), UNKNOWN)})
    duplicated = frame["unit_id"].duplicated(keep="first")
    frame = frame[~duplicated].reset_index(drop=True)
    frame.attrs.update({"rows": int(len(raw)), "bad_unit_id": int((~good).sum()),
                        "duplicate_unit_id": int(duplicated.sum())})
    return frame


# --- column specifications ------------------------------------------------------------------------

def parse_columns(spec: Columns, defaults: Dict[str, Union[int, str]], what: str
                  ) -> "OrderedDict[str, Union[int, str]]":
    """``"unit_id=0,dtime=1,bytes_sent=3"`` (or a dict) -> role -> 0-based position or header
    name, merged over ``defaults`` (roles not given keep their default).  Raises ``ValueError``
    for unknown roles, malformed items, negative or repeated positions."""
    columns = OrderedDict(defaults)
    if spec is None or (isinstance(spec, str) and not spec.strip()):
        return columns
    if isinstance(spec, str):
        items = {}
        for item in spec.split(","):
            if not item.strip():
                continue
            if "=" not in item:
                raise ValueError(f"{what} columns: {item.strip()!r} is not role=position (e.g. "
                                 f"{_format_columns(defaults)})")
            role, value = (s.strip() for s in item.split("=", 1))
            items[role] = value
    else:
        items = dict(spec)
    for role, value in items.items():
        if role not in defaults:
            raise ValueError(f"{what} columns: unknown role {role!r}; the roles are "
                             f"{list(defaults)}")
        if isinstance(value, (int, np.integer)) and not isinstance(value, bool):
            position: Union[int, str] = int(value)
        elif isinstance(value, str) and value.strip().lstrip("-").isdigit():
            position = int(value)
        elif isinstance(value, str) and value.strip():
            position = value.strip()
        else:
            raise ValueError(f"{what} columns: {role}={value!r} is neither a 0-based position "
                             "nor a header name")
        if isinstance(position, int) and position < 0:
            raise ValueError(f"{what} columns: {role}={position} must be >= 0 (0-based)")
        columns[role] = position
    values = list(columns.values())
    repeated = {v for v in values if values.count(v) > 1}
    if repeated:
        raise ValueError(f"{what} columns: {sorted(map(str, repeated))} used for more than one "
                         f"role in {_format_columns(columns)}")
    return columns


def _format_columns(columns) -> str:
    return ",".join(f"{k}={v}" for k, v in columns.items())


# --- aggregation (pure functions on DataFrames) ---------------------------------------------------

def _timestamp(value, name: str) -> pd.Timestamp:
    try:
        ts = pd.Timestamp(value)
    except (ValueError, TypeError):
        raise ValueError(f"{name}={value!r} is not a date/time (use e.g. 2017-10-01 or "
                         "'2017-10-01 00:00')") from None
    if ts is pd.NaT:
        raise ValueError(f"{name} is missing")
    if ts.tzinfo is not None:
        ts = ts.tz_convert("UTC").tz_localize(None)
    return ts


def _loss_sums(unit_id, hour, target, successes, failures) -> pd.DataFrame:
    """Per (unit_id, hour, target): summed failures and packets (successes + failures)."""
    frame = pd.DataFrame({"unit_id": np.asarray(unit_id, np.int64),
                          "hour": np.asarray(hour, np.int64),
                          "target": pd.Series(target).fillna("").astype(str).str.strip()
                          .to_numpy(),
                          "failures": np.asarray(failures, np.float64),
                          "packets": (np.asarray(successes, np.float64)
                                      + np.asarray(failures, np.float64))})
    return frame.groupby(["unit_id", "hour", "target"], sort=False)[
        ["failures", "packets"]].sum()


def _combine_sums(parts: List[pd.DataFrame]) -> pd.DataFrame:
    if len(parts) == 1:
        return parts[0]
    combined = pd.concat(parts)
    return combined.groupby(level=list(range(combined.index.nlevels)), sort=False).sum()


def _hourly_from_sums(sums: pd.DataFrame) -> pd.DataFrame:
    """Per (unit, hour, target) sums -> DataFrame[unit_id, hour, loss_rate]: the minimum over
    targets of failures / packets (targets with no packets are ignored)."""
    sums = sums[sums["packets"] > 0]
    rate = (sums["failures"] / sums["packets"]).rename("loss_rate")
    hourly = rate.groupby(level=["unit_id", "hour"]).min().reset_index()
    return hourly.sort_values(["unit_id", "hour"], kind="stable").reset_index(drop=True)


def hourly_loss(rows: pd.DataFrame, start) -> pd.DataFrame:
    """Loss rows -> DataFrame[unit_id, hour, loss_rate], one row per unit and hour.

    ``rows`` has columns ``unit_id``, ``dtime`` (datetime-like), ``target``, ``successes``,
    ``failures`` (clean: no NaN, no negative counts).  ``hour`` = whole hours since ``start``
    (floor).  A target's loss rate in an hour is its failures / (successes + failures) summed
    over the hour's rows (the release has one row per unit, target and hour); the hour's value
    is the MINIMUM over targets.  Rows with no packets are ignored.
    """
    start = _timestamp(start, "start")
    if len(rows) == 0:
        return pd.DataFrame({"unit_id": np.zeros(0, np.int64), "hour": np.zeros(0, np.int64),
                             "loss_rate": np.zeros(0)})
    hour = (pd.to_datetime(rows["dtime"]) - start) // pd.Timedelta(hours=1)
    return _hourly_from_sums(_loss_sums(rows["unit_id"], hour, rows["target"],
                                        rows["successes"], rows["failures"]))


def window_loss(hourly: pd.DataFrame, window_hours: int) -> pd.DataFrame:
    """Hourly loss (from :func:`hourly_loss`) -> DataFrame[unit_id, window, loss_rate, hours]:
    the MEAN of the hourly values in each window (``window = hour // window_hours``) and how
    many hours had a value."""
    _check_window_hours(window_hours)
    window = hourly["hour"].to_numpy(np.int64) // int(window_hours)
    frame = pd.DataFrame({"unit_id": hourly["unit_id"].to_numpy(np.int64), "window": window,
                          "loss_rate": hourly["loss_rate"].to_numpy(np.float64)})
    grouped = frame.groupby(["unit_id", "window"])["loss_rate"]
    out = pd.DataFrame({"loss_rate": grouped.mean(), "hours": grouped.size()}).reset_index()
    return out


def _traffic_sums(unit_id, window, bytes_sent, bytes_received) -> pd.DataFrame:
    frame = pd.DataFrame({"unit_id": np.asarray(unit_id, np.int64),
                          "window": np.asarray(window, np.int64),
                          "traffic_bytes": (np.asarray(bytes_sent, np.float64)
                                            + np.asarray(bytes_received, np.float64)),
                          "records": np.ones(len(unit_id), np.int64)})
    return frame.groupby(["unit_id", "window"], sort=False)[["traffic_bytes", "records"]].sum()


def _traffic_from_sums(sums: pd.DataFrame) -> pd.DataFrame:
    out = sums.reset_index()
    out["records"] = out["records"].astype(np.int64)
    return out.sort_values(["unit_id", "window"], kind="stable").reset_index(drop=True)


def window_traffic(rows: pd.DataFrame, start, window_hours: int) -> pd.DataFrame:
    """Traffic rows -> DataFrame[unit_id, window, traffic_bytes, records].

    ``rows`` has columns ``unit_id``, ``dtime``, ``bytes_sent``, ``bytes_received`` (clean).
    ``window`` = floor((dtime - start) / window_hours); ``traffic_bytes`` = the SUM of
    bytes_sent + bytes_received over the window's rows (the window's total traffic);
    ``records`` = the number of rows.
    """
    start = _timestamp(start, "start")
    _check_window_hours(window_hours)
    if len(rows) == 0:
        return pd.DataFrame({"unit_id": np.zeros(0, np.int64), "window": np.zeros(0, np.int64),
                             "traffic_bytes": np.zeros(0), "records": np.zeros(0, np.int64)})
    window = (pd.to_datetime(rows["dtime"]) - start) // pd.Timedelta(hours=int(window_hours))
    return _traffic_from_sums(_traffic_sums(rows["unit_id"], window, rows["bytes_sent"],
                                            rows["bytes_received"]))


def complete_units(per_window: pd.DataFrame, num_windows: int) -> np.ndarray:
    """Sorted unit ids having a row for every window 0..num_windows-1."""
    inside = per_window[(per_window["window"] >= 0) & (per_window["window"] < num_windows)]
    counts = inside.groupby("unit_id")["window"].nunique()
    return np.sort(counts.index[counts.to_numpy() == num_windows].to_numpy(np.int64))


# --- streaming the raw tables ---------------------------------------------------------------------

def _check_file(path: Path, what: str) -> None:
    arguments.input_file(path, kind="file", name=f"the {what}", advice=(
        f"the {what}; see docs/data_prep_mba.md for where to get it"))
    if path.stat().st_size == 0:
        raise ValueError(f"{path} is empty (0 bytes); expected the {what}")


def _is_integer_text(text) -> bool:
    return isinstance(text, str) and text.strip().lstrip("\ufeff").isdigit()


def _blocks(path: Path, what: str, **options) -> Iterator[csv_reader.Block]:
    return csv_reader.blocks(path, quoting=True, describe=f"the {what}", **options)


def _sniff(path: Path, what: str) -> Tuple[int, Optional[List[str]]]:
    """(number of fields of the first line, header names or None when there is no header)."""
    with contextlib.closing(_blocks(path, what, records=1)) as blocks:
        first = next(blocks, None)
    if first is None:
        raise ValueError(f"{path} is empty; expected the {what}")
    _, record = csv_reader.records(first, quoting=True)[0]
    try:
        line = pd.read_csv(io.BytesIO(record), header=None, nrows=1, dtype=str,
                           keep_default_na=False)
    except (UnicodeDecodeError, pd.errors.ParserError) as exc:
        raise ValueError(f"{path}: cannot read the first line as CSV ({exc}); expected the "
                         f"{what} (plain .csv, .csv.gz, .csv.bz2 or .csv.zip)") from None
    fields = [str(v) for v in line.iloc[0].tolist()]
    header = None if _is_integer_text(fields[0]) else [f.strip().lower() for f in fields]
    return len(fields), header


def _resolve_columns(path: Path, columns, num_fields: int, header, what: str, flag: str,
                     notes: List[str]) -> "OrderedDict[str, int]":
    positions = OrderedDict()
    for role, spec in columns.items():
        if isinstance(spec, str):
            if header is None:
                raise ValueError(f"{path}: {role}={spec!r} names a column, but the file has no "
                                 f"header row (its first field is a unit id); give 0-based "
                                 f"positions with {flag}")
            if spec.lower() not in header:
                raise ValueError(f"{path}: no column named {spec!r} (for {role}) in the header "
                                 f"{header}; fix {flag}")
            positions[role] = header.index(spec.lower())
        else:
            positions[role] = int(spec)
    need = max(positions.values()) + 1
    if num_fields < need:
        raise ValueError(
            f"{path}: the first line has {num_fields} columns, but the {what} layout "
            f"{_format_columns(positions)} needs at least {need}; is this the right table? "
            f"(give the column positions with {flag})")
    if header is not None:
        for role, pos in positions.items():
            known = _KNOWN_NAMES.get(role)
            if known and header[pos] not in known:
                notes.append(f"{path.name}: the header names column {pos} {header[pos]!r}, used "
                             f"as {role}; check {flag} against the release's documentation")
    return positions


def _scan(paths: Sequence[Path], columns, what: str, flag: str, numeric_roles: Sequence[str],
          start: pd.Timestamp, end: pd.Timestamp, chunk_rows: int, counts: "OrderedDict",
          examples: Examples, notes: List[str], consume) -> Dict[str, Dict[str, object]]:
    """Stream each file, parse and filter rows (counting each dropped row once in ``counts``),
    hand each chunk's clean rows (a dict role -> array; ``dtime`` datetime64) to ``consume``.
    Returns, per file, role -> the column used."""
    used_columns = OrderedDict()
    for path in paths:
        _check_file(path, what)
        num_fields, header = _sniff(path, what)
        positions = _resolve_columns(path, columns, num_fields, header, what, flag, notes)
        used_columns[str(path)] = OrderedDict(
            (role, pos if header is None else f"{pos} ({header[pos]})")
            for role, pos in positions.items())
        rows_before = counts["read"]
        first_chunk = True
        try:
            # a header is the file's first line, as pandas' skiprows=1 skips it
            for block in _blocks(path, what, records=chunk_rows,
                                 skip_first=header is not None):
                chunk = _read_block(path, block, num_fields, what, counts, examples)
                if len(chunk) == 0:
                    continue
                _process_chunk(path, chunk, positions, numeric_roles, start, end, counts,
                               examples, consume, first_chunk)
                first_chunk = False
        except (UnicodeDecodeError, pd.errors.ParserError) as exc:
            raise ValueError(f"{path}: unreadable after {counts['read'] - rows_before} "
                             f"rows ({exc})") from None
        if counts["read"] == rows_before:
            raise ValueError(f"{path} has a header but no data rows; expected the {what}")
    return used_columns


def _read_block(path: Path, block: csv_reader.Block, num_fields: int, what: str,
                counts: "OrderedDict", examples: Examples) -> pd.DataFrame:
    """A block's rows as text columns (a missing field is NaN).  A row with a non-empty field
    beyond the first line's ``num_fields`` is dropped and counted (wrong_field_count)."""
    data = block.data
    ends = csv_reader.record_ends(data, quoting=True)
    starts = np.r_[0, ends[:-1]]
    widths = _field_counts(data, starts, ends)
    wide = [i for i in np.flatnonzero(widths > num_fields)
            if any(_fields(data[starts[i]:ends[i]])[num_fields:])]
    if wide:
        counts["read"] += len(wide)
        counts["wrong_field_count"] += len(wide)
        unit = _fields(data[starts[wide[0]]:ends[wide[0]]])[0]
        examples.add(f"{what}: wrong_field_count",
                     f"{path.name}: a row with more than {num_fields} fields "
                     f"(unit_id {unit if unit else np.nan!r})")
        keep = np.ones(len(ends), bool)
        keep[wide] = False
        data = b"".join(data[a:b] for a, b in zip(starts[keep], ends[keep]))
        widths = widths[keep]
    rows = int(np.count_nonzero(widths))
    if rows == 0:
        return pd.DataFrame()
    frame = pd.read_csv(io.BytesIO(data), header=None,
                        names=list(range(max(num_fields, int(widths.max())))), dtype=str,
                        keep_default_na=False, na_values=[""], skip_blank_lines=True,
                        index_col=False, engine="c")
    if len(frame) != rows:
        raise ValueError(f"{path}: lines {block.line}..: read {len(frame)} rows from {rows} CSV "
                         "records; the quoting of these lines is unusual (a stray '\"' inside "
                         "an unquoted field?); fix them")
    return frame


def _field_counts(data: bytes, starts: np.ndarray, ends: np.ndarray) -> np.ndarray:
    """Fields per record, 0 for a blank one."""
    blank = csv_reader.blank_records(data, ends)
    if data.find(b'"') < 0:
        commas = np.r_[0, np.cumsum(np.frombuffer(data, np.uint8) == 44)]
        counts = commas[ends] - commas[starts] + 1
    else:  # quoted fields may hold commas: parse each record
        counts = np.array([len(_fields(data[a:b])) for a, b in zip(starts, ends)], np.int64)
    counts[blank] = 0
    return counts


def _fields(record: bytes) -> List[str]:
    """The fields of one record (undecodable bytes replaced: only their count and emptiness
    matter here)."""
    text = record.decode("utf-8", "replace")
    return next(csv.reader(io.StringIO(text, newline="")), [])


def _process_chunk(path, chunk, positions, numeric_roles, start, end, counts, examples, consume,
                   first_chunk):
    n = len(chunk)
    counts["read"] += n
    data = {role: chunk[pos] for role, pos in positions.items()}
    numbers = {role: pd.to_numeric(data[role], errors="coerce").to_numpy(np.float64)
               for role in ["unit_id", *numeric_roles]}
    bad = np.zeros(n, bool)
    for values in numbers.values():
        bad |= ~np.isfinite(values)
    unit = numbers["unit_id"]
    bad |= np.isfinite(unit) & (unit != np.floor(unit))
    if bad.any():
        counts["unparsable_field"] += int(bad.sum())
        i = int(np.flatnonzero(bad)[0])
        examples.add("unparsable_field", f"{path.name}: " + ",".join(
            f"{role}={data[role].iloc[i]!r}" for role in ["unit_id", *numeric_roles]))
    text_time = data["dtime"]
    # utc=True: time-zone-aware stamps become UTC (pandas 3 refuses mixed offsets without it),
    # naive ones are kept as they are
    times = pd.to_datetime(text_time, format="ISO8601", errors="coerce", utc=True)
    times = times.dt.tz_localize(None).to_numpy("datetime64[us]")
    # pandas 2 parses into nanoseconds, where a date outside 1677..2262 is NaT; pandas 3 parses
    # into microseconds and keeps it: unparsable on both
    times = np.where((times >= _NS_DATES[0]) & (times <= _NS_DATES[1]), times,
                     np.datetime64("NaT", "us"))
    no_time = np.isnat(times)
    if first_chunk and no_time.all():
        sample = text_time.dropna().head(3).tolist()
        raise ValueError(f"{path}: none of the first {n} timestamps parses (e.g. {sample}); "
                         f"the column at position {positions['dtime']} must hold "
                         "'YYYY-MM-DD HH:MM:SS'; check the column positions")
    bad_time = no_time & ~bad
    if bad_time.any():
        counts["unparsable_timestamp"] += int(bad_time.sum())
        examples.add("unparsable_timestamp",
                     f"{path.name}: {text_time.iloc[int(np.flatnonzero(bad_time)[0])]!r}")
    bad |= no_time
    outside = ~bad & ((times < start.to_datetime64()) | (times >= end.to_datetime64()))
    counts["outside_window"] += int(outside.sum())
    bad |= outside
    negative = np.zeros(n, bool)
    for role in numeric_roles:
        negative |= numbers[role] < 0
    negative &= ~bad
    if negative.any():
        counts["negative_count"] += int(negative.sum())
        i = int(np.flatnonzero(negative)[0])
        examples.add("negative_count", f"{path.name}: " + ",".join(
            f"{role}={data[role].iloc[i]}" for role in numeric_roles))
    bad |= negative
    if "successes" in numeric_roles:
        zero = ~bad & (numbers["successes"] + numbers["failures"] == 0)
        counts["zero_packets"] += int(zero.sum())
        bad |= zero
    keep = ~bad
    counts["used"] += int(keep.sum())
    if not keep.any():
        return
    clean = {role: values[keep] for role, values in numbers.items()}
    clean["unit_id"] = clean["unit_id"].astype(np.int64)
    clean["dtime"] = times[keep]
    if "target" in data:
        clean["target"] = data["target"].to_numpy(object)[keep]
    consume(clean)


def _new_counts() -> "OrderedDict[str, int]":
    return OrderedDict([("read", 0), *((r, 0) for r in ROW_DROP_REASONS), ("used", 0)])


def read_loss_table(paths, start, end, *, columns: Columns = None,
                    chunk_rows: int = DEFAULT_CHUNK_ROWS, notes: Optional[List[str]] = None
                    ) -> Tuple[pd.DataFrame, dict]:
    """Stream the UDP latency/loss table(s) -> (:func:`hourly_loss` of the rows inside
    ``[start, end)``, info: row counts per drop reason, examples, columns used)."""
    start, end = _timestamp(start, "start"), _timestamp(end, "end")

    def sums(clean):
        hour = (clean["dtime"] - start.to_datetime64()) // np.timedelta64(1, "h")
        return _loss_sums(clean["unit_id"], hour, clean["target"], clean["successes"],
                          clean["failures"])

    total, info = _read_table(paths, "loss", "UDP latency/loss table", DEFAULT_LOSS_COLUMNS,
                              ("successes", "failures"), start, end, columns, chunk_rows, notes,
                              sums)
    return _hourly_from_sums(total), info


def read_usage_table(paths, start, end, window_hours: int, *, columns: Columns = None,
                     chunk_rows: int = DEFAULT_CHUNK_ROWS, notes: Optional[List[str]] = None
                     ) -> Tuple[pd.DataFrame, dict]:
    """Stream the traffic byte-counter table(s) -> (:func:`window_traffic` of the rows inside
    ``[start, end)``, info as in :func:`read_loss_table`)."""
    start, end = _timestamp(start, "start"), _timestamp(end, "end")
    _check_window_hours(window_hours)

    def sums(clean):
        window = ((clean["dtime"] - start.to_datetime64())
                  // np.timedelta64(int(window_hours), "h"))
        return _traffic_sums(clean["unit_id"], window, clean["bytes_sent"],
                             clean["bytes_received"])

    total, info = _read_table(paths, "usage", "traffic byte-counter table",
                              DEFAULT_USAGE_COLUMNS, ("bytes_sent", "bytes_received"), start,
                              end, columns, chunk_rows, notes, sums)
    return _traffic_from_sums(total), info


def _read_table(paths, kind: str, what: str, defaults, numeric_roles: Sequence[str],
                start: pd.Timestamp, end: pd.Timestamp, columns: Columns, chunk_rows: int,
                notes: Optional[List[str]], sums_of: Callable[[dict], pd.DataFrame]
                ) -> Tuple[pd.DataFrame, dict]:
    """Stream one table (``kind`` "loss" or "usage"): the per-key sums ``sums_of`` makes of
    each chunk's clean rows, added up; and the info (row counts, examples, columns used)."""
    columns = parse_columns(columns, defaults, kind)
    counts, examples = _new_counts(), Examples()
    notes = notes if notes is not None else []
    parts: List[pd.DataFrame] = []
    size = 0

    def consume(clean):
        nonlocal parts, size
        parts.append(sums_of(clean))
        size += len(parts[-1])
        if size > _COMPACT_ROWS and len(parts) > 1:  # memory grows with the keys, not the rows
            parts = [_combine_sums(parts)]
            size = len(parts[0])

    paths = arguments.paths(paths, f"{kind} table")
    used = _scan(paths, columns, what, f"--{kind}_columns", numeric_roles, start, end,
                 chunk_rows, counts, examples, notes, consume)
    _check_used(paths, counts, start, end, kind)
    return _combine_sums(parts), {"rows": dict(counts), "examples": examples.items,
                                  "columns": used}


def _check_used(paths, counts, start, end, what):
    if counts["used"] == 0:
        dropped = {k: v for k, v in counts.items() if k not in ("read", "used") and v}
        raise ValueError(
            f"no usable {what} rows in {[str(p) for p in paths]} between {start} and {end} "
            f"({counts['read']} rows read, dropped: {dropped}); check --start/--end against the "
            "release's month and the column positions")


# --- the conversion -------------------------------------------------------------------------------

def _check_window_hours(window_hours) -> None:
    arguments.positive_int(window_hours, "window_hours")


def num_windows(start, end, window_hours: int) -> int:
    """The number of windows in ``[start, end)``; raises unless it is a positive whole number."""
    start, end = _timestamp(start, "start"), _timestamp(end, "end")
    _check_window_hours(window_hours)
    if end <= start:
        raise ValueError(f"end ({end}) must be after start ({start})")
    span = end - start
    width = pd.Timedelta(hours=int(window_hours))
    if span % width != pd.Timedelta(0):
        raise ValueError(f"[start, end) = {span} is not a whole number of {window_hours}-hour "
                         "windows; adjust --start/--end or --window_hours")
    return int(span // width)


def attribute_outputs(profiles: pd.DataFrame) -> List[Output]:
    """One-hot specs of ``isp``, ``technology``, ``state`` over the sorted distinct values of
    the (normalised) profile, units marked REMOVE excluded."""
    usable = profiles[profiles["technology"] != REMOVED_TECHNOLOGY]
    outputs = []
    for name in ATTRIBUTE_NAMES:
        categories = tuple(sorted(usable[name].unique().tolist()))
        outputs.append(Output(OutputType.DISCRETE, len(categories), name=name,
                              categories=categories))
    return outputs


def feature_outputs() -> List[Output]:
    return [Output(OutputType.CONTINUOUS, 1, Normalization.ZERO_ONE, name=n)
            for n in FEATURE_NAMES]


def convert(loss_path, usage_path, profile_path, *, start="2017-10-01", end="2017-10-15",
            window_hours: int = 6, num_samples: int = 600, seed: int = 0,
            usage_columns: Columns = None, loss_columns: Columns = None,
            chunk_rows: int = DEFAULT_CHUNK_ROWS) -> Conversion:
    """Convert the raw MBA tables (see the module docstring) -> a
    :class:`~data_prep.conversion.Conversion`: ``datasets`` ``{"train": Dataset}``, the report,
    and ``samples`` naming the unit of each sample (``split``, ``sample``, ``unit_id``).

    ``loss_path`` / ``usage_path``: one path, a comma-separated string or a list (e.g. two
    months' files when the window spans both).  ``usage_columns`` / ``loss_columns``: role ->
    0-based position or header name, as ``"unit_id=0,dtime=1,bytes_sent=3,bytes_received=2"``
    or a dict, merged over the defaults.  Raises ``ValueError`` for unusable inputs (missing or
    empty files, too few columns, no parsable timestamps, no rows in the window, no unit kept)
    or bad arguments.
    """
    windows = num_windows(start, end, window_hours)
    start_ts, end_ts = _timestamp(start, "start"), _timestamp(end, "end")
    arguments.positive_int(num_samples, "num_samples")
    arguments.positive_int(chunk_rows, "chunk_rows")
    arguments.seed(seed)
    usage_spec = parse_columns(usage_columns, DEFAULT_USAGE_COLUMNS, "usage")
    loss_spec = parse_columns(loss_columns, DEFAULT_LOSS_COLUMNS, "loss")

    report = Report("mba")
    for reason in UNIT_DROP_REASONS + (NOT_SAMPLED,):
        report.drop(reason, 0)
    notes: List[str] = []
    report.note("sources", {"loss": [str(p) for p in arguments.paths(loss_path, "loss table")],
                            "usage": [str(p) for p in arguments.paths(usage_path,
                                                                      "usage table")],
                            "profiles": str(profile_path)})
    report.note("settings", {"start": str(start_ts), "end": str(end_ts),
                             "window_hours": int(window_hours), "num_windows": windows,
                             "num_samples": int(num_samples), "seed": int(seed),
                             "usage_columns": dict(usage_spec), "loss_columns": dict(loss_spec)})

    profiles = load_unit_profiles(profile_path)
    a_outs = attribute_outputs(profiles)
    report.note("profile", {
        **profiles.attrs, "units": int(len(profiles)),
        "removed": int((profiles["technology"] == REMOVED_TECHNOLOGY).sum()),
        "categories": {o.name: list(o.categories) for o in a_outs}})

    hourly, loss_info = read_loss_table(loss_path, start_ts, end_ts, columns=loss_spec,
                                        chunk_rows=chunk_rows, notes=notes)
    traffic, usage_info = read_usage_table(usage_path, start_ts, end_ts, window_hours,
                                           columns=usage_spec, chunk_rows=chunk_rows,
                                           notes=notes)
    report.note("rows", {"loss": loss_info["rows"], "usage": usage_info["rows"]})
    report.note("columns_used", {"loss": loss_info["columns"], "usage": usage_info["columns"]})
    report.note("examples", {"loss": loss_info["examples"], "usage": usage_info["examples"]})

    loss_w = window_loss(hourly, window_hours)
    candidates = np.union1d(loss_w["unit_id"].unique(), traffic["unit_id"].unique())
    report.note("units_seen", int(len(candidates)))
    kept = _select_units(candidates, profiles, loss_w, traffic, windows, report)
    if len(kept) == 0:
        raise ValueError(f"no unit passed the filters ({len(candidates)} units seen, dropped: "
                         f"{report.nonzero_drops()}); check the inputs and the window")
    report.note("units_complete", int(len(kept)))
    chosen = np.sort(kept[assemble.uniform_sample(len(kept), num_samples, seed)])
    shortfall = assemble.shortfall_note(len(kept), num_samples, "units")
    if shortfall:
        notes.append(shortfall)
    report.drop(NOT_SAMPLED, len(kept) - len(chosen))

    dataset, scaling = _build_dataset(chosen, profiles, loss_w, traffic, windows, a_outs)
    report.kept = int(len(chosen))
    report.note("scaling", scaling)
    attrs = dataset.attribute_values()
    report.note("categories", {name: {str(k): int(v) for k, v in
                                      attrs[name].value_counts().sort_index().items()}
                               for name in ATTRIBUTE_NAMES})
    report.note("feature_names", list(FEATURE_NAMES))
    report.note("attribute_names", list(ATTRIBUTE_NAMES))
    report.note("unit_ids", [int(u) for u in chosen])
    report.note("notes", notes)
    samples = pd.DataFrame({"split": "train", "sample": np.arange(len(chosen)),
                            "unit_id": chosen})
    return Conversion({"train": dataset}, report, samples)


def _select_units(candidates: np.ndarray, profiles: pd.DataFrame, loss_w: pd.DataFrame,
                  traffic: pd.DataFrame, windows: int, report: Report) -> np.ndarray:
    """Apply the unit filters in order (each dropped unit counted once); -> kept unit ids."""
    technology = profiles.set_index("unit_id")["technology"]
    has_profile = np.isin(candidates, technology.index.to_numpy())
    report.drop("no_profile", int((~has_profile).sum()))
    remaining = candidates[has_profile]
    removed = technology.reindex(remaining).to_numpy() == REMOVED_TECHNOLOGY
    report.drop("profile_removed", int(removed.sum()))
    remaining = remaining[~removed]
    full_loss = np.isin(remaining, complete_units(loss_w, windows))
    report.drop("missing_windows_loss", int((~full_loss).sum()))
    remaining = remaining[full_loss]
    full_traffic = np.isin(remaining, complete_units(traffic, windows))
    report.drop("missing_windows_traffic", int((~full_traffic).sum()))
    return remaining[full_traffic]


def _pivot(frame: pd.DataFrame, column: str, units: np.ndarray, windows: int) -> np.ndarray:
    inside = frame[np.isin(frame["unit_id"].to_numpy(), units)
                   & (frame["window"] >= 0) & (frame["window"] < windows)]
    table = inside.pivot(index="unit_id", columns="window", values=column)
    table = table.reindex(index=units, columns=range(windows))
    values = table.to_numpy(np.float64)
    if np.isnan(values).any():  # cannot happen after the filters
        raise AssertionError(f"missing {column} values for kept units")
    return values


def _build_dataset(units: np.ndarray, profiles: pd.DataFrame, loss_w: pd.DataFrame,
                   traffic: pd.DataFrame, windows: int, a_outs: List[Output]
                   ) -> Tuple[Dataset, dict]:
    traffic_values = _pivot(traffic, "traffic_bytes", units, windows)
    loss_values = _pivot(loss_w, "loss_rate", units, windows)
    features = np.stack([traffic_values, loss_values], axis=-1)
    low, high = float(traffic_values.min()), float(traffic_values.max())
    scaling_note = None
    if high <= low:  # a constant traffic feature: scale by [0, max] (or [0, 1])
        low, high = 0.0, max(high, 1.0)
        scaling_note = "traffic is constant over the kept units; scaled by [0, max]"
    attributes = (profiles.set_index("unit_id").reindex(units)[list(ATTRIBUTE_NAMES)]
                  .reset_index(drop=True))
    dataset = assemble.build(len(units), windows, lambda *_: (features, attributes),
                             feature_outputs=feature_outputs(), attribute_outputs=a_outs,
                             feature_min=[low, 0.0], feature_max=[high, 1.0], block_rows=None)
    scaling = {"normalization": Normalization.ZERO_ONE.value,
               "traffic_bytes": {"min": low, "max": high, "units": "bytes per window",
                                 "computed_on": "the sampled units"},
               "loss_rate": {"min": 0.0, "max": 1.0, "units": "fraction of packets lost",
                             "computed_on": "fixed range"}}
    if scaling_note:
        scaling["note"] = scaling_note
    return dataset, scaling


# --- command line ---------------------------------------------------------------------------------

@cli.define_once
def define_flags() -> None:
    """Define this script's absl flags (not at import: converters share one flag registry)."""
    flags.DEFINE_list("loss_input", None, "UDP latency/loss table(s): curr_udplatency.csv "
                                          "(curr_ping.csv); comma-separated for several files.")
    flags.DEFINE_list("usage_input", None, "Traffic byte-counter table(s): curr_netusage.csv / "
                                           "curr_datausage.csv; comma-separated for several.")
    flags.DEFINE_string("profiles", None, "Unit profile CSV (e.g. unit-profile-sept2017.csv).")
    cli.define_common_flags(outputs="train/ and report.json", noun="Units", num_samples=600,
                            seed="Seed of the uniform sampling of units.", splits="train")
    flags.DEFINE_string("start", "2017-10-01", "Start of the window (inclusive), in the raw "
                                               "tables' clock.")
    flags.DEFINE_string("end", "2017-10-15", "End of the window (exclusive).")
    flags.DEFINE_integer("window_hours", 6, "Hours per time step.")
    flags.DEFINE_string("usage_columns", None,
                        "Usage table layout as role=position (0-based) or role=header_name, "
                        "e.g. 'unit_id=0,dtime=1,bytes_sent=3,bytes_received=2'; roles not "
                        "given keep the default "
                        f"'{_format_columns(DEFAULT_USAGE_COLUMNS)}' (curr_netusage).")
    flags.DEFINE_string("loss_columns", None,
                        "Loss table layout, as --usage_columns; default "
                        f"'{_format_columns(DEFAULT_LOSS_COLUMNS)}'.")
    flags.mark_flags_as_required(["loss_input", "usage_input", "profiles", "output"])


def _convert_flags(values) -> Conversion:
    return convert(values.loss_input, values.usage_input, values.profiles, start=values.start,
                   end=values.end, window_hours=values.window_hours,
                   num_samples=values.num_samples, seed=values.seed,
                   usage_columns=values.usage_columns, loss_columns=values.loss_columns)


def _summary(conversion: Conversion) -> str:
    facts, train = conversion.report.facts, conversion.datasets["train"]
    return (f"units seen {facts['units_seen']}, complete {facts['units_complete']}, kept "
            f"{conversion.report.kept} (N={len(train)}, T={train.max_length})")


if __name__ == "__main__":
    cli.run("data_prep.mba", define_flags, _convert_flags, _summary)
