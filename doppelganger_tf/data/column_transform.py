"""The transform of a continuous column (:class:`ColumnTransform`): a monotone map (a log)
applied before its min/max scaling and inverted after unscaling, so that generated values come
back in the input's units; optionally an atom, a value (the column's minimum) that many records
hold exactly, encoded apart from the rest so that generated values can land on it exactly."""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Optional, Tuple

import numpy as np

TRANSFORM_KINDS = ("log1p", "signed_log1p", "linear")
# what a transforms argument takes by name ("linear" alone is "none": it needs an atom)
TRANSFORM_NAMES = ("none", "log1p", "signed_log1p", "auto")
_FLOAT_MAX = np.finfo(np.float64).max
_NUMBERS = (int, float, np.integer, np.floating)


def _positive(value, what: str) -> float:
    """``value`` as a float, refusing what is not a finite number > 0."""
    if isinstance(value, bool) or not isinstance(value, _NUMBERS) or not math.isfinite(value) \
            or value <= 0:
        raise ValueError(f"{what} must be a finite number > 0, got {value!r}")
    return float(value)


@dataclass(frozen=True)
class ColumnTransform:
    """A monotone map of a continuous column, applied before its min/max scaling and inverted
    after unscaling, so generated values come back in the input's units.

    Args:
        kind: "log1p", y = log1p(x / scale), for values >= 0; "signed_log1p",
            y = sign(x) * log1p(abs(x) / scale), for columns with negative values too; or
            "linear", y = x (only useful with an atom).
        scale: Where the log takes over from the linear part (> 0; 1 is numpy's log1p):
            values well below it are barely changed, so a column of small values (fractions
            such as 0.001) needs a scale of their order for the log to spread them ("auto"
            picks one). 1 for "linear".
        atom: A value that many records hold exactly and none go below (a usage's 0), in
            input units, or None. Records at the atom are encoded ``gap`` below the map's
            image of it, apart from the other values; every generated value at or below the
            map's image of the atom comes back as the atom exactly. Without it, a sigmoid
            output never lands exactly on the column's minimum, so zeros are never generated.
        gap: With an atom, how far below the rest it is encoded, in transformed units (> 0;
            "auto" takes a tenth of the column's transformed span).

    Raises:
        ValueError: For an unknown kind, a scale that is not a finite number > 0 (or not 1 for
            "linear"), an atom that is not finite, or a gap that is not finite and > 0 with an
            atom (or not 0 without one).
    """

    kind: str
    scale: float = 1.0
    atom: Optional[float] = None
    gap: float = 0.0

    def __post_init__(self):
        if self.kind not in TRANSFORM_KINDS:
            raise ValueError(f"unknown transform kind {self.kind!r}; expected one of "
                             f"{list(TRANSFORM_KINDS)}")
        object.__setattr__(self, "scale", _positive(self.scale, f"the scale of a {self.kind} "
                                                                "transform"))
        if self.kind == "linear" and self.scale != 1.0:
            raise ValueError(f"a linear transform has no scale, got {self.scale!r}")
        if self.atom is None:
            if self.gap != 0:
                raise ValueError(f"a transform's gap ({self.gap!r}) needs an atom")
            return
        if isinstance(self.atom, bool) or not isinstance(self.atom, _NUMBERS) \
                or not math.isfinite(self.atom):
            raise ValueError(f"a transform's atom must be a finite number, got {self.atom!r}")
        if self.kind == "log1p" and self.atom < 0:
            raise ValueError(f"a log1p transform's atom must be >= 0, got {self.atom!r}")
        object.__setattr__(self, "atom", float(self.atom))
        object.__setattr__(self, "gap", _positive(self.gap, "the gap below a transform's atom"))

    @property
    def signed(self) -> bool:
        """Whether negative values are in its domain (a log1p's are not)."""
        return self.kind != "log1p"

    def text(self) -> str:
        """How describe() and messages name it.

        Returns:
            ``log1p``, with a scale ``log1p(x / 0.001)``, with an atom ``log1p, atom 0``.
        """
        text = self.kind if self.scale == 1.0 else f"{self.kind}(x / {self.scale:g})"
        return text if self.atom is None else f"{text}, atom {self.atom:g}"

    def _map(self, x: np.ndarray) -> np.ndarray:
        """The monotone map alone (no atom), float64 in and out."""
        if self.kind == "linear":
            return x.copy()
        magnitude = np.abs(x) if self.kind == "signed_log1p" else x
        with np.errstate(over="ignore"):
            y = np.log1p(magnitude / self.scale)
        huge = np.isinf(y) & np.isfinite(x)  # x / scale overflowed: log1p(q) = log(q) there
        if huge.any():
            y[huge] = np.log(magnitude[huge]) - math.log(self.scale)
        return np.sign(x) * y if self.kind == "signed_log1p" else y

    def _unmap(self, y: np.ndarray) -> np.ndarray:
        """The inverse of :meth:`_map`, capped at the largest float64."""
        if self.kind == "linear":
            return y.copy()
        signed = self.kind == "signed_log1p"
        with np.errstate(over="ignore"):
            x = self.scale * np.expm1(np.abs(y) if signed else y)
        x = np.minimum(x, _FLOAT_MAX)
        return np.sign(y) * x if signed else x

    def forward(self, values) -> np.ndarray:
        """Input units to transformed units.

        Refusing values outside the domain (negative ones for log1p, values below the atom)
        is the caller's: it knows the column and the row.

        Args:
            values: An array in input units.

        Returns:
            float64 values in transformed units.
        """
        x = np.asarray(values, np.float64)
        y = self._map(x)
        if self.atom is not None:
            y = np.where(x <= self.atom, self.atom_codes()[1], y)
        return y

    def inverse(self, values) -> np.ndarray:
        """Transformed units to input units.

        Args:
            values: An array in transformed units.

        Returns:
            float64 values in input units, always finite: expm1 of a value beyond the largest
            float64 gives that largest value, not inf. With an atom, every value at or below
            the map's image of it gives the atom exactly.
        """
        y = np.asarray(values, np.float64)
        x = self._unmap(y)
        if self.atom is not None:
            x = np.where(y <= self.atom_codes()[0], self.atom, x)
        return x

    def atom_codes(self) -> Tuple[float, float]:
        """With an atom: (threshold, code) in transformed units. Values at or below the
        threshold (the map's image of the atom) decode to the atom; the code (``gap`` below
        it) is where the atom's records are encoded."""
        image = float(self._map(np.array([self.atom], np.float64))[0])
        return image, image - self.gap

    def to_json(self):
        """The name, or {"kind", "scale"[, "atom", "gap"]} when the scale is not 1 or there is
        an atom."""
        if self.atom is not None:
            return {"kind": self.kind, "scale": self.scale, "atom": self.atom, "gap": self.gap}
        return self.kind if self.scale == 1.0 else {"kind": self.kind, "scale": self.scale}

    @classmethod
    def parse(cls, value, column=None) -> Optional["ColumnTransform"]:
        """A transform from any of the ways to name one.

        Args:
            value: A name ("none" gives None; "log1p", "signed_log1p"), a ColumnTransform,
                its JSON ({"kind": ..., "scale": ..., "atom": ..., "gap": ...}; kind "linear"
                only here, with an atom) or None.
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
            if value in ("log1p", "signed_log1p"):
                return cls(value)
            if value == "auto":
                raise ValueError(f"transform 'auto'{where} is chosen from the data; only the "
                                 "Dataset readers (transforms=...) take it")
        elif isinstance(value, dict) and set(value) <= {"kind", "scale", "atom", "gap"} \
                and "kind" in value:
            return cls(value["kind"], value.get("scale", 1.0), value.get("atom"),
                       value.get("gap", 0.0))
        raise ValueError(f"unknown transform {value!r}{where}; use one of "
                         f"{list(TRANSFORM_NAMES)} or a ColumnTransform(kind, scale, atom, gap)")
