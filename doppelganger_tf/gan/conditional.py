"""Generation conditioned on some of the attributes: the others are sampled from what the model
learned, given those provided.

Method: rejection sampling from the attribute generator. The attribute MLP is run on fresh
noise in large batches; a draw is kept for a requested row when its categorical attributes
equal the row's given ones and its continuous attributes lie within ``tolerance`` of the given
values (as a share of the column's range). The kept draw's continuous values are then replaced
by the given ones, so the attributes of every sample are exactly those asked for. The sampled
attributes therefore follow the model's own conditional distribution P(rest | given); the cost
is the MLP's (microseconds per draw) divided by the share of draws that match, and a
combination the model generates rarer than 1 in ``max_draws`` raises an error that names it.
"""
from __future__ import annotations

from typing import Dict, List, NamedTuple, Tuple

import numpy as np
import pandas as pd
import tensorflow as tf

from ..data.conversion import encode_attribute_table
from ..data.outputs import output_blocks

# draws of the attribute generator per batch (the MLP is cheap: memory, not time, bounds this)
DRAW_BATCH = 8192
# the default bound on the draws per requested combination
DEFAULT_MAX_DRAWS = 2_000_000


class Completed(NamedTuple):
    """What :func:`complete_attributes` returns."""
    attributes: np.ndarray  # float32 [n, A_enc]: every attribute, encoded
    draws: int  # draws of the attribute generator it took
    matched: int  # how many of them matched a requested row (kept or not): matched / draws is
    # the model's probability of the requested values when one combination is asked for


def gives_some_columns(attributes, outputs) -> bool:
    """True for a DataFrame that names some, not all, of the attribute columns (columns that
    are not attributes aside: generate warns about those and leaves them out)."""
    if not isinstance(attributes, pd.DataFrame):
        return False
    names = {o.name for o in outputs}
    known = names & {str(c) for c in attributes.columns}
    return bool(known) and known != names


def attribute_part(attributes: pd.DataFrame, outputs) -> pd.DataFrame:
    """The columns of ``attributes`` that are attributes of the model."""
    names = {o.name for o in outputs}
    return attributes[[c for c in attributes.columns if str(c) in names]]


def given_columns(attributes, outputs) -> List[str]:
    """The attribute columns a DataFrame gives, checked; all of them when it gives every one.

    Raises:
        ValueError: a column that is not one of the model's attributes, or none given.
    """
    names = [o.name for o in outputs]
    columns = [str(c) for c in attributes.columns]
    unknown = [c for c in columns if c not in names]
    if unknown:
        raise ValueError(f"the attributes DataFrame has columns {unknown} that are not the "
                         f"model's attributes {names}: drop them or rename them")
    if not columns:
        raise ValueError(f"the attributes DataFrame has no columns: give one or more of "
                         f"{names}, or leave attributes out to sample all of them")
    return columns


def complete_attributes(model, attributes: pd.DataFrame, seed: int, *,
                        tolerance: float = 0.01,
                        max_draws: int = DEFAULT_MAX_DRAWS) -> Completed:
    """Some attribute columns given -> every attribute, encoded, one row per given row.

    Args:
        model: a trained DoppelGANger.
        attributes: a DataFrame whose columns are some of the model's attribute names, in the
            input's units (category labels, real values).
        seed: the seed of the attribute generator's noise (same seed, same rows).
        tolerance: for given continuous attributes, the largest accepted distance between a
            draw and the given value, as a share of the column's range.
        max_draws: the most draws of the attribute generator spent on one distinct
            combination of given values.

    Returns:
        a :class:`Completed`: the encoded attributes [len(attributes), A_enc], to condition
        the feature generator on, the number of draws it took and how many matched.

    Raises:
        ValueError: an unknown column or category, or a combination the model generated
            fewer times than requested in ``max_draws`` draws (too rare to reach).
    """
    outputs = list(model.attribute_outputs)
    columns = given_columns(attributes, outputs)
    attributes = attributes.reset_index(drop=True)
    if not 0 < tolerance <= 1:
        raise ValueError(f"tolerance must be in (0, 1] (a share of the column's range), "
                         f"got {tolerance!r}")
    given_blocks = [(o, start, stop) for o, start, stop in output_blocks(outputs)
                    if o.name in columns]
    encoded = _encode_given(model, attributes, outputs, given_blocks)
    keys = _combination_keys(encoded, given_blocks)
    result = np.zeros_like(encoded)
    rng = np.random.default_rng(seed)
    generator = model.sampling_generator.attribute_generator
    pending: Dict[bytes, List[int]] = {}
    for row, key in enumerate(keys):
        pending.setdefault(key, []).append(row)
    draws = matched = 0
    while pending:
        noise = rng.standard_normal((DRAW_BATCH, model.config.attribute_noise_dim),
                                    dtype=np.float32)
        _, hard = generator(tf.constant(noise), training=False)
        drawn = np.asarray(hard)
        draws += DRAW_BATCH
        for key in list(pending):
            rows = pending[key]
            target = encoded[rows[0]]
            matches = np.flatnonzero(_matching(drawn, target, given_blocks, tolerance))
            matched += len(matches)
            take = min(len(matches), len(rows))
            result[rows[:take]] = drawn[matches[:take]]
            del rows[:take]
            if not rows:
                del pending[key]
        if pending and draws >= max_draws:
            raise ValueError(_too_rare_message(pending, encoded, given_blocks, draws))
    _put_given_values(result, encoded, given_blocks)
    return Completed(result, draws, matched)


def _encode_given(model, attributes: pd.DataFrame, outputs, given_blocks) -> np.ndarray:
    """The given columns encoded in their places of the full encoded width (the other places
    zero): each given column is encoded alone, with the model's categories and scaling."""
    low, high = model.scaling.get("attribute_min"), model.scaling.get("attribute_max")
    encoded = np.zeros((len(attributes), sum(o.dim for o in outputs)), np.float32)
    for o, start, stop in given_blocks:
        encoded[:, start:stop] = encode_attribute_table(
            attributes[[o.name]], [o], None if low is None else low[start:stop],
            None if high is None else high[start:stop])
    return encoded


def _combination_keys(encoded, given_blocks) -> List[bytes]:
    """One key per row: the bytes of its given encoded values (equal rows, equal keys)."""
    parts = [encoded[:, start:stop] for _, start, stop in given_blocks]
    return [row.tobytes() for row in np.concatenate(parts, axis=1)]


def _matching(drawn, target, given_blocks, tolerance) -> np.ndarray:
    """[B] bool: the draws whose given columns agree with the target row's."""
    ok = np.ones(len(drawn), bool)
    for o, start, stop in given_blocks:
        if o.is_continuous:
            width = 1.0 - o.normalization.low  # the encoded range: [0, 1] or [-1, 1]
            ok &= np.abs(drawn[:, start] - target[start]) <= tolerance * width
        else:
            ok &= np.argmax(drawn[:, start:stop], axis=1) == np.argmax(target[start:stop])
    return ok


def _put_given_values(result, encoded, given_blocks) -> None:
    """The given columns exactly as asked (continuous draws were only within tolerance)."""
    for _, start, stop in given_blocks:
        result[:, start:stop] = encoded[:, start:stop]


def _too_rare_message(pending, encoded, given_blocks, draws) -> str:
    rows = next(iter(pending.values()))
    combination = _describe(encoded[rows[0]], given_blocks)
    return (f"the model generated the attribute combination {combination} too rarely: "
            f"{len(rows)} requested row(s) still lacked a match after {draws:,} draws of the "
            "attribute generator. Give every attribute column for these rows (e.g. copied from "
            "real rows with this combination), raise max_draws, or, for continuous values, "
            "the tolerance")


def _describe(row, given_blocks) -> str:
    parts: List[Tuple[str, object]] = []
    for o, start, stop in given_blocks:
        value = (round(float(row[start]), 4) if o.is_continuous
                 else o.labels()[int(np.argmax(row[start:stop]))])
        parts.append((o.name, value))
    return ", ".join(f"{name}={value!r}" for name, value in parts)
