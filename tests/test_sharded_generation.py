"""generate_to(path, n, shard=i, num_shards=k): k processes write one run's samples together,
exactly the samples of the unsharded run whatever k (sharded_storage.py)."""
import json
import os
import subprocess
import sys
import textwrap

import numpy as np
import pandas as pd
import pytest
import tensorflow as tf

from doppelganger_tf import DoppelGANger
from doppelganger_tf.dataset import Dataset
from doppelganger_tf.sharded_storage import IncompleteShardsError
from conftest import tiny_config

DAYS = pd.date_range("2016-01-04", periods=8, freq="D")
N, SEED, BATCH = 11, 5, 3  # 4 batches, the last one short
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


@pytest.fixture(scope="module")
def model():
    """An untrained tiny model of a frame (generation needs no training)."""
    rng = np.random.default_rng(0)
    pages = [f"page_{i}" for i in range(12)]
    frame = pd.DataFrame({"page": np.repeat(pages, len(DAYS)),
                          "day": np.tile(DAYS, len(pages)),
                          "views": rng.integers(0, 500, 12 * len(DAYS)),
                          "access": np.repeat(rng.choice(["desktop", "mobile"], 12), len(DAYS))})
    data = Dataset.from_dataframe(frame, id_column="page", time_column="day",
                                  feature_columns="views", attribute_columns="access")
    tf.keras.utils.set_random_seed(0)
    return DoppelGANger.from_dataset(data, tiny_config(), seed=0)


@pytest.fixture(scope="module")
def expected(model):
    return model.generate(N, seed=SEED, batch_size=BATCH)


@pytest.fixture(scope="module")
def unsharded(model, tmp_path_factory):
    return model.generate_to(tmp_path_factory.mktemp("unsharded") / "out", N, seed=SEED,
                             batch_size=BATCH)


def write_shards(model, path, num_shards, order=None, **kwargs):
    kwargs = {"seed": SEED, "batch_size": BATCH, **kwargs}
    for shard in order if order is not None else range(num_shards):
        assert model.generate_to(path, N, shard=shard, num_shards=num_shards,
                                 **kwargs) == path


def memory_mapped(array) -> bool:
    """Whether ``array`` is a view of a memory map (Dataset keeps np.load's memmap as a plain
    ndarray view of it: no copy)."""
    while array is not None:
        if isinstance(array, np.memmap):
            return True
        array = array.base if isinstance(array, np.ndarray) else None
    return False


def assert_same(loaded, expected):
    np.testing.assert_array_equal(loaded.features, expected.features)
    np.testing.assert_array_equal(loaded.attributes, expected.attributes)
    np.testing.assert_array_equal(loaded.gen_flags, expected.gen_flags)


@pytest.mark.parametrize("num_shards", [1, 2, 3, 5])  # 5 > 4 batches: an empty shard
def test_the_shards_hold_the_unsharded_samples(model, expected, unsharded, tmp_path,
                                               num_shards):
    path = tmp_path / "out"
    write_shards(model, path, num_shards)
    loaded = Dataset.load(path)
    assert_same(loaded, expected)
    assert memory_mapped(loaded.features)
    # the streamed layout's files, byte for byte
    for name in ("specs.json", "features.npy", "attributes.npy", "gen_flags.npy"):
        assert (path / name).read_bytes() == (unsharded / name).read_bytes(), name
    markers = sorted(p.name for p in (path / "shards").iterdir())
    assert markers == [f"shard-{i:05d}-of-{num_shards:05d}.json" for i in range(num_shards)]
    pd.testing.assert_frame_equal(loaded.to_dataframe(seed=0), expected.to_dataframe(seed=0))


def test_shards_in_any_order_and_load_names_the_missing_ones(model, expected, tmp_path):
    path = tmp_path / "out"
    write_shards(model, path, 3, order=[2])
    with pytest.raises(IncompleteShardsError, match=r"shards \[0, 1\] of 3 have no "
                       r"completion marker.*shard=i, num_shards=3.*seed=5, batch_size=3") as err:
        Dataset.load(path)
    assert err.value.missing == [0, 1]
    write_shards(model, path, 3, order=[0, 1])
    assert_same(Dataset.load(path), expected)
    write_shards(model, path, 3, order=[1])  # a rerun of a finished shard changes nothing
    assert_same(Dataset.load(path), expected)


def test_conditional_generation_and_lengths_per_shard(model, tmp_path):
    access = pd.DataFrame({"access": ["mobile", "desktop"] * 5 + ["mobile"]})
    lengths = np.arange(N) % 8 + 1
    wanted = model.generate(N, attributes=access, length=lengths, seed=SEED, batch_size=BATCH)
    path = tmp_path / "out"
    write_shards(model, path, 3, order=[1, 2, 0], attributes=access, length=lengths)
    loaded = Dataset.load(path)
    assert_same(loaded, wanted)
    np.testing.assert_array_equal(loaded.lengths, lengths)
    # n=None: the attributes' rows (unsharded too)
    whole = model.generate_to(tmp_path / "whole", None, attributes=access, length=lengths,
                              seed=SEED, batch_size=BATCH)
    assert_same(Dataset.load(whole), wanted)
    # a shard given other attributes (or lengths) belongs to another run
    other = pd.DataFrame({"access": ["desktop"] * N})
    with pytest.raises(ValueError, match="another run: attributes_sha256 .*a different "
                       "attributes"):
        model.generate_to(path, N, attributes=other, length=lengths, seed=SEED,
                          batch_size=BATCH, shard=0, num_shards=3)
    with pytest.raises(ValueError, match="another run: length_sha256 .*a different length"):
        model.generate_to(path, N, attributes=access, length=3, seed=SEED, batch_size=BATCH,
                          shard=0, num_shards=3)


@pytest.mark.parametrize("kwargs, message", [
    (dict(shard=0, num_shards=2), "give a seed when num_shards > 1"),
    (dict(shard=2, num_shards=2, seed=1), r"shard must lie in 0\.\.1 .*got shard=2"),
    (dict(shard=-1, num_shards=2, seed=1), r"shard must lie in 0\.\.1"),
    (dict(shard=0, seed=1), "give both shard and num_shards"),
    (dict(num_shards=2, seed=1), "give both shard and num_shards"),
    (dict(shard=0, num_shards=0, seed=1), "num_shards must be >= 1"),
    (dict(shard=0, num_shards=2.0, seed=1), "num_shards must be an integer"),
])
def test_shard_arguments_are_checked_before_anything_is_written(model, tmp_path, kwargs,
                                                                message):
    with pytest.raises((ValueError, TypeError), match=message):
        model.generate_to(tmp_path / "out", N, **kwargs)
    assert not (tmp_path / "out").exists()


def test_a_shard_of_another_run_is_refused(model, tmp_path):
    path = tmp_path / "out"
    write_shards(model, path, 3, order=[0])
    for changes, message in [(dict(seed=SEED + 1), r"seed=6 \(recorded: 5\)"),
                             (dict(batch_size=4), r"batch_size=4 \(recorded: 3\)"),
                             (dict(clip=False), r"clip=False \(recorded: True\)")]:
        with pytest.raises(ValueError, match=message + ".*or remove"):
            write_shards(model, path, 3, order=[1], **changes)
    with pytest.raises(ValueError, match=r"num_shards=2 \(recorded: 3\)"):
        write_shards(model, path, 2, order=[1])
    with pytest.raises(ValueError, match=r"n=12 \(recorded: 11\)"):
        model.generate_to(path, 12, seed=SEED, batch_size=BATCH, shard=1, num_shards=3)
    assert sorted(p.name for p in (path / "shards").iterdir()) == ["shard-00000-of-00003.json"]
    # unsharded output does not replace a sharded directory, nor shards a foreign one
    with pytest.raises(FileExistsError, match="other files"):
        model.generate_to(path, N, seed=SEED, batch_size=BATCH)
    (tmp_path / "other").mkdir()
    (tmp_path / "other" / "notes.txt").write_text("mine")
    with pytest.raises(FileExistsError, match="not a sharded dataset"):
        write_shards(model, tmp_path / "other", 2, order=[0])


def test_a_killed_shard_is_refused_until_rerun(model, expected, tmp_path, monkeypatch):
    path = tmp_path / "out"
    write_shards(model, path, 3)
    # a shard killed while rewriting its rows: the marker is gone, the rows half written
    sampler = model.sampler
    real_postprocess = sampler._postprocess
    calls = []

    def dies_on_the_second_batch(*args):
        calls.append(1)
        if len(calls) == 2:
            raise KeyboardInterrupt
        return real_postprocess(*args)
    monkeypatch.setattr(sampler, "_postprocess", dies_on_the_second_batch)
    with pytest.raises(KeyboardInterrupt):
        write_shards(model, path, 3, order=[2])
    monkeypatch.undo()
    with pytest.raises(IncompleteShardsError, match=r"shards \[2\] of 3"):
        Dataset.load(path)
    # a corrupt marker, or one of another run, counts as unfinished too
    (path / "shards" / "shard-00000-of-00003.json").write_text("{")
    marker = path / "shards" / "shard-00001-of-00003.json"
    record = json.loads(marker.read_text())
    marker.write_text(json.dumps({**record, "sharding_sha256": "0" * 64}))
    with pytest.raises(IncompleteShardsError, match=r"shards \[2\] of 3 have no completion "
                       r"marker.*markers of shards \[0, 1\] are corrupt") as err:
        Dataset.load(path)
    assert err.value.missing == [2, 0, 1]
    write_shards(model, path, 3, order=err.value.missing)
    assert_same(Dataset.load(path), expected)


@pytest.mark.parametrize("suffix", [".csv", ".parquet"])
def test_file_outputs_get_one_file_per_shard(model, tmp_path, suffix):
    if suffix == ".parquet":
        pytest.importorskip("pyarrow", reason="Parquet output needs pyarrow")
    read = pd.read_csv if suffix == ".csv" else pd.read_parquet
    whole = read(model.generate_to(tmp_path / f"all{suffix}", N, seed=SEED, batch_size=BATCH))
    parts = [model.generate_to(tmp_path / f"part{suffix}", N, seed=SEED, batch_size=BATCH,
                               shard=i, num_shards=5) for i in range(5)]
    assert [p.name for p in parts] == [f"part-{i:05d}-of-00005{suffix}" for i in range(5)]
    frames = [read(p) for p in parts]
    # 4 batches in 5 shards: shard 0 is empty, a file of the columns alone
    assert len(frames[0]) == 0 and list(frames[0].columns) == list(whole.columns)
    if suffix == ".parquet":
        assert frames[0].dtypes.to_dict() == whole.dtypes.to_dict()
    joined = pd.concat(frames[1:], ignore_index=True)
    pd.testing.assert_frame_equal(joined, whole)


def test_two_processes_write_one_run(model, expected, tmp_path):
    model.save(tmp_path / "model")
    script = textwrap.dedent(f"""
        import sys
        from doppelganger_tf import DoppelGANger
        model = DoppelGANger.load({str(tmp_path / "model")!r})
        model.generate_to({str(tmp_path / "out")!r}, {N}, seed={SEED}, batch_size={BATCH},
                          shard=int(sys.argv[1]), num_shards=2)
    """)
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2", "CUDA_VISIBLE_DEVICES": "",
           "PYTHONPATH": os.pathsep.join([ROOT, os.environ.get("PYTHONPATH", "")])}
    processes = [subprocess.Popen([sys.executable, "-c", script, str(shard)], cwd=ROOT,
                                  env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                  text=True) for shard in (1, 0)]
    for process in processes:
        _, stderr = process.communicate(timeout=120)
        assert process.returncode == 0, stderr[-3000:]
    assert_same(Dataset.load(tmp_path / "out"), expected)
