"""Shared machinery of the experiment scripts: flags, training each model with progress,
checkpoints and resume, generation, and writing results.json / results.md / figures."""
from __future__ import annotations

import dataclasses
import inspect
import json
import math
import os
import shutil
import sys
import time
from pathlib import Path
from typing import Callable, Dict, List, Optional, Tuple

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np
from absl import app, flags, logging

from doppelganger_tf.atomic import atomic_file
from doppelganger_tf.config import (FIELD_RULES, RUN_SETTING_RULES, Boolean, Choice, DGConfig,
                                    Integer, OrNone, Real, run_settings)
from doppelganger_tf.dataset import Dataset, check_sample_len
from doppelganger_tf.distribution import STRATEGIES
from doppelganger_tf.runtime import THREAD_SETTING_HELP, apply_thread_setting

MODEL_NAMES = ("dg", "hmm", "ar", "rnn", "naive_gan")
FLAGS = flags.FLAGS
# every experiment script has it: main_wrapper applies it before any TensorFlow work
flags.DEFINE_string("cpu_threads", "auto", THREAD_SETTING_HELP)


# DGConfig fields whose flag has another name: flagfiles and commands written before every field
# had a flag spell them this way (--aux_critic / --noaux_critic)
FLAG_ALIASES = {"use_aux_critic": "aux_critic"}

# One-line helps of the DoppelGANger flags that need more than the field name (the others read
# "DGConfig.<field>"; doppelganger_tf/config.py comments each field)
DG_FLAG_HELP = {
    "sample_len": "DoppelGANger records per LSTM step (S)",
    "batch_size": "training batch size",
    "use_aux_critic": "use the auxiliary (attribute) critic",
    "aux_critic_loss_weight": "alpha in g_loss = -D(fake) - alpha * D_aux(fake)",
    "auto_normalize": "per-sample min/max auto-normalisation",
    "auto_normalize_masked": "auto-normalise over active steps only (the original: all steps, "
                             "padding included)",
    "critic_steps": "critic updates per batch",
    "generator_steps": "generator updates per batch",
    "sample_with_replacement": "draw batches with replacement (the original); "
                               "--nosample_with_replacement shuffles epochs",
    "dp_noise_multiplier": "train both critics with DP-SGD at this Gaussian noise multiplier "
                           "(default: no DP)",
    "dp_l2_norm_clip": "DP-SGD: per-example clip norm of each critic's loss gradient",
    "dp_poisson_sampling": "DP: draw Poisson batches (exact accounting); "
                           "--nodp_poisson_sampling keeps fixed-size batches",
}


# The flags of DoppelGANger's run settings (how it runs, not what it is: arguments of
# DoppelGANger(...), config.run_settings), defined beside the DGConfig flags
RUN_SETTING_HELP = {
    "lstm_implementation": "how the LSTM runs: auto = the fused CPU operation where it builds "
                           "and no GPU is present, else Keras' LSTM",
    "precision": "DoppelGANger's arithmetic: mixed_float16 speeds up GPUs (CPUs emulate half "
                 "precision: keep float32 there); DP runs need float32",
}


def dg_flag_names() -> Dict[str, str]:
    """{DGConfig field: the name of its flag}, in the dataclass's order."""
    return {f.name: FLAG_ALIASES.get(f.name, f.name) for f in dataclasses.fields(DGConfig)}


def define_dg_flags(flag_values=FLAGS, helps: Optional[Dict[str, str]] = None, **defaults):
    """One flag per DGConfig field (named as in dg_flag_names), typed and bounded by the field's
    rule in FIELD_RULES, defaulting to DGConfig's default or to ``defaults`` (by flag name: the
    script's paper settings, e.g. ``aux_critic=False``), and one per run setting
    (RUN_SETTING_HELP). ``helps`` overrides DG_FLAG_HELP by field name."""
    names = dg_flag_names()
    unknown = set(defaults) - set(names.values()) - set(RUN_SETTING_RULES)
    if unknown:
        raise TypeError(f"define_dg_flags: {sorted(unknown)} name no DoppelGANger flag")
    helps = {**DG_FLAG_HELP, **(helps or {})}
    for field in dataclasses.fields(DGConfig):
        name = names[field.name]
        help_text = helps.get(field.name, f"DGConfig.{field.name}")
        if name != field.name:
            help_text += f" (DGConfig.{field.name})"
        _define_field_flag(FIELD_RULES[field.name], name, defaults.get(name, field.default),
                           help_text, flag_values)
    for name, rule in RUN_SETTING_RULES.items():
        default = inspect.signature(run_settings).parameters[name].default
        _define_field_flag(rule, name, defaults.get(name, default), RUN_SETTING_HELP[name],
                           flag_values)


def _define_field_flag(rule, name, default, help_text, flag_values):
    if isinstance(rule, OrNone):  # the same flag, left at None unless given
        rule = rule.rule
    if isinstance(rule, Boolean):
        flags.DEFINE_bool(name, default, help_text, flag_values=flag_values)
    elif isinstance(rule, Choice):
        flags.DEFINE_enum(name, default, list(rule.options), help_text, flag_values=flag_values)
    elif isinstance(rule, Integer):
        flags.DEFINE_integer(name, default, help_text, lower_bound=rule.min,
                             flag_values=flag_values)
    elif isinstance(rule, Real):
        # absl's bounds are inclusive: an open end is left to DGConfig's check, and said in the help
        low = rule.low if rule.closed in ("both", "left") else None
        high = rule.high if rule.closed in ("both", "right") else None
        if (low, high) != (rule.low, rule.high):
            help_text += f" ({rule})"
        flags.DEFINE_float(name, default, help_text, lower_bound=low, upper_bound=high,
                           flag_values=flag_values)
    else:  # a new kind of rule needs a flag type here
        raise TypeError(f"no flag type for --{name}'s rule {rule!r}")


# the tracker draws its noise apart from the generation the results are computed on
# (--seed): otherwise the kept epoch would be scored on the very draw that chose it
TRACKER_SEED_OFFSET = 1_000


def dg_config(flag_values=FLAGS) -> DGConfig:
    """The DGConfig of the DoppelGANger flags (define_dg_flags)."""
    return DGConfig(**{field: flag_values[name].value for field, name in dg_flag_names().items()})


def dg_run_settings(flag_values=FLAGS) -> dict:
    """The run settings of the DoppelGANger flags, checked against their DGConfig (DP needs
    float32): keyword arguments of ``DoppelGANger.from_dataset``."""
    return run_settings(dg_config(flag_values),
                        **{name: flag_values[name].value for name in RUN_SETTING_RULES})


def define_flags(*, epochs: int, data_default=None, reports: bool = False, **dg_defaults):
    """Flags every DoppelGANger-and-baselines script shares, and one flag per DGConfig field;
    ``dg_defaults`` (by flag name, e.g. ``sample_len=8, aux_critic=False``) and ``epochs`` are
    that dataset's paper settings. ``reports``: the script writes a fidelity report per model
    (:func:`write_reports`), and has a --report flag to turn it off."""
    flags.DEFINE_string("data", data_default, "directory of the training Dataset "
                        "(Dataset.load reads our layout or the original release's)")
    flags.DEFINE_string("test_data", None, "optional held-out real Dataset directory")
    flags.DEFINE_string("output", None, "directory for models, generated data, results")
    flags.DEFINE_list("models", list(MODEL_NAMES), f"models to run, from {MODEL_NAMES}")
    flags.DEFINE_integer("epochs", epochs, "DoppelGANger training epochs (N / batch steps each)",
                         lower_bound=1)
    flags.DEFINE_integer("baseline_epochs", 50, "training epochs of the neural baselines",
                         lower_bound=1)
    flags.DEFINE_integer("seed", 0, "seed for weights, batches and generation")
    flags.DEFINE_integer("num_generate", None, "samples to generate (default: as many as the "
                         "training data)", lower_bound=1)
    flags.DEFINE_bool("resume", False, "resume DoppelGANger from its last checkpoint and reuse "
                      "finished models' generated data")
    flags.DEFINE_integer("log_every", 10, "print losses and ETA every this many epochs",
                         lower_bound=1)
    flags.DEFINE_float("max_train_seconds", None, "stop DoppelGANger's training at the first "
                       "epoch end past this many seconds of wall time (TrainingTimeLimit; "
                       "default: train all --epochs)", lower_bound=0.0)
    flags.DEFINE_integer("track_every", 0, "score DoppelGANger against the training data "
                         "every this many epochs (FidelityTracker; the figures go to "
                         "<output>/dg/fidelity_track.json); 0: off", lower_bound=0)
    flags.DEFINE_string("keep_best", None, "with --track_every: keep the weights of the "
                        "tracked epoch where the fidelity figures were lowest: auto (the "
                        "recommended: the mean ratio to the real-vs-real floor of the "
                        "autocorrelation, per-series mean and flat share of every feature, the "
                        "attributes and the lengths), one figure, e.g. acf_mse/feature_0, or the "
                        "mean ratio to the floor of several (comma-separated; FidelityTracker "
                        "keep_best)")
    flags.DEFINE_string("keep_best_targets", None, "with --keep_best: one target per key "
                        "(comma-separated, e.g. 0.005,0.3): keep the epoch with the lowest "
                        "mean of each figure over its target (FidelityTracker "
                        "keep_best_targets)")
    flags.DEFINE_float("keep_best_warmup", 0.1, "with --keep_best: the share of the run "
                       "(of --epochs, or of --max_train_seconds when that ends it first) whose "
                       "epochs are not eligible (FidelityTracker warmup)", lower_bound=0.0,
                       upper_bound=0.99)
    flags.DEFINE_list("track_metrics", None, "with --track_every: the metric families "
                      "scored (FidelityTracker metrics: acf, mean, total, midrange, attribute, "
                      "length, correlation, flat; default the tracker's: acf, mean, midrange, "
                      "attribute, length, flat; --keep_best=auto adds what it needs)")
    flags.DEFINE_integer("track_samples", None, "with --track_every: samples generated per "
                         "evaluation (FidelityTracker generated_samples; default: as many as "
                         "the scored subset of the training data, at most 500)", lower_bound=1)
    flags.DEFINE_boolean("track_by_category", False, "with --track_every: also score the "
                         "per-sample statistics within each category of each discrete "
                         "attribute (keys such as w1_total/feature_0/attribute_1=3)")
    flags.DEFINE_enum("strategy", "default", list(STRATEGIES), "where DoppelGANger trains: "
                      "default (one device), mirrored (every local GPU), multi_worker (one "
                      "worker of the cluster in TF_CONFIG; every worker runs this command, "
                      "the chief writes the outputs: docs/scaling.md)")
    flags.DEFINE_float("dp_delta", 1e-5, "DP: delta of the reported (epsilon, delta)")
    flags.DEFINE_float("dp_target_epsilon", None, "DP: stop training before the epsilon spent "
                       "would exceed this (default: train all epochs)")
    flags.DEFINE_bool("suggested_settings", False, "take DoppelGANger's settings from "
                      "suggest_config(training data) (docs/tuning.md): --sample_len, "
                      "--auto_normalize, --aux_critic, --generator_average_decay, --batch_size "
                      "and --epochs (with --max_train_seconds, the suggestion for that many "
                      "seconds), each unless given on the command line or in a flagfile; the "
                      "reasons are logged and written with the settings to "
                      "<output>/dg/settings.json")
    if reports:
        flags.DEFINE_bool("report", True, "write each model's fidelity report "
                          "(doppelganger_tf.evaluation.evaluate against the training data: "
                          "report.md, report.json, figures) into <output>/<model>/report")
    define_dg_flags(**dg_defaults)
    flags.mark_flags_as_required(["output"] if data_default else ["data", "output"])


def script_flag_values() -> dict:
    """{flag: value} of the flags the running script and this module define (results.json)."""
    return {name: FLAGS[name].value for name in FLAGS
            if FLAGS.find_module_defining_flag(name) in (__name__, "__main__")}


# DGConfig fields that --suggested_settings takes from suggest_config (with --epochs)
SUGGESTED_FIELDS = ("sample_len", "auto_normalize", "use_aux_critic", "generator_average_decay",
                    "batch_size")
_SUGGESTION = {}  # what apply_suggested_settings took and why: settings.json


def apply_suggested_settings(train: Dataset, rebuild: Optional[Callable[[], Dataset]] = None,
                             rebuild_flag: Optional[str] = None, fields=SUGGESTED_FIELDS,
                             dg_only: bool = False):
    """With --suggested_settings, set the flags of ``fields`` (SUGGESTED_FIELDS) and --epochs to
    what ``suggest_config(train, seconds=--max_train_seconds)`` chooses, except those given on
    the command line or in a flagfile, log the suggestion's reasons and remember them for
    <output>/dg/settings.json. Returns the training data: ``train``, or when the suggested
    sample_len needs another T (``suggestion.rebuild``), ``rebuild()``: the data the script
    builds itself (the embedded synthetic data) once --``rebuild_flag``, their length, is set to
    that T, which it must not be given. Without ``rebuild`` (data read from disk) that is a
    ValueError naming the flags to set. Without --suggested_settings, or when DoppelGANger is not
    among --models (unless ``dg_only``): ``train`` unchanged."""
    from doppelganger_tf.suggestion import suggest_config

    _SUGGESTION.clear()
    if not FLAGS.suggested_settings or not (dg_only or "dg" in FLAGS.models):
        return train
    suggestion = suggest_config(train, seconds=FLAGS.max_train_seconds)
    names = dg_flag_names()
    suggested = {names[f]: getattr(suggestion.config, f) for f in fields}
    suggested["epochs"] = suggestion.epochs
    if suggestion.rebuild and "sample_len" in suggested and not FLAGS["sample_len"].present:
        s, length = suggestion.config.sample_len, suggestion.padded_length
        divisors = [d for d in range(1, train.max_length + 1) if train.max_length % d == 0]
        if rebuild is None or FLAGS[rebuild_flag].present:
            fix = (f"set --{rebuild_flag}={length} (a multiple of {s})" if rebuild_flag else
                   f"rebuild the Dataset with sample_len={s} (Dataset.from_dataframe(..., "
                   f"sample_len={s}) pads T up to {length})")
            raise ValueError(f"--suggested_settings: the suggested sample_len={s} needs "
                             f"T={length}, the data have T={train.max_length}: {fix}, or set "
                             f"--sample_len to a divisor of {train.max_length} ({divisors})")
        logging.info("suggested settings: sample_len=%d needs T=%d; building the data with "
                     "--%s=%d", s, length, rebuild_flag, length)
        FLAGS[rebuild_flag].value = length
        return apply_suggested_settings(rebuild(), None, rebuild_flag, fields, dg_only)
    reasons = dict(suggestion.reasons)
    _follow_given_flags(suggested, reasons, train, suggestion.seconds)
    taken = {name: value for name, value in suggested.items() if not FLAGS[name].present}
    given = {name: FLAGS[name].value for name in suggested if FLAGS[name].present}
    for name, value in taken.items():
        FLAGS[name].value = value
    fields = {flag: field for field, flag in names.items()}
    for name, value in given.items():  # the reasons say which choices were not taken
        prefix = "budget" if name == "epochs" else f"{fields[name]}="
        for choice in reasons:
            if choice.startswith(prefix) and value != suggested[name]:
                reasons[choice] += f" [not taken: --{name}={value} given]"
    dg_config()  # the suggestion beside the flags given: DGConfig names a value it rejects
    logging.info("%s", "\n".join(["Suggested settings:"]
                                  + [f"  {choice}: {why}" for choice, why in reasons.items()]))
    logging.info("suggested settings taken: %s%s",
                 ", ".join(f"--{n}={v}" for n, v in taken.items()) or "none",
                 "; given: " + ", ".join(f"--{n}={v}" for n, v in given.items()) if given else "")
    _SUGGESTION.update({"taken": taken, "given": given, "reasons": reasons,
                        "steps": suggestion.steps, "steps_per_epoch": suggestion.steps_per_epoch,
                        "seconds": suggestion.seconds, "measurements": suggestion.measurements})
    return train


def _follow_given_flags(suggested: dict, reasons: dict, train: Dataset, seconds) -> None:
    """The suggestion's rules that depend on another choice, applied to the value given for it
    where that differs: the auxiliary critic follows --auto_normalize, the budget's epochs
    follow --batch_size (suggestion.choose_aux_critic, choose_budget)."""
    from doppelganger_tf import suggestion as rules

    if FLAGS["auto_normalize"].present and FLAGS.auto_normalize != suggested["auto_normalize"]:
        given = FLAGS.auto_normalize
        why = f"follows the --auto_normalize={given} given"
        for choice in [c for c in reasons if c.startswith("use_aux_critic=")]:
            del reasons[choice]
        if "aux_critic" in suggested:
            suggested["aux_critic"], reason = rules.choose_aux_critic(
                len(train.attribute_outputs), given)
            reasons[f"use_aux_critic={suggested['aux_critic']}"] = f"{why}: {reason}"
    if FLAGS["batch_size"].present and FLAGS.batch_size != suggested.get("batch_size"):
        per_epoch = max(1, len(train) // FLAGS.batch_size)
        _, suggested["epochs"], reason = rules.choose_budget(per_epoch, FLAGS.batch_size,
                                                             len(train), seconds)
        reasons["budget"] = f"follows the --batch_size={FLAGS.batch_size} given: {reason}"


def write_settings(out: Path) -> None:
    """<out>/settings.json: the DGConfig and budget DoppelGANger trains with, and with
    --suggested_settings, the suggestion (the flags it set, those given, its reasons)."""
    write_json(out / "settings.json", {
        "config": dataclasses.asdict(dg_config()), "run_settings": dg_run_settings(),
        "epochs": FLAGS.epochs,
        "max_train_seconds": FLAGS.max_train_seconds,
        "suggested_settings": FLAGS.suggested_settings,
        "suggestion": dict(_SUGGESTION) or None})


_STRATEGY = []  # the --strategy, created once


def distribution_strategy():
    """The tf.distribute strategy --strategy names (distribution.make_strategy), created on
    the first call."""
    if not _STRATEGY:
        from doppelganger_tf.distribution import make_strategy
        _STRATEGY.append(make_strategy(FLAGS.strategy))
    return _STRATEGY[0]


def is_chief() -> bool:
    """Whether this process writes the outputs (all but the other workers of a multi-worker
    job)."""
    from doppelganger_tf import distribution
    return distribution.is_chief(distribution_strategy())


def train_doppelganger(train: Dataset, out: Path):
    """Train (or resume) DoppelGANger with checkpoints; returns the trained model. The model is
    built and compiled in the --strategy's scope; in a multi-worker job every worker runs this
    (the chief writes the checkpoints and the model)."""
    from doppelganger_tf.callbacks import (PrivacyBudget, TrainingCheckpoint, TrainingProgress,
                                           TrainingTimeLimit)
    from doppelganger_tf.fidelity_callback import DEFAULT_METRICS, FidelityTracker
    from doppelganger_tf.compat import keras
    from doppelganger_tf.model import DoppelGANger
    from doppelganger_tf import privacy

    if is_chief():
        write_settings(out)
    keras.utils.set_random_seed(FLAGS.seed)
    with distribution_strategy().scope():
        model = DoppelGANger.from_dataset(train, dg_config(), seed=FLAGS.seed,
                                          **dg_run_settings())
        model.compile()
    checkpoint_dir = out / "checkpoints"
    if not FLAGS.resume and checkpoint_dir.exists() and is_chief():
        shutil.rmtree(checkpoint_dir)  # a fresh run must not mix with an old one
    checkpoint = TrainingCheckpoint(checkpoint_dir, every_n_epochs=max(1, FLAGS.log_every))
    start = checkpoint.restore(model)
    if start:
        logging.info("dg: resuming after epoch %d", start)
    # the ETA honours --max_train_seconds (the epoch count is only an upper bound then)
    callbacks = [TrainingProgress(FLAGS.log_every, logging.info,
                                  seconds=FLAGS.max_train_seconds or None)]
    if model.uses_dp:  # before the checkpoint, so a stop at the target is checkpointed
        callbacks.insert(0, PrivacyBudget(delta=FLAGS.dp_delta,
                                          target_epsilon=FLAGS.dp_target_epsilon,
                                          print_fn=logging.info))
    if FLAGS.max_train_seconds:
        callbacks.append(TrainingTimeLimit(FLAGS.max_train_seconds))
    tracker = None
    if FLAGS.track_every:
        tracker = FidelityTracker(every=FLAGS.track_every, keep_best=FLAGS.keep_best,
                                  keep_best_targets=FLAGS.keep_best_targets,
                                  warmup=FLAGS.keep_best_warmup,
                                  metrics=FLAGS.track_metrics or DEFAULT_METRICS,
                                  by_category=FLAGS.track_by_category,
                                  seed=FLAGS.seed + TRACKER_SEED_OFFSET,
                                  generated_samples=FLAGS.track_samples,
                                  print_fn=logging.info)
        callbacks.append(tracker)
    if start < FLAGS.epochs:
        model.fit(train, epochs=FLAGS.epochs, initial_epoch=start, seed=FLAGS.seed, verbose=0,
                  callbacks=callbacks + [checkpoint])
    if tracker is not None and tracker.epochs:
        write_json(out / "fidelity_track.json",
                   {"epochs": [e + 1 for e in tracker.epochs],
                    **{key.split("/", 1)[1]: values for key, values in tracker.history.items()},
                    "floors": tracker.floors,
                    "keep_best_keys": [key.split("/", 1)[1] for key in tracker.keep_best_keys],
                    "best_epoch": None if tracker.best_epoch is None else tracker.best_epoch + 1})
    if model.uses_dp:
        if model.privacy_record is None:  # nothing left to train after a resume
            privacy.bind_training_set(model, len(train))
            model.privacy_record = privacy.model_record(model, FLAGS.dp_delta)
        record = model.privacy_record
        logging.info("dg: DP epsilon %.4g at delta %g after %d steps (original accounting "
                     "%.4g)", record["epsilon"], record["delta"], record["steps"],
                     record["epsilon_original"])
    model.save(out / "model")
    return model


def build_baseline(name: str):
    from doppelganger_tf import baselines
    return {"hmm": baselines.HMMBaseline, "ar": baselines.ARBaseline,
            "rnn": baselines.RNNBaseline, "naive_gan": baselines.NaiveGANBaseline}[name]()


def run_models(train: Dataset) -> Dict[str, dict]:
    """Train each requested model and generate; returns {model: {"generated", "wall_time_s"}}.

    Generated data are saved under <output>/<model>/generated; with --resume a model whose
    generated data exist is not trained again. A worker of a multi-worker job other than the
    chief trains and generates with DoppelGANger in step with the chief (generation reads
    weights kept per replica), then exits: the chief trains the rest and writes everything."""
    n = FLAGS.num_generate or len(train)
    runs = {}
    if not is_chief():
        if "dg" in FLAGS.models:
            train_doppelganger(train, Path(FLAGS.output) / "dg").generate(n, seed=FLAGS.seed)
        logging.info("worker done; the chief writes the results")
        sys.exit(0)
    for name in FLAGS.models:
        out = Path(FLAGS.output) / name
        timing_file = out / "timing.json"
        epochs = FLAGS.epochs if name == "dg" else FLAGS.baseline_epochs
        if FLAGS.resume and (out / "generated").exists() and timing_file.exists():
            previous = json.loads(timing_file.read_text())
            if previous.get("epochs") == epochs:  # finished with these settings: reuse
                logging.info("%s: reusing %s", name, out / "generated")
                runs[name] = {"generated": Dataset.load(out / "generated"), **previous}
                continue
        logging.info("%s: training", name)
        started = time.perf_counter()
        if name == "dg":
            model = train_doppelganger(train, out)
        else:
            model = build_baseline(name).fit(train, epochs=epochs, seed=FLAGS.seed)
        trained = time.perf_counter()
        generated = model.generate(n, seed=FLAGS.seed)
        finished = time.perf_counter()
        generated.save(out / "generated")
        if name == "dg":  # the model's samples in real units, one row per time step
            with atomic_file(out / "generated.csv") as f:
                generated.to_dataframe().to_csv(f, index=False)
        timing = {"epochs": epochs, "train_time_s": trained - started,
                  "generate_time_s": finished - trained, "wall_time_s": finished - started}
        write_json(timing_file, timing)
        logging.info("%s: done in %.0f s", name, timing["wall_time_s"])
        runs[name] = {"generated": generated, **timing}
    return runs


def metric_rows(real: Dataset, runs: Dict[str, dict], evaluate) -> Dict[str, dict]:
    """{model: evaluate(real, generated) + timings} plus the "real halves" floor row."""
    rows = {name: {**evaluate(real, run["generated"]),
                   "train_time_s": run["train_time_s"], "wall_time_s": run["wall_time_s"]}
            for name, run in runs.items()}
    rows["real halves"] = evaluate(*split_real_halves(real, FLAGS.seed))
    return rows


def split_real_halves(dataset: Dataset, seed: int):
    """Two random halves of the real data: their distance is the floor a model can reach."""
    order = np.random.default_rng(seed).permutation(len(dataset))
    half = len(dataset) // 2
    return dataset.subset(order[:half]), dataset.subset(order[half:2 * half])


def autocorrelation_of(dataset: Dataset, feature: str):
    """Average autocorrelation curve of one feature over the dataset's active steps, lags
    1..T-2: the curve of the fidelity figures and of the evaluate report."""
    from doppelganger_tf.evaluation import summarize
    curves = summarize(dataset, ["acf"], [feature]).acf
    if feature not in curves:
        raise ValueError(f"need T >= 3 for an autocorrelation curve, got T={dataset.max_length}")
    return curves[feature]


def show_results(written: str = "figures") -> None:
    """Log what was written and print results.md (every script's last step)."""
    out = Path(FLAGS.output)
    logging.info("wrote %s/results.json, results.md and %s", out, written)
    print((out / "results.md").read_text())


def write_reports(real: Dataset, runs: Dict[str, dict]) -> None:
    """<output>/<model>/report (with --report): each model's fidelity report against the
    training data, every figure beside the real-vs-real floor (docs/evaluation.md)."""
    from doppelganger_tf.evaluation import evaluate
    if not FLAGS.report:
        return
    for name, run in runs.items():
        out = Path(FLAGS.output) / name / "report"
        evaluate(real, run["generated"], out, seed=FLAGS.seed)
        logging.info("%s: wrote %s/report.md", name, out)


def nearest_neighbour_figures(real: Dataset, runs: Dict[str, dict], feature: str, out: Path):
    """figure21_nearest_neighbours_<model>.png: generated series beside their nearest real
    ones (the paper's memorisation check)."""
    from doppelganger_tf.evaluation import (feature_series, nearest_neighbours,
                                            plot_nearest_neighbours)
    real_series = np.nan_to_num(feature_series(real, feature))
    for name, run in runs.items():
        generated = np.nan_to_num(feature_series(run["generated"], feature))[:3]
        indices, _ = nearest_neighbours(generated, real_series, k=3)
        plot_nearest_neighbours(generated, real_series, indices,
                                out / f"figure21_nearest_neighbours_{name}.png")


def write_json(path, payload) -> None:
    with atomic_file(path) as f:
        json.dump(payload, f, indent=2, default=float)


def markdown_table(rows: Dict[str, Dict[str, float]], columns: List[str]) -> str:
    head = "| model | " + " | ".join(columns) + " |"
    rule = "|---|" + "---|" * len(columns)
    lines = [head, rule]
    for model, values in rows.items():
        cells = [_fmt(values.get(c)) for c in columns]
        lines.append(f"| {model} | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def _fmt(value) -> str:
    if value is None:
        return "-"
    if isinstance(value, (int, np.integer)):
        return str(value)
    if abs(value) >= 1000 or (0 < abs(value) < 1e-3):
        return f"{value:.3g}"
    return f"{value:.4f}"


# an R^2 below this is read as "unusable", not as a figure: the forecaster's squared error is
# more than twice the variance of the real targets (R^2 = 0 is predicting their mean)
OUTLIER_R2 = -1.0


def _is_nan(value) -> bool:
    return isinstance(value, (float, np.floating)) and math.isnan(value)


def _generic_reason(row: str, column: str, value) -> Optional[str]:
    """Why a cell is blank or an outlier when the script gave no reason of its own; None for an
    ordinary cell."""
    if value is None:
        if row.startswith("real"):
            return "real data: nothing was trained or generated, so there is nothing to time"
        return "not measured for this row"
    if _is_nan(value):
        return "the figure could not be computed on this row's data (the run's log says why)"
    if "r2" in column and value < OUTLIER_R2:
        return ("the forecaster trained on this model's data predicts the real series with a "
                "squared error over twice their variance (R2 0 = predicting their mean): read it "
                "as 'unusable for this forecaster', not as a precise figure")
    return None


def table_notes(metrics: Dict[str, Dict[str, float]], columns: List[str],
                reasons: Optional[Dict[Tuple[str, str], str]] = None) -> str:
    """results.md's "Blanks and outliers": every `-` (not measured), `nan` (not computable)
    and outlier (an R2 below OUTLIER_R2) of the table, with its reason: the script's
    (``reasons[(row, column)]``, which may also explain an ordinary cell) or a generic one.
    Cells of a row that share a reason are listed together. "" when there is none."""
    reasons = reasons or {}
    grouped: Dict[Tuple[str, str], List[str]] = {}
    for row, values in metrics.items():
        for column in columns:
            value = values.get(column)
            why = reasons.get((row, column)) or _generic_reason(row, column, value)
            if why is not None:
                grouped.setdefault((row, why), []).append(f"{column} {_fmt(value)}")
    if not grouped:
        return ""
    lines = ["Blanks and outliers:"]
    lines += [f"- {row}: {', '.join(cells)}: {why}." for (row, why), cells in grouped.items()]
    return "\n".join(lines)


def write_results(dataset_name: str, metrics: Dict[str, Dict[str, float]],
                  columns: List[str], notes: str = "",
                  reasons: Optional[Dict[Tuple[str, str], str]] = None) -> None:
    """results.json (every metric of every model plus the flags) and results.md: the table, the
    script's ``notes`` and why each blank or outlier is there (:func:`table_notes`; ``reasons``:
    {(row, column): why} for the cells the script can explain)."""
    out = Path(FLAGS.output)
    write_json(out / "results.json", {"dataset": dataset_name, "flags": script_flag_values(),
                                      "models": metrics})
    explained = table_notes(metrics, columns, reasons)
    with atomic_file(out / "results.md") as f:
        f.write(f"# {dataset_name}: fidelity of generated data\n\n")
        f.write(markdown_table(metrics, columns))
        if notes:
            f.write("\n" + notes.strip() + "\n")
        if explained:
            f.write("\n" + explained + "\n")


# Errors that mean "the command line or its data are wrong": raised while the flags are checked
# and the data read (before --output exists), they are one line on stderr and exit status 1.
USER_ERRORS = (ValueError, OSError)


def main_wrapper(run: Callable, prepare: Optional[Callable] = None):
    """absl main: ``prepare()`` checks the flags and reads the data, then --output is created and
    ``run(prepared)`` (or ``run()`` without ``prepare``) does the work.

    A ValueError or OSError raised before --output is created (a bad flag value, a missing --data
    path, data that fail validation) is a user error: one line on stderr, exit status 1 and no
    output folder.  Anything raised once the work started keeps its traceback (a bug, or a
    failure worth debugging); so does a user error under ``-v 1`` (absl's debug verbosity).
    """
    def main(argv):
        try:
            if len(argv) > 1:
                raise ValueError(f"unexpected arguments {argv[1:]}; flags are written "
                                 "--name=value")
            apply_thread_setting(FLAGS.cpu_threads)
            prepared = prepare() if prepare is not None else None
            output = Path(FLAGS.output)
            if output.exists() and not output.is_dir():
                raise ValueError(f"--output {output} is a file; give a directory")
            output.mkdir(parents=True, exist_ok=True)  # last: a user error leaves nothing behind
        except USER_ERRORS as exc:
            if logging.level_debug():
                raise
            return fail(exc)
        return run(prepared) if prepare is not None else run()
    return main


def run_main(run: Callable, prepare: Optional[Callable] = None) -> None:
    """``app.run`` of :func:`main_wrapper`, with flag errors (unknown flag, a value absl
    rejects, a missing required flag) reported as one line too."""
    app.run(main_wrapper(run, prepare), flags_parser=parse_flags)


def parse_flags(argv):
    try:
        return FLAGS(argv)
    except flags.Error as exc:  # absl would add a second line pointing to --helpfull
        sys.exit(fail(exc))


def fail(exc: BaseException) -> int:
    """Print ``exc`` as one line on stderr (``<script>: error: ...``); the exit status, 1."""
    message = " ".join(str(exc).split()) or type(exc).__name__
    print(f"{Path(sys.argv[0]).name}: error: {message}", file=sys.stderr)
    return 1


def check_flags(dg_only: bool = False, distributed: bool = True) -> None:
    """Checks of the shared flags (define_flags) that absl cannot make, before reading data:
    known --models (unless the script trains DoppelGANger only), a valid DoppelGANger config,
    and --strategy=default for DP and for the scripts that cannot run distributed
    (``distributed=False``)."""
    if not dg_only:
        unknown = [m for m in FLAGS.models if m not in MODEL_NAMES]
        if unknown or not FLAGS.models:
            raise ValueError(f"--models names {unknown or 'no model'}; choose from "
                             f"{', '.join(MODEL_NAMES)}")
    if not 0 < FLAGS.dp_delta < 1:
        raise ValueError(f"--dp_delta must be between 0 and 1, got {FLAGS.dp_delta}")
    if FLAGS.dp_target_epsilon is not None and not FLAGS.dp_target_epsilon > 0:
        raise ValueError(f"--dp_target_epsilon must be > 0, got {FLAGS.dp_target_epsilon}")
    if FLAGS.max_train_seconds is not None and not FLAGS.max_train_seconds > 0:
        raise ValueError(f"--max_train_seconds must be > 0, got {FLAGS.max_train_seconds}")
    if FLAGS.strategy == "multi_worker":
        from doppelganger_tf.distribution import tf_config
        tf_config()  # the strategy itself is created before DoppelGANger is built
    if FLAGS.strategy != "default" and not distributed:
        raise ValueError(f"--strategy={FLAGS.strategy}: {Path(sys.argv[0]).name} trains on one "
                         "device only; use --strategy=default")
    if FLAGS.strategy != "default" and dg_config().dp_noise_multiplier is not None:
        raise ValueError(f"--strategy={FLAGS.strategy} with DP: DP training runs on one device "
                         "(per-example clipping does not combine with gradients summed over "
                         "replicas); use --strategy=default")
    if FLAGS.keep_best and not FLAGS.track_every:
        raise ValueError("--keep_best needs --track_every (the epochs whose weights it "
                         "compares), e.g. --track_every=250")
    if FLAGS.keep_best_targets and not FLAGS.keep_best:
        raise ValueError("--keep_best_targets needs --keep_best (the figures the targets are "
                         "for, in the same order)")
    dg_run_settings()  # DGConfig and the run settings name the flag value they reject


def check_data(train: Dataset, dg_only: bool = False, **named) -> None:
    """Checks of the training data against the flags: --sample_len divides its length when
    DoppelGANger trains, and each ``flag=name`` names one of its features (flags ending in
    ``feature``) or attributes."""
    if dg_only or "dg" in FLAGS.models:
        check_sample_len(train.max_length, FLAGS.sample_len)
    check_names(train, **named)


def check_names(dataset: Dataset, **named) -> None:
    """Each ``flag=name`` must name a feature (flags ending in ``feature``) or an attribute of
    ``dataset``."""
    for flag, name in named.items():
        kind = "feature" if flag.endswith("feature") else "attribute"
        names = dataset.feature_names if kind == "feature" else dataset.attribute_names
        if name not in names:
            raise ValueError(f"--{flag}={name!r} is not {'an' if kind == 'attribute' else 'a'} "
                             f"{kind} of the data; its {kind}s are {names}")
