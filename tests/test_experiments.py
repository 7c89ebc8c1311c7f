"""The experiment scripts run end to end (tiny epoch counts on top of their quick flagfiles)."""
import json
import math
import re

import numpy as np
import pytest

from conftest import ROOT, run_experiment

MODELS = {"dg", "hmm", "ar", "rnn", "naive_gan"}


def test_mba_quick_configuration_on_real_data(shared_data, tmp_path):
    out = tmp_path / "mba"
    run_experiment("mba.py", "--flagfile", str(ROOT / "experiments/flags/mba_quick.flags"),
                   "--data", str(shared_data / "fcc_mba"), "--output", str(out),
                   "--epochs=2", "--baseline_epochs=1", "--log_every=1")
    results = json.loads((out / "results.json").read_text())
    assert set(results["models"]) == MODELS | {"real halves"}
    for name in MODELS:
        row = results["models"][name]
        # NaN when a barely trained model generates no home of that technology
        for key in ("w1_total_traffic_dsl", "w1_total_traffic_cable"):
            assert math.isnan(row[key]) or row[key] >= 0
        assert 0 <= row["jsd_attribute_1"] <= 1
        assert row["wall_time_s"] > 0
    table = (out / "results.md").read_text()
    assert "w1_total_traffic_dsl" in table and "| naive_gan |" in table
    for figure in ["figure1_autocorrelation.png", "table2_total_traffic_cdf_dsl.png",
                   "figure21_nearest_neighbours_dg.png"]:
        assert (out / figure).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert (out / "dg" / "model" / "model.json").exists()
    # each model's evaluate report, its figures beside the real-vs-real floor
    report = json.loads((out / "hmm" / "report" / "report.json").read_text())
    assert report["metrics"]["acf"]["acf_mse/feature_0"]["floor"] > 0

    # --resume reuses finished models and continues DG from its checkpoint
    resumed = run_experiment(
        "mba.py", "--flagfile", str(ROOT / "experiments/flags/mba_quick.flags"),
        "--data", str(shared_data / "fcc_mba"), "--output", str(out), "--epochs=3",
        "--baseline_epochs=1", "--models=dg,hmm", "--log_every=1", "--resume")
    assert "resuming after epoch 2" in resumed.stderr
    assert "hmm: reusing" in resumed.stderr


def test_mba_1200s_configuration_keeps_the_best_tracked_epoch(shared_data, tmp_path):
    """The recommended MBA run's tracker: the figures it keeps the best epoch by exist on the
    real data (a wrong key is an error before the first step), and the kept epoch is the one
    with the lowest mean ratio of them to their targets (0.005, 0.30, 0.30) after the warm-up
    (10% of the 3 epochs: the first)."""
    out = tmp_path / "mba"
    run_experiment("mba.py", "--flagfile", str(ROOT / "experiments/flags/mba_1200s.flags"),
                   "--data", str(shared_data / "fcc_mba"), "--output", str(out),
                   "--epochs=3", "--track_every=1", "--track_samples=700", "--models=dg",
                   "--log_every=1")
    track = json.loads((out / "dg" / "fidelity_track.json").read_text())
    keys = ["acf_mse/feature_0", "w1_total/feature_0/attribute_1=0",
            "w1_total/feature_0/attribute_1=3"]
    figures = np.array([track[key] for key in keys])
    assert figures.shape == (3, 3)
    combined = (figures / np.array([[0.005], [0.30], [0.30]])).mean(axis=0)
    np.testing.assert_allclose(track["keep_best_target_ratio"], combined, rtol=1e-9)
    assert track["best_epoch"] == 2 + int(np.nanargmin(combined[1:]))


def test_wwt_quick_configuration_on_embedded_data(tmp_path):
    out = tmp_path / "wwt"
    result = run_experiment(
        "wwt.py", "--flagfile", str(ROOT / "experiments/flags/wwt_quick.flags"),
        "--output", str(out), "--synthetic_samples=60", "--synthetic_length=70",
        "--epochs=2", "--baseline_epochs=1", "--models=dg,hmm",
        "--forecast_history=50", "--forecast_horizon=10",
        "--track_every=1", "--track_metrics=acf,mean", "--keep_best=auto",
        "--keep_best_warmup=0", "--max_train_seconds=600", "--generator_average_decay=0.9")
    # --suggested_settings: what the suggestion chose on the 60 pages of 70 days, except the
    # flags given (here --epochs and --generator_average_decay), logged and in settings.json
    settings = json.loads((out / "dg" / "settings.json").read_text())
    assert settings["suggested_settings"]
    suggestion = settings["suggestion"]
    assert suggestion["taken"] == {"sample_len": 7, "auto_normalize": True, "aux_critic": True,
                                   "batch_size": 60}
    assert suggestion["given"] == {"generator_average_decay": 0.9, "epochs": 2}
    config = settings["config"]
    assert (config["sample_len"], config["auto_normalize"], config["use_aux_critic"],
            config["generator_average_decay"], config["batch_size"]) == (7, True, True, 0.9, 60)
    assert settings["epochs"] == 2 and settings["max_train_seconds"] == 600
    assert suggestion["seconds"] == 600  # the suggestion for the time budget given
    assert "lag 7" in suggestion["reasons"]["sample_len=7"]
    assert "Suggested settings:" in result.stderr and "sample_len=7: " in result.stderr
    assert "suggested settings taken: --sample_len=7" in result.stderr
    track = json.loads((out / "dg" / "fidelity_track.json").read_text())
    assert track["epochs"] == [1, 2] and len(track["acf_mse/views"]) == 2
    assert "w1_midrange/views" not in track  # the families asked for, and auto's
    keys = track["keep_best_keys"]
    assert keys[:3] == ["acf_mse/views", "w1_mean/views", "flat/views"] and "jsd/domain" in keys
    for key in keys:
        np.testing.assert_allclose(track[f"ratio/{key}"],
                                   np.array(track[key]) / track["floors"][key], rtol=1e-9)
    combined = np.mean([track[f"ratio/{key}"] for key in keys], axis=0)
    np.testing.assert_allclose(track["keep_best_floor_ratio"], combined, rtol=1e-9)
    assert track["best_epoch"] == 1 + int(np.argmin(combined))
    results = json.loads((out / "results.json").read_text())
    assert set(results["models"]) == {"dg", "hmm", "real (held-out)"}
    assert "autocorrelation_mse" in results["models"]["dg"]
    assert results["models"]["real (held-out)"]["forecast_r2_linear_regression"] > -1
    # the table says why a cell is blank
    assert ("- real (held-out): wall_time_s -: real data: nothing was trained or generated"
            in (out / "results.md").read_text())
    assert (out / "figure1_autocorrelation.png").exists()


def test_suggested_settings_build_the_synthetic_data_at_the_length_they_need(tmp_path):
    """--suggested_settings without --synthetic_length: the 550 default days become 553 for the
    suggested S=7; the choices that follow --auto_normalize and --batch_size (the auxiliary
    critic, the epochs) follow the values given; the weight average depends on neither.
    Stopped by an unknown --views_feature after the suggestion, before any training."""
    out = tmp_path / "out"
    result = run_experiment("wwt.py", "--suggested_settings", "--synthetic_samples=50",
                            "--noauto_normalize", "--batch_size=25", "--views_feature=bogus",
                            "--output", str(out), check=False)
    assert result.returncode == 1 and not out.exists()
    log = result.stderr
    assert "sample_len=7 needs T=553; building the data with --synthetic_length=553" in log
    assert "lag 7" in log and "79 LSTM steps, T=553" in log
    assert ("suggested settings taken: --sample_len=7, --aux_critic=False, "
            "--generator_average_decay=0.98, --epochs=2500; given: --auto_normalize=False, "
            "--batch_size=25") in log
    assert "[not taken: --auto_normalize=False given]" in log


def test_sample_len_sweep_picks_a_divisor(tmp_path):
    from doppelganger_tf.synthetic import wwt_like_dataset
    wwt_like_dataset(40, 20, seed=0).save(tmp_path / "data")
    out = tmp_path / "sweep"
    result = run_experiment("sample_len_sweep.py", "--data", str(tmp_path / "data"),
                            "--output", str(out), "--sample_lens=3,5,10", "--epochs=1",
                            "--batch_size=20")
    sweep = json.loads((out / "sweep.json").read_text())
    assert set(sweep["rows"]) == {"S=5", "S=10"}  # 3 does not divide T=20: skipped
    assert sweep["best_sample_len"] in (5, 10)
    assert f"best sample_len: {sweep['best_sample_len']}" in result.stdout
    assert (out / "figure4_sample_len.png").exists()


def gcut_like(n, seed):
    """Variable-length usage series whose end event shifts their level (GCUT's schema)."""
    import numpy as np
    import pandas as pd

    from doppelganger_tf import Dataset
    rng = np.random.default_rng(seed)
    events = rng.choice(["FAIL", "KILL", "EVICT", "FINISH"], size=n)
    lengths = rng.integers(2, 21, size=n)
    level = pd.Series(events).map({"FAIL": 0.1, "KILL": 0.3, "EVICT": 0.6, "FINISH": 0.9})
    values = level.to_numpy()[:, None, None] + 0.05 * rng.normal(size=(n, 20, 2))
    return Dataset.from_arrays(values, pd.DataFrame({"end_event_type": events}),
                               feature_names=["cpu_rate", "canonical_memory_usage"],
                               discrete_attributes=["end_event_type"], lengths=lengths)


def test_gcut_quick_configuration(tmp_path):
    gcut_like(60, 0).save(tmp_path / "train")
    gcut_like(40, 1).save(tmp_path / "test")
    out = tmp_path / "gcut"
    run_experiment("gcut.py", "--flagfile", str(ROOT / "experiments/flags/gcut_quick.flags"),
                   "--data", str(tmp_path / "train"), "--test_data", str(tmp_path / "test"),
                   "--output", str(out), "--epochs=1", "--baseline_epochs=1",
                   "--models=dg,hmm", "--batch_size=20")
    results = json.loads((out / "results.json").read_text())
    assert set(results["models"]) == {"dg", "hmm", "real halves"}
    # trained on the real data, a decision tree separates the four levels
    assert results["models"]["real halves"]["accuracy_decision_tree"] > 0.8
    assert "ranking_spearman" in results["models"]["hmm"]
    assert 0 <= results["models"]["dg"]["length_jsd"] <= 1
    for figure in ["figure9_length_hist.png", "figure13_classifier_accuracy.png"]:
        assert (out / figure).exists()


# TensorFlow's C++ logging at import, whatever TF_CPP_MIN_LOG_LEVEL says: TF 2.15 prints
# "<date>: E external/.../cuda_dnn.cc:9261] Unable to register cuDNN factory", TF 2.21
# "I0000 00:00:... port.cc:153] oneDNN ..." after "WARNING: All log messages before
# absl::InitializeLog() ...".  Our own log lines name .py files.
TF_LOG_LINE = re.compile(r"\S+\.(cc|h):\d+\] |^WARNING: All log messages before absl::")


@pytest.mark.parametrize("script, args, message", [
    # a flag value only the script can check (absl rejects --epochs=0 the same way)
    ("wwt.py", ["--models=dg,bogus"],
     "wwt.py: error: --models names ['bogus']; choose from dg, hmm, ar, rnn, naive_gan"),
    ("mba.py", ["--data", "{tmp}/missing"], "mba.py: error: no saved dataset at {tmp}/missing"),
    # the suggested S=7 needs 553 days; the length given is kept
    ("wwt.py", ["--suggested_settings", "--synthetic_length=550", "--synthetic_samples=50"],
     "wwt.py: error: --suggested_settings: the suggested sample_len=7 needs T=553, the data "
     "have T=550: set --synthetic_length=553 (a multiple of 7), or set --sample_len to a "
     "divisor of 550 ([1, 2, 5, 10, 11, 22, 25, 50, 55, 110, 275, 550])"),
    ("wwt.py", ["--keep_best=acf_mse/views"],
     "wwt.py: error: --keep_best needs --track_every (the epochs whose weights it compares), "
     "e.g. --track_every=250"),
    # a multi-worker run needs its cluster (docs/scaling.md; braces doubled for format);
    # DP runs on one device
    ("wwt.py", ["--strategy=multi_worker"],
     "wwt.py: error: the multi_worker strategy reads the cluster from the TF_CONFIG environment "
     "variable, which is not set: set it in each worker, e.g. TF_CONFIG='{{\"cluster\": "
     "{{\"worker\": [\"host1:12345\", \"host2:12345\"]}}, \"task\": {{\"type\": \"worker\", "
     "\"index\": 0}}}}' (index 1 in the second; docs/scaling.md)"),
    ("wwt.py", ["--strategy=mirrored", "--dp_noise_multiplier=1"],
     "wwt.py: error: --strategy=mirrored with DP: DP training runs on one device (per-example "
     "clipping does not combine with gradients summed over replicas); use --strategy=default"),
])
def test_user_error_is_one_line_and_leaves_no_output(tmp_path, script, args, message):
    out = tmp_path / "out"
    args = [a.format(tmp=tmp_path) for a in args]
    result = run_experiment(script, *args, "--output", str(out), check=False)
    ours = [line for line in result.stderr.splitlines()
            if line.strip() and not TF_LOG_LINE.search(line)]
    assert result.returncode == 1, result.stderr[-2000:]
    assert ours == [message.format(tmp=tmp_path)], result.stderr[-2000:]
    assert not out.exists()


# --- the DoppelGANger flags (experiments/common.py) -------------------------------------------

def dg_flags(**defaults):
    """A fresh FlagValues holding only the DoppelGANger flags (the scripts' FLAGS stay
    untouched)."""
    from absl import flags

    from experiments import common
    flag_values = flags.FlagValues()
    common.define_dg_flags(flag_values, **defaults)
    return flag_values


def test_every_dgconfig_field_has_a_flag_of_its_type_and_default():
    import dataclasses

    from absl import flags

    from doppelganger_tf.config import DGConfig
    from experiments import common
    names = common.dg_flag_names()
    flag_values = dg_flags()
    # and the model's run settings, which are not DGConfig fields
    assert set(flag_values) == set(names.values()) | {"lstm_implementation", "precision"}
    assert names["use_aux_critic"] == "aux_critic"  # the alias older flagfiles use
    for field in dataclasses.fields(DGConfig):
        flag = flag_values[names[field.name]]
        assert flag.default == field.default, field.name
        if isinstance(field.default, bool):
            assert isinstance(flag, flags.BooleanFlag), field.name
        else:  # int, float, or None for Optional[float] (dp_noise_multiplier)
            expected = type(field.default).__name__ if field.default is not None else "float"
            assert flag.flag_type() == expected, field.name
    for name in ("lstm_implementation", "precision"):
        assert isinstance(flag_values[name], flags.EnumFlag), name
    flag_values(["prog"])
    assert common.dg_config(flag_values) == DGConfig()
    assert common.dg_run_settings(flag_values) == {"lstm_implementation": "auto",
                                                   "precision": "float32"}


def test_a_flagfile_reaches_dgconfig(tmp_path):
    from doppelganger_tf.config import DGConfig
    from experiments import common
    flagfile = tmp_path / "dg.flags"
    flagfile.write_text("# any DGConfig field, aliases included\n--feature_lstm_units=7\n"
                        "--noaux_critic\n--adam_beta_1=0.25\n--precision=mixed_bfloat16\n"
                        "--lstm_implementation=keras\n--nosample_with_replacement\n")
    # a script's paper settings are the defaults; the flagfile overrides them
    flag_values = dg_flags(sample_len=8, auto_normalize=False, aux_critic=True)
    flag_values(["prog", f"--flagfile={flagfile}", "--critic_steps=2"])
    assert common.dg_config(flag_values) == DGConfig(
        sample_len=8, auto_normalize=False, use_aux_critic=False, feature_lstm_units=7,
        adam_beta_1=0.25, sample_with_replacement=False, critic_steps=2)
    # the run settings reach the model's arguments
    assert common.dg_run_settings(flag_values) == {"lstm_implementation": "keras",
                                                   "precision": "mixed_bfloat16"}


def test_dg_flags_refuse_what_dgconfig_refuses():
    from absl import flags

    from experiments import common
    with pytest.raises(TypeError, match="aux_critics"):
        dg_flags(aux_critics=False)  # a script default naming no flag
    flag_values = dg_flags()
    with pytest.raises(flags.IllegalFlagValueError):  # closed bounds: absl checks them
        flag_values(["prog", "--batch_norm_momentum=1.5"])
    flag_values = dg_flags()
    flag_values(["prog", "--adam_beta_2=1"])  # an open bound: DGConfig names it
    with pytest.raises(ValueError, match=r"DGConfig.adam_beta_2 must be a number in \[0, 1\)"):
        common.dg_config(flag_values)
    flag_values = dg_flags()
    flag_values(["prog", "--dp_noise_multiplier=1", "--precision=mixed_float16"])
    with pytest.raises(ValueError, match="DP training .* runs in float32"):
        common.dg_run_settings(flag_values)


def test_results_notes_explain_every_blank_and_outlier():
    """results.md's "Blanks and outliers": each `-`, `nan` and R2 below -1 with the script's
    reason, else a generic one; the cells of a row sharing a reason on one line."""
    from experiments import common
    rows = {"ar": {"acf": 0.09, "r2_linear": -3770.0, "r2_mlp": 0.97, "wall": 44.0},
            "naive_gan": {"acf": 0.03, "r2_linear": float("nan"), "r2_mlp": float("nan"),
                          "wall": 2.0},
            "hmm": {"acf": 0.02, "r2_linear": -2.5, "r2_mlp": float("nan"), "wall": 5.0},
            "real (held-out)": {"acf": 0.0001, "r2_linear": 0.97, "r2_mlp": 0.97}}
    columns = ["acf", "r2_linear", "r2_mlp", "wall"]
    reasons = {("naive_gan", "r2_linear"): "its series are too short",
               ("naive_gan", "r2_mlp"): "its series are too short",
               ("ar", "r2_linear"): "its series settle on a constant",
               ("hmm", "acf"): "an explained ordinary cell"}
    lines = common.table_notes(rows, columns, reasons).splitlines()
    assert lines == [
        "Blanks and outliers:",
        "- ar: r2_linear -3.77e+03: its series settle on a constant.",
        "- naive_gan: r2_linear nan, r2_mlp nan: its series are too short.",
        "- hmm: acf 0.0200: an explained ordinary cell.",
        "- hmm: r2_linear -2.5000: the forecaster trained on this model's data predicts the "
        "real series with a squared error over twice their variance (R2 0 = predicting their "
        "mean): read it as 'unusable for this forecaster', not as a precise figure.",
        "- hmm: r2_mlp nan: the figure could not be computed on this row's data (the run's log "
        "says why).",
        "- real (held-out): wall -: real data: nothing was trained or generated, so there is "
        "nothing to time."]
    assert common.table_notes({"hmm": {"acf": 0.02}}, ["acf"]) == ""


def test_scripts_add_nothing_to_sys_path():
    # they import common from their own folder, and doppelganger_tf as installed
    for script in (ROOT / "experiments").glob("*.py"):
        assert "sys.path" not in script.read_text().replace("on sys.path", ""), script.name


@pytest.mark.parametrize("script", ["wwt.py", "membership.py"])
def test_a_script_run_from_another_directory_reads_its_flagfile_into_dgconfig(tmp_path, script):
    # DGConfig refuses the flagfile's value after absl read it: one line, no output written
    import subprocess
    import sys
    (tmp_path / "bad.flags").write_text("--feature_lstm_units=7\n--adam_epsilon=0\n")
    out = tmp_path / "out"
    result = subprocess.run([sys.executable, str(ROOT / "experiments" / script),
                             "--flagfile=bad.flags", f"--output={out}"],
                            cwd=tmp_path, capture_output=True, text=True, timeout=300)
    ours = [line for line in result.stderr.splitlines()
            if line.strip() and not TF_LOG_LINE.search(line)]
    assert result.returncode == 1, result.stderr[-2000:]
    assert ours == [f"{script}: error: DGConfig.adam_epsilon must be a finite number > 0, "
                    "got 0.0"], result.stderr[-2000:]
    assert not out.exists()
