"""The transform of a continuous column (:class:`ColumnTransform`): a monotone map (a log)
applied before its min/max scaling and inverted after unscaling, so that generated values come
back in the input's units."""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Optional

import numpy as np

TRANSFORM_KINDS = ("log1p", "signed_log1p")
TRANSFORM_NAMES = ("none",) + TRANSFORM_KINDS + ("auto",)  # what a transforms argument takes
_FLOAT_MAX = np.finfo(np.float64).max


@dataclass(frozen=True)
class ColumnTransform:
    """A monotone map of a continuous column, applied before its min/max scaling and inverted
    after unscaling, so generated values come back in the input's units.

    Args:
        kind: "log1p", y = log1p(x / scale), for values >= 0; or "signed_log1p",
            y = sign(x) * log1p(abs(x) / scale), for columns with negative values too.
        scale: Where the log takes over from the linear part (> 0; 1 is numpy's log1p):
            values well below it are barely changed, so a column of small values (fractions
            such as 0.001) needs a scale of their order for the log to spread them ("auto"
            picks one).

    Raises:
        ValueError: For an unknown kind or a scale that is not a finite number > 0.
    """

    kind: str
    scale: float = 1.0

    def __post_init__(self):
        if self.kind not in TRANSFORM_KINDS:
            raise ValueError(f"unknown transform kind {self.kind!r}; expected one of "
                             f"{list(TRANSFORM_KINDS)}")
        scale = self.scale
        if isinstance(scale, bool) or not isinstance(scale, (int, float, np.integer,
                                                             np.floating)) \
                or not math.isfinite(scale) or scale <= 0:
            raise ValueError(f"the scale of a {self.kind} transform must be a finite number "
                             f"> 0, got {scale!r}")
        object.__setattr__(self, "scale", float(scale))

    @property
    def signed(self) -> bool:
        return self.kind == "signed_log1p"

    def text(self) -> str:
        """How describe() and messages name it.

        Returns:
            ``log1p``, or with a scale ``log1p(x / 0.001)``.
        """
        return self.kind if self.scale == 1.0 else f"{self.kind}(x / {self.scale:g})"

    def forward(self, values) -> np.ndarray:
        """Input units to transformed units.

        Refusing values outside the domain (negative ones for log1p) is the caller's: it knows
        the column and the row.

        Args:
            values: An array in input units.

        Returns:
            float64 values in transformed units.
        """
        x = np.asarray(values, np.float64)
        magnitude = np.abs(x) if self.signed else x
        with np.errstate(over="ignore"):
            y = np.log1p(magnitude / self.scale)
        huge = np.isinf(y) & np.isfinite(x)  # x / scale overflowed: log1p(q) = log(q) there
        if huge.any():
            y[huge] = np.log(magnitude[huge]) - math.log(self.scale)
        return np.sign(x) * y if self.signed else y

    def inverse(self, values) -> np.ndarray:
        """Transformed units to input units.

        Args:
            values: An array in transformed units.

        Returns:
            float64 values in input units, always finite: expm1 of a value beyond the largest
            float64 gives that largest value, not inf.
        """
        y = np.asarray(values, np.float64)
        with np.errstate(over="ignore"):
            x = self.scale * np.expm1(np.abs(y) if self.signed else y)
        x = np.minimum(x, _FLOAT_MAX)
        return np.sign(y) * x if self.signed else x

    def to_json(self):
        """The name, or {"kind", "scale"} when the scale is not 1."""
        return self.kind if self.scale == 1.0 else {"kind": self.kind, "scale": self.scale}

    @classmethod
    def parse(cls, value, column=None) -> Optional["ColumnTransform"]:
        """A transform from any of the ways to name one.

        Args:
            value: A name ("none" gives None; "log1p", "signed_log1p"), a ColumnTransform, its
                JSON ({"kind": ..., "scale": ...}) or None.
            column: The column's name, for error messages.

        Returns:
            The ColumnTransform, or None for none.

        Raises:
            ValueError: For an unknown value, and for "auto", which only the Dataset readers
                resolve (from the data).
        """
        if value is None or isinstance(value, ColumnTransform):
            return value
        where = "" if column is None else f" for column {column!r}"
        if isinstance(value, str):
            if value == "none":
                return None
            if value in TRANSFORM_KINDS:
                return cls(value)
            if value == "auto":
                raise ValueError(f"transform 'auto'{where} is chosen from the data; only the "
                                 "Dataset readers (transforms=...) take it")
        elif isinstance(value, dict) and set(value) <= {"kind", "scale"} and "kind" in value:
            return cls(value["kind"], value.get("scale", 1.0))
        raise ValueError(f"unknown transform {value!r}{where}; use one of "
                         f"{list(TRANSFORM_NAMES)} or a ColumnTransform(kind, scale)")
