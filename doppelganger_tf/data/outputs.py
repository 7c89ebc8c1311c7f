"""Output specifications: how each attribute or feature column block is encoded.

An ``Output`` describes one variable: a categorical one (``DISCRETE``, one-hot over ``dim``
columns, generated through a softmax) or a continuous one (``CONTINUOUS``, ``dim`` columns scaled to
[0, 1] or [-1, 1], generated through a sigmoid or tanh).  A continuous output may carry a
:class:`ColumnTransform` (a log, applied before the min/max scaling and inverted after unscaling,
so that the min/max are in transformed units).  The original DoppelGANger release stores
lists of these as Python-2 pickles of classes from a module named ``output``;
:func:`load_original_specs` reads those without that module (they cannot hold names, categories
or transforms: our ``specs.json`` beside them does).
"""
from __future__ import annotations

import enum
import io
import json
import pickle
import sys
import types
from dataclasses import dataclass
from typing import Iterable, List, Optional, Sequence, Tuple

from .column_transform import TRANSFORM_KINDS, TRANSFORM_NAMES, ColumnTransform

# ColumnTransform and the transforms' names live in column_transform and are importable from
# here too
__all__ = ["TRANSFORM_KINDS", "TRANSFORM_NAMES", "ColumnTransform", "Normalization", "Output",
           "OutputType", "dump_original_specs", "load_original_specs", "named_outputs",
           "output_blocks", "outputs_from_json", "outputs_to_json", "total_dim"]


class OutputType(enum.Enum):
    """The kind of a variable: continuous (scaled values) or discrete (one-hot categories)."""

    CONTINUOUS = "continuous"
    DISCRETE = "discrete"


class Normalization(enum.Enum):
    """The range continuous values are scaled to: [0, 1] (``ZERO_ONE``) or [-1, 1]
    (``MINUSONE_ONE``)."""

    ZERO_ONE = "zero_one"
    MINUSONE_ONE = "minusone_one"

    @property
    def low(self) -> float:
        """The range's lower end: 0.0 or -1.0."""
        return 0.0 if self is Normalization.ZERO_ONE else -1.0


def _parse_enum(enum_cls, value, what: str):
    if isinstance(value, enum_cls):
        return value
    if isinstance(value, str):
        for member in enum_cls:
            if value.lower() in (member.value, member.name.lower()):
                return member
    raise ValueError(
        f"unknown {what} {value!r}; expected one of {[m.name for m in enum_cls]}")


@dataclass(frozen=True)
class Output:
    """One variable of the data: its type, encoded width, scaling, name and categories.

    Args:
        type: ``OutputType.CONTINUOUS`` or ``DISCRETE`` (or their values as strings).
        dim: The number of encoded columns (the number of categories for DISCRETE).
        normalization: ``Normalization.ZERO_ONE`` or ``MINUSONE_ONE``; required for
            CONTINUOUS, ignored for DISCRETE.
        name: The column name used when converting to and from pandas (Dataset assigns
            defaults).
        categories: For DISCRETE, the category labels in column order (default: 0..dim-1).
        is_gen_flag: True only for the two generation-flag columns the model appends to the
            features.
        transform: For CONTINUOUS, a :class:`ColumnTransform` (or its name) applied to each raw
            column before scaling and inverted after unscaling; None (or "none") for none. The
            Dataset's and model's min/max of such a column are in transformed units.

    Raises:
        ValueError: For a dim below 1, a continuous output without a normalization or with
            categories, a discrete one with a transform, repeated categories or categories
            that do not match dim, or an unknown type or transform.
    """

    type: OutputType
    dim: int
    normalization: Optional[Normalization] = None
    name: Optional[str] = None
    categories: Optional[Tuple] = None
    is_gen_flag: bool = False
    transform: Optional[ColumnTransform] = None

    def __post_init__(self):
        object.__setattr__(self, "type", _parse_enum(OutputType, self.type, "output type"))
        object.__setattr__(self, "transform", ColumnTransform.parse(self.transform, self.name))
        if self.normalization is not None:
            object.__setattr__(self, "normalization",
                               _parse_enum(Normalization, self.normalization, "normalization"))
        if not isinstance(self.dim, (int,)) or isinstance(self.dim, bool) or self.dim < 1:
            raise ValueError(f"Output {self.name!r}: dim must be a positive integer, got {self.dim!r}")
        if self.type is OutputType.CONTINUOUS:
            if self.normalization is None:
                raise ValueError(
                    f"continuous Output {self.name!r} needs a normalization "
                    "(Normalization.ZERO_ONE or Normalization.MINUSONE_ONE)")
            if self.categories is not None:
                raise ValueError(f"continuous Output {self.name!r} cannot have categories")
        elif self.transform is not None:
            raise ValueError(f"discrete Output {self.name!r} cannot have a transform "
                             f"({self.transform.text()}): transforms apply to continuous "
                             "columns")
        else:
            if self.categories is not None:
                cats = tuple(self.categories)
                if len(cats) != self.dim:
                    raise ValueError(
                        f"discrete Output {self.name!r} has dim={self.dim} but "
                        f"{len(cats)} categories")
                if len(set(cats)) != len(cats):
                    raise ValueError(f"discrete Output {self.name!r} has repeated categories")
                object.__setattr__(self, "categories", cats)

    @property
    def is_continuous(self) -> bool:
        """True for a CONTINUOUS output."""
        return self.type is OutputType.CONTINUOUS

    def labels(self) -> Tuple:
        """The category labels (DISCRETE) in column order.

        Returns:
            ``categories``, or 0..dim-1 when none were given.
        """
        return self.categories if self.categories is not None else tuple(range(self.dim))

    def column_names(self) -> List[str]:
        """The names of the raw (decoded) columns this output stands for.

        Returns:
            ``[name]``, or ``name_0`` .. ``name_<dim-1>`` for a continuous output of dim > 1.
        """
        if not self.is_continuous or self.dim == 1:
            return [self.name]
        return [f"{self.name}_{i}" for i in range(self.dim)]

    def to_dict(self) -> dict:
        """The JSON form: {"type", "dim"} and the fields that are set."""
        d = {"type": self.type.value, "dim": self.dim}
        if self.normalization is not None:
            d["normalization"] = self.normalization.value
        if self.name is not None:
            d["name"] = self.name
        if self.categories is not None:
            d["categories"] = [_json_scalar(c) for c in self.categories]
        if self.is_gen_flag:
            d["is_gen_flag"] = True
        if self.transform is not None:
            d["transform"] = self.transform.to_json()
        return d

    @classmethod
    def from_dict(cls, d: dict) -> "Output":
        """An Output from :meth:`to_dict`'s form.

        Raises:
            ValueError: For unknown fields, or without "type" and "dim".
        """
        unknown = set(d) - {"type", "dim", "normalization", "name", "categories", "is_gen_flag",
                            "transform"}
        if unknown:
            raise ValueError(f"unknown Output fields {sorted(unknown)} in {d}")
        if "type" not in d or "dim" not in d:
            raise ValueError(f"an Output needs 'type' and 'dim', got {d}")
        cats = d.get("categories")
        return cls(type=d["type"], dim=int(d["dim"]), normalization=d.get("normalization"),
                   name=d.get("name"), categories=tuple(cats) if cats is not None else None,
                   is_gen_flag=bool(d.get("is_gen_flag", False)),
                   transform=d.get("transform"))

    def with_name(self, name: str) -> "Output":
        """The same output under another name."""
        return Output(self.type, self.dim, self.normalization, name, self.categories,
                      self.is_gen_flag, self.transform)


def _json_scalar(value):
    # numpy scalars are not JSON serialisable; categories may come from numpy arrays
    if hasattr(value, "item"):
        return value.item()
    return value


def named_outputs(outputs: Sequence[Output], prefix: str) -> List[Output]:
    """``outputs`` as a list, each without a name named ``<prefix>_<i>`` (its position);
    anything that is not an Output is a TypeError."""
    named = []
    for i, out in enumerate(outputs):
        if not isinstance(out, Output):
            raise TypeError(f"{prefix}_outputs[{i}] is a {type(out).__name__}, not an Output")
        named.append(out if out.name is not None else out.with_name(f"{prefix}_{i}"))
    return named


def total_dim(outputs: Iterable[Output]) -> int:
    return int(sum(o.dim for o in outputs))


def output_blocks(outputs: Iterable[Output]):
    """(output, start, stop) of each output's encoded columns."""
    start = 0
    for out in outputs:
        yield out, start, start + out.dim
        start += out.dim


def outputs_to_json(outputs: Sequence[Output]) -> str:
    return json.dumps([o.to_dict() for o in outputs], indent=2)


def outputs_from_json(text: str) -> List[Output]:
    data = json.loads(text)
    if not isinstance(data, list):
        raise ValueError("an output spec file must hold a JSON list of outputs")
    return [Output.from_dict(d) for d in data]


# --- the original release's pickles -------------------------------------------------------------

class _LegacyUnpickler(pickle.Unpickler):
    """Admits only the names of the original specs. Each instance has stand-ins for
    ``output.Output`` / ``OutputType`` / ``Normalization`` and a ``_reconstructor`` of its own:
    a pickle can set attributes on whatever it is handed (BUILD), and that must not outlive
    its own load."""

    def __init__(self, file):
        super().__init__(file, encoding="latin1")

        class LegacyOutput:  # receives its __dict__ through BUILD
            pass

        class LegacyEnum:  # OutputType / Normalization, made by REDUCE with the member's name
            def __init__(self, name):
                self.name = name
        self.output_class, self.enum_class = LegacyOutput, LegacyEnum

        def reconstructor(cls, base, state):
            # copyreg._reconstructor, for this load's stand-ins only
            if not (cls is LegacyOutput or cls is LegacyEnum) or base is not object:
                raise pickle.UnpicklingError(
                    "the spec pickle reconstructs something other than an output.Output")
            return object.__new__(cls)
        self.reconstructor = reconstructor

    def find_class(self, module, name):
        if module == "output":
            if name == "Output":
                return self.output_class
            if name in ("OutputType", "Normalization"):
                return self.enum_class
        if module in ("copy_reg", "copyreg") and name == "_reconstructor":
            return self.reconstructor
        if module in ("__builtin__", "builtins") and name == "object":
            return object
        raise pickle.UnpicklingError(
            f"the spec pickle references {module}.{name}, which is not part of the original "
            "DoppelGANger output specs")

    def fields(self, item) -> dict:
        """The fields of an unpickled ``output.Output`` (a ValueError for anything else)."""
        if type(item) is not self.output_class:
            raise ValueError(f"is of type {type(item).__name__}, not an output.Output")
        state = vars(item)
        if "type_" not in state or "dim" not in state:
            raise ValueError(f"is not an output.Output (fields {sorted(map(str, state))})")
        return state

    def member(self, value, enum_cls, field: str):
        """The ``enum_cls`` member a type_ / normalization field names (a stand-in for the
        original enum's member, or its name as text)."""
        name = vars(value).get("name") if type(value) is self.enum_class else value
        if isinstance(name, str) and name in enum_cls.__members__:
            return enum_cls[name]
        raise ValueError(f"has {field} {name!r}; expected one of {list(enum_cls.__members__)}")


def load_original_specs(path_or_bytes) -> List[Output]:
    """Load a ``data_attribute_output.pkl`` / ``data_feature_output.pkl`` of the original release.

    These are Python-2 (or 3) pickles of ``output.Output`` objects; the ``output`` module is not
    needed, and no other class is unpickled (docs/untrusted_files.md).

    Args:
        path_or_bytes: The file's path, or its bytes.

    Returns:
        A list of :class:`Output`.

    Raises:
        ValueError: When the file is not a pickled list of valid output specs.
    """
    if isinstance(path_or_bytes, (bytes, bytearray)):
        raw = bytes(path_or_bytes)
        source = "<bytes>"
    else:
        source = str(path_or_bytes)
        with open(path_or_bytes, "rb") as f:
            raw = f.read()
    unpickler = _LegacyUnpickler(io.BytesIO(raw))
    try:
        items = unpickler.load()
    # RecursionError: a pickle nested too deeply
    except (pickle.UnpicklingError, EOFError, ValueError, TypeError, AttributeError,
            IndexError, KeyError, RecursionError) as exc:
        raise ValueError(f"cannot read original output specs from {source}: {exc}. Expected a "
                         "pickled list of output.Output objects from the DoppelGANger "
                         "release (a data_*_output.pkl file)") from exc
    if not isinstance(items, list):
        raise ValueError(f"{source}: expected a pickled list of outputs, got {type(items).__name__}")
    specs = []
    for i, item in enumerate(items):
        try:
            state = unpickler.fields(item)
            otype = unpickler.member(state["type_"], OutputType, "type_")
            norm = state.get("normalization")
            normalization = None if norm is None or otype is OutputType.DISCRETE else \
                unpickler.member(norm, Normalization, "normalization")
            dim, flag = state["dim"], state.get("is_gen_flag", False)
            if not isinstance(dim, int) or isinstance(dim, bool) or dim < 1:
                raise ValueError(f"has dim {dim!r}; expected a positive integer")
            if otype is OutputType.CONTINUOUS and normalization is None:
                raise ValueError("is continuous but has no normalization")
            if not isinstance(flag, int):  # bool, or 0/1 from Python 2
                raise ValueError(f"has is_gen_flag {flag!r}; expected True or False")
            specs.append(Output(type=otype, dim=dim, normalization=normalization,
                                is_gen_flag=bool(flag)))
        except (ValueError, TypeError) as exc:
            raise ValueError(f"{source}: entry {i} {exc}: it is not a valid output spec of the "
                             "DoppelGANger release; use the data_*_output.pkl files it wrote, "
                             "or a dataset saved by doppelganger_tf") from None
    return specs


_OriginalOutputType = enum.Enum("OutputType", [("CONTINUOUS", "CONTINUOUS"),
                                               ("DISCRETE", "DISCRETE")],
                                module="output", qualname="OutputType")
_OriginalNormalization = enum.Enum("Normalization", [("ZERO_ONE", "ZERO_ONE"),
                                                     ("MINUSONE_ONE", "MINUSONE_ONE")],
                                   module="output", qualname="Normalization")


class _OriginalOutput:
    def __init__(self, type_, dim, normalization=None, is_gen_flag=False):
        self.type_ = type_
        self.dim = dim
        self.normalization = normalization
        self.is_gen_flag = is_gen_flag


_OriginalOutput.__module__ = "output"
_OriginalOutput.__qualname__ = "Output"


def dump_original_specs(outputs: Sequence[Output]) -> bytes:
    """Protocol-2 pickle (readable by Python 2 and 3) of ``output.Output`` objects: the
    original release's spec format (names and categories are lost)."""
    items = [_OriginalOutput(_OriginalOutputType[o.type.name], o.dim,
                             _OriginalNormalization[o.normalization.name]
                             if o.is_continuous else None, o.is_gen_flag)
             for o in outputs]
    module = types.ModuleType("output")
    module.Output = _OriginalOutput
    module.OutputType = _OriginalOutputType
    module.Normalization = _OriginalNormalization
    # pickle records classes by module name and checks sys.modules; register ours briefly
    previous = sys.modules.get("output")
    sys.modules["output"] = module
    try:
        return pickle.dumps(items, protocol=2)
    finally:
        if previous is None:
            del sys.modules["output"]
        else:
            sys.modules["output"] = previous
