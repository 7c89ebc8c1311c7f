"""Downstream tasks of the paper (section 5.2): train on generated data, test on real data.

- Classification (Fig. 13, Table 5): predict a categorical attribute from the whole series with
  five scikit-learn classifiers; compare the accuracy ranking of the algorithms when trained on
  real vs generated data (Spearman's rho).
- Forecasting (Fig. 24, WWT): predict the next ``horizon`` steps of a feature from its first
  ``history`` steps with three regressors; report R^2 on real test data.

Inputs (both tasks): the series flattened into one row per sample, zero after each series'
end.  By default continuous features are in real units (``scaled=False``): that keeps the
inputs comparable when two Datasets were scaled with different min/max (e.g. one built with
``Dataset.from_arrays`` from generated values); discrete features are their one-hot columns.
Every model standardises its inputs (``StandardScaler`` fitted on the training set), so the
choice of units matters little.  Models use a fixed ``random_state`` and a small, configurable
``max_iter``; convergence warnings are silenced.

No TensorFlow: numpy, scipy and scikit-learn only.
"""
from __future__ import annotations

import warnings
from typing import Dict, Optional

import numpy as np

from ..data.outputs import output_blocks
from .metrics import attribute_codes, feature_series, same_categories

CLASSIFIER_NAMES = ("mlp", "naive_bayes", "logistic_regression", "decision_tree", "linear_svm")
REGRESSOR_NAMES = ("mlp", "linear_regression", "kernel_ridge")


# --- inputs ---------------------------------------------------------------------------------------

def series_matrix(dataset, scaled: bool = False) -> np.ndarray:
    """All features of a Dataset flattened per sample, for the downstream models.

    Args:
        dataset: The Dataset.
        scaled: False: continuous columns in real units; True: the encoded values. Discrete
            features are one-hot either way.

    Returns:
        float64 [N, T * K_enc], step-major (the K_enc columns of step 0, then of step 1, ...),
        zero after each series' end.
    """
    x = dataset.features.astype(np.float64)
    if not scaled and dataset.feature_min is not None:
        real = dataset.feature_values()
        for out, start, _ in output_blocks(dataset.feature_outputs):
            if out.is_continuous:
                for i, name in enumerate(out.column_names()):
                    x[:, :, start + i] = np.nan_to_num(np.asarray(real[name], np.float64),
                                                       nan=0.0)
    return x.reshape(len(x), -1)


def forecasting_windows(series, history: int, horizon: int):
    """Split series into (inputs, targets) for forecasting.

    Only samples with at least ``history + horizon`` active steps are used.

    Args:
        series: [N, T] with NaN after each series' end (as from ``feature_series``).
        history: Values given.
        horizon: Values predicted.

    Returns:
        (X [N', history], Y [N', horizon]): the first ``history`` values and the ``horizon``
        values that follow.

    Raises:
        ValueError: When ``series`` is not [N, T], history or horizon is not positive, or their
            sum exceeds T.
    """
    x = np.asarray(series, np.float64)
    if x.ndim != 2:
        raise ValueError(f"series must be [N, T], got shape {x.shape}")
    if history < 1 or horizon < 1:
        raise ValueError("history and horizon must be positive")
    need = history + horizon
    if need > x.shape[1]:
        raise ValueError(f"history + horizon = {need} exceeds the series length T={x.shape[1]}")
    window = x[:, :need]
    keep = np.isfinite(window).all(axis=1)
    return window[keep, :history], window[keep, history:]


# --- models ---------------------------------------------------------------------------------------

def make_classifiers(max_iter: int = 200, random_state: int = 0) -> Dict[str, object]:
    """The five classifiers of Fig. 13, each a Pipeline(StandardScaler, model).

    Args:
        max_iter: Iterations of the iterative models.
        random_state: Seeds them.

    Returns:
        {name: unfitted estimator}: mlp (one hidden layer of 64), naive_bayes (Gaussian),
        logistic_regression, decision_tree, linear_svm (LinearSVC).
    """
    from sklearn.linear_model import LogisticRegression
    from sklearn.naive_bayes import GaussianNB
    from sklearn.neural_network import MLPClassifier
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler
    from sklearn.svm import LinearSVC
    from sklearn.tree import DecisionTreeClassifier

    models = {
        "mlp": MLPClassifier(hidden_layer_sizes=(64,), max_iter=max_iter,
                             random_state=random_state),
        "naive_bayes": GaussianNB(),
        "logistic_regression": LogisticRegression(max_iter=max_iter, random_state=random_state),
        "decision_tree": DecisionTreeClassifier(random_state=random_state),
        "linear_svm": LinearSVC(max_iter=max_iter, random_state=random_state),
    }
    return {name: make_pipeline(StandardScaler(), model) for name, model in models.items()}


def make_regressors(max_iter: int = 200, random_state: int = 0) -> Dict[str, object]:
    """The three regressors of Fig. 24, each standardising inputs and targets.

    Args:
        max_iter: Iterations of the MLP.
        random_state: Seeds it.

    Returns:
        {name: unfitted estimator}: mlp (one hidden layer of 64), linear_regression,
        kernel_ridge (RBF kernel, alpha 1).
    """
    from sklearn.compose import TransformedTargetRegressor
    from sklearn.kernel_ridge import KernelRidge
    from sklearn.linear_model import LinearRegression
    from sklearn.neural_network import MLPRegressor
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    models = {
        "mlp": MLPRegressor(hidden_layer_sizes=(64,), max_iter=max_iter,
                            random_state=random_state),
        "linear_regression": LinearRegression(),
        "kernel_ridge": KernelRidge(alpha=1.0, kernel="rbf"),
    }
    return {name: TransformedTargetRegressor(make_pipeline(StandardScaler(), model),
                                             transformer=StandardScaler())
            for name, model in models.items()}


def _ignore_convergence_warnings():
    from sklearn.exceptions import ConvergenceWarning
    warnings.simplefilter("ignore", ConvergenceWarning)


def evaluate_classifiers(x_train, y_train, x_test, y_test, classifiers=None, max_iter: int = 200,
                         random_state: int = 0) -> Dict[str, float]:
    """Fit each classifier on the training rows and score its accuracy on the test rows.

    If the training labels hold a single class (e.g. a collapsed generator), every model
    predicts it.

    Args:
        x_train: [N, D].
        y_train: [N].
        x_test: [M, D].
        y_test: [M].
        classifiers: {name: unfitted estimator}; default: :func:`make_classifiers`.
        max_iter: As in :func:`make_classifiers`.
        random_state: As in :func:`make_classifiers`.

    Returns:
        {name: fraction correct}.
    """
    from sklearn.base import clone
    x_train, x_test = np.asarray(x_train, np.float64), np.asarray(x_test, np.float64)
    y_train, y_test = np.asarray(y_train), np.asarray(y_test)
    if classifiers is None:
        classifiers = make_classifiers(max_iter, random_state)
    classes = np.unique(y_train)
    result = {}
    with warnings.catch_warnings():
        _ignore_convergence_warnings()
        for name, model in classifiers.items():
            if len(classes) == 1:
                predicted = np.full(len(y_test), classes[0])
            else:
                predicted = clone(model).fit(x_train, y_train).predict(x_test)
            result[name] = float(np.mean(predicted == y_test))
    return result


def evaluate_regressors(x_train, y_train, x_test, y_test, regressors=None, max_iter: int = 200,
                        random_state: int = 0, kernel_ridge_max_samples: Optional[int] = 5000
                        ) -> Dict[str, float]:
    """Fit each regressor on the training rows and score its R^2 on the test rows.

    Args:
        x_train: [N, D].
        y_train: [N, H].
        x_test: [M, D].
        y_test: [M, H].
        regressors: {name: unfitted estimator}; default: :func:`make_regressors`.
        max_iter: As in :func:`make_regressors`.
        random_state: Seeds the models and the kernel ridge's rows.
        kernel_ridge_max_samples: Kernel ridge needs an N x N kernel, so a model named
            ``kernel_ridge`` trains on at most this many rows, picked at random; None: all.

    Returns:
        {name: ``sklearn.metrics.r2_score`` averaged uniformly over the H outputs}.

    Raises:
        ValueError: With fewer than 2 training or 1 test rows.
    """
    from sklearn.base import clone
    from sklearn.metrics import r2_score
    x_train, x_test = np.asarray(x_train, np.float64), np.asarray(x_test, np.float64)
    y_train, y_test = np.asarray(y_train, np.float64), np.asarray(y_test, np.float64)
    if len(x_train) < 2 or len(x_test) < 1:
        raise ValueError(f"need at least 2 training and 1 test rows, got {len(x_train)} and "
                         f"{len(x_test)}")
    if regressors is None:
        regressors = make_regressors(max_iter, random_state)
    result = {}
    with warnings.catch_warnings():
        _ignore_convergence_warnings()
        for name, model in regressors.items():
            xs, ys = x_train, y_train
            if (name == "kernel_ridge" and kernel_ridge_max_samples is not None
                    and len(xs) > kernel_ridge_max_samples):
                rows = np.random.default_rng(random_state).choice(
                    len(xs), kernel_ridge_max_samples, replace=False)
                xs, ys = xs[rows], ys[rows]
            predicted = clone(model).fit(xs, ys).predict(x_test)
            result[name] = float(r2_score(y_test, predicted.reshape(y_test.shape)))
    return result


# --- Dataset level --------------------------------------------------------------------------------

def classifier_accuracies(train_ds, test_ds, attribute_name: str, *, scaled: bool = False,
                          max_iter: int = 200, random_state: int = 0, classifiers=None
                          ) -> Dict[str, float]:
    """Accuracy of classifiers that predict a discrete attribute from all features, trained
    on one Dataset and tested on another (paper Fig. 13).

    Args:
        train_ds: The training Dataset (e.g. generated data).
        test_ds: The test Dataset (real data), with the same features, T and attribute
            categories.
        attribute_name: The discrete attribute to predict from :func:`series_matrix`.
        scaled: As in :func:`series_matrix`.
        max_iter: As in :func:`make_classifiers`.
        random_state: As in :func:`make_classifiers`.
        classifiers: As in :func:`evaluate_classifiers`.

    Returns:
        {name: accuracy}.

    Raises:
        ValueError: When the Datasets differ in T * K_enc.
    """
    same_categories(test_ds, train_ds, attribute_name)
    x_train, x_test = series_matrix(train_ds, scaled), series_matrix(test_ds, scaled)
    if x_train.shape[1] != x_test.shape[1]:
        raise ValueError(f"the Datasets differ in T * K_enc ({x_train.shape[1]} vs "
                         f"{x_test.shape[1]}); they need the same features and length T")
    return evaluate_classifiers(x_train, attribute_codes(train_ds, attribute_name), x_test,
                                attribute_codes(test_ds, attribute_name), classifiers,
                                max_iter, random_state)


def ranking_correlation(acc_real: Dict[str, float], acc_gen: Dict[str, float]) -> float:
    """Spearman's rank correlation between two accuracy dicts over the same algorithms (paper
    Table 5): the algorithms ranked by accuracy when trained on real data and on generated
    data (both tested on real).

    Args:
        acc_real: {algorithm: accuracy} trained on real data.
        acc_gen: {algorithm: accuracy} trained on generated data.

    Returns:
        1 for the same order, -1 reversed; ties get average ranks; NaN when either side is
        constant.

    Raises:
        ValueError: When the dicts name different algorithms, or fewer than two.
    """
    from scipy.stats import spearmanr
    if set(acc_real) != set(acc_gen):
        raise ValueError(f"the two dicts name different algorithms: {sorted(acc_real)} vs "
                         f"{sorted(acc_gen)}")
    if len(acc_real) < 2:
        raise ValueError("need at least two algorithms to rank")
    names = sorted(acc_real)
    a = np.array([acc_real[n] for n in names], np.float64)
    b = np.array([acc_gen[n] for n in names], np.float64)
    if np.ptp(a) == 0 or np.ptp(b) == 0:
        return float("nan")
    return float(spearmanr(a, b).statistic)


def forecasting_r2(train_ds, test_ds, feature_name: str, history: int = 500, horizon: int = 50,
                   *, scaled: bool = False, max_iter: int = 200, random_state: int = 0,
                   kernel_ridge_max_samples: Optional[int] = 5000, regressors=None
                   ) -> Dict[str, float]:
    """Forecasting R^2 (paper Fig. 24, WWT: 500 days -> the next 50): regressors trained on
    windows of one Dataset and scored on another's.

    The feature is cut with :func:`forecasting_windows` (samples shorter than history +
    horizon are skipped) and passed to :func:`evaluate_regressors`.

    Args:
        train_ds: The training Dataset (e.g. generated data).
        test_ds: The test Dataset (real data).
        feature_name: A continuous feature (raw column name).
        history: Days given.
        horizon: Days predicted.
        scaled: As in :func:`feature_series`.
        max_iter: As in :func:`evaluate_regressors`.
        random_state: As in :func:`evaluate_regressors`.
        kernel_ridge_max_samples: As in :func:`evaluate_regressors`.
        regressors: As in :func:`evaluate_regressors`.

    Returns:
        {name: R^2}, the uniform average over the horizon.
    """
    x_train, y_train = forecasting_windows(feature_series(train_ds, feature_name, scaled),
                                           history, horizon)
    x_test, y_test = forecasting_windows(feature_series(test_ds, feature_name, scaled),
                                         history, horizon)
    return evaluate_regressors(x_train, y_train, x_test, y_test, regressors, max_iter,
                               random_state, kernel_ridge_max_samples)
