"""Loading files you did not write (issue 29, docs/untrusted_files.md).

Every entry point that reads a file someone may have sent you is given a file whose unpickling
would run code (a shell command that leaves a marker file): the load must fail with an error
naming the file, and the marker must not exist afterwards. The first test shows that these
files do run code when loaded without protection, so that the others cannot pass vacuously.
Damaged files must give a ValueError naming them too, and a hostile file must change nothing
beyond its own load: not how later loads work, not files outside the folder it came in.
"""
import hashlib
import io
import json
import os
import pickle
import re
import shlex
import shutil
import subprocess
import sys
import textwrap
import types
import zipfile
from pathlib import Path
from unittest import mock

import numpy as np
import pytest

from conftest import ROOT, run_experiment, sine_dataset, tiny_config
from doppelganger_tf.dataset import Dataset, DatasetStreamWriter
from doppelganger_tf.outputs import Output, OutputType, load_original_specs

SAVED_MODELS = Path(__file__).resolve().parent / "data" / "saved_models"
# TensorFlow's C++ log lines, which an experiment script may print before its own error
TF_LOG_LINE = re.compile(r"\S+\.(cc|h):\d+\] |^WARNING: All log messages before absl::")


# --- hostile files ------------------------------------------------------------------------------

class ShellCommand:
    """Unpickled, runs ``touch marker`` through os.system."""

    def __init__(self, marker):
        self.marker = str(marker)

    def __reduce__(self):
        return os.system, (f"touch {shlex.quote(self.marker)}",)


class PythonCode:
    """Unpickled, creates ``marker`` through builtins.exec."""

    def __init__(self, marker):
        self.marker = str(marker)

    def __reduce__(self):
        return exec, (f"open({self.marker!r}, 'w').close()",)


PAYLOADS = {"os.system": ShellCommand, "exec": PythonCode}


def hostile_pickle(marker, payload="os.system", protocol=2) -> bytes:
    """A list holding one object whose unpickling runs code, as a spec file holds a list."""
    return pickle.dumps([PAYLOADS[payload](marker)], protocol=protocol)


def hostile_npy(marker) -> bytes:
    """A .npy of an object array (the only kind that holds a pickle) whose loading runs code."""
    buffer = io.BytesIO()
    np.save(buffer, np.array([ShellCommand(marker)], dtype=object), allow_pickle=True)
    return buffer.getvalue()


def replace_npz_member(npz: Path, member: str, content: bytes) -> None:
    with zipfile.ZipFile(npz) as archive:
        members = {name: archive.read(name) for name in archive.namelist()}
    assert member in members, sorted(members)
    members[member] = content
    with zipfile.ZipFile(npz, "w") as archive:
        for name, data in members.items():
            archive.writestr(name, data)


def original_spec_pickle(**fields) -> bytes:
    """A spec file as the original release wrote it (a Python-2 protocol pickle of a list of
    ``output.Output``), of one output with these fields."""
    module = types.ModuleType("output")

    class Legacy:
        pass
    Legacy.__module__, Legacy.__qualname__ = "output", "Output"
    module.Output = Legacy
    item = Legacy()
    item.__dict__.update(fields)
    with mock.patch.dict(sys.modules, {"output": module}):  # where pickle looks the class up
        return pickle.dumps([item], protocol=2)


@pytest.fixture
def marker(tmp_path):
    return tmp_path / "code-ran"


@pytest.fixture(scope="module")
def data():
    return sine_dataset()


def test_the_hostile_files_run_code_when_loaded_without_protection(tmp_path, marker):
    for payload in PAYLOADS:
        pickle.loads(hostile_pickle(marker, payload))
        assert marker.exists(), payload
        marker.unlink()
    np.load(io.BytesIO(hostile_npy(marker)), allow_pickle=True)
    assert marker.exists()
    marker.unlink()
    # and the spec pickle of the original release that the hostile ones stand in for is read
    assert load_original_specs(original_spec_pickle(type_="DISCRETE", dim=3)) == \
        [Output(OutputType.DISCRETE, 3)]


# --- load_original_specs ------------------------------------------------------------------------

@pytest.mark.parametrize("payload", sorted(PAYLOADS))
@pytest.mark.parametrize("protocol", [2, pickle.HIGHEST_PROTOCOL])
def test_load_original_specs_refuses_a_hostile_pickle_from_a_path(tmp_path, marker, payload,
                                                                  protocol):
    file = tmp_path / "data_feature_output.pkl"
    file.write_bytes(hostile_pickle(marker, payload, protocol))
    with pytest.raises(ValueError, match=re.escape(str(file)) + r".*references \w+\.(system|exec), "
                                         "which is not part of the original"):
        load_original_specs(file)
    assert not marker.exists()


@pytest.mark.parametrize("payload", sorted(PAYLOADS))
def test_load_original_specs_refuses_a_hostile_pickle_from_bytes(marker, payload):
    with pytest.raises(ValueError, match=r"<bytes>.*references \w+\.(system|exec)"):
        load_original_specs(hostile_pickle(marker, payload))
    assert not marker.exists()


# --- Dataset.load -------------------------------------------------------------------------------

@pytest.mark.parametrize("name", ["data_feature_output.pkl", "data_attribute_output.pkl"])
def test_dataset_load_refuses_a_hostile_spec_pickle_in_the_original_layout(data, tmp_path, marker,
                                                                           name):
    data.save_original(tmp_path / "orig")
    (tmp_path / "orig" / name).write_bytes(hostile_pickle(marker))
    with pytest.raises(ValueError, match=f"{name}: the spec pickle references"):
        Dataset.load(tmp_path / "orig")
    assert not marker.exists()


@pytest.mark.parametrize("layout, file, member", [
    ("original", "data_train.npz", "data_feature"), ("original", "data_train.npz",
                                                     "data_feature_min"),
    ("ours", "data.npz", "features"), ("ours", "data.npz", "attributes"),
    ("ours", "data.npz", "feature_max")])
def test_dataset_load_refuses_an_object_array_in_an_npz_of_either_layout(data, tmp_path, marker,
                                                                         layout, file, member):
    (data.save_original if layout == "original" else data.save)(tmp_path / layout)
    replace_npz_member(tmp_path / layout / file, f"{member}.npy", hostile_npy(marker))
    with pytest.raises(ValueError, match=f"{file}: Object arrays cannot be loaded when "
                                         "allow_pickle=False"):
        Dataset.load(tmp_path / layout)
    assert not marker.exists()


@pytest.mark.parametrize("name, refusal", [
    ("features.npy", "Array can't be memory-mapped: Python objects in dtype"),  # memory-mapped
    ("gen_flags.npy", "Array can't be memory-mapped: Python objects in dtype"),
    ("feature_min.npy", "Object arrays cannot be loaded when allow_pickle=False"),  # in memory
])
def test_dataset_load_refuses_an_object_array_in_the_streamed_layout(data, tmp_path, marker, name,
                                                                     refusal):
    with DatasetStreamWriter(tmp_path / "streamed", len(data)) as writer:
        writer.append(data)
    (tmp_path / "streamed" / name).write_bytes(hostile_npy(marker))
    with pytest.raises(ValueError, match=f"cannot read .*{re.escape(name)}: {re.escape(refusal)}"):
        Dataset.load(tmp_path / "streamed")
    assert not marker.exists()


def huge_npy_header(shape) -> bytes:
    """A float32 .npy header declaring ``shape``, followed by a few bytes of data."""
    buffer = io.BytesIO()
    np.lib.format.write_array_header_2_0(buffer, {"descr": "<f4", "fortran_order": False,
                                                  "shape": shape})
    return buffer.getvalue() + bytes(64)


def test_a_memory_mapped_array_declaring_more_than_its_file_holds_is_refused(data, tmp_path):
    with DatasetStreamWriter(tmp_path / "streamed", len(data)) as writer:
        writer.append(data)
    (tmp_path / "streamed" / "features.npy").write_bytes(huge_npy_header((10 ** 13, 8, 3)))
    with pytest.raises(ValueError, match="cannot read .*features.npy"):
        Dataset.load(tmp_path / "streamed")


@pytest.mark.parametrize("layout", ["ours", "original", "streamed"])
def test_an_array_read_into_memory_declaring_more_than_can_be_allocated_is_a_value_error(
        data, tmp_path, layout):
    # ~1 PB: beyond any machine's address space, so the allocation would fail at once
    huge = huge_npy_header((10 ** 13, 8, 3))
    if layout == "ours":
        data.save(tmp_path / layout)
        name = "data.npz"
        replace_npz_member(tmp_path / layout / name, "features.npy", huge)
    elif layout == "original":
        data.save_original(tmp_path / layout)
        name = "data_train.npz"
        replace_npz_member(tmp_path / layout / name, "data_feature_min.npy", huge)
    else:
        with DatasetStreamWriter(tmp_path / layout, len(data)) as writer:
            writer.append(data)
        name = "feature_min.npy"
        (tmp_path / layout / name).write_bytes(huge)
    with pytest.raises(ValueError, match=f"cannot read .*{re.escape(name)}: .*declares a float32 "
                                         r"array of shape \(10000000000000, 8, 3\) .* but holds "
                                         "64 bytes"):
        Dataset.load(tmp_path / layout)


@pytest.mark.parametrize("layout", ["ours", "streamed"])
def test_an_array_that_does_not_fit_in_memory_is_a_value_error_naming_its_file(data, tmp_path,
                                                                               layout):
    """What the size check above leaves to numpy (an array genuinely that large, e.g. zeros
    compressed 1000:1) fails naming the file too."""
    directory = tmp_path / layout
    if layout == "ours":
        data.save(directory)
        file = directory / "data.npz"
    else:
        with DatasetStreamWriter(directory, len(data)) as writer:
            writer.append(data)
        file = directory / "features.npy"  # the first read
    with mock.patch("numpy.load", side_effect=MemoryError):
        with pytest.raises(ValueError, match=f"cannot read {re.escape(str(file))}: .*more "
                                             "memory than this machine can allocate"):
            Dataset.load(directory)


@pytest.mark.parametrize("name, damage", [
    ("data_train.npz", lambda content: content[:len(content) // 2]),
    ("data_feature_output.pkl", lambda content: content[:len(content) // 2]),
    ("data_attribute_output.pkl", lambda content: b"not a pickle at all"),
])
def test_a_damaged_file_of_the_original_layout_is_a_value_error_naming_it(data, tmp_path, name,
                                                                          damage):
    data.save_original(tmp_path / "orig")
    file = tmp_path / "orig" / name
    file.write_bytes(damage(file.read_bytes()))
    with pytest.raises(ValueError, match=f"cannot read .*{re.escape(name)}"):
        Dataset.load(tmp_path / "orig")


@pytest.mark.parametrize("fields", [dict(type_="DISCRETE", dim="three"),
                                    dict(type_="DISCRETE", dim=[3]),
                                    dict(type_=["DISCRETE"], dim=3)],
                         ids=["dim-text", "dim-list", "type-list"])
def test_a_spec_pickle_with_a_field_of_the_wrong_type_is_a_value_error_naming_the_file(
        tmp_path, fields):
    file = tmp_path / "data_attribute_output.pkl"
    file.write_bytes(original_spec_pickle(**fields))
    with pytest.raises(ValueError, match=re.escape(str(file))):
        load_original_specs(file)


@pytest.mark.parametrize("file", ["specs.json", "sharding.json"])
def test_a_damaged_json_file_of_a_dataset_is_a_value_error_naming_it(data, tmp_path, file):
    with DatasetStreamWriter(tmp_path / "streamed", len(data)) as writer:
        writer.append(data)
    if file == "specs.json":
        content = "[" * 100_000 + "]" * 100_000
    else:
        content = json.dumps({"format": "doppelganger_tf-sharded-dataset", "version": 1,
                              "num_shards": "two", "n": len(data)})
    (tmp_path / "streamed" / file).write_text(content)
    with pytest.raises(ValueError, match=re.escape(file)):
        Dataset.load(tmp_path / "streamed")


# pickle opcodes: sets an attribute of the unpickler's stand-in for output.Output (BUILD with
# slot state on the class itself), then returns an empty list
_SETS_A_STAND_IN_ATTRIBUTE = (b"\x80\x02" b"coutput\nOutput\n" b"N}" b"X\x10\x00\x00\x00"
                              b"__getattribute__" b"ccopy_reg\n_reconstructor\n" b"s\x86b0].")


def test_a_hostile_spec_pickle_cannot_change_how_later_ones_load(tmp_path):
    # in a process of its own: the change it makes would outlive the test
    script = textwrap.dedent(f"""
        from doppelganger_tf.outputs import (Normalization, Output, OutputType,
                                             dump_original_specs, load_original_specs)
        try:
            load_original_specs({_SETS_A_STAND_IN_ATTRIBUTE!r})
        except ValueError:
            pass
        genuine = [Output(OutputType.CONTINUOUS, 1, Normalization.ZERO_ONE)]
        assert load_original_specs(dump_original_specs(genuine)) == genuine
    """)
    result = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True,
                            text=True, timeout=120)
    assert result.returncode == 0, result.stderr[-2000:]


# --- DoppelGANger.load and TrainingCheckpoint.restore -------------------------------------------

@pytest.fixture(scope="module")
def saved_model(tmp_path_factory):
    """(a model saved by this version, with its weights digest in model.json; the model)."""
    from doppelganger_tf import DoppelGANger
    model = DoppelGANger.load(SAVED_MODELS / "reference" / "model")
    directory = tmp_path_factory.mktemp("saved") / "model"
    model.save(directory)
    assert "weights_sha256" in json.loads((directory / "model.json").read_text())
    return directory, model


def hostile_model(saved_model, tmp_path, marker) -> Path:
    """A copy of the saved model whose first weight is an object array that runs code."""
    directory = tmp_path / "model"
    shutil.copytree(saved_model[0], directory)
    weights = directory / "model.weights.npz"
    with zipfile.ZipFile(weights) as archive:
        first = archive.namelist()[0]
    replace_npz_member(weights, first, hostile_npy(marker))
    return directory


@pytest.mark.parametrize("recorded", ["updated to match", "absent, as in saves before it"])
def test_doppelganger_load_refuses_an_object_array_in_weights_that_pass_the_digest_check(
        saved_model, tmp_path, marker, recorded):
    from doppelganger_tf import DoppelGANger
    directory = hostile_model(saved_model, tmp_path, marker)
    payload = json.loads((directory / "model.json").read_text())
    if recorded == "updated to match":
        content = (directory / "model.weights.npz").read_bytes()
        payload["weights_sha256"] = hashlib.sha256(content).hexdigest()
    else:
        del payload["weights_sha256"]
    (directory / "model.json").write_text(json.dumps(payload))
    with pytest.raises(ValueError, match="model.weights.npz is damaged .*Object arrays cannot "
                                         "be loaded when allow_pickle=False"):
        DoppelGANger.load(directory)
    assert not marker.exists()


def test_doppelganger_load_refuses_weights_declaring_more_than_they_hold(saved_model, tmp_path):
    from doppelganger_tf import DoppelGANger
    directory = tmp_path / "model"
    shutil.copytree(saved_model[0], directory)
    weights = directory / "model.weights.npz"
    with zipfile.ZipFile(weights) as archive:
        first = archive.namelist()[0]
    replace_npz_member(weights, first, huge_npy_header((10 ** 13, 8, 3)))
    payload = json.loads((directory / "model.json").read_text())
    payload["weights_sha256"] = hashlib.sha256(weights.read_bytes()).hexdigest()
    (directory / "model.json").write_text(json.dumps(payload))
    with pytest.raises(ValueError, match=f"model.weights.npz is damaged: its member "
                                         f"{re.escape(first)} declares a float32 array"):
        DoppelGANger.load(directory)


def test_doppelganger_load_refuses_hostile_weights_swapped_in_by_their_digest(
        saved_model, tmp_path, marker):
    from doppelganger_tf import DoppelGANger
    directory = hostile_model(saved_model, tmp_path, marker)
    with pytest.raises(ValueError, match="model.weights.npz is not the weights file saved with "
                                         ".*SHA-256"):
        DoppelGANger.load(directory)
    assert not marker.exists()


@pytest.mark.parametrize("where", ["as the whole file", "inside a dataset"])
def test_doppelganger_load_of_a_format_1_model_unpickles_nothing_from_its_h5_file(
        tmp_path, marker, where):
    import h5py

    from doppelganger_tf import DoppelGANger
    directory = tmp_path / "model"
    shutil.copytree(SAVED_MODELS / "format1" / "model", directory)
    weights = directory / "model.weights.h5"
    if where == "as the whole file":
        weights.write_bytes(hostile_pickle(marker))
        message = "model.weights.h5 is damaged"
    else:
        with h5py.File(weights, "r+") as stored:
            name = "layers/critic/hidden/dense/vars/0"
            del stored[name]
            stored[name] = np.void(hostile_pickle(marker))  # opaque bytes; h5py returns them
        message = "model.weights.h5: no group of weights fits the model's critic"
    with pytest.raises(ValueError, match=message):
        DoppelGANger.load(directory)
    assert not marker.exists()


def test_a_too_deeply_nested_model_json_is_a_value_error_naming_it(saved_model, tmp_path):
    from doppelganger_tf import DoppelGANger
    directory = tmp_path / "model"
    shutil.copytree(saved_model[0], directory)
    (directory / "model.json").write_text("[" * 100_000 + "]" * 100_000)
    with pytest.raises(ValueError, match="model.json"):
        DoppelGANger.load(directory)


def test_training_checkpoint_restore_refuses_a_pickle_in_place_of_a_checkpoint(
        saved_model, tmp_path, marker):
    from doppelganger_tf import TrainingCheckpoint
    directory = tmp_path / "ckpt"
    directory.mkdir()
    for name in ("checkpoint", "ckpt-1.index", "ckpt-1.data-00000-of-00001"):
        (directory / name).write_bytes(hostile_pickle(marker))
    with pytest.raises(ValueError, match="no intact checkpoint in .*ckpt-1.index is unreadable"):
        TrainingCheckpoint(directory).restore(saved_model[1])
    assert not marker.exists()


@pytest.mark.parametrize("resume", ["restore", "fit alone"])
def test_a_checkpoint_index_naming_files_elsewhere_cannot_get_them_deleted(data, tmp_path,
                                                                          resume):
    import tensorflow as tf

    from doppelganger_tf import DoppelGANger, TrainingCheckpoint
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    for name in ("notes.index", "other-run.data-00000-of-00001"):
        (elsewhere / name).write_text("not this run's")
    tf.keras.utils.set_random_seed(0)
    model = DoppelGANger.from_dataset(data, tiny_config(), seed=0)
    model.compile()
    directory = tmp_path / "ckpt"
    model.fit(data, epochs=1, callbacks=[TrainingCheckpoint(directory)], verbose=0)
    # the index file as a sender could write it: its own checkpoint last, before it a glob
    # pattern and a path relative to the directory that leads out of it
    state = directory / "checkpoint"
    recorded = re.findall(r"all_model_checkpoint_timestamps: (\S+)", state.read_text())
    newest = float(recorded[-1])
    state.write_text("\n".join(
        [f'model_checkpoint_path: "{directory / "ckpt-1"}"']
        + [f'all_model_checkpoint_paths: "{p}"'
           for p in (elsewhere / "*", "../elsewhere/other-run", directory / "ckpt-1")]
        + [f"all_model_checkpoint_timestamps: {newest - 3 + i}" for i in range(3)]
        + [f"last_preserved_timestamp: {newest - 100}"]) + "\n")
    checkpoint = TrainingCheckpoint(directory)
    named = (f"index file {re.escape(str(state))} lists .*{re.escape(str(elsewhere))}.*"
             "not ckpt-N checkpoints of ")
    if resume == "restore":
        with pytest.warns(RuntimeWarning, match=named + ".*Restored .*ckpt-1, .*wrote a new "
                                                        "index file"):
            assert checkpoint.restore(model) == 1
        model.fit(data, epochs=2, initial_epoch=1, callbacks=[checkpoint], verbose=0)
        kept = ["ckpt-1.index", "ckpt-2.index"]
    else:  # its first save reads the index
        with pytest.warns(RuntimeWarning, match=named + ".*wrote a new index file"):
            model.fit(data, epochs=3, initial_epoch=1, callbacks=[checkpoint], verbose=0)
        kept = ["ckpt-2.index", "ckpt-3.index"]  # ckpt-1 pruned as usual
    assert sorted(p.name for p in elsewhere.iterdir()) == \
        ["notes.index", "other-run.data-00000-of-00001"]
    assert sorted(p.name for p in directory.iterdir() if p.name.endswith(".index")) == kept


# --- command lines ------------------------------------------------------------------------------

def one_line_of_our_own(stderr: str):
    return [line for line in stderr.splitlines() if line.strip() and not TF_LOG_LINE.search(line)]


@pytest.mark.parametrize("flag", ["--real", "--synthetic"])
def test_the_evaluate_command_refuses_a_hostile_dataset_in_one_line(data, tmp_path, marker, flag):
    data.save(tmp_path / "genuine")
    if flag == "--real":  # the original layout with a hostile spec pickle
        hostile = tmp_path / "hostile"
        data.save_original(hostile)
        (hostile / "data_feature_output.pkl").write_bytes(hostile_pickle(marker))
        refusal = f"cannot read original output specs from {hostile / 'data_feature_output.pkl'}"
    else:  # our layout with an object array
        hostile = tmp_path / "hostile"
        data.save(hostile)
        replace_npz_member(hostile / "data.npz", "features.npy", hostile_npy(marker))
        refusal = f"{hostile / 'data.npz'}: Object arrays cannot be loaded"
    paths = {"--real": tmp_path / "genuine", "--synthetic": tmp_path / "genuine", flag: hostile}
    result = subprocess.run(
        [sys.executable, "-m", "doppelganger_tf.evaluate", "--real", str(paths["--real"]),
         "--synthetic", str(paths["--synthetic"]), "--output", str(tmp_path / "report")],
        cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert result.returncode == 1, result.stderr[-2000:]
    lines = one_line_of_our_own(result.stderr)
    assert len(lines) == 1, result.stderr[-2000:]
    assert lines[0].startswith(f"doppelganger_tf.evaluate: error: {flag}: "), lines[0]
    assert refusal in lines[0]
    assert not marker.exists()
    assert not (tmp_path / "report").exists()


def test_an_experiments_data_flag_refuses_a_hostile_dataset_in_one_line(data, tmp_path, marker):
    hostile = tmp_path / "hostile"
    data.save_original(hostile)
    (hostile / "data_attribute_output.pkl").write_bytes(hostile_pickle(marker))
    out = tmp_path / "out"
    result = run_experiment("wwt.py", "--data", str(hostile), "--output", str(out), check=False,
                            timeout=300)
    assert result.returncode == 1, result.stderr[-2000:]
    lines = one_line_of_our_own(result.stderr)
    assert len(lines) == 1, result.stderr[-2000:]
    assert lines[0].startswith("wwt.py: error: cannot read original output specs from "
                               f"{hostile / 'data_attribute_output.pkl'}: the spec pickle "
                               "references"), lines[0]
    assert not marker.exists()
    assert not out.exists()


def test_a_sharding_description_declaring_a_billion_shards_is_checked_at_once(tmp_path):
    """check_complete lists the markers present instead of probing every declared shard."""
    import time

    from doppelganger_tf import sharded_storage
    path = tmp_path / "sharded"
    (path / sharded_storage.SHARDS_DIR).mkdir(parents=True)
    (path / sharded_storage.SHARDING_FILE).write_text(json.dumps({
        "format": sharded_storage.FORMAT_NAME, "version": sharded_storage.FORMAT_VERSION,
        "num_shards": 10**9, "n": 10**9}))
    started = time.perf_counter()
    with pytest.raises(sharded_storage.IncompleteShardsError,
                       match=r"shards \[0, 1, .*999\] \(and 999999000 more\) of 1000000000"):
        sharded_storage.check_complete(path)
    assert time.perf_counter() - started < 5
