"""FidelityTracker: fidelity figures in the epoch logs during fit, keep-best weights, errors."""
import csv

import numpy as np
import pytest
import tensorflow as tf

from doppelganger_tf import DoppelGANger, FidelityTracker, fidelity_callback
from doppelganger_tf.fidelity_scores import times
from doppelganger_tf.callbacks import ProgressLogger

from conftest import toy_config, toy_dataset

ACF = "fidelity/acf_mse/wave"


@pytest.fixture(scope="module")
def model(toy):
    """One compiled tiny model for the tests whose weights do not matter (its train step is
    traced once: each fit reuses it on the same dataset)."""
    tf.keras.utils.set_random_seed(0)
    model = DoppelGANger.from_dataset(toy, toy_config(), seed=0)
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

    # the progress line shows the latest figure and the epoch it was measured at
    assert "fidelity " in lines[0] and "(epoch 1)" in lines[0]
    assert "(epoch 2)" in lines[2]  # epoch 3 was not evaluated: epoch 2's figure stays

    tags = set()
    for path in (tmp_path / "tb").rglob("*tfevents*"):
        for event in tf.compat.v1.train.summary_iterator(str(path)):
            tags.update(value.tag for value in event.summary.value)
    assert "epoch_" + ACF in tags, tags


def test_keep_best_restores_the_weights_of_the_best_epoch(model, toy, monkeypatch):
    """Scripted figures (NaN never counts as best): the weights after fit are those recorded
    at the end of the best epoch, not the last ones; the line printed at the end says which
    epoch and how far from the floor."""
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
    floor = tracker.floors["acf_mse/wave"]
    assert messages == [tracker.message] == [
        f"FidelityTracker: restored the weights of epoch 3 of the 6 trained, the best by "
        f"acf_mse/wave (0.2, {times(0.2 / floor)} the real-vs-real floor); the last epoch's: "
        f"0.6, {times(0.6 / floor)} the real-vs-real floor"]


def fit_with_scripted_figures(model, toy, monkeypatch, figures, **tracker_args):
    """fit for as many epochs as figures given, the tracker (every epoch, the first 30 toy
    samples as reference) reading them in turn: ``figures`` maps keys to one value per epoch;
    any other key the reference produces scores its floor (ratio 1). Returns the tracker,
    History's dict and the weights at each epoch's end."""
    scripts = {key: iter(values) for key, values in figures.items()}
    epochs = len(next(iter(figures.values())))

    def scripted(real, synthetic, metrics=None, features=None, max_lag=None, by_category=False):
        return {**tracker.floors, **{key: next(values) for key, values in scripts.items()}}

    monkeypatch.setattr(fidelity_callback, "fidelity_metrics", scripted)
    snapshots = {}
    recorder = tf.keras.callbacks.LambdaCallback(
        on_epoch_end=lambda epoch, logs: snapshots.__setitem__(epoch, model.get_weights()))
    tracker_args.setdefault("print_fn", None)
    tracker = FidelityTracker(reference=toy.subset(np.arange(30)), every=1, **tracker_args)
    history = model.fit(toy, epochs=epochs, seed=0, verbose=0,
                        callbacks=[tracker, recorder]).history
    return tracker, history, snapshots


def assert_weights_of(model, snapshot):
    for now, best in zip(model.get_weights(), snapshot):
        np.testing.assert_array_equal(now, best)


def test_keep_best_of_several_keys_keeps_the_lowest_mean_ratio_to_the_floor(model, toy,
                                                                            monkeypatch):
    """Scripted figures: each is divided by its floor and the epoch with the lowest mean ratio
    kept (logged as keep_best_floor_ratio); an infinite figure is never the best."""
    acf, midrange = [0.5, 0.1, 0.2, 0.8, 0.0], [1.0, 2.0, 0.5, 0.2, float("inf")]
    tracker, history, snapshots = fit_with_scripted_figures(
        model, toy, monkeypatch, {"acf_mse/wave": acf, "w1_midrange/wave": midrange},
        keep_best="acf_mse/wave, fidelity/w1_midrange/wave", warmup=0)
    floors = tracker.floors
    ratios = (np.array(acf) / floors["acf_mse/wave"]
              + np.array(midrange) / floors["w1_midrange/wave"]) / 2
    combined = history["fidelity/keep_best_floor_ratio"]
    np.testing.assert_allclose(combined[:4], ratios[:4])
    assert np.isnan(combined[4])  # an infinite figure: never the best
    np.testing.assert_allclose(history["fidelity/ratio/acf_mse/wave"],
                               np.array(acf) / floors["acf_mse/wave"])
    assert tracker.keep_best == "fidelity/keep_best_floor_ratio"
    best = int(np.argmin(ratios[:4]))
    assert tracker.best_epoch == tracker.restored_epoch == best
    assert_weights_of(model, snapshots[best])


def test_a_figure_near_zero_cannot_keep_an_untrained_epoch(model, toy, monkeypatch):
    """Issue 30's case, scripted: at epoch 0 the model generates flat series, whose
    autocorrelation MSE is near 0 on noisy data while the attribute, the level and the flat
    share are far off; epochs 1-3 are trained, every figure 1.5-3x its floor. The geometric mean
    of the figures keeps epoch 0; the mean ratio to the floor keeps a trained epoch, without the
    warm-up's help."""
    probe = FidelityTracker(reference=toy.subset(np.arange(30)), keep_best="auto")
    probe.set_model(model)
    probe.on_train_begin()
    floors = probe.floors
    keys = [key[len("fidelity/"):] for key in probe.keep_best_keys]
    assert keys == ["acf_mse/wave", "acf_mse/noise", "w1_mean/wave", "w1_mean/noise",
                    "flat/wave", "flat/noise", "jsd/kind", "w1/size"]
    trained = {key: [2.0 * floors[key], 1.5 * floors[key], 3.0 * floors[key]] for key in keys}
    untrained = {key: 40.0 * floors[key] for key in keys}
    untrained.update({"acf_mse/wave": 1e-9, "acf_mse/noise": 1e-9, "flat/wave": 0.9,
                      "flat/noise": 0.9})
    figures = {key: [untrained[key]] + trained[key] for key in keys}
    geometric = [np.exp(np.mean(np.log([figures[key][e] for key in keys]))) for e in range(4)]
    assert int(np.argmin(geometric)) == 0
    tracker, history, snapshots = fit_with_scripted_figures(
        model, toy, monkeypatch, figures, keep_best="auto", warmup=0)
    assert tracker.floors == floors
    assert tracker.best_epoch == tracker.restored_epoch == 2  # every figure 1.5x its floor
    np.testing.assert_allclose(history["fidelity/keep_best_floor_ratio"][1:], [2.0, 1.5, 3.0])
    assert history["fidelity/keep_best_floor_ratio"][0] > 40
    assert_weights_of(model, snapshots[2])


def test_keep_best_targets_keep_the_lowest_mean_ratio_to_the_targets(model, toy, monkeypatch):
    """Scripted figures, targets 0.005 and 0.3: the mean ratios are 1.067, 1.167, 1.017 and
    NaN, so epoch 2 is kept: a figure far above its target counts more than one below it."""
    tracker, history, snapshots = fit_with_scripted_figures(
        model, toy, monkeypatch, {"acf_mse/wave": [0.004, 0.010, 0.006, float("nan")],
                                  "w1_midrange/wave": [0.40, 0.10, 0.25, 0.01]},
        keep_best="acf_mse/wave,w1_midrange/wave", keep_best_targets="0.005, 0.3")
    ratio = history["fidelity/keep_best_target_ratio"]
    np.testing.assert_allclose(ratio[:3], [(0.8 + 0.4 / 0.3) / 2, (2.0 + 0.1 / 0.3) / 2,
                                           (1.2 + 0.25 / 0.3) / 2])
    assert np.isnan(ratio[3])
    assert "fidelity/keep_best_floor_ratio" not in history
    assert tracker.keep_best == "fidelity/keep_best_target_ratio"
    assert tracker.best_epoch == tracker.restored_epoch == 2
    assert_weights_of(model, snapshots[2])


def test_warmup_epochs_are_not_eligible(model, toy, monkeypatch):
    """The best figures come early: with warmup=2 epochs 0-1 are evaluated and logged but not
    kept; the default (10% of 10 epochs: one) leaves out epoch 0 only."""
    acf = [0.01, 0.02, 0.5, 0.3, 0.4, 0.6, 0.7, 0.8, 0.9, 1.0]
    tracker, history, snapshots = fit_with_scripted_figures(
        model, toy, monkeypatch, {"acf_mse/wave": acf}, keep_best="acf_mse/wave", warmup=2)
    assert tracker.warmup_bounds() == (2, None)
    assert history["fidelity/acf_mse/wave"][:2] == [0.01, 0.02]
    assert tracker.best_epoch == tracker.restored_epoch == 3
    assert_weights_of(model, snapshots[3])
    tracker, _, _ = fit_with_scripted_figures(model, toy, monkeypatch, {"acf_mse/wave": acf},
                                              keep_best="acf_mse/wave")
    assert tracker.warmup_bounds() == (1, None) and tracker.best_epoch == 1
    tracker, _, _ = fit_with_scripted_figures(model, toy, monkeypatch, {"acf_mse/wave": acf},
                                              keep_best="acf_mse/wave", warmup=0.35)
    assert tracker.warmup_bounds() == (4, None) and tracker.best_epoch == 4


def test_a_run_that_ends_inside_the_warmup_keeps_its_last_weights(model, toy, monkeypatch):
    messages = []
    tracker, _, snapshots = fit_with_scripted_figures(
        model, toy, monkeypatch, {"acf_mse/wave": [0.01, 0.5, 0.9]}, keep_best="acf_mse/wave",
        warmup=5, print_fn=messages.append)
    assert tracker.best_epoch == tracker.restored_epoch == 2 and tracker.best_value == 0.9
    assert_weights_of(model, snapshots[2])
    assert messages == ["FidelityTracker: the run ended inside keep-best's warm-up (the first "
                        "5 epochs), where no epoch is eligible: keeping the last epoch's "
                        "weights (epoch 3)"]


def test_the_warmup_of_a_time_limited_run_is_a_share_of_its_seconds(model, toy, monkeypatch):
    """fit(epochs=1000) with TrainingTimeLimit(10) and epochs of 1 s (a fake clock): the
    warm-up is 25% of the 10 s, not of the 1,000 epochs."""
    from doppelganger_tf import TrainingTimeLimit
    now = [100.0]
    monkeypatch.setattr(fidelity_callback.time, "perf_counter", lambda: now[0])
    tick = tf.keras.callbacks.LambdaCallback(
        on_epoch_end=lambda epoch, logs: now.__setitem__(0, now[0] + 1.0))
    acf = iter([0.01, 0.3, 0.2, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0, 1.1])
    monkeypatch.setattr(fidelity_callback, "fidelity_metrics",
                        lambda real, synthetic, **kwargs: {"acf_mse/wave": next(acf)})
    tracker = FidelityTracker(reference=toy.subset(np.arange(30)), every=1, print_fn=None,
                              keep_best="acf_mse/wave", warmup=0.25)
    model.fit(toy, epochs=1000, seed=0, verbose=0,
              callbacks=[tick, TrainingTimeLimit(10.0), tracker])
    assert tracker.time_limit == 10.0 and tracker.warmup_bounds() == (250, 2.5)
    assert tracker.epochs == list(range(10))
    # the tracker reads the clock before the tick: epoch e ends e seconds in; 3 >= 2.5
    assert tracker.eligible_epochs == list(range(3, 10)) and tracker.best_epoch == 3
    # a first epoch past the seconds (graph tracing) is still the warm-up's
    now[0] = 100.0
    acf = iter([0.01, 0.3, 0.2])
    slow = tf.keras.callbacks.LambdaCallback(
        on_epoch_begin=lambda epoch, logs: now.__setitem__(0, now[0] + 5.0 * (epoch == 0)))
    tracker = FidelityTracker(reference=toy.subset(np.arange(30)), every=1, print_fn=None,
                              keep_best="acf_mse/wave", warmup=0.25)
    model.fit(toy, epochs=1000, seed=0, verbose=0,
              callbacks=[slow, tick, TrainingTimeLimit(8.0), tracker])
    assert tracker.epochs == [0, 1, 2] and tracker.eligible_epochs == [1, 2]
    assert tracker.best_epoch == 2


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
    model = DoppelGANger.from_dataset(toy, toy_config(dp_noise_multiplier=1.0), seed=0)
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


def test_figures_are_divided_by_a_floor_measured_between_the_reference_halves(model, toy):
    """The floor, computed here from the halves as Datasets: 5 seeded splits of the reference
    into halves, each figure between them, averaged, rescaled from halves of 20 and 20 to the
    tracker's 40 reference and 90 generated samples, at least the minimum floor: 1e-3 of the
    unit to the figure's order (the flat share: no real series is flat, so its floor is the
    minimum, 1e-3; the waves' midranges are all near 0: 1e-3 of the [-1, 1] range)."""
    from doppelganger_tf.evaluation import fidelity_metrics
    from doppelganger_tf.evaluation.fidelity import figure_order
    reference = toy.subset(np.arange(40))
    tracker = FidelityTracker(reference=reference, every=1, seed=4, generated_samples=90,
                              keep_best="auto", print_fn=None)
    model.fit(toy, epochs=1, seed=0, verbose=0, callbacks=[tracker])
    rng = np.random.default_rng(4)
    splits = []
    for _ in range(5):
        order = rng.permutation(40)
        splits.append(fidelity_metrics(reference.subset(np.sort(order[:20])),
                                       reference.subset(np.sort(order[20:])), tracker.metrics))
    assert set(tracker.floors) == set(splits[0])
    shrink = (1 / 40 + 1 / 90) / (1 / 20 + 1 / 20)
    for key in splits[0]:
        floor = np.mean([s[key] for s in splits]) * shrink ** (figure_order(key) / 2)
        kind = key.split("/")[0]
        if kind == "flat":
            assert floor == 0
        # features and the size attribute scaled to [-1, 1]: a unit of 2
        floor = max(floor, {"acf_mse": 1e-6, "jsd": 1e-6, "flat": 1e-3}.get(kind, 2e-3))
        assert tracker.floors[key] == pytest.approx(floor, rel=1e-9, abs=1e-15), key
        np.testing.assert_allclose(tracker.history[f"fidelity/ratio/{key}"],
                                   np.array(tracker.history[f"fidelity/{key}"]) / floor,
                                   rtol=1e-9)
    auto = [f"fidelity/ratio/{key[len('fidelity/'):]}" for key in tracker.keep_best_keys]
    np.testing.assert_allclose(tracker.history["fidelity/keep_best_floor_ratio"],
                               np.mean([tracker.history[key] for key in auto], axis=0))


def flattened(dataset):
    """``dataset`` with each series held at its first value (what a collapsed generator
    gives)."""
    from doppelganger_tf.dataset import Dataset
    flat = np.repeat(dataset.features[:, :1], dataset.max_length, axis=1)
    return Dataset(flat * dataset.gen_flags[..., None], dataset.attributes, dataset.gen_flags,
                   dataset.feature_outputs, dataset.attribute_outputs, dataset.feature_min,
                   dataset.feature_max, dataset.attribute_min, dataset.attribute_max)


def test_a_flat_generator_gets_a_bad_flat_figure_and_a_bad_auto_score(model, toy, monkeypatch):
    """Generated data: 30 real samples the reference does not hold, then the same held flat.
    Flat, the share of flat series is 1 against the real 0 (1000x the floor), and the mean ratio
    is far above the real samples'; the flat series are left out of the autocorrelation, not
    counted as "no correlation"."""
    tracker = FidelityTracker(reference=toy.subset(np.arange(30)), keep_best="auto")
    tracker.set_model(model)
    tracker.on_train_begin()
    other = toy.subset(np.arange(30, 60))
    monkeypatch.setattr(model, "generate", lambda count, **kwargs: other)
    real = tracker.evaluate()
    monkeypatch.setattr(model, "generate", lambda count, **kwargs: flattened(other))
    flat = tracker.evaluate()
    assert real["fidelity/flat/wave"] == 0 and flat["fidelity/flat/wave"] == 1
    assert flat["fidelity/ratio/flat/wave"] == pytest.approx(1000)
    assert real["fidelity/keep_best_floor_ratio"] < 3
    assert flat["fidelity/keep_best_floor_ratio"] > 100 * real["fidelity/keep_best_floor_ratio"]
    # no series left to correlate: the curve is 0, as before, and its MSE the real curve's
    curve = tracker._reference[2].acf["wave"]
    assert flat["fidelity/acf_mse/wave"] == pytest.approx(np.mean(curve ** 2))


def test_time_limit_stops_at_the_first_epoch_end_past_the_budget(model, toy, monkeypatch):
    import time

    from doppelganger_tf import TrainingTimeLimit
    now = [100.0]  # a fake clock: each epoch end reads it after 0.4 "seconds"
    monkeypatch.setattr(time, "perf_counter", lambda: now[0])  # what the limit reads
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
    (dict(keep_best=3), TypeError, "keep_best must be 'auto', a logs key"),
    (dict(keep_best=[]), TypeError, "keep_best must be 'auto', a logs key"),
    (dict(keep_best="acf_mse/wave,acf_mse/wave"), ValueError, "names a key twice"),
    (dict(keep_best="keep_best_floor_ratio"), ValueError, "the tracker's own combination"),
    (dict(keep_best=["acf_mse/a", "acf_mse/b"], mode="max"), ValueError, "use mode='min'"),
    (dict(keep_best="auto", mode="max"), ValueError, "use mode='min'"),
    (dict(keep_best="auto", keep_best_targets=[0.1]), ValueError, "not 'auto'"),
    (dict(warmup=1.0), ValueError, "must be a share of the run in [0, 1)"),
    (dict(warmup=-1), ValueError, "warmup=-1 epochs must be >= 0"),
    (dict(warmup="10%"), TypeError, "warmup must be a share of the run"),
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
