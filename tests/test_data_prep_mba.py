"""data_prep.mba: FCC MBA raw tables + unit profile -> the paper's canonical MBA dataset."""
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from data_prep import mba
from doppelganger_tf.dataset import Dataset
from doppelganger_tf.outputs import Normalization

from conftest import assert_trains_a_few_steps

REPO_ROOT = Path(__file__).resolve().parents[1]
PROFILE_2017 = "raw_formats/mba/unit-profile-sept2017.csv"
PROFILE_2014 = "raw_formats/mba/unit-profile-sept2014.csv"

START = pd.Timestamp("2017-10-01")
END = "2017-10-03"  # two days of 6-hour windows -> 8 windows
WINDOWS = 8

# real unit ids of the Sept 2017 profile
HAND = 27620        # Frontier / DSL / IL: hand-computed values below
FILLERS = {797820: 1, 882108: 2, 5571: 3, 1001112: 4, 599718: 5}  # unit -> rng seed
NO_LOSS_WINDOW = 27403    # Frontier DSL OH: no loss row in window 5
NO_TRAFFIC_WINDOW = 942820  # Frontier DSL PA: no traffic row in window 7
NO_PROFILE = 123456789    # not in the profile


def _time(hour, minute=0, second=0):
    return (START + pd.Timedelta(hours=hour, minutes=minute, seconds=second)).strftime(
        "%Y-%m-%d %H:%M:%S")


def _loss_row(unit, time, target, successes, failures, location=True):
    row = f"{unit},{time},{target},21000,19000,45000,3000,{successes},{failures}"
    return row + (",77\n" if location else "\n")


def _usage_row(unit, time, received, sent):
    # curr_netusage layout: unit_id, dtime, wan_rx_bytes, wan_tx_bytes, sk_rx, sk_tx, location
    return f"{unit},{time},{received},{sent},1000,500,77\n"


# HAND's expected per-window values
HAND_LOSS = [0.03] + [w / 100 for w in range(1, WINDOWS)]
HAND_TRAFFIC = [3300.0] + [w * 10 + w * 1000 + 5 for w in range(1, WINDOWS)]


def _hand_rows():
    loss = [
        # window 0, hour 0: min over targets of 0.02 and 0.01 -> 0.01
        _loss_row(HAND, _time(0, 5), "sea.example.net", 98, 2),
        _loss_row(HAND, _time(0, 35), "nyc.example.net", 99, 1),
        # window 0, hour 3: target A 5/100 = 0.05; target B two rows pooled: 20/200 = 0.1
        _loss_row(HAND, _time(3, 1), "sea.example.net", 95, 5),
        _loss_row(HAND, _time(3, 10), "nyc.example.net", 90, 10),
        _loss_row(HAND, _time(3, 40), "nyc.example.net", 90, 10),
        # -> window 0 = mean(0.01, 0.05) = 0.03
    ]
    usage = [_usage_row(HAND, _time(1), 1000, 100), _usage_row(HAND, _time(5, 59, 59), 2000, 200)]
    for w in range(1, WINDOWS):
        loss.append(_loss_row(HAND, _time(6 * w + 2, 30), "sea.example.net", 100 - w, w))
        loss.append(_loss_row(HAND, _time(6 * w + 2, 31), "nyc.example.net", 50, 50))
        usage.append(_usage_row(HAND, _time(6 * w + 4), w * 1000 + 5, w * 10))
    return loss, usage


def _filler_rows(unit, seed, skip_loss=None, skip_traffic=None):
    rng = np.random.default_rng(seed)
    loss, usage = [], []
    for w in range(WINDOWS):
        if w != skip_loss:
            for h in range(0, 6, 2):
                failures = int(rng.integers(0, 30))
                loss.append(_loss_row(unit, _time(6 * w + h, 15), "sea.example.net",
                                      100 - failures, failures, location=bool(h % 4)))
        if w != skip_traffic:
            usage.append(_usage_row(unit, _time(6 * w + 1), int(rng.integers(1e6, 1e9)),
                                    int(rng.integers(1e5, 1e8))))
    return loss, usage


def write_tables(directory: Path, malformed=True):
    """Fixture raw tables in the documented no-header layouts (loss rows of 9 and 10 fields)."""
    loss, usage = _hand_rows()
    for unit, seed in FILLERS.items():
        more_loss, more_usage = _filler_rows(unit, seed)
        loss += more_loss
        usage += more_usage
    for unit, kwargs in ((NO_LOSS_WINDOW, {"skip_loss": 5}),
                         (NO_TRAFFIC_WINDOW, {"skip_traffic": 7}), (NO_PROFILE, {})):
        more_loss, more_usage = _filler_rows(unit, 99, **kwargs)
        loss += more_loss
        usage += more_usage
    loss_bad = usage_bad = []
    if malformed:
        loss_bad = [
            _loss_row(HAND, _time(-1), "sea.example.net", 0, 100),           # outside (before)
            _loss_row(HAND, _time(48), "sea.example.net", 0, 100),           # outside (end)
            _loss_row(HAND, _time(1), "sea.example.net", "abc", 1),          # unparsable
            _loss_row("", _time(1), "sea.example.net", 100, 0),              # unparsable
            _loss_row(HAND, "2017-13-45 99:00:00", "sea.example.net", 0, 9),  # timestamp
            _loss_row(HAND, _time(1), "sea.example.net", 100, -1),           # negative
            _loss_row(HAND, _time(1), "sea.example.net", 0, 0),              # zero packets
            _loss_row(HAND, _time(1), "sea.example.net", 0, 100).rstrip("\n")
            + ",1,2,3\n",                                                     # wrong fields
        ]
        usage_bad = [
            _usage_row(HAND, _time(1), -5, 10),                              # negative
            _usage_row(HAND, _time(1), "n/a", 10),                           # unparsable
            _usage_row(HAND, "yesterday", 10, 10),                           # timestamp
            _usage_row(HAND, _time(50), 10, 10),                             # outside
        ]
    # interleave the malformed rows so they fall in different chunks
    loss_path = directory / "curr_udplatency.csv"
    usage_path = directory / "curr_netusage.csv"
    loss_path.write_text("".join(loss[:7] + loss_bad + loss[7:]))
    usage_path.write_text("".join(usage[:3] + usage_bad + usage[3:]))
    return loss_path, usage_path


def _convert(shared_data, tmp_path, **kwargs):
    loss_path, usage_path = write_tables(tmp_path)
    settings = dict(start="2017-10-01", end=END, window_hours=6, num_samples=600, seed=0,
                    chunk_rows=7)
    settings.update(kwargs)
    return mba.convert(loss_path, usage_path, shared_data / PROFILE_2017, **settings)


# --- unit profiles --------------------------------------------------------------------------------

def test_load_real_profile_2017(shared_data):
    p = mba.load_unit_profiles(shared_data / PROFILE_2017)
    assert list(p.columns) == ["unit_id", "isp", "technology", "state"]
    assert p["unit_id"].dtype == np.int64
    assert len(p) == 4378 and p.attrs["bad_unit_id"] == 0 and p.attrs["duplicate_unit_id"] == 0
    by_id = p.set_index("unit_id")
    assert tuple(by_id.loc[27620]) == ("Frontier", "DSL", "IL")
    assert tuple(by_id.loc[1001112]) == ("Verizon", "DSL", "MD")     # "Verizon " in the file
    assert tuple(by_id.loc[599718]) == ("Verizon", "FIBER", "NY")
    assert tuple(by_id.loc[5571]) == ("AT&T", "IPBB", "SC")          # state "sc" in the file
    assert tuple(by_id.loc[656778]) == ("Charter", "CABLE", "AL")    # "Al"
    assert not (p["isp"] != p["isp"].str.strip()).any()
    assert p["technology"].value_counts().to_dict() == {
        "CABLE": 1790, "DSL": 1263, "FIBER": 692, "IPBB": 467, "SATELLITE": 166}
    assert p["isp"].nunique() == 14       # 15 raw spellings: "Verizon" and "Verizon "
    assert p["state"].nunique() == 49     # 53 raw spellings: sc/Al/nv/Ia duplicate SC/AL/NV/IA
    assert p["state"].str.fullmatch(r"[A-Z]{2}").all()
    outs = mba.attribute_outputs(p)
    assert [o.name for o in outs] == ["isp", "technology", "state"]
    assert outs[1].categories == ("CABLE", "DSL", "FIBER", "IPBB", "SATELLITE")


def test_load_real_profile_2014(shared_data):
    p = mba.load_unit_profiles(shared_data / PROFILE_2014)   # header "STATE", UNKNOWN states
    assert len(p) == 6323
    by_id = p.set_index("unit_id")
    assert tuple(by_id.loc[3684]) == ("Time Warner Cable", "CABLE", "UNKNOWN")
    assert tuple(by_id.loc[589788]) == ("Cablevision", "CABLE", "CT")   # "Ct"
    assert (p["state"] == "UNKNOWN").sum() == 296
    assert (p["technology"] == "REMOVE").sum() == 740
    outs = {o.name: o for o in mba.attribute_outputs(p)}
    assert "REMOVE" not in outs["technology"].categories
    assert "UNKNOWN" in outs["state"].categories


def test_load_profile_variants(tmp_path):
    path = tmp_path / "profile.csv"
    path.write_bytes("\ufeffunit id , isp,TECHNOLOGY,State,Extra\r\n"
                     "1,Foo ,fiber,,x\r\n2,  Bar  Baz ,Cable , unknown ,y\r\n"
                     "x3,Foo,DSL,CA,z\r\n1,Other,DSL,CA,w\r\n3,,,n/a,v".encode("utf-8"))
    p = mba.load_unit_profiles(path)
    assert p.to_dict("list") == {"unit_id": [1, 2, 3], "isp": ["Foo", "Bar Baz", "UNKNOWN"],
                                 "technology": ["FIBER", "CABLE", "UNKNOWN"],
                                 "state": ["UNKNOWN", "UNKNOWN", "UNKNOWN"]}
    assert p.attrs == {"rows": 5, "bad_unit_id": 1, "duplicate_unit_id": 1}


def test_load_profile_errors(tmp_path):
    with pytest.raises(ValueError, match="no such file"):
        mba.load_unit_profiles(tmp_path / "absent.csv")
    (tmp_path / "empty.csv").write_text("")
    with pytest.raises(ValueError, match="empty"):
        mba.load_unit_profiles(tmp_path / "empty.csv")
    (tmp_path / "bad.csv").write_text("Unit ID,ISP,Speed\n1,Foo,10\n")
    with pytest.raises(ValueError, match="technology"):
        mba.load_unit_profiles(tmp_path / "bad.csv")


# --- aggregation functions ------------------------------------------------------------------------

def test_hourly_and_window_loss():
    rows = pd.DataFrame({
        "unit_id": [1, 1, 1, 1, 1, 2],
        "dtime": pd.to_datetime([_time(0, 5), _time(0, 6), _time(3), _time(3, 9), _time(7),
                                 _time(0)]),
        "target": ["a", "b", "a", "b", "a", "a"],
        "successes": [98, 99, 95, 80, 90, 50],
        "failures": [2, 1, 5, 20, 10, 50]})
    hourly = mba.hourly_loss(rows, START)
    assert hourly.to_dict("list") == {"unit_id": [1, 1, 1, 2], "hour": [0, 3, 7, 0],
                                      "loss_rate": [0.01, 0.05, 0.1, 0.5]}
    windows = mba.window_loss(hourly, 6)
    assert windows["unit_id"].tolist() == [1, 1, 2]
    assert windows["window"].tolist() == [0, 1, 0]
    np.testing.assert_allclose(windows["loss_rate"], [0.03, 0.1, 0.5])
    assert windows["hours"].tolist() == [2, 1, 1]


def test_window_traffic_sums():
    rows = pd.DataFrame({"unit_id": [5, 5, 5, 6],
                         "dtime": pd.to_datetime([_time(0), _time(5, 59, 59), _time(6),
                                                  _time(13)]),
                         "bytes_sent": [100, 200, 7, 1], "bytes_received": [1000, 2000, 3, 2]})
    out = mba.window_traffic(rows, START, 6)
    assert out.to_dict("list") == {"unit_id": [5, 5, 6], "window": [0, 1, 2],
                                   "traffic_bytes": [3300.0, 10.0, 3.0], "records": [2, 1, 1]}
    assert mba.complete_units(out, 2).tolist() == [5]


def test_timestamps_with_offsets_or_out_of_range_read_alike_on_every_stack(tmp_path):
    """Offsets (mixed, which pandas 3 refuses without utc=True) are converted to UTC; a date
    datetime64[ns] cannot hold is unparsable (pandas 2 reads NaT, pandas 3 a date)."""
    path = tmp_path / "usage.csv"
    path.write_text(_usage_row(1, "2017-10-01 01:00:00", 10, 1)
                    + _usage_row(1, "2017-10-01 08:00:00+02:00", 20, 2)   # 06:00 UTC
                    + _usage_row(1, "2017-10-01 07:00:00-01:00", 40, 4)   # 08:00 UTC
                    + _usage_row(1, "3000-01-01 00:00:00", 80, 8))
    traffic, info = mba.read_usage_table(path, "2017-10-01", "2017-10-02", 6)
    assert info["rows"]["unparsable_timestamp"] == 1 and info["rows"]["used"] == 3
    assert traffic.to_dict("list") == {"unit_id": [1, 1], "window": [0, 1],
                                       "traffic_bytes": [11.0, 66.0], "records": [1, 2]}


def test_parse_columns():
    assert mba.parse_columns(None, mba.DEFAULT_USAGE_COLUMNS, "usage") == \
        mba.DEFAULT_USAGE_COLUMNS
    spec = mba.parse_columns("bytes_sent=5, bytes_received=4", mba.DEFAULT_USAGE_COLUMNS, "u")
    assert dict(spec) == {"unit_id": 0, "dtime": 1, "bytes_received": 4, "bytes_sent": 5}
    assert mba.parse_columns({"bytes_sent": "wan_tx_bytes"}, mba.DEFAULT_USAGE_COLUMNS,
                             "u")["bytes_sent"] == "wan_tx_bytes"
    for bad in ("bytes=3", "bytes_sent", "bytes_sent=2", "bytes_sent=-1"):
        with pytest.raises(ValueError):
            mba.parse_columns(bad, mba.DEFAULT_USAGE_COLUMNS, "usage")


def test_num_windows():
    assert mba.num_windows("2017-10-01", "2017-10-15", 6) == 56
    with pytest.raises(ValueError, match="whole number"):
        mba.num_windows("2017-10-01", "2017-10-01 05:00", 6)
    with pytest.raises(ValueError, match="after"):
        mba.num_windows("2017-10-02", "2017-10-01", 6)


# --- the conversion on fixture tables -------------------------------------------------------------

def test_convert_fixture(shared_data, tmp_path):
    conversion = _convert(shared_data, tmp_path)
    datasets, report = conversion.datasets, conversion.report
    assert list(datasets) == ["train"]
    train = datasets["train"]
    kept = sorted([HAND, *FILLERS])
    assert report.facts["unit_ids"] == kept
    assert conversion.by_split("unit_id") == {"train": kept}
    assert list(conversion.samples.columns) == ["split", "sample", "unit_id"]
    assert conversion.samples["sample"].tolist() == list(range(len(kept)))
    assert conversion.samples_file is None
    assert conversion.sizes() == f"train {len(kept)}"
    assert len(train) == len(kept) and train.max_length == WINDOWS
    assert (train.gen_flags == 1).all()
    assert train.feature_names == ["traffic_bytes", "loss_rate"]
    assert all(o.normalization is Normalization.ZERO_ONE for o in train.feature_outputs)
    assert train.attribute_names == ["isp", "technology", "state"]
    assert [o.dim for o in train.attribute_outputs] == [14, 5, 49]

    values = train.feature_values()
    i = kept.index(HAND)
    np.testing.assert_allclose(values["loss_rate"][i], HAND_LOSS, atol=1e-6)
    np.testing.assert_allclose(values["traffic_bytes"][i], HAND_TRAFFIC, rtol=1e-5)
    attrs = train.attribute_values()
    assert tuple(attrs.loc[i]) == ("Frontier", "DSL", "IL")
    assert tuple(attrs.loc[kept.index(5571)]) == ("AT&T", "IPBB", "SC")
    assert tuple(attrs.loc[kept.index(1001112)]) == ("Verizon", "DSL", "MD")
    assert train.feature_min[1] == 0.0 and train.feature_max[1] == 1.0
    assert train.feature_min[0] == values["traffic_bytes"].min()

    d = report.to_dict()
    assert d["kept"] == len(kept)
    assert d["dropped"] == {"no_profile": 1, "profile_removed": 0, "missing_windows_loss": 1,
                            "missing_windows_traffic": 1, "not_sampled": 0}
    assert d["units_seen"] == len(kept) + 3 == d["kept"] + sum(d["dropped"].values())
    loss_rows, usage_rows = d["rows"]["loss"], d["rows"]["usage"]
    assert {k: loss_rows[k] for k in mba.ROW_DROP_REASONS} == {
        "wrong_field_count": 1, "unparsable_field": 2, "unparsable_timestamp": 1,
        "outside_window": 2, "negative_count": 1, "zero_packets": 1}
    assert loss_rows["read"] == loss_rows["used"] + 8
    for rows in (loss_rows, usage_rows):
        assert rows["read"] == rows["used"] + sum(rows[k] for k in mba.ROW_DROP_REASONS)
    assert {k: usage_rows[k] for k in mba.ROW_DROP_REASONS} == {
        "wrong_field_count": 0, "unparsable_field": 1, "unparsable_timestamp": 1,
        "outside_window": 1, "negative_count": 1, "zero_packets": 0}
    json.dumps(d, default=str)


def test_convert_sampling(shared_data, tmp_path):
    c1 = _convert(shared_data, tmp_path, num_samples=3, seed=4)
    c2 = _convert(shared_data, tmp_path, num_samples=3, seed=4)
    first, r1, again, r2 = c1.datasets, c1.report, c2.datasets, c2.report
    assert r1.facts["unit_ids"] == r2.facts["unit_ids"]
    assert c1.by_split("unit_id") == c2.by_split("unit_id") == {"train": r1.facts["unit_ids"]}
    np.testing.assert_array_equal(first["train"].features, again["train"].features)
    assert len(first["train"]) == 3 and r1.dropped["not_sampled"] == 3
    others = {tuple(_convert(shared_data, tmp_path, num_samples=3, seed=s).report
                    .facts["unit_ids"]) for s in range(6)}
    assert len(others) > 1


def test_usage_columns_flag(shared_data, tmp_path):
    """Swapping sent/received gives the same totals; a header row is read by name."""
    swapped = _convert(shared_data, tmp_path,
                       usage_columns="bytes_sent=2,bytes_received=3").datasets
    plain = _convert(shared_data, tmp_path).datasets
    np.testing.assert_allclose(swapped["train"].features, plain["train"].features)
    loss_path, usage_path = write_tables(tmp_path, malformed=False)
    headed = tmp_path / "netusage_with_header.csv"
    headed.write_text("unit_id,dtime,wan_rx_bytes,wan_tx_bytes,sk_rx_bytes,sk_tx_bytes,"
                      "location_id\n" + usage_path.read_text())
    conversion = mba.convert(loss_path, headed, shared_data / PROFILE_2017, end=END,
                             usage_columns="bytes_sent=wan_tx_bytes,bytes_received=wan_rx_bytes")
    by_name, report = conversion.datasets, conversion.report
    np.testing.assert_allclose(by_name["train"].features, plain["train"].features)
    assert report.facts["columns_used"]["usage"][str(headed)]["bytes_sent"] == "3 (wan_tx_bytes)"


def test_malformed_files_raise(shared_data, tmp_path):
    loss_path, usage_path = write_tables(tmp_path)
    profile = shared_data / PROFILE_2017

    def run(loss=loss_path, usage=usage_path, **kwargs):
        kwargs.setdefault("end", END)
        return mba.convert(loss, usage, profile, **kwargs)

    with pytest.raises(ValueError, match="no such file"):
        run(loss=tmp_path / "absent.csv")
    empty = tmp_path / "empty.csv"
    empty.write_text("")
    with pytest.raises(ValueError, match="empty"):
        run(usage=empty)
    blank = tmp_path / "blank.csv"
    blank.write_text("\n\n")
    with pytest.raises(ValueError, match="empty"):
        run(loss=blank)
    narrow = tmp_path / "narrow.csv"
    narrow.write_text("27620,2017-10-01 00:00:00,5\n")
    with pytest.raises(ValueError, match="columns"):
        run(usage=narrow)
    with pytest.raises(ValueError, match="columns"):
        run(loss=usage_path)   # the usage table (7 columns) given as the loss table (needs 9)
    bad_times = tmp_path / "bad_times.csv"
    bad_times.write_text("".join(_usage_row(1, "01/10/2017 10:00", 5, 5) for _ in range(3)))
    with pytest.raises(ValueError, match="timestamps"):
        run(usage=bad_times)
    with pytest.raises(ValueError, match="no usable"):
        run(start="2018-01-01", end="2018-01-03")
    with pytest.raises(ValueError, match="header"):
        run(usage_columns="bytes_sent=wan_tx_bytes")   # a name without a header row
    with pytest.raises(ValueError, match="whole number"):
        run(window_hours=7)


# --- against the paper's released dataset ---------------------------------------------------------

def test_schema_matches_released_dataset(shared_data, tmp_path):
    released = Dataset.load(shared_data / "fcc_mba")
    assert released.max_length == 56 == mba.num_windows("2017-10-01", "2017-10-15", 6)
    assert released.num_feature_columns == 2
    assert all(o.normalization is Normalization.ZERO_ONE for o in released.feature_outputs)
    assert [o.dim for o in released.attribute_outputs] == [15, 5, 53]
    # the release's feature order (traffic bytes, loss) and value ranges
    assert released.feature_min[0] > 1e5 and released.feature_max[0] > 1e9
    assert (released.feature_min[1], released.feature_max[1]) == (0.0, 1.0)

    ours = _convert(shared_data, tmp_path).datasets
    train = ours["train"]
    assert train.num_feature_columns == released.num_feature_columns
    assert [o.is_continuous for o in train.feature_outputs] == \
        [o.is_continuous for o in released.feature_outputs]
    assert [o.normalization for o in train.feature_outputs] == \
        [o.normalization for o in released.feature_outputs]
    assert [o.is_continuous for o in train.attribute_outputs] == [False] * 3
    for data in (train, released):
        assert data.features.min() >= 0.0 and data.features.max() <= 1.0
    # the released loss values are loss fractions like ours
    loss = released.feature_values()[released.feature_names[1]]
    assert 0.0 <= np.nanmin(loss) and np.nanmax(loss) <= 1.0


# --- command line and training --------------------------------------------------------------------

def test_cli(shared_data, tmp_path):
    loss_path, usage_path = write_tables(tmp_path)
    out = tmp_path / "out"
    result = subprocess.run(
        [sys.executable, "-m", "data_prep.mba", f"--loss_input={loss_path}",
         f"--usage_input={usage_path}", f"--profiles={shared_data / PROFILE_2017}",
         f"--output={out}", "--start=2017-10-01", f"--end={END}", "--window_hours=6",
         "--num_samples=4", "--seed=1", "--original_layout"],
        cwd=REPO_ROOT, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    train = Dataset.load(out / "train")
    assert len(train) == 4 and train.max_length == WINDOWS
    report = json.loads((out / "report.json").read_text())
    assert report["kept"] == 4 and report["dropped"]["not_sampled"] == len(FILLERS) + 1 - 4
    assert Dataset.load(out / "original" / "train").features.shape == train.features.shape
    assert report["rows"]["loss"]["wrong_field_count"] == 1   # mid-chunk at the default size

    failed = subprocess.run(
        [sys.executable, "-m", "data_prep.mba", f"--loss_input={tmp_path / 'absent.csv'}",
         f"--usage_input={usage_path}", f"--profiles={shared_data / PROFILE_2017}",
         f"--output={tmp_path / 'out2'}", f"--end={END}"],
        cwd=REPO_ROOT, capture_output=True, text=True, timeout=300)
    assert failed.returncode != 0 and "no such file" in failed.stderr


def test_converted_dataset_trains(shared_data, tmp_path):
    train = _convert(shared_data, tmp_path).datasets["train"]
    assert_trains_a_few_steps(train, sample_len=4, use_aux_critic=False, auto_normalize=False)
