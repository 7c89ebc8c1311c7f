"""data_prep.wwt: Kaggle web-traffic train_1.csv -> canonical WWT train/test datasets."""
import csv
import datetime as dt
import gzip
import json
import subprocess
import sys
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from data_prep import wwt
from doppelganger_tf.dataset import Dataset
from doppelganger_tf.outputs import Normalization

from conftest import assert_trains_a_few_steps

REPO_ROOT = Path(__file__).resolve().parents[1]
DATES = [(dt.date(2015, 7, 1) + dt.timedelta(days=i)).isoformat() for i in range(550)]
HEADER = "Page," + ",".join(DATES) + "\n"


def _series(seed, n=550):
    return np.random.default_rng(seed).integers(0, 500, n).astype(float)


def _row(page, values, quote=False):
    """One line in Kaggle's layout: floats like 18.0, empty fields for missing (None/NaN)."""
    fields = ["" if v is None or (isinstance(v, float) and np.isnan(v)) else
              (v if isinstance(v, str) else f"{float(v):.1f}") for v in values]
    name = '"' + page.replace('"', '""') + '"' if quote else page
    return name + "," + ",".join(fields) + "\n"


def _write(path, lines, header=HEADER):
    path.write_text(header + "".join(lines), encoding="utf-8")
    return path


KEPT = {  # page -> values, all valid
    "Foo_Bar_en.wikipedia.org_desktop_all-agents": _series(1),
    "Hello, World_de.wikipedia.org_mobile-web_spider": _series(2),
    "L'Oréal_fr.wikipedia.org_all-access_all-agents": _series(3),
    "Special:Search_commons.wikimedia.org_all-access_spider": _series(4),
}


@pytest.fixture
def kaggle_file(tmp_path):
    """A small file in Kaggle's own layout: unquoted header, float values, empty fields for
    missing days, a quoted page name with a comma; one row per drop reason."""
    with_missing = _series(5)
    with_missing[:10] = np.nan
    negative = _series(6)
    negative[100] = -1.0
    text_value = [f"{v:.1f}" for v in _series(7)]
    text_value[3] = "abc"
    lines = [
        _row("Foo_Bar_en.wikipedia.org_desktop_all-agents", KEPT[
            "Foo_Bar_en.wikipedia.org_desktop_all-agents"]),
        _row("Hello, World_de.wikipedia.org_mobile-web_spider",
             KEPT["Hello, World_de.wikipedia.org_mobile-web_spider"], quote=True),
        _row("Missing_days_zh.wikipedia.org_all-access_spider", with_missing),
        _row("No_suffix_en.wikipedia.org_desktop", _series(8)),
        _row("Unknown_it.wikipedia.org_desktop_spider", _series(9)),
        _row("Negative_www.mediawiki.org_all-access_spider", negative),
        _row("Text_ja.wikipedia.org_desktop_spider", text_value),
        _row("L'Oréal_fr.wikipedia.org_all-access_all-agents",
             KEPT["L'Oréal_fr.wikipedia.org_all-access_all-agents"]),
        _row("Foo_Bar_en.wikipedia.org_desktop_all-agents", _series(10)),  # duplicate
        _row("Extra_ru.wikipedia.org_desktop_spider", list(_series(11)) + [1.0]),  # 552 fields
        "\n",  # a blank line: skipped, not a row
        _row("Special:Search_commons.wikimedia.org_all-access_spider",
             KEPT["Special:Search_commons.wikimedia.org_all-access_spider"]),
    ]
    return _write(tmp_path / "train_1.csv", lines)


def _by_page(datasets, pages):
    """page -> (dataset, sample index)."""
    return {page: (datasets[split], i) for split, names in pages.items()
            for i, page in enumerate(names)}


# --- page names -----------------------------------------------------------------------------------

@pytest.mark.parametrize("name, expected", [
    ("2NE1_zh.wikipedia.org_all-access_spider",
     ("2NE1", "zh.wikipedia.org", "all-access", "spider")),
    ("52_Hz_I_Love_You_zh.wikipedia.org_all-access_spider",
     ("52_Hz_I_Love_You", "zh.wikipedia.org", "all-access", "spider")),
    ("A'N'D_zh.wikipedia.org_all-access_spider",
     ("A'N'D", "zh.wikipedia.org", "all-access", "spider")),
    ("Hello, World_de.wikipedia.org_mobile-web_all-agents",
     ("Hello, World", "de.wikipedia.org", "mobile-web", "all-agents")),
    ("File:Foo_bar.jpg_commons.wikimedia.org_desktop_all-agents",
     ("File:Foo_bar.jpg", "commons.wikimedia.org", "desktop", "all-agents")),
    ("Help:Extension:Foo_www.mediawiki.org_all-access_spider",
     ("Help:Extension:Foo", "www.mediawiki.org", "all-access", "spider")),
    ("_en.wikipedia.org_desktop_spider_en.wikipedia.org_desktop_spider",
     ("_en.wikipedia.org_desktop_spider", "en.wikipedia.org", "desktop", "spider")),
])
def test_parse_page_name_valid(name, expected):
    assert wwt.parse_page_name(name) == expected


@pytest.mark.parametrize("name", [
    "", "Main_Page", "en.wikipedia.org_desktop_spider", "_en.wikipedia.org_desktop_spider",
    "Foo_en.wikipedia.org_desktop", "Foo_it.wikipedia.org_desktop_spider",
    "Foo_en.wikipedia.org_mobile_spider", "Foo_en.wikipedia.org_desktop_bots",
    "Foo_en.wikipedia.org_desktop_spider ", "Foo en.wikipedia.org desktop spider", None, 3.0,
])
def test_parse_page_name_invalid(name):
    assert wwt.parse_page_name(name) is None


def test_every_known_category_is_parsed():
    for domain in wwt.DOMAINS:
        for access in wwt.ACCESSES:
            for agent in wwt.AGENTS:
                assert wwt.parse_page_name(f"X_{domain}_{access}_{agent}")[1:] == (
                    domain, access, agent)


# --- the Kaggle layout ----------------------------------------------------------------------------

def test_kaggle_layout_counts_values_categories(kaggle_file):
    conversion = wwt.convert(kaggle_file, test_fraction=0.5, seed=3)
    datasets, report = conversion.datasets, conversion.report
    pages = conversion.by_split("page")
    assert list(conversion.samples.columns) == ["split", "sample", "page"]
    assert conversion.samples_file == "pages.csv"
    assert conversion.sizes() == "train 2, test 2"
    assert report.dropped == {"wrong_field_count": 1, "bad_page_name": 2, "unparsable_value": 1,
                              "missing_values": 1, "negative_values": 1, "duplicate_page": 1,
                              "not_sampled": 0}
    facts = report.facts
    assert facts["rows_read"] == 11 and facts["rows_valid"] == 4 and report.kept == 4
    assert facts["rows_read"] == report.kept + sum(report.dropped.values())
    assert facts["train_size"] == 2 and facts["test_size"] == 2
    assert facts["dates"] == {"first": "2015-07-01", "last": "2016-12-31", "days": 550}
    assert facts["examples"]["bad_page_name"] == ["No_suffix_en.wikipedia.org_desktop",
                                                  "Unknown_it.wikipedia.org_desktop_spider"]
    assert "2015-07-04" in facts["examples"]["unparsable_value"][0]
    assert "line 11" in facts["examples"]["wrong_field_count"][0]
    # a fresh "first" duplicate is kept, its later copy dropped
    assert "line 10" in facts["examples"]["duplicate_page"][0]

    assert sorted(p for names in pages.values() for p in names) == sorted(KEPT)
    located = _by_page(datasets, pages)
    for page, expected in KEPT.items():
        dataset, i = located[page]
        np.testing.assert_allclose(dataset.feature_values()["views"][i], expected, atol=1e-3)
        _, domain, access, agent = wwt.parse_page_name(page)
        assert dataset.attribute_values().iloc[i].to_dict() == {
            "domain": domain, "access": access, "agent": agent}
    counts = facts["categories"]
    total = {c: counts["train"]["domain"][c] + counts["test"]["domain"][c] for c in wwt.DOMAINS}
    assert total == {**{c: 0 for c in wwt.DOMAINS}, "en.wikipedia.org": 1,
                     "de.wikipedia.org": 1, "fr.wikipedia.org": 1, "commons.wikimedia.org": 1}


def test_dataset_layout_and_shared_encoding(kaggle_file):
    datasets = wwt.convert(kaggle_file, seed=1).datasets
    train, test = datasets["train"], datasets["test"]
    for d in (train, test):
        assert d.max_length == 550 and d.feature_names == ["views"]
        assert d.attribute_names == ["domain", "access", "agent"]
        assert d.num_attribute_columns == 9 + 3 + 2  # every category has a column
        assert np.all(d.gen_flags == 1)
        assert [o.categories for o in d.attribute_outputs] == [
            wwt.DOMAINS, wwt.ACCESSES, wwt.AGENTS]
    assert train.attribute_outputs == test.attribute_outputs
    assert train.feature_outputs == test.feature_outputs
    np.testing.assert_array_equal(train.feature_min, test.feature_min)
    np.testing.assert_array_equal(train.feature_max, test.feature_max)
    # the global range is that of all sampled rows together
    everything = np.concatenate([train.feature_values()["views"], test.feature_values()["views"]])
    assert train.feature_min[0] == pytest.approx(everything.min())
    assert train.feature_max[0] == pytest.approx(everything.max())


@pytest.mark.parametrize("normalization, low", [("minusone_one", -1.0), ("zero_one", 0.0)])
@pytest.mark.parametrize("log1p", [False, True])
def test_normalizations_and_log1p_round_trip(kaggle_file, normalization, low, log1p):
    conversion = wwt.convert(kaggle_file, normalization=normalization, log1p=log1p,
                             test_fraction=0)
    datasets, report = conversion.datasets, conversion.report
    pages = conversion.by_split("page")
    assert list(datasets) == ["train"] and list(pages) == ["train"]
    assert set(conversion.samples["split"]) == {"train"}
    train = datasets["train"]
    assert train.feature_outputs[0].normalization is Normalization(normalization)
    assert train.features.min() == pytest.approx(low, abs=1e-6)
    assert train.features.max() == pytest.approx(1.0, abs=1e-6)
    values = train.feature_values()["views"]
    if log1p:
        assert report.facts["scaling"]["units"] == "log1p(views)"
        assert any("expm1" in note for note in report.facts["notes"])
        values = np.expm1(values)
    else:
        assert report.facts["scaling"]["units"] == "views"
    assert report.facts["settings"]["log1p"] is log1p
    for i, page in enumerate(pages["train"]):
        np.testing.assert_allclose(values[i], KEPT[page], atol=1e-3, rtol=1e-5)


def test_sampling_and_split_are_deterministic(tmp_path):
    lines = [_row(f"P{i}_en.wikipedia.org_desktop_spider", _series(i)) for i in range(40)]
    path = _write(tmp_path / "train_1.csv", lines)
    a = wwt.convert(path, num_samples=20, seed=7)
    b = wwt.convert(path, num_samples=20, seed=7, chunk_rows=3)
    a_sets, a_report, a_pages = a.datasets, a.report, a.by_split("page")
    b_sets, b_pages = b.datasets, b.by_split("page")
    assert a_pages == b_pages
    pd.testing.assert_frame_equal(a.samples, b.samples)
    for split in ("train", "test"):
        np.testing.assert_array_equal(a_sets[split].features, b_sets[split].features)
        np.testing.assert_array_equal(a_sets[split].attributes, b_sets[split].attributes)
    assert len(a_pages["train"]) == 10 and len(a_pages["test"]) == 10
    assert not set(a_pages["train"]) & set(a_pages["test"])
    assert a_report.dropped["not_sampled"] == 20 and a_report.kept == 20
    assert a_report.facts["notes"] == []
    c_pages = wwt.convert(path, num_samples=20, seed=8).by_split("page")
    assert c_pages != a_pages


def test_blockwise_encoding_matches(tmp_path, monkeypatch):
    lines = [_row(f"P{i}_{wwt.DOMAINS[i % 9]}_desktop_spider", _series(i)) for i in range(25)]
    path = _write(tmp_path / "train_1.csv", lines)
    whole = wwt.convert(path, log1p=True).datasets
    monkeypatch.setattr(wwt, "BUILD_BLOCK_ROWS", 4)
    blocks = wwt.convert(path, log1p=True).datasets
    for split in ("train", "test"):
        np.testing.assert_array_equal(whole[split].features, blocks[split].features)
        np.testing.assert_array_equal(whole[split].attributes, blocks[split].attributes)
        np.testing.assert_array_equal(whole[split].feature_max, blocks[split].feature_max)


def test_compressed_inputs(tmp_path, kaggle_file):
    reference = wwt.convert(kaggle_file)
    expected, expected_pages = reference.datasets, reference.by_split("page")
    gz = tmp_path / "train_1.csv.gz"
    gz.write_bytes(gzip.compress(kaggle_file.read_bytes()))
    zipped = tmp_path / "train_1.csv.zip"
    with zipfile.ZipFile(zipped, "w") as archive:
        archive.write(kaggle_file, "train_1.csv")
    for path in (gz, zipped):
        conversion = wwt.convert(path)
        datasets, pages = conversion.datasets, conversion.by_split("page")
        assert pages == expected_pages
        np.testing.assert_array_equal(datasets["train"].features, expected["train"].features)
    broken = tmp_path / "broken.csv.zip"
    broken.write_bytes(b"not a zip")
    with pytest.raises(ValueError, match="not a readable zip"):
        wwt.convert(broken)
    truncated = tmp_path / "truncated.csv.gz"
    truncated.write_bytes(gz.read_bytes()[:3000])
    with pytest.raises(ValueError, match=r"truncated\.csv\.gz: truncated or corrupt gzip data"):
        wwt.convert(truncated)


# --- the real re-saved sample ---------------------------------------------------------------------

def test_real_sample(shared_data):
    path = shared_data / "raw_formats" / "wwt" / "train_1_sample.csv"
    conversion = wwt.convert(path)
    datasets, report, pages = conversion.datasets, conversion.report, conversion.by_split("page")
    assert report.facts["rows_read"] == 9
    assert report.dropped["missing_values"] == 2
    assert sum(report.dropped.values()) == 2
    assert report.kept == 7 and report.facts["sampled"] == 7
    assert any("fewer than num_samples" in note for note in report.facts["notes"])
    kept = [p for names in pages.values() for p in names]
    assert "52_Hz_I_Love_You_zh.wikipedia.org_all-access_spider" not in kept
    assert "91Days_zh.wikipedia.org_all-access_spider" not in kept
    assert len(kept) == 7

    with open(path, newline="", encoding="utf-8") as f:
        raw = {row[0]: row[1:] for row in list(csv.reader(f))[1:]}
    page = "A'N'D_zh.wikipedia.org_all-access_spider"
    dataset, i = _by_page(datasets, pages)[page]
    expected = np.array([float(v) for v in raw[page]])
    views = dataset.feature_values()["views"][i]
    np.testing.assert_allclose(views, expected, atol=1e-3)
    assert np.array_equal(np.round(views), expected)
    frame = dataset.to_dataframe()
    np.testing.assert_allclose(frame.loc[frame["id"] == i, "views"].to_numpy(), expected,
                               atol=1e-3)
    assert set(frame["domain"]) == {"zh.wikipedia.org"}


# --- malformed input ------------------------------------------------------------------------------

@pytest.mark.parametrize("header, message", [
    ("Name," + ",".join(DATES) + "\n", "must start with a 'Page' column"),
    ("Page," + ",".join(DATES[:549]) + "\n", "549 date columns"),
    ("Page," + ",".join(DATES + ["2017-01-01"]) + "\n", "551 date columns"),
    ("Page," + ",".join(DATES[:10] + ["day11"] + DATES[11:]) + "\n", "'day11', not a date"),
    ("Page," + ",".join(DATES[:10] + DATES[9:549]) + "\n", "not consecutive days"),
    ("Page;" + ";".join(DATES) + "\n", "must start with a 'Page' column"),
])
def test_bad_header_raises(tmp_path, header, message):
    path = _write(tmp_path / "bad.csv", [_row("A_en.wikipedia.org_desktop_spider", _series(0))],
                  header=header)
    with pytest.raises(ValueError, match=message):
        wwt.convert(path)


def test_empty_and_header_only_files_raise(tmp_path):
    empty = tmp_path / "empty.csv"
    empty.write_text("")
    with pytest.raises(ValueError, match="is empty"):
        wwt.convert(empty)
    blank = tmp_path / "blank.csv"
    blank.write_text("\n\n")
    with pytest.raises(ValueError, match="is empty"):
        wwt.convert(blank)
    header_only = _write(tmp_path / "header.csv", [])
    with pytest.raises(ValueError, match="no rows"):
        wwt.convert(header_only)
    with pytest.raises(FileNotFoundError, match="no such input file"):
        wwt.convert(tmp_path / "absent.csv")


def test_no_usable_rows_raises(tmp_path):
    path = _write(tmp_path / "bad_rows.csv", [_row("Nope", _series(0)),
                                              _row("Gap_en.wikipedia.org_desktop_spider",
                                                   [None] * 550)])
    with pytest.raises(ValueError, match="none of its 2 rows is usable"):
        wwt.convert(path)


def test_unclosed_quote_raises(tmp_path):
    lines = [_row("A_en.wikipedia.org_desktop_spider", _series(0)),
             '"Open_en.wikipedia.org_desktop_spider,1.0\n']
    with pytest.raises(ValueError, match="never closed"):
        wwt.convert(_write(tmp_path / "quote.csv", lines))


def test_row_level_problems_are_counted_not_silent(tmp_path):
    infinite = [f"{v:.1f}" for v in _series(1)]
    infinite[0] = "inf"
    nan_text = [f"{v:.1f}" for v in _series(2)]
    nan_text[5] = "nan"
    lines = [_row("A_en.wikipedia.org_desktop_spider", _series(0)),
             _row("B_en.wikipedia.org_desktop_spider", infinite),
             _row("C_en.wikipedia.org_desktop_spider", nan_text),
             _row("D_en.wikipedia.org_desktop_spider", _series(3)[:549]),  # a field short
             _row("E_en.wikipedia.org_desktop_spider", _series(4)),
             _row("F,G_en.wikipedia.org_desktop_spider", _series(5))]  # unquoted comma
    conversion = wwt.convert(_write(tmp_path / "rows.csv", lines), test_fraction=0)
    report, pages = conversion.report, conversion.by_split("page")
    assert report.dropped["unparsable_value"] == 2
    assert report.dropped["wrong_field_count"] == 2
    assert pages["train"] == ["A_en.wikipedia.org_desktop_spider",
                              "E_en.wikipedia.org_desktop_spider"]


@pytest.mark.parametrize("kwargs, message", [
    ({"num_samples": 0}, "num_samples"), ({"test_fraction": 1.0}, "test_fraction"),
    ({"test_fraction": -0.1}, "test_fraction"), ({"seed": -1}, "seed"),
    ({"normalization": "zscore"}, "unknown normalization"),
])
def test_bad_arguments_raise(kaggle_file, kwargs, message):
    with pytest.raises(ValueError, match=message):
        wwt.convert(kaggle_file, **kwargs)


def test_too_few_rows_to_split_raises(tmp_path):
    path = _write(tmp_path / "one.csv", [_row("A_en.wikipedia.org_desktop_spider", _series(0))])
    with pytest.raises(ValueError, match="cannot be split"):
        wwt.convert(path)
    datasets = wwt.convert(path, test_fraction=0).datasets
    assert len(datasets["train"]) == 1


def test_conversion_write(tmp_path, kaggle_file):
    conversion = wwt.convert(kaggle_file, seed=2)
    output = conversion.write(tmp_path / "out", original_layout=True)
    assert output == tmp_path / "out"
    for split, dataset in conversion.datasets.items():
        np.testing.assert_array_equal(Dataset.load(output / split).features, dataset.features)
        assert Dataset.load(output / "original" / split).feature_names == ["views"]
    assert json.loads((output / "report.json").read_text())["kept"] == 4
    with open(output / "pages.csv", newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    assert [(r["split"], int(r["sample"]), r["page"]) for r in rows] == [
        (split, i, page) for split, pages in conversion.by_split("page").items()
        for i, page in enumerate(pages)]


# --- command line ---------------------------------------------------------------------------------

def test_cli_writes_datasets_and_report(tmp_path, kaggle_file):
    output = tmp_path / "out"
    result = subprocess.run(
        [sys.executable, "-m", "data_prep.wwt", "--input", str(kaggle_file), "--output",
         str(output), "--seed", "2", "--log1p", "--normalization", "zero_one",
         "--original_layout"], cwd=REPO_ROOT, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert "kept 4" in result.stdout
    report = json.loads((output / "report.json").read_text())
    assert report["dataset"] == "wwt" and report["kept"] == 4
    assert report["settings"] == {"num_samples": 100000, "test_fraction": 0.5, "seed": 2,
                                  "normalization": "zero_one", "log1p": True}
    train = Dataset.load(output / "train")
    test = Dataset.load(output / "test")
    assert len(train) + len(test) == 4
    assert Dataset.load(output / "original" / "train").feature_names == ["views"]
    with open(output / "pages.csv", newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    assert sorted(r["page"] for r in rows) == sorted(KEPT)

    bad = subprocess.run([sys.executable, "-m", "data_prep.wwt", "--input",
                          str(tmp_path / "absent.csv"), "--output", str(tmp_path / "o2")],
                         cwd=REPO_ROOT, capture_output=True, text=True, timeout=120)
    assert bad.returncode != 0 and "no such input file" in bad.stderr


def test_import_defines_no_flags():
    code = ("import data_prep.wwt as w; from absl import flags; "
            "assert 'input' not in flags.FLAGS and 'log1p' not in flags.FLAGS; "
            "w.define_flags(); w.define_flags(); assert 'log1p' in flags.FLAGS")
    subprocess.run([sys.executable, "-c", code], cwd=REPO_ROOT, check=True, timeout=120)


# --- training -------------------------------------------------------------------------------------

def test_converted_dataset_trains(kaggle_file):
    datasets = wwt.convert(kaggle_file, test_fraction=0).datasets
    assert_trains_a_few_steps(datasets["train"], sample_len=10, batch_size=4)
