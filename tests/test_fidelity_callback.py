"""FidelityTracker: fidelity figures in the epoch logs during fit, keep-best weights, errors."""
import csv

import numpy as np
import pytest
import tensorflow as tf

from doppelganger_tf import DoppelGANger, FidelityTracker, fidelity_callback
from doppelganger_tf.callbacks import ProgressLogger

from test_model import tiny_config, toy_dataset

ACF = "fidelity/acf_mse/wave"


@pytest.fixture(scope="module")
def toy():
    return toy_dataset()


@pytest.fixture(scope="module")
def model(toy):
    """One compiled tiny model for the tests whose weights do not matter (its train step is
    traced once: each fit reuses it on the same dataset)."""
    tf.keras.utils.set_random_seed(0)
    model = DoppelGANger.from_dataset(toy, tiny_config(), seed=0)
    model.compile()
    return model


def test_figures_reach_history_csv_progress_and_tensorboard(model, toy, tmp_path):
    tracker = FidelityTracker(every=2, num_samples=40, metrics=("acf", "midrange", "attribute"))
    lines = []
    # the tracker listed last: fit moves it ahead of the callbacks that read the logs
    history = model.fit(toy, epochs=5, seed=0, verbose=0, callbacks=[
        tf.keras.callbacks.CSVLogger(str(tmp_path / "log.csv")),
        tf.keras.callbacks.TensorBoard(str(tmp_path / "tb"), write_graph=False,
                                       profile_batch=0),
        ProgressLogger(every=1, print_fn=lines.append), tracker]).history
    # the first epoch, the multiples of every, the last
    assert tracker.epochs == [0, 1, 3, 4]
    keys = [k for k in history if k.startswith("fidelity/")]
    for key in (ACF, "fidelity/w1_midrange/wave", "fidelity/jsd/kind", "fidelity/w1/size",
                "fidelity/seconds"):
        assert key in keys, keys
    for key in keys:
        assert len(history[key]) == 4 and np.isfinite(history[key]).all(), key
        np.testing.assert_allclose(history[key], tracker.history[key])
    # the evaluations' time, and the reference's summary at the start
    assert tracker.seconds > sum(history["fidelity/seconds"]) > 0

    with open(tmp_path / "log.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    assert [int(r["epoch"]) for r in rows] == [0, 1, 2, 3, 4]
    assert rows[2][ACF] == "NA"  # not evaluated
    np.testing.assert_allclose([float(rows[e][ACF]) for e in tracker.epochs], history[ACF])

    assert f"{ACF}=" in lines[0] and f"{ACF}=" not in lines[2]

    tags = set()
    for path in (tmp_path / "tb").rglob("*tfevents*"):
        for event in tf.compat.v1.train.summary_iterator(str(path)):
            tags.update(value.tag for value in event.summary.value)
    assert "epoch_" + ACF in tags, tags


def test_keep_best_restores_the_weights_of_the_best_epoch(model, toy, monkeypatch):
    """Scripted figures (NaN never counts as best): the weights after fit are those recorded
    at the end of the best epoch, not the last ones."""
    script = iter([float("nan"), 0.5, 0.2, 0.3, 0.4, 0.6])

    def scripted(real, synthetic, metrics=None, features=None, max_lag=None, by_category=False):
        assert real.num_samples == len(synthetic) == 30  # the reference summarised once
        return {"acf_mse/wave": next(script), "w1_midrange/wave": 1.0}

    monkeypatch.setattr(fidelity_callback, "fidelity_metrics", scripted)
    snapshots = {}
    recorder = tf.keras.callbacks.LambdaCallback(
        on_epoch_end=lambda epoch, logs: snapshots.__setitem__(epoch, model.get_weights()))
    messages = []
    tracker = FidelityTracker(reference=toy.subset(np.arange(30)), every=1,
                              keep_best="acf_mse/wave", print_fn=messages.append)
    model.fit(toy, epochs=6, seed=0, verbose=0, callbacks=[tracker, recorder])
    assert tracker.best_epoch == tracker.restored_epoch == 2
    assert tracker.best_value == 0.2
    restored = model.get_weights()
    assert len(restored) == len(snapshots[2])
    for now, best in zip(restored, snapshots[2]):
        np.testing.assert_array_equal(now, best)
    assert any(not np.array_equal(a, b) for a, b in zip(restored, snapshots[5]))
    assert messages == ["FidelityTracker: restored the weights of epoch 3, the best by "
                        "acf_mse/wave (0.2; at the last evaluated epoch, 6: 0.6)"]


def fit_with_scripted_figures(model, toy, monkeypatch, acf, midrange, **tracker_args):
    """fit for as many epochs as figures given, the tracker (every epoch) reading them in
    turn; returns the tracker, History's dict and the weights at each epoch's end."""
    acf, midrange, epochs = iter(acf), iter(midrange), len(acf)

    def scripted(real, synthetic, metrics=None, features=None, max_lag=None, by_category=False):
        return {"acf_mse/wave": next(acf), "w1_midrange/wave": next(midrange)}

    monkeypatch.setattr(fidelity_callback, "fidelity_metrics", scripted)
    snapshots = {}
    recorder = tf.keras.callbacks.LambdaCallback(
        on_epoch_end=lambda epoch, logs: snapshots.__setitem__(epoch, model.get_weights()))
    tracker = FidelityTracker(reference=toy.subset(np.arange(30)), every=1, print_fn=None,
                              **tracker_args)
    history = model.fit(toy, epochs=epochs, seed=0, verbose=0,
                        callbacks=[tracker, recorder]).history
    return tracker, history, snapshots


def test_keep_best_of_several_keys_keeps_the_lowest_geometric_mean(model, toy, monkeypatch):
    """Scripted figures: epoch 1 is best by acf, epoch 3 by midrange, epoch 2 by their
    geometric mean (sqrt(0.2 * 0.5) = 0.316 < sqrt(0.1 * 2) = 0.447 and sqrt(0.8 * 0.2) = 0.4);
    the combination is logged, and a figure of 0 does not break it."""
    tracker, history, snapshots = fit_with_scripted_figures(
        model, toy, monkeypatch, acf=[0.5, 0.1, 0.2, 0.8, 0.0],
        midrange=[1.0, 2.0, 0.5, 0.2, float("inf")],
        keep_best="acf_mse/wave, fidelity/w1_midrange/wave")
    combined = history["fidelity/keep_best_geomean"]
    np.testing.assert_allclose(combined[:4], [np.sqrt(0.5), np.sqrt(0.2), np.sqrt(0.1),
                                              np.sqrt(0.16)])
    assert np.isnan(combined[4])  # an infinite figure: never the best
    assert tracker.keep_best == "fidelity/keep_best_geomean"
    assert tracker.best_epoch == tracker.restored_epoch == 2
    for now, best in zip(model.get_weights(), snapshots[2]):
        np.testing.assert_array_equal(now, best)
    assert fidelity_callback.geometric_mean([0.0, 1.0]) == pytest.approx(1e-6)


def test_keep_best_targets_keep_the_lowest_mean_ratio_to_the_targets(model, toy, monkeypatch):
    """Scripted figures, targets 0.005 and 0.3: the mean ratios are 1.067, 1.167, 1.017 and
    NaN, so epoch 3 is kept, where the geometric mean would keep epoch 2 (0.032 against 0.040
    and 0.039): a figure far above its target counts more than one below it."""
    tracker, history, snapshots = fit_with_scripted_figures(
        model, toy, monkeypatch, acf=[0.004, 0.010, 0.006, float("nan")],
        midrange=[0.40, 0.10, 0.25, 0.01], keep_best="acf_mse/wave,w1_midrange/wave",
        keep_best_targets="0.005, 0.3")
    ratio = history["fidelity/keep_best_target_ratio"]
    np.testing.assert_allclose(ratio[:3], [(0.8 + 0.4 / 0.3) / 2, (2.0 + 0.1 / 0.3) / 2,
                                           (1.2 + 0.25 / 0.3) / 2])
    assert np.isnan(ratio[3])
    assert "fidelity/keep_best_geomean" not in history
    assert tracker.keep_best == "fidelity/keep_best_target_ratio"
    assert tracker.best_epoch == tracker.restored_epoch == 2
    for now, best in zip(model.get_weights(), snapshots[2]):
        np.testing.assert_array_equal(now, best)


def test_evaluated_epochs_in_a_resumed_run_and_at_an_early_stop(model, toy):
    """Multiples of every count the epochs across runs (as TrainingCheckpoint); the first and
    last epoch of the fit are evaluated, and so is an epoch after which training stopped."""
    tracker = FidelityTracker(every=3, num_samples=20, metrics="midrange")
    model.fit(toy, epochs=7, initial_epoch=2, verbose=0, callbacks=[tracker])
    assert tracker.epochs == [2, 5, 6]

    def stop(epoch, logs):
        model.stop_training = epoch == 3
    tracker = FidelityTracker(every=5, num_samples=20, metrics="midrange")
    history = model.fit(toy, epochs=9, verbose=0, callbacks=[
        tf.keras.callbacks.LambdaCallback(on_epoch_end=stop), tracker]).history
    # the stop came after the tracker's turn (fit lists trackers first): epoch 3 is evaluated
    # at the end of training, into the tracker's history (its Keras logs were written)
    assert tracker.epochs == [0, 3] and len(history["fidelity/w1_midrange/wave"]) == 1
    assert len(tracker.history["fidelity/w1_midrange/wave"]) == 2


def test_a_dp_model_is_warned_that_epsilon_does_not_cover_the_tracker(toy):
    model = DoppelGANger.from_dataset(toy, tiny_config(dp_noise_multiplier=1.0), seed=0)
    tracker = FidelityTracker(reference=toy.subset(np.arange(20)), metrics="midrange")
    tracker.set_model(model)
    with pytest.warns(RuntimeWarning, match="outside the DP accounting"):
        tracker.on_train_begin()


def test_the_tracker_leaves_training_unchanged(model, toy, tmp_path):
    """Generating inside fit draws no training randomness: from the same state (weights,
    optimizers, noise RNG: a checkpoint) the same seed gives the same weights with and without
    the tracker."""
    checkpoint = tf.train.Checkpoint(model=model)
    start = checkpoint.write(str(tmp_path / "start"))

    def trained(callbacks):
        checkpoint.read(start).assert_consumed()
        model.fit(toy, epochs=2, seed=0, verbose=0, callbacks=callbacks)
        return model.get_weights()

    plain = trained([])
    tracked = trained([FidelityTracker(every=1, num_samples=20)])
    assert trained([]) is not None  # the checkpoint restores: a third run repeats the first
    for a, b, c in zip(plain, tracked, model.get_weights()):
        np.testing.assert_array_equal(a, b)
        np.testing.assert_array_equal(a, c)


def test_by_category_adds_each_categorys_w1_equal_to_evaluation(model, toy):
    from doppelganger_tf import evaluation as ev
    tracker = FidelityTracker(every=1, num_samples=60, metrics=("total",), by_category=True,
                              features=["wave"], seed=3)
    model.fit(toy, epochs=1, seed=0, verbose=0, callbacks=[tracker])
    keys = {k for k in tracker.history if k.startswith("fidelity/w1_total/wave/kind=")}
    assert keys == {f"fidelity/w1_total/wave/kind={c}" for c in ("a", "b", "c")}
    # the same figure as the paper-style per-category W1 of the same generated sample
    generated = model.generate(len(toy), seed=3)
    expected = ev.wasserstein_by_attribute(toy, generated, "wave", "kind")
    for category, value in expected.items():
        np.testing.assert_allclose(tracker.history[f"fidelity/w1_total/wave/kind={category}"][-1],
                                   value, rtol=1e-6)


def test_generated_samples_may_outnumber_the_reference(model, toy):
    """generated_samples: more samples than the reference holds, scored against all of it."""
    from doppelganger_tf import evaluation as ev
    reference = toy.subset(np.arange(20))
    tracker = FidelityTracker(reference=reference, every=1, metrics=("total",),
                              by_category=True, features=["wave"], seed=5,
                              generated_samples=90)
    model.fit(toy, epochs=1, seed=0, verbose=0, callbacks=[tracker])
    generated = model.generate(90, seed=5)
    expected = ev.wasserstein_by_attribute(reference, generated, "wave", "kind")
    for category, value in expected.items():
        np.testing.assert_allclose(tracker.history[f"fidelity/w1_total/wave/kind={category}"][-1],
                                   value, rtol=1e-6)


def test_time_limit_stops_at_the_first_epoch_end_past_the_budget(model, toy, monkeypatch):
    from doppelganger_tf import TrainingTimeLimit, callbacks
    now = [100.0]  # a fake clock: each epoch end reads it after 0.4 "seconds"
    monkeypatch.setattr(callbacks.time, "perf_counter", lambda: now[0])
    limit = TrainingTimeLimit(1.0)
    tick = tf.keras.callbacks.LambdaCallback(
        on_epoch_end=lambda epoch, logs: now.__setitem__(0, now[0] + 0.4))
    history = model.fit(toy, epochs=20, seed=0, verbose=0, callbacks=[tick, limit]).history
    assert limit.stopped_epoch == 2 and len(history["g_loss"]) == 3  # 1.2 s >= 1 s
    np.testing.assert_allclose(limit.elapsed, 1.2)
    limit = TrainingTimeLimit(100.0)
    model.fit(toy, epochs=2, seed=0, verbose=0, callbacks=[tick, limit])
    assert limit.stopped_epoch is None


@pytest.mark.parametrize("seconds", [0, -1, float("nan"), "60", True])
def test_time_limit_needs_a_positive_number_of_seconds(seconds):
    from doppelganger_tf import TrainingTimeLimit
    with pytest.raises(ValueError, match="positive number of seconds"):
        TrainingTimeLimit(seconds)


@pytest.mark.parametrize("kwargs, error, message", [
    (dict(every=0), ValueError, "every must be >= 1"),
    (dict(every=2.5), TypeError, "every must be an integer"),
    (dict(num_samples=0), ValueError, "num_samples must be >= 1"),
    (dict(generated_samples=0), ValueError, "generated_samples must be >= 1"),
    (dict(metrics=("acf", "spectrum")), ValueError, "unknown metric families ['spectrum']"),
    (dict(metrics=()), ValueError, "no metric family requested"),
    (dict(mode="best"), ValueError, "mode must be 'min'"),
    (dict(keep_best="seconds"), ValueError, "is the evaluation time"),
    (dict(keep_best=3), TypeError, "keep_best must be a logs key"),
    (dict(keep_best=[]), TypeError, "keep_best must be a logs key"),
    (dict(keep_best="acf_mse/wave,acf_mse/wave"), ValueError, "names a key twice"),
    (dict(keep_best="keep_best_geomean"), ValueError, "the tracker's own combination"),
    (dict(keep_best=["acf_mse/a", "acf_mse/b"], mode="max"), ValueError, "use mode='min'"),
    (dict(keep_best="acf_mse/a,acf_mse/b", keep_best_targets=[0.1]), ValueError,
     "has 1 values for 2 keep_best keys"),
    (dict(keep_best="acf_mse/a", keep_best_targets="0.1,x"), ValueError,
     "must be numbers separated by commas"),
    (dict(keep_best="acf_mse/a", keep_best_targets=[0.0]), ValueError, "positive and finite"),
    (dict(keep_best="acf_mse/a", keep_best_targets=[0.1], mode="max"), ValueError,
     "use mode='min'"),
    (dict(keep_best_targets=[0.1]), ValueError, "for 0 keep_best keys"),
    (dict(keep_best="keep_best_target_ratio"), ValueError, "the tracker's own combination"),
    (dict(reference=np.zeros((3, 4, 1))), TypeError, "reference must be a doppelganger_tf"),
])
def test_bad_arguments_name_the_fix(kwargs, error, message):
    with pytest.raises(error, match=None) as raised:
        FidelityTracker(**kwargs)
    assert message in str(raised.value)


def test_keep_best_of_a_key_the_metrics_never_produce(model, toy):
    tracker = FidelityTracker(every=1, num_samples=20, metrics=("midrange",),
                              keep_best="acf_mse/wave")
    with pytest.raises(ValueError, match=r"not a key that metrics=\('midrange',\) produce.*"
                                         r"w1_midrange/wave"):
        model.fit(toy, epochs=1, verbose=0, callbacks=[tracker])


@pytest.mark.parametrize("other, message", [
    (lambda toy: toy_dataset(seed=1), "feature_min differs from the training data's"),
    (lambda toy: toy_dataset(length=16), "T=16, the model's is 12"),
])
def test_a_reference_with_other_specs_or_scaling_is_refused(model, toy, other, message):
    tracker = FidelityTracker(reference=other(toy), every=1)
    with pytest.raises(ValueError, match="reference= does not match the model") as raised:
        model.fit(toy, epochs=1, verbose=0, callbacks=[tracker])
    assert message in str(raised.value) and "Dataset.subset" in str(raised.value)
