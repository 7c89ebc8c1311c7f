"""The doppelganger command line (issue 32), end to end on a small CSV made here: describe, fit
(--epochs 2, a tiny model from a --config TOML), generate, evaluate, each output checked; fit
interrupted with SIGINT then resumed; the user errors (one line, exit 1; a bad flag, 2; nothing
half-written); the settings file read back; the progress line's budget-aware ETA on a fake
clock. In-process (main([...])) except the SIGINT run and one entry-point smoke test."""
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from doppelganger_tf.cli import main
from doppelganger_tf.config import DGConfig
from doppelganger_tf.settings import (DataOptions, TrainingOptions, load_settings, read_frame,
                                      read_toml, settings_text)

ROOT = Path(__file__).resolve().parents[1]
COLUMNS = ["--id", "sensor", "--time", "day", "--attributes", "site", "kind"]
# a model small enough to trace and train in seconds
TINY = """
[config]
sample_len = 7
batch_size = 8
attribute_hidden_units = 8
minmax_hidden_units = 8
feature_lstm_units = 8
critic_hidden_units = 8
critic_hidden_layers = 2
aux_critic_hidden_units = 8
aux_critic_hidden_layers = 2

[training]
checkpoint_seconds = 0
"""


def sensors_frame(count: int = 24, days: int = 14, seed: int = 0) -> pd.DataFrame:
    """Daily load (float, a weekly cycle around each sensor's level) and event counts (int) of
    ``count`` sensors at two sites, of three kinds: one row per sensor and day."""
    rng = np.random.default_rng(seed)
    rows = []
    for i in range(count):
        level = rng.uniform(10, 100)
        site, kind = ["north", "south"][i % 2], ["pump", "fan", "valve"][i % 3]
        for t in range(days):
            load = level * (1 + 0.3 * np.sin(2 * np.pi * t / 7)) + rng.normal(0, 2)
            rows.append((f"s{i:02d}", (pd.Timestamp("2024-03-01") + pd.Timedelta(days=t))
                         .strftime("%Y-%m-%d"), site, kind, round(load, 3),
                         int(rng.poisson(3))))
    return pd.DataFrame(rows, columns=["sensor", "day", "site", "kind", "load", "events"])


@pytest.fixture(scope="module")
def work(tmp_path_factory):
    """A directory with sensors.csv and tiny.toml."""
    directory = tmp_path_factory.mktemp("cli")
    sensors_frame().to_csv(directory / "sensors.csv", index=False)
    (directory / "tiny.toml").write_text(TINY)
    return directory


@pytest.fixture(scope="module")
def fitted(work):
    """`doppelganger fit sensors.csv ... --epochs 2` once: (run directory, stdout)."""
    import io
    from contextlib import redirect_stderr, redirect_stdout
    out, err = io.StringIO(), io.StringIO()
    with redirect_stdout(out), redirect_stderr(err):
        code = main(["fit", str(work / "sensors.csv"), *COLUMNS, "--output",
                     str(work / "run"), "--epochs", "2", "--config", str(work / "tiny.toml")])
    assert code == 0, err.getvalue()[-2000:]
    return work / "run", out.getvalue(), err.getvalue()


def test_describe_prints_how_the_file_is_read_and_the_suggestion(work, capsys):
    assert main(["describe", str(work / "sensors.csv"), *COLUMNS]) == 0
    out = capsys.readouterr().out
    assert "24 series, T=14" in out
    assert "time column 'day' (datetime64" in out  # ISO dates in a CSV are read as dates
    assert "feature   'load': continuous" in out and "feature   'events': continuous" in out
    assert "attribute 'site': discrete, 2 categories" in out
    assert "Suggested settings:" in out and "budget: " in out


def test_describe_reads_a_wide_file(work, capsys):
    long = sensors_frame(6, 14)
    wide = long.pivot(index=["sensor", "site"], columns="day", values="load").reset_index()
    wide.to_csv(work / "wide.csv", index=False)
    assert main(["describe", str(work / "wide.csv"), "--id", "sensor", "--wide",
                 "--attributes", "site", "--feature-name", "load"]) == 0
    out = capsys.readouterr().out
    assert "6 series, T=14" in out and "'load': continuous" in out


def test_fit_writes_model_report_log_tensorboard_and_settings(fitted):
    run, out, err = fitted
    for name in ("model/model.json", "report/report.md", "report/report.json", "log.csv",
                 "settings.toml", "checkpoints/checkpoint"):
        assert (run / name).exists(), name
    assert any((run / "tensorboard").rglob("*tfevents*"))
    log = pd.read_csv(run / "log.csv")
    assert list(log["epoch"]) == [0, 1] and "fidelity/keep_best_floor_ratio" in log
    assert "training on 19 series (5 held out)" in out  # --holdout 0.2 of 24
    assert "FidelityTracker:" in out and "report: metric" in out
    assert "epoch 2/2 |" in err and "fidelity " in err and "ETA" in err  # the progress lines


def test_the_settings_file_reads_back_to_the_same_config(fitted, work):
    run, _, _ = fitted
    settings = load_settings(run / "settings.toml")
    import json
    saved = json.loads((run / "model" / "model.json").read_text())["config"]
    assert settings.config == DGConfig.from_dict(saved)
    assert settings.config.feature_lstm_units == 8  # from tiny.toml
    assert settings.data.id == "sensor" and settings.data.features == ["load", "events"]
    assert settings.training.epochs == 2 and settings.training.holdout == 0.2
    # the Python API reads the data as the run did
    data = settings.data.read(work / "sensors.csv")
    assert len(data) == 24 and data.max_length == 14


def test_toml_writer_round_trips_strings_numbers_lists_and_tables():
    data = DataOptions(id='a "quoted"\\id\t\x7f', time="ünïcode", features=["x y", "z=1"],
                       transforms={"x y": "log1p"})
    training = TrainingOptions(epochs=3, minutes=0.5, seed=2**40)
    config = DGConfig(adam_epsilon=1e-8, generator_learning_rate=3e-4, batch_size=7)
    document = __import__("tomllib" if sys.version_info >= (3, 11) else "tomli").loads(
        settings_text(config, data, training, reasons={"batch_size": "why\nit is so"}))
    assert DGConfig.from_dict(document["config"]) == config
    assert DataOptions(**document["data"]) == data
    assert TrainingOptions(**document["training"]) == training


def test_generate_writes_the_input_columns_and_dtypes(fitted, work, capsys):
    run, _, _ = fitted
    output = work / "generated.csv"
    assert main(["generate", str(run / "model"), "-n", "10", "--output", str(output),
                 "--seed", "1"]) == 0
    assert "wrote 10 series" in capsys.readouterr().out
    real, generated = read_frame(work / "sensors.csv", "day"), read_frame(output, "day")
    assert list(generated.columns) == list(real.columns)
    assert generated.dtypes.to_dict() == real.dtypes.to_dict()
    assert generated["sensor"].nunique() == 10
    assert set(generated["site"]) <= {"north", "south"}
    assert set(generated["day"]) <= set(real["day"])  # the calendar


def test_evaluate_reports_on_two_files(fitted, work, capsys):
    run, _, _ = fitted
    generated = work / "generated_for_report.csv"
    assert main(["generate", str(run), "-n", "12", "--output", str(generated)]) == 0
    report = work / "report"
    assert main(["evaluate", str(work / "sensors.csv"), str(generated), "--config",
                 str(run / "settings.toml"), "--output", str(report), "--no-plots"]) == 0
    assert "acf_mse/load" in capsys.readouterr().out
    assert (report / "report.md").exists() and (report / "report.json").exists()


def one_error_line(capsys, code, expected_code=1):
    captured = capsys.readouterr()
    assert code == expected_code, captured.err
    lines = [line for line in captured.err.splitlines() if line.startswith("doppelganger")]
    assert len(lines) == 1 and "Traceback" not in captured.err, captured.err
    return lines[0]


def test_user_errors_give_one_line_and_write_nothing(work, capsys, tmp_path):
    csv = str(work / "sensors.csv")
    # a missing column: nothing written
    line = one_error_line(capsys, main(["fit", csv, "--id", "sensor", "--time", "date",
                                        "--output", str(tmp_path / "run"), "--epochs", "2"]))
    assert "--time names column 'date'" in line and not (tmp_path / "run").exists()
    # a bad flag: a usage error
    one_error_line(capsys, main(["describe", csv, "--id", "sensor", "--bogus"]), 2)
    one_error_line(capsys, main(["fit", csv, "--id", "sensor", "--output", "x", "--epochs",
                                 "2", "--minutes", "1"]), 2)
    # unreadable files
    (tmp_path / "binary.csv").write_bytes(b"a,b\n\xff\xfe\x00,1\n")
    assert "cannot read" in one_error_line(capsys, main(["describe", str(tmp_path /
                                                         "binary.csv"), "--id", "a"]))
    assert "no such file" in one_error_line(capsys, main(["describe", str(tmp_path / "no.csv"),
                                                          "--id", "a"]))
    (tmp_path / "bad.toml").write_text("[config\nsample_len = 7\n")
    assert "not valid TOML" in one_error_line(capsys, main(["describe", csv, "--config",
                                                            str(tmp_path / "bad.toml")]))
    # existing outputs: left as they were
    other = tmp_path / "other"
    other.mkdir()
    (other / "notes.txt").write_text("mine")
    assert "not a doppelganger run" in one_error_line(capsys, main(
        ["fit", csv, *COLUMNS, "--output", str(other), "--epochs", "2"]))
    assert [p.name for p in other.iterdir()] == ["notes.txt"]
    taken = tmp_path / "taken.csv"
    taken.write_text("mine")
    assert "exists" in one_error_line(capsys, main(["generate", str(tmp_path), "-n", "2",
                                                    "--output", str(taken)]))
    assert taken.read_text() == "mine"
    # a model directory that is not one
    assert "no such model" in one_error_line(capsys, main(
        ["generate", str(tmp_path / "nothing"), "-n", "2", "--output", str(tmp_path / "g.csv")]))
    assert not (tmp_path / "g.csv").exists()


def doppelganger_command():
    """The installed console script beside this Python, else the module."""
    script = Path(sys.executable).parent / "doppelganger"
    return [str(script)] if script.exists() else [sys.executable, "-m", "doppelganger_tf.cli"]


def test_the_entry_point_runs(work):
    result = subprocess.run([*doppelganger_command(), "--help"], capture_output=True, text=True,
                            timeout=120)
    assert result.returncode == 0 and "describe" in result.stdout and "examples:" in \
        result.stdout
    assert 'doppelganger=doppelganger_tf.cli:main' in (ROOT / "setup.py").read_text()


def test_fit_interrupted_by_sigint_saves_a_checkpoint_and_resumes(work, capsys):
    run = work / "interrupted"
    command = [*doppelganger_command(), "fit", str(work / "sensors.csv"), *COLUMNS, "--output",
               str(run), "--epochs", "100000", "--config", str(work / "tiny.toml")]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               text=True, env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"})
    try:
        deadline = time.time() + 120
        while not (run / "checkpoints" / "checkpoint").exists():
            assert process.poll() is None, process.communicate()[1][-2000:]
            assert time.time() < deadline, "no checkpoint after 120 s"
            time.sleep(0.2)
        process.send_signal(signal.SIGINT)
        out, err = process.communicate(timeout=60)
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode == 130, err[-2000:]
    assert "checkpoint saved in" in out and "resume with: doppelganger fit" in out
    assert not (run / "model").exists()
    done = max(int(p.name[5:-6]) for p in (run / "checkpoints").glob("ckpt-*.index"))
    capsys.readouterr()
    code = main(["fit", str(work / "sensors.csv"), *COLUMNS, "--output", str(run),
                 "--epochs", str(done + 2), "--config", str(work / "tiny.toml")])
    out = capsys.readouterr().out
    assert code == 0
    assert f"resuming from the checkpoint after epoch {done}" in out
    assert f"trained epochs {done + 1}..{done + 2}" in out
    assert (run / "model" / "model.json").exists()
    # a finished run: nothing to resume, said in one line
    assert "nothing to resume" in one_error_line(capsys, main(
        ["fit", str(work / "sensors.csv"), *COLUMNS, "--output", str(run), "--epochs",
         str(done + 2), "--config", str(work / "tiny.toml")]))


class FakeClock:
    def __init__(self):
        self.now = 1000.0

    def __call__(self):
        return self.now


class Stub:
    stop_training = False


def test_progress_eta_honours_the_time_budget():
    from doppelganger_tf.progress import TrainingProgress, eta_seconds
    clock, lines = FakeClock(), []
    progress = TrainingProgress(print_fn=lines.append, seconds=60, clock=clock, every=5)
    progress.set_params({"epochs": 1_000_000})  # "unlimited": the budget decides
    progress.set_model(Stub())
    progress.on_train_begin()
    for epoch in range(10):
        progress.on_epoch_begin(epoch)
        clock.now += 5.0 if epoch == 0 else 2.0  # the first epoch traces the graph
        logs = {"d_loss": 1.5, "g_loss": -0.25}
        if epoch in (0, 9):  # the tracker's evaluations
            logs["fidelity/keep_best_floor_ratio"] = 2.5 if epoch == 0 else 1.75
        progress.on_epoch_end(epoch, logs)
    # after 10 epochs: 23 s elapsed, 2 s an epoch; the budget leaves 37 s, not 999,990 x 2 s
    assert lines[-1] == ("epoch 10/~29 | d_loss=1.5 g_loss=-0.25 | fidelity 1.75x floor "
                         "(epoch 10) | 0:23 elapsed, ETA 0:37 (budget 1:00)")
    # epoch 1 (the first), 5 (every), 10 (a fidelity figure); after the first epoch alone
    # (tracing) neither the epoch it ends at nor a time per epoch is known: the budget's left
    assert lines[0] == ("epoch 1 | d_loss=1.5 g_loss=-0.25 | fidelity 2.5x floor (epoch 1) | "
                        "0:05 elapsed, ETA 0:55 (budget 1:00)") and len(lines) == 3
    assert eta_seconds(10, 1_000_000, 2.0, 23.0, None) == 999_990 * 2.0  # no budget
    assert eta_seconds(10, 12, 2.0, 23.0, 60.0) == 4.0  # the epochs end first
    assert eta_seconds(10, None, None, 70.0, 60.0) == 0.0  # past the budget


def test_progress_refreshes_one_line_on_a_terminal():
    import io

    from doppelganger_tf.progress import TrainingProgress

    class Terminal(io.StringIO):
        def isatty(self):
            return True

    clock, terminal = FakeClock(), Terminal()
    progress = TrainingProgress(stream=terminal, clock=clock)
    progress.set_params({"epochs": 3})
    progress.set_model(Stub())
    progress.on_train_begin()
    for epoch in range(3):
        clock.now += 1.0
        progress.on_epoch_end(epoch, {"d_loss": 1.0})
    progress.on_train_end()
    text = terminal.getvalue()
    assert text.count("\r") == 3 and text.endswith("\n") and text.count("\n") == 1
    assert "epoch 3/3" in text and "ETA 0:00" in text
