"""A hostile but fair user (issue 29): runaway generations refused before any work, writes
under a file or onto a full disk with clear errors, a damaged or mismatched model.json refused
at load, an untrained model's output flagged, arguments that cannot work refused where given."""
import json
import subprocess
import sys
import textwrap
import warnings

import numpy as np
import pandas as pd
import pytest

from doppelganger_tf import DoppelGANger, FidelityTracker, TrainingTimeLimit, resources
from doppelganger_tf.evaluation import evaluate

from conftest import toy_config


@pytest.fixture(scope="module")
def trained(toy):
    model = DoppelGANger.from_dataset(toy, toy_config(), seed=0)
    model.compile()
    model.fit(toy, epochs=1, seed=0, verbose=0)
    return model


def untrained_model(toy):
    model = DoppelGANger.from_dataset(toy, toy_config(), seed=0)
    model.compile()
    return model


# --- an untrained model ---------------------------------------------------------------------------

def test_generating_from_an_untrained_model_warns_and_a_trained_one_does_not(toy, trained,
                                                                            tmp_path):
    model = untrained_model(toy)
    assert model.training_steps == 0
    for generate in (lambda m: m.generate(3, seed=0),
                     lambda m: m.generate_to(tmp_path / "g.csv", 3, seed=0)):
        with pytest.warns(UserWarning, match="has not been trained.*fit"):
            generate(model)
    model.save(tmp_path / "untrained")
    with pytest.warns(UserWarning, match="has not been trained"):
        DoppelGANger.load(tmp_path / "untrained").generate(3, seed=0)

    assert trained.training_steps == 3  # 60 series / batch 20
    trained.save(tmp_path / "trained")
    loaded = DoppelGANger.load(tmp_path / "trained")
    assert loaded.training_steps == 3
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        trained.generate(3, seed=0)
        loaded.generate(3, seed=0)


# --- runaway work ---------------------------------------------------------------------------------

def test_a_generation_larger_than_memory_is_refused_before_any_work(trained, monkeypatch):
    # 10**9 samples of T=12 x (2 features + flags) + 4 attribute columns: ~149 GiB
    with pytest.raises(resources.NotEnoughMemory,
                       match=r"generate\(n=1000000000\) needs about 149.0 GiB .* available: "
                             r"generate_to"):
        trained.generate(10**9)
    monkeypatch.setattr(resources, "available_memory", lambda: 10_000)
    with pytest.raises(resources.NotEnoughMemory, match=r"about 15.6 KiB .* 9.8 KiB"):
        trained.generate(100)  # 100 x (12 x 3 + 4) x 4 bytes = 16,000
    assert len(trained.generate(50, seed=0)) == 50  # 7.8 KiB fits


@pytest.mark.parametrize("target, shards", [("out", None), ("out.csv", None),
                                            ("out.parquet", None), ("out", (0, 2)),
                                            ("out.csv", (1, 2))])
def test_every_writer_refuses_a_run_larger_than_the_free_disk_space(trained, tmp_path,
                                                                    monkeypatch, target, shards):
    if target.endswith(".parquet"):
        pytest.importorskip("pyarrow")
    monkeypatch.setattr(resources, "free_disk", lambda path: 50_000)
    sharding = {} if shards is None else {"shard": shards[0], "num_shards": shards[1]}
    with pytest.raises(resources.NotEnoughDisk,
                       match=r"would write about .* to .*out.* and its filesystem has 48.8 KiB "
                             "free"):
        trained.generate_to(tmp_path / target, 20_000, seed=0, batch_size=100, **sharding)
    assert list(tmp_path.iterdir()) == []  # nothing written, not even a temporary
    trained.generate_to(tmp_path / target, 20, seed=0, **sharding)  # a small run fits


# --- paths ----------------------------------------------------------------------------------------

def test_writing_under_a_file_names_the_file(trained, toy, tmp_path):
    blocker = tmp_path / "a_file"
    blocker.write_text("x")
    writers = {"generate_to dir": lambda p: trained.generate_to(p, 3, seed=0),
               "generate_to csv": lambda p: trained.generate_to(p.with_suffix(".csv"), 3),
               "model.save": trained.save, "Dataset.save": toy.save}
    for name, write in writers.items():
        with pytest.raises(NotADirectoryError, match=f"{blocker} is a file, not a folder"):
            write(blocker / "sub" / "out")


def test_generate_to_refuses_a_suffix_it_does_not_write_and_honours_overwrite(trained, tmp_path):
    with pytest.raises(ValueError, match=r"ends in '.txt': rename it \(e.g. .*out.csv\)"):
        trained.generate_to(tmp_path / "out.txt", 3)
    assert not (tmp_path / "out.txt").exists()
    csv = trained.generate_to(tmp_path / "out.csv", 3, seed=0)
    directory = trained.generate_to(tmp_path / "out", 3, seed=0)
    for path in (csv, directory):
        with pytest.raises(FileExistsError, match="exists: pass overwrite=True"):
            trained.generate_to(path, 3, seed=1, overwrite=False)
        trained.generate_to(path, 3, seed=1)  # replaced, as model.save replaces by default
    trained.save(tmp_path / "model")
    with pytest.raises(FileExistsError, match="overwrite=True"):
        trained.save(tmp_path / "model", overwrite=False)


def test_a_conditioning_frame_with_columns_the_model_lacks_warns(trained, toy):
    attributes = toy.attribute_values().head(4).assign(sise=1.0)
    with pytest.warns(UserWarning, match=r"columns \['sise'\] are not attributes"):
        trained.generate(attributes=attributes, seed=0)


def test_a_save_onto_a_full_disk_says_so_and_keeps_the_previous_model(trained, tmp_path):
    trained.save(tmp_path / "model")
    before = (tmp_path / "model" / "model.weights.npz").read_bytes()
    # a file size limit stands in for a full disk (the same errno path: the write fails)
    script = textwrap.dedent(f"""
        import resource, sys
        sys.path.insert(0, {str(tmp_path.parent.parent)!r})
        from doppelganger_tf import DoppelGANger
        model = DoppelGANger.load({str(tmp_path / "model")!r})
        resource.setrlimit(resource.RLIMIT_FSIZE, (2000, 2000))
        try:
            model.save({str(tmp_path / "model")!r})
        except OSError as error:
            print("ERROR", error)
    """)
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                            timeout=300)
    line = [l for l in result.stdout.splitlines() if l.startswith("ERROR")]
    assert line, result.stdout + result.stderr
    assert "file size limit was reached" in line[0]
    assert "previous version of" in line[0] and "is intact" in line[0]
    assert "seek of closed file" not in result.stderr
    assert (tmp_path / "model" / "model.weights.npz").read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model"]  # no temporary left
    DoppelGANger.load(tmp_path / "model").generate(2, seed=0)


# --- a saved model's files ------------------------------------------------------------------------

@pytest.mark.parametrize("key, change, message", [
    ("feature_max", lambda v: v[:-1], r"feature_max has shape \(1,\), expected \(2,\)"),
    ("attribute_min", lambda v: v + [0.0], r"attribute_min has shape \(5,\), expected \(4,\)"),
    ("feature_min", lambda v: [float("nan")] * len(v), "feature_min holds NaN"),
    ("feature_max", lambda v: [-10.0] * len(v), "feature_max must exceed feature_min")])
def test_a_model_json_whose_arrays_do_not_fit_its_specs_is_refused_at_load(
        trained, tmp_path, key, change, message):
    trained.save(tmp_path / "model")
    path = tmp_path / "model" / "model.json"
    payload = json.loads(path.read_text())
    payload["scaling"][key] = change(payload["scaling"][key])
    path.write_text(json.dumps(payload))
    with pytest.raises(ValueError, match=f"model.json is damaged: {message}"):
        DoppelGANger.load(tmp_path / "model")


def test_a_weights_file_from_another_model_of_the_same_shapes_is_refused(toy, trained, tmp_path):
    other = untrained_model(toy)
    other.fit(toy, epochs=1, seed=1, verbose=0)
    trained.save(tmp_path / "a")
    other.save(tmp_path / "b")
    (tmp_path / "a" / "model.weights.npz").write_bytes(
        (tmp_path / "b" / "model.weights.npz").read_bytes())
    with pytest.raises(ValueError, match=r"model.weights.npz is not the weights file saved with "
                                         r".*model.json \(its SHA-256 differs"):
        DoppelGANger.load(tmp_path / "a")
    # an older model.json, without the digest and the step count, loads as before
    path = tmp_path / "a" / "model.json"
    payload = json.loads(path.read_text())
    del payload["weights_sha256"], payload["training_steps"]
    path.write_text(json.dumps(payload))
    assert DoppelGANger.load(tmp_path / "a").training_steps is None


# --- arguments refused where they are given ------------------------------------------------------

def test_a_tracker_reference_of_other_specs_names_the_differences(trained, toy):
    rng = np.random.default_rng(0)
    from doppelganger_tf import Dataset
    others = [Dataset.from_arrays(rng.normal(size=(30, 12, 1)),
                                  pd.DataFrame({"k": rng.choice(["x", "y"], 30)}),
                                  discrete_attributes=["k"]),
              Dataset.from_arrays(rng.normal(size=(30, 12, 2)), None)]
    for reference in others:
        with pytest.raises(ValueError, match=r"reference= does not match the model: its "
                                             r"feature outputs .* Take the held-out set"):
            trained.fit(toy, epochs=1, verbose=0,
                        callbacks=[FidelityTracker(reference=reference, every=1)])


def test_evaluate_given_dataframes_says_to_pass_datasets(toy):
    frame = toy.to_dataframe()
    with pytest.raises(TypeError, match="real is a DataFrame. Pass Datasets"):
        evaluate(frame, frame)
    with pytest.raises(TypeError, match="synthetic is a DataFrame"):
        evaluate(toy, frame)


@pytest.mark.parametrize("seconds", [float("inf"), float("nan"), 0, -1])
def test_a_time_limit_must_be_finite_and_positive(seconds):
    with pytest.raises(ValueError, match="finite, positive number of seconds"):
        TrainingTimeLimit(seconds)
