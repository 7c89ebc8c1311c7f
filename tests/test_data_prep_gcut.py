"""data_prep.gcut: Google cluster-data 2011-2 task_events + task_usage -> canonical GCUT dataset.

The task_usage fixtures follow the documented 20-column schema (no real task_usage file is
available) and use REAL (job ID, task index) pairs and end-event times from the real task_events
part, so both tables are exercised together.
"""
import gzip
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from data_prep import gcut
from doppelganger_tf.dataset import Dataset

from conftest import assert_trains_a_few_steps

REPO_ROOT = Path(__file__).resolve().parents[1]
REAL_PART = "raw_formats/gcut/task_events-part-00001-of-00500.csv.gz"
WINDOW = 300 * 1_000_000  # one 5-minute measurement window, in microseconds

# The schema, written out here independently of the module: feature -> task_usage column
# (0-based), in the paper's Table 6 order.
TABLE6 = [("cpu_rate", 5), ("maximum_cpu_rate", 13), ("sampled_cpu_usage", 19),
          ("canonical_memory_usage", 6), ("assigned_memory_usage", 7),
          ("maximum_memory_usage", 10), ("unmapped_page_cache", 8), ("total_page_cache", 9),
          ("local_disk_space", 12)]
TERMINAL = {2: "EVICT", 3: "FAIL", 4: "FINISH", 5: "KILL"}


# --- writing fixture parts -----------------------------------------------------------------------

def _values(task_seed, record):
    """9 distinct, recognisable values per record (feature j in the hundredths j+1)."""
    return [0.01 * (j + 1) + 0.0001 * record + 1e-6 * task_seed for j in range(9)]


def usage_line(start, end, job, task, values, machine=4155527081):
    fields = [""] * 20
    fields[0], fields[1], fields[2], fields[3], fields[4] = (str(start), str(end), str(job),
                                                              str(task), str(machine))
    for (_, column), value in zip(TABLE6, values):
        fields[column] = "" if value is None else repr(float(value))
    fields[11], fields[14], fields[15], fields[16], fields[17], fields[18] = (
        "2.861e-06", "0.0003567", "2.445", "0.007243", "0", "1")
    return ",".join(fields) + "\n"


def event_line(time, job, task, etype, machine="38676295"):
    return (f"{time},,{job},{task},{machine},{etype},"
            "fJYeclskJqPWsAT6TX/r9X5OiIZpSEb2PBGliYAOMxM=,0,2,0.02499,0.07959,0.0003862,1\n")


def write_gz(path, lines):
    path.parent.mkdir(parents=True, exist_ok=True)
    with gzip.open(path, "wt") as f:
        f.writelines(lines)
    return path


def records(job, task, end_time, n, seed, last_end_offset=0, gap_at=None):
    """n touching records whose last one ends at end_time + last_end_offset (microseconds)."""
    last_end = end_time + last_end_offset
    out = []
    for r in range(n):
        start = last_end - (n - r) * WINDOW
        end = start + WINDOW
        if gap_at is not None and r >= gap_at:
            start += 1_000_000  # one second gap before record gap_at
        out.append((start, end, job, task, _values(seed, r)))
    return out


def _lines(recs):
    return [usage_line(*rec) for rec in recs]


# --- the real part and the fixture built on it ---------------------------------------------------

def _real_end_events(path):
    """Direct pandas computation on the real part: last terminal event per task."""
    df = pd.read_csv(path, header=None)
    terminal = df[df[5].isin(list(TERMINAL))]
    last = terminal.sort_values(0, kind="stable").groupby([2, 3]).tail(1)
    return df, last.set_index([2, 3])[[0, 5]].sort_index()


@pytest.fixture(scope="module")
def real(request):
    from conftest import SHARED_DATA
    if not SHARED_DATA.is_dir():
        pytest.skip(f"real data folder {SHARED_DATA} is absent (set DGTF_SHARED_DATA)")
    path = SHARED_DATA / REAL_PART
    df, last = _real_end_events(path)
    return {"path": path, "df": df, "last": last}


def _pick(last, etype, k, skip=0, multi=None):
    """k real tasks whose last terminal event is etype (optionally with several terminal
    events), in (job, task) order."""
    rows = last[last[5] == etype]
    if multi is not None:
        rows = rows[rows.index.isin(multi)]
    picked = rows.iloc[skip:skip + k]
    return [(int(j), int(t), int(time)) for (j, t), time in zip(picked.index, picked[0])]


@pytest.fixture(scope="module")
def fixture(real, tmp_path_factory):
    """Two task_usage parts for real tasks; returns paths and what each task should become."""
    root = tmp_path_factory.mktemp("gcut")
    df, last = real["df"], real["last"]
    terminal = df[df[5].isin(list(TERMINAL))]
    several = terminal.groupby([2, 3]).size()
    several = several[several > 1].index
    finish = _pick(last, 4, 6)
    a, b, c, f = finish[0], finish[1], finish[2], finish[3]
    e = _pick(last, 4, 1, multi=several)[0]          # e.g. EVICT then FINISH: FINISH wins
    h = _pick(last, 5, 1)[0]                          # KILL, records shuffled
    g = _pick(last, 5, 1, skip=1)[0]                  # KILL, a missing value
    k1 = _pick(last, 3, 1)[0]                         # FAIL, one record
    k2 = _pick(last, 2, 1)[0]                         # EVICT, last end 60 s after the event
    no_end = df[~df.set_index([2, 3]).index.isin(last.index)].iloc[0]
    no_end = (int(no_end[2]), int(no_end[3]))

    recs = {
        "A": records(a[0], a[1], a[2], 4, 1),
        "B": records(b[0], b[1], b[2], 4, 2, gap_at=2),
        "C": records(c[0], c[1], c[2], 4, 3, last_end_offset=-3600 * 1_000_000),
        "F": records(f[0], f[1], f[2], 12, 4),
        "E": records(e[0], e[1], e[2], 6, 5),
        "H": records(h[0], h[1], h[2], 5, 6),
        "G": records(g[0], g[1], g[2], 3, 7),
        "K1": records(k1[0], k1[1], k1[2], 1, 8),
        "K2": records(k2[0], k2[1], k2[2], 3, 9, last_end_offset=60 * 1_000_000),
        "I": records(no_end[0], no_end[1], 10 ** 10, 2, 10),
        "J": records(1, 0, 10 ** 10, 2, 11),             # a task absent from task_events
    }
    recs["G"][1][4][3] = None                            # an empty canonical memory field
    shuffled = [recs["H"][i] for i in (3, 0, 4, 2, 1)]
    part0 = (recs["A"] + recs["B"] + recs["C"] + recs["F"] + recs["E"][:3] + shuffled
             + recs["G"] + recs["K1"] + recs["K2"] + recs["I"] + recs["J"][:1])
    part1 = recs["E"][3:] + recs["J"][1:]
    usage = root / "task_usage"
    write_gz(usage / "part-00000-of-00500.csv.gz", _lines(part0))
    write_gz(usage / "part-00001-of-00500.csv.gz", _lines(part1))
    ids = {"A": a, "B": b, "C": c, "F": f, "E": e, "H": h, "G": g, "K1": k1, "K2": k2}
    # the real task_events rows of these tasks only (for the runs with tiny blocks)
    chosen = set(v[:2] for v in ids.values()) | {no_end}
    rows = [key in chosen for key in zip(df[2], df[3])]
    with gzip.open(real["path"], "rt") as f:
        real_lines = f.readlines()
    small_events = write_gz(root / "task_events_subset" / "part-00001-of-00500.csv.gz",
                            [line for line, keep in zip(real_lines, rows) if keep])
    return {"usage": usage, "events": real["path"], "small_events": small_events,
            "records": recs,
            "ids": {k: v[:2] for k, v in ids.items()},
            "kept": {"A": ("FINISH", 4), "E": ("FINISH", 6), "H": ("KILL", 5),
                     "K1": ("FAIL", 1), "K2": ("EVICT", 3)},
            "candidates": len(last), "no_end": int(df.groupby([2, 3]).ngroups - len(last))}


def _by_task(tasks):
    return {(int(r.job_id), int(r.task_index)): i for i, r in enumerate(tasks.itertuples())}


# --- pass 1 on the real part ----------------------------------------------------------------------

def test_read_end_events_matches_pandas(real):
    frame = gcut.read_end_events(real["path"])
    df, last = real["df"], real["last"]
    assert len(frame) == df.groupby([2, 3]).ngroups == 25006
    assert frame.attrs["rows"] == len(df) and frame.attrs["parts"] == 1
    counts = frame["end_event"].value_counts().to_dict()
    expected = {TERMINAL[t]: int(n) for t, n in last[5].value_counts().items()}
    assert counts == expected == {"FINISH": 14512, "KILL": 3030, "EVICT": 2308, "FAIL": 209}
    assert int(frame["end_event"].isna().sum()) == 25006 - len(last) == 4947
    # same task, same type and time as the direct computation
    kept = frame.dropna(subset=["end_event"]).set_index(["job_id", "task_index"])
    assert (kept.index == last.index).all()
    assert (kept["end_time"].to_numpy(np.int64) == last[0].to_numpy()).all()
    assert (kept["end_event"].astype(str).to_numpy()
            == last[5].map(TERMINAL).to_numpy()).all()
    assert frame["end_time"].isna().sum() == 4947


def test_last_terminal_event_and_ties(tmp_path):
    lines = [event_line(100, 7, 0, 2), event_line(200, 7, 0, 4),   # EVICT then FINISH
             event_line(300, 7, 0, 1),                              # SCHEDULE: not terminal
             event_line(100, 7, 1, 3), event_line(100, 7, 1, 5),   # tie: the later row wins
             event_line(50, 7, 2, 0), event_line(60, 7, 2, 6)]     # SUBMIT, LOST: no end
    write_gz(tmp_path / "part-00000-of-00500.csv.gz", lines[:4])
    write_gz(tmp_path / "part-00001-of-00500.csv.gz", lines[4:])
    frame = gcut.read_end_events(tmp_path).set_index("task_index")
    assert frame.loc[0, "end_event"] == "FINISH" and frame.loc[0, "end_time"] == 200
    assert frame.loc[1, "end_event"] == "KILL"
    assert pd.isna(frame.loc[2, "end_event"]) and pd.isna(frame.loc[2, "end_time"])


# --- conversion on the real ids -------------------------------------------------------------------

def _convert(fixture, events="events", **kwargs):
    kwargs.setdefault("max_length", 10)
    return gcut.convert(fixture[events], fixture["usage"], **kwargs)


TASK_COLUMNS = ["split", "sample", "job_id", "task_index", "end_event", "length"]


def test_convert_filters_and_values(fixture):
    conversion = _convert(fixture, sample_len=4)
    datasets, report, tasks = conversion.datasets, conversion.report, conversion.samples
    assert list(datasets) == ["train"]
    train = datasets["train"]
    assert list(tasks.columns) == TASK_COLUMNS and conversion.samples_file == "tasks.csv"
    assert tasks["sample"].tolist() == list(range(len(train)))
    assert conversion.sizes() == "train 5"
    assert conversion.by_split("length") == {"train": train.lengths.tolist()}
    dropped = report.dropped
    assert dropped["no_end_event"] == fixture["no_end"] == 4947
    assert dropped["discontinuous_usage"] == 1
    assert dropped["end_time_mismatch"] == 1
    assert dropped["missing_usage_values"] == 1
    assert dropped["longer_than_max_length"] == 1
    assert dropped["no_usage_records"] == fixture["candidates"] - 9
    assert dropped["not_sampled"] == 0
    assert report.kept == train.num_samples == 5
    facts = report.to_dict()
    assert facts["task_usage"]["rows_of_tasks_without_end_event"] == 2
    assert facts["task_usage"]["rows_of_tasks_not_in_task_events"] == 2
    assert facts["task_usage"]["parts"] == 2
    assert facts["end_events_sampled"] == {"FAIL": 1, "KILL": 1, "EVICT": 1, "FINISH": 2}
    assert facts["lengths_of_sampled_tasks"]["max"] == 6
    # the cap's effect: 6 tasks passed the other filters, one of them (12 records) is too long
    before = facts["lengths_before_max_length"]
    assert before["count"] == 6 and before["max"] == 12
    assert before["fraction_le_max_length_10"] == pytest.approx(5 / 6)

    # specs as the original GCUT pickles: one DISCRETE(4), nine CONTINUOUS ZERO_ONE dim 1
    assert [o.name for o in train.feature_outputs] == [n for n, _ in TABLE6]
    assert all(o.is_continuous and o.dim == 1 and o.normalization.value == "zero_one"
               for o in train.feature_outputs)
    (attr,) = train.attribute_outputs
    assert attr.dim == 4 and attr.categories == ("FAIL", "KILL", "EVICT", "FINISH")
    assert train.max_length == 12  # max_length=10 rounded up to a multiple of sample_len=4

    where = _by_task(tasks)
    values = train.feature_values()
    labels = train.attribute_values()[gcut.ATTRIBUTE_NAME]
    for name, (event, length) in fixture["kept"].items():
        i = where[fixture["ids"][name]]
        assert labels[i] == event and train.lengths[i] == length == tasks.length[i]
        recs = fixture["records"][name]
        for j, (feature, _) in enumerate(TABLE6):
            got = values[feature][i, :length]
            want = [rec[4][j] for rec in recs]  # records in time order
            np.testing.assert_allclose(got, want, rtol=1e-5, err_msg=f"{name} {feature}")
            assert np.isnan(values[feature][i, length:]).all()
    # records of E were split over the two parts and joined in order (checked above); H's
    # were shuffled, so the converter had to sort them
    assert report.to_dict()["tasks_with_unordered_records"] in (0, 1)


def test_block_size_and_order_do_not_change_the_result(fixture):
    c_big = _convert(fixture, "small_events", sample_len=4)
    c_small = _convert(fixture, "small_events", sample_len=4, block_bytes=300)
    big, report_big, tasks_big = c_big.datasets, c_big.report, c_big.samples
    small, report_small, tasks_small = c_small.datasets, c_small.report, c_small.samples
    # tiny blocks split H's shuffled records over blocks: resolved exactly in pass 3
    assert report_small.to_dict()["tasks_with_unordered_records"] >= 1
    assert report_big.dropped == report_small.dropped
    assert report_big.dropped["no_end_event"] == 1 and report_big.kept == 5
    pd.testing.assert_frame_equal(tasks_big, tasks_small)
    np.testing.assert_array_equal(big["train"].features, small["train"].features)


def test_sampling_is_uniform_seeded_and_counted(fixture):
    report0 = _convert(fixture, num_samples=2, seed=0).report
    tasks0s = _convert(fixture, "small_events", num_samples=2, seed=0).samples
    tasks0b = _convert(fixture, "small_events", num_samples=2, seed=0, block_bytes=500).samples
    assert report0.kept == 2 and report0.dropped["not_sampled"] == 3
    pd.testing.assert_frame_equal(tasks0s, tasks0b)
    seen = set()
    for seed in range(12):
        tasks = _convert(fixture, "small_events", num_samples=2, seed=seed).samples
        seen |= set(_by_task(tasks))
    assert seen == {fixture["ids"][k] for k in fixture["kept"]}


def test_tolerance_and_max_length_choices(fixture):
    # the EVICT task ends 60 s after its event: dropped with a 30 s tolerance
    conversion = _convert(fixture, end_time_tolerance=30)
    report, tasks = conversion.report, conversion.samples
    assert report.dropped["end_time_mismatch"] == 2
    assert fixture["ids"]["K2"] not in _by_task(tasks)
    # the 1-hour mismatch is kept with a 2-hour tolerance
    conversion = _convert(fixture, end_time_tolerance=7200)
    report, tasks = conversion.report, conversion.samples
    assert report.dropped["end_time_mismatch"] == 0
    assert fixture["ids"]["C"] in _by_task(tasks)
    # no cap: the 12-record task is kept and sets T; missing values read as zero
    conversion = _convert(fixture, max_length=None, missing_values="zero")
    datasets, report, tasks = conversion.datasets, conversion.report, conversion.samples
    assert report.dropped["longer_than_max_length"] == 0
    assert report.dropped["missing_usage_values"] == 0
    assert datasets["train"].max_length == 12 and report.kept == 7
    g = _by_task(tasks)[fixture["ids"]["G"]]
    assert datasets["train"].feature_values()["canonical_memory_usage"][g, 1] == 0.0


def test_test_fraction_splits_the_same_sample(fixture):
    reference = _convert(fixture, num_samples=4, seed=3)
    whole, tasks = reference.datasets, reference.samples
    conversion = _convert(fixture, num_samples=4, seed=3, test_fraction=0.5)
    datasets, report, split = conversion.datasets, conversion.report, conversion.samples
    assert list(datasets) == ["train", "test"] and conversion.sizes() == "train 2, test 2"
    assert set(datasets) == {"train", "test"} and report.kept == 4
    assert report.to_dict()["train_size"] == report.to_dict()["test_size"] == 2
    assert set(_by_task(split)) == set(_by_task(tasks))  # the same 4 tasks, split in two
    train, test = datasets["train"], datasets["test"]
    assert train.max_length == test.max_length == whole["train"].max_length
    np.testing.assert_array_equal(train.feature_min, test.feature_min)
    np.testing.assert_array_equal(train.feature_max, whole["train"].feature_max)
    for name, dataset in datasets.items():
        part = split[split.split == name]
        assert part["sample"].tolist() == list(range(len(dataset)))
        assert dataset.lengths.tolist() == part.length.tolist()
        assert conversion.by_split("length")[name] == part.length.tolist()
    with pytest.raises(ValueError, match="cannot be split"):
        _convert(fixture, num_samples=1, test_fraction=0.5)
    with pytest.raises(ValueError, match="test_fraction"):
        _convert(fixture, test_fraction=1.0)


def test_matches_from_arrays_and_collect_usage(fixture):
    conversion = _convert(fixture)
    train, tasks = conversion.datasets["train"], conversion.samples
    usage = gcut.collect_usage(fixture["usage"], tasks[["job_id", "task_index"]])
    e = usage[fixture["ids"]["E"]]
    assert len(e.start) == 6 and (e.end[:-1] == e.start[1:]).all()
    series = [usage[(int(r.job_id), int(r.task_index))].values.astype(np.float64)
              for r in tasks.itertuples()]
    reference = Dataset.from_arrays(series, pd.DataFrame({gcut.ATTRIBUTE_NAME: tasks.end_event}),
                                    feature_outputs=gcut.feature_outputs(),
                                    attribute_outputs=gcut.attribute_outputs())
    t = reference.max_length
    np.testing.assert_allclose(train.features[:, :t], reference.features, atol=1e-6)
    np.testing.assert_array_equal(train.attributes, reference.attributes)
    np.testing.assert_allclose(train.feature_min, reference.feature_min)
    np.testing.assert_allclose(train.feature_max, reference.feature_max)
    # unknown tasks come back empty
    assert len(gcut.collect_usage(fixture["usage"], [(1, 5)])[(1, 5)].start) == 0


# --- against a direct pandas computation on random data ------------------------------------------

def _reference(events, usage, tol_us, max_length):
    """Brute force with pandas: kept tasks (-> length) and drop counts."""
    term = events[events.etype.isin(list(TERMINAL))]
    last = term.groupby(["job", "task"]).tail(1).set_index(["job", "task"])  # rows time-ordered
    all_tasks = set(map(tuple, events[["job", "task"]].drop_duplicates().to_numpy()))
    counts = {"no_end_event": len(all_tasks) - len(last), "no_usage_records": 0,
              "discontinuous_usage": 0, "end_time_mismatch": 0, "missing_usage_values": 0,
              "longer_than_max_length": 0}
    groups = dict(tuple(usage.groupby(["job", "task"])))
    kept = {}
    for key, row in last.iterrows():
        recs = groups.get(key)
        if recs is None:
            counts["no_usage_records"] += 1
            continue
        recs = recs.sort_values(["start", "end"])
        s, e = recs.start.to_numpy(), recs.end.to_numpy()
        if (e[:-1] != s[1:]).any() or (e < s).any():
            counts["discontinuous_usage"] += 1
        elif abs(int(row.time) - int(e[-1])) > tol_us:
            counts["end_time_mismatch"] += 1
        elif recs.v.isna().any():
            counts["missing_usage_values"] += 1
        elif max_length is not None and len(recs) > max_length:
            counts["longer_than_max_length"] += 1
        else:
            kept[key] = len(recs)
    return kept, counts


def test_random_trace_matches_pandas_reference(tmp_path):
    rng = np.random.default_rng(7)
    ev, us = [], []
    for task in range(300):
        job = 1000 + task // 7
        t0 = int(rng.integers(0, 50)) * WINDOW
        n = int(rng.integers(1, 9))
        end = t0 + n * WINDOW
        for etype in rng.choice([0, 1, 7, 8], size=2):
            ev.append((t0 + int(rng.integers(0, WINDOW)), job, task, int(etype)))
        kind = rng.random()
        if kind < 0.8:
            ev.append((end + int(rng.integers(-299, 400)) * 1_000_000, job, task,
                       int(rng.choice(list(TERMINAL)))))
            if rng.random() < 0.2:  # a tie with another terminal event
                ev.append((ev[-1][0], job, task, int(rng.choice(list(TERMINAL)))))
        if rng.random() < 0.9:
            for r in range(n):
                s, e = t0 + r * WINDOW, t0 + (r + 1) * WINDOW
                if rng.random() < 0.05:
                    s += 1_000_000
                if r == n - 1 and rng.random() < 0.05:  # the last record ends before it starts
                    e = s - 1_000_000
                v = float(rng.random())
                if rng.random() < 0.02:
                    v = None
                us.append((s, e, job, task, v))
    events = pd.DataFrame(ev, columns=["time", "job", "task", "etype"])
    events = events.sort_values("time", kind="stable").reset_index(drop=True)
    usage = pd.DataFrame(us, columns=["start", "end", "job", "task", "v"])
    usage = usage.sample(frac=1.0, random_state=3).reset_index(drop=True)  # no time order
    for p, chunk in enumerate(np.array_split(np.arange(len(events)), 3)):
        write_gz(tmp_path / "ev" / f"part-{p:05d}-of-00500.csv.gz",
                 [event_line(*events.loc[i, ["time", "job", "task", "etype"]]) for i in chunk])
    for p, chunk in enumerate(np.array_split(np.arange(len(usage)), 4)):
        lines = []
        for i in chunk:
            s, e, job, task, v = usage.loc[i]
            vals = [None if pd.isna(v) else v + j for j in range(9)]
            lines.append(usage_line(int(s), int(e), int(job), int(task), vals))
        write_gz(tmp_path / "us" / f"part-{p:05d}-of-00500.csv.gz", lines)

    kept, counts = _reference(events, usage, 300 * 1_000_000, 6)
    for block_bytes in (1 << 20, 700):
        conversion = gcut.convert(
            tmp_path / "ev", tmp_path / "us", num_samples=10 ** 6, max_length=6,
            block_bytes=block_bytes)
        datasets, report, tasks = conversion.datasets, conversion.report, conversion.samples
        got = {(int(r.job_id), int(r.task_index)): int(r.length) for r in tasks.itertuples()}
        assert got == kept
        assert {k: report.dropped[k] for k in counts} == counts
        assert report.to_dict()["tasks_with_unordered_records"] > 0  # rows were shuffled
        assert datasets["train"].lengths.tolist() == tasks.length.tolist()


# --- malformed input ------------------------------------------------------------------------------

def test_truncated_gzip_is_an_error_naming_the_file(fixture, tmp_path):
    good = write_gz(tmp_path / "full.csv.gz",
                    _lines(fixture["records"]["A"]) * 3000)
    data = good.read_bytes()
    bad = tmp_path / "usage" / "part-00000-of-00500.csv.gz"
    bad.parent.mkdir()
    bad.write_bytes(data[: len(data) // 2])
    with pytest.raises(ValueError, match=r"part-00000-of-00500\.csv\.gz: truncated or corrupt"):
        gcut.convert(fixture["events"], bad.parent)


def test_empty_parts_are_counted(fixture, tmp_path):
    usage = tmp_path / "usage"
    for p in sorted(fixture["usage"].iterdir()):
        (usage / p.name).parent.mkdir(exist_ok=True)
        (usage / p.name).write_bytes(p.read_bytes())
    write_gz(usage / "part-00002-of-00500.csv.gz", [])          # gzip of nothing
    (usage / "part-00003-of-00500.csv.gz").write_bytes(b"")     # 0 bytes
    conversion = gcut.convert(fixture["events"], usage, max_length=10)
    report = conversion.report
    assert report.kept == 5 and len(conversion.datasets["train"]) == 5
    assert report.to_dict()["task_usage"]["empty_parts"] == [
        "part-00002-of-00500.csv.gz", "part-00003-of-00500.csv.gz"]


def test_wrong_column_count_is_an_error_with_the_line(fixture, tmp_path):
    lines = _lines(fixture["records"]["A"])
    lines[2] = lines[2].rstrip("\n").rsplit(",", 1)[0] + "\n"  # 19 fields
    path = write_gz(tmp_path / "u" / "part-00000-of-00500.csv.gz", lines)
    with pytest.raises(ValueError, match=r"part-00000-of-00500\.csv\.gz: line 3: 19 fields, "
                                         r"expected 20"):
        gcut.convert(fixture["events"], path)
    events = write_gz(tmp_path / "e" / "part-00000-of-00500.csv.gz",
                      [event_line(1, 2, 3, 4), event_line(1, 2, 3, 4).replace(",1\n", ",1,9\n")])
    with pytest.raises(ValueError, match=r"line 2: 14 fields, expected 13"):
        gcut.read_end_events(events)


def test_unknown_event_type_is_an_error_with_the_line(tmp_path):
    path = write_gz(tmp_path / "part-00000-of-00500.csv.gz",
                    [event_line(1, 2, 3, 0), event_line(2, 2, 3, 9)])
    with pytest.raises(ValueError, match=r"part-00000-of-00500\.csv\.gz: line 2: unknown event "
                                         r"type 9"):
        gcut.read_end_events(path)


@pytest.mark.parametrize("column, value, message", [
    (5, "abc", r"line 2: column 6 \(mean_cpu_usage_rate\) holds 'abc'"),
    (9, "inf", r"line 2: column 10 \(total_page_cache\) is inf"),
    (2, "", r"line 2: column 3 \(job_id\) holds '', which is not an integer"),
    (2, "-9999999999999999999", r"line 2: column 3 \(job_id\) holds '-9999999999999999999'"),
    (0, "1.5", r"line 2: column 1 \(start_time\) holds '1.5'"),
])
def test_unparsable_numbers_are_errors_with_the_line(fixture, tmp_path, column, value, message):
    lines = _lines(fixture["records"]["A"])
    fields = lines[1].rstrip("\n").split(",")
    fields[column] = value
    lines[1] = ",".join(fields) + "\n"
    path = write_gz(tmp_path / "part-00000-of-00500.csv.gz", lines)
    with pytest.raises(ValueError, match=message):
        gcut.convert(fixture["events"], path)


def test_bad_arguments_and_paths(fixture, tmp_path):
    with pytest.raises(ValueError, match="num_samples"):
        gcut.convert(fixture["events"], fixture["usage"], num_samples=0)
    with pytest.raises(ValueError, match="end_time_tolerance"):
        gcut.convert(fixture["events"], fixture["usage"], end_time_tolerance=-1)
    with pytest.raises(ValueError, match="no part files"):
        gcut.convert(fixture["events"], tmp_path)
    with pytest.raises(ValueError, match="neither a file"):
        gcut.convert(fixture["events"], tmp_path / "nothing-*.csv.gz")
    parts = gcut.resolve_parts(f"{fixture['usage']}/part-*.csv.gz,{fixture['usage']}")
    assert [p.name for p in parts] == ["part-00000-of-00500.csv.gz",
                                       "part-00001-of-00500.csv.gz"]


def test_module_defines_no_flags_at_import():
    from absl import flags
    assert "task_usage" not in flags.FLAGS and "end_time_tolerance_s" not in flags.FLAGS


# --- the command line and training ---------------------------------------------------------------

def test_cli_writes_a_loadable_dataset(fixture, tmp_path):
    out = tmp_path / "out"
    result = subprocess.run(
        [sys.executable, "-m", "data_prep.gcut", f"--task_events={fixture['events']}",
         f"--task_usage={fixture['usage']}", f"--output={out}", "--max_length=10",
         "--sample_len=5", "--end_time_tolerance_s=300", "--seed=1", "--original_layout",
         "--test_fraction=0.4"],
        cwd=REPO_ROOT, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    report = json.loads((out / "report.json").read_text())
    assert report["dataset"] == "gcut" and report["kept"] == 5
    assert report["dropped"]["longer_than_max_length"] == 1
    train, test = Dataset.load(out / "train"), Dataset.load(out / "test")
    assert train.max_length == test.max_length == 10
    assert (train.num_samples, test.num_samples) == (3, 2)
    tasks = pd.read_csv(out / "tasks.csv")
    assert list(tasks.columns) == TASK_COLUMNS
    assert train.lengths.tolist() == tasks[tasks.split == "train"].length.tolist()
    assert test.lengths.tolist() == tasks[tasks.split == "test"].length.tolist()
    assert sorted(tasks.length) == sorted(length for _, length in fixture["kept"].values())
    original = Dataset.load(out / "original" / "train")
    np.testing.assert_array_equal(original.features, train.features)

    bad = subprocess.run(
        [sys.executable, "-m", "data_prep.gcut", f"--task_events={fixture['events']}",
         f"--task_usage={tmp_path / 'none'}", f"--output={tmp_path / 'x'}"],
        cwd=REPO_ROOT, capture_output=True, text=True, timeout=120)
    assert bad.returncode != 0 and "data_prep.gcut: error" in bad.stderr


def test_converted_dataset_trains(fixture):
    datasets = gcut.convert(fixture["events"], fixture["usage"], max_length=10,
                            sample_len=5).datasets
    assert_trains_a_few_steps(datasets["train"], sample_len=5, use_aux_critic=False,
                              auto_normalize=False)
