"""Settings files: the TOML file ``doppelganger fit`` writes as ``RUN/settings.toml`` (the exact
model config, data options and training options of a run) and reads with ``--config``; the same
file works from Python::

    from doppelganger_tf.settings import load_settings
    settings = load_settings("run/settings.toml")
    data = settings.data.read("pages.csv")          # the Dataset, read as the run read it
    model = DoppelGANger.from_dataset(data, settings.config)

Three tables, each optional in a file a user writes (what is left out comes from the command
line, the suggestion from the data, or the defaults):

- ``[data]``: how the file is read (:class:`DataOptions`: id and time columns, features,
  attributes, layout, column types, missing values, transforms, normalisation);
- ``[training]``: the budget and the run (:class:`TrainingOptions`: epochs, minutes, seed,
  held-out share, fidelity tracking and checkpoint intervals);
- ``[config]``: :class:`~doppelganger_tf.gan.config.DGConfig` fields (a field left out: the
  suggestion's value; a field set to None, as ``dp_noise_multiplier`` by default, is left out,
  TOML having no null).

Why TOML: the format of pyproject.toml, so data people have met it; it has comments (the
written file carries each suggested setting's reason beside it), typed values (ints stay ints,
which DGConfig's checks need) and no indentation rules; the standard library reads it from
Python 3.11 (``tomllib``; ``tomli`` before). It has no writer in the standard library: the
small one here (:func:`toml_text`) writes what settings hold, scalars, lists of scalars and
tables.

numpy and pandas only (no TensorFlow).
"""
from __future__ import annotations

import dataclasses
import math
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, List, Optional, Union

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - the reference stack's Python 3.9/3.10
    import tomli as tomllib

from .gan.config import DGConfig

LAYOUTS = ("long", "wide")
MISSING = ("error", "interpolate", "drop_series")
NORMALIZATIONS = ("zero_one", "minusone_one")
TRANSFORMS = ("auto", "none", "log1p", "signed_log1p")
FILE_SUFFIXES = (".csv", ".parquet")


class SettingsError(ValueError):
    """A settings file that cannot be read, or holds a value of the wrong kind."""


# --- the TOML writer ------------------------------------------------------------------------------

_BARE_KEY = re.compile(r"[A-Za-z0-9_-]+")


def _key(name) -> str:
    name = str(name)
    return name if _BARE_KEY.fullmatch(name) else _string(name)


def _string(text: str) -> str:
    """A TOML basic string: quotes, backslashes and control characters escaped."""
    escapes = {'"': '\\"', "\\": "\\\\", "\b": "\\b", "\t": "\\t", "\n": "\\n", "\f": "\\f",
               "\r": "\\r"}
    out = []
    for char in text:
        if char in escapes:
            out.append(escapes[char])
        elif ord(char) < 0x20 or ord(char) == 0x7F:
            out.append(f"\\u{ord(char):04x}")
        else:
            out.append(char)
    return '"' + "".join(out) + '"'


def toml_value(value) -> str:
    """One TOML value: a bool, int, float, string or a list of them."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if math.isnan(value):
            return "nan"
        if math.isinf(value):
            return "inf" if value > 0 else "-inf"
        return repr(value)  # the shortest text that reads back to the same float
    if isinstance(value, str):
        return _string(value)
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(toml_value(v) for v in value) + "]"
    raise TypeError(f"a settings value must be a bool, number, string or a list of them, got "
                    f"{value!r} ({type(value).__name__})")


def toml_text(document: Dict[str, dict], comments: Optional[Dict[str, Dict[str, str]]] = None,
              header: str = "") -> str:
    """TOML text of ``document``: {table: {key: value}}, values as :func:`toml_value` takes
    them, or a dict (a sub-table ``[table.key]``); None values are left out (TOML has no null).
    ``comments``: {table: {key: text}} written on the line above the key; ``header``: comment
    lines at the top."""
    comments = comments or {}
    lines = [f"# {line}".rstrip() for line in header.splitlines()]
    for table, values in document.items():
        lines += ["", f"[{_key(table)}]"]
        subtables = []
        for key, value in values.items():
            if value is None:
                continue
            if isinstance(value, dict):
                subtables.append((key, value))
                continue
            note = comments.get(table, {}).get(key)
            if note:
                lines += [f"# {line}".rstrip() for line in note.splitlines()]
            lines.append(f"{_key(key)} = {toml_value(value)}")
        for key, value in subtables:
            lines += ["", f"[{_key(table)}.{_key(key)}]"]
            lines += [f"{_key(k)} = {toml_value(v)}" for k, v in value.items() if v is not None]
    return "\n".join(lines).lstrip("\n") + "\n"


def read_toml(path) -> dict:
    """The TOML file ``path`` as a dict; :class:`SettingsError` naming the file and line of a
    syntax error, FileNotFoundError when it is missing."""
    path = Path(path)
    if path.is_dir():
        raise SettingsError(f"settings file {path} is a directory; give a .toml file (e.g. "
                            "RUN/settings.toml)")
    try:
        with open(path, "rb") as f:
            return tomllib.load(f)
    except tomllib.TOMLDecodeError as error:
        raise SettingsError(f"settings file {path} is not valid TOML: {error}") from None
    except UnicodeDecodeError:
        raise SettingsError(f"settings file {path} is not UTF-8 text (TOML)") from None


# --- the options ----------------------------------------------------------------------------------

def _names(value, what: str) -> List[str]:
    if value is None:
        return []
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, (list, tuple)) or not all(isinstance(v, str) for v in value):
        raise SettingsError(f"{what} must be a list of column names, got {value!r}")
    return list(value)


def _choice(value, allowed, what: str) -> str:
    if value not in allowed:
        raise SettingsError(f"{what} must be one of {', '.join(allowed)}; got {value!r}")
    return value


@dataclass
class DataOptions:
    """How a CSV or Parquet file becomes a Dataset (``[data]`` of a settings file): the
    arguments of ``Dataset.from_dataframe`` (``layout="long"``: one row per series and time
    step) or ``Dataset.from_wide_dataframe`` (``"wide"``: one row per series, one column per
    time step; ``feature_name`` / ``time_name`` name the value and the time).

    features: default every column that is not the id, the time or an attribute.
    discrete / continuous: columns whose type is given rather than inferred from the dtype
    (features or attributes). transforms: "auto", "none", "log1p", "signed_log1p", or
    {column: one of them}."""
    id: Optional[str] = None
    time: Optional[str] = None
    features: List[str] = field(default_factory=list)
    attributes: List[str] = field(default_factory=list)
    layout: str = "long"
    discrete: List[str] = field(default_factory=list)
    continuous: List[str] = field(default_factory=list)
    missing: str = "error"
    transforms: Union[str, Dict[str, str]] = "auto"
    normalization: str = "zero_one"
    feature_name: str = "value"
    time_name: str = "time"

    def __post_init__(self):
        for name in ("id", "time"):
            value = getattr(self, name)
            if value is not None and not isinstance(value, str):
                raise SettingsError(f"data.{name} must be a column name, got {value!r}")
        for name in ("features", "attributes", "discrete", "continuous"):
            setattr(self, name, _names(getattr(self, name), f"data.{name}"))
        _choice(self.layout, LAYOUTS, "data.layout")
        _choice(self.missing, MISSING, "data.missing")
        _choice(self.normalization, NORMALIZATIONS, "data.normalization")
        if isinstance(self.transforms, dict):
            for column, name in self.transforms.items():
                _choice(name, TRANSFORMS, f"data.transforms.{column}")
        else:
            _choice(self.transforms, TRANSFORMS, "data.transforms")
        for name in ("feature_name", "time_name"):
            if not isinstance(getattr(self, name), str):
                raise SettingsError(f"data.{name} must be a string")

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)

    def dataset(self, frame, sample_len: Optional[int] = None):
        """The Dataset of ``frame`` (a DataFrame) read with these options."""
        from .data.dataset import Dataset
        from .data.outputs import Normalization
        if self.id is None:
            raise ValueError("no id column: give --id COLUMN (the column naming each series)")
        normalization = Normalization(self.normalization)
        if self.layout == "wide":
            discrete_features = [c for c in self.discrete if c == self.feature_name]
            continuous_features = [c for c in self.continuous if c == self.feature_name]
            return Dataset.from_wide_dataframe(
                frame, self.id, self.attributes, feature_name=self.feature_name,
                time_name=self.time_name, discrete_features=discrete_features,
                continuous_features=continuous_features,
                discrete_attributes=[c for c in self.discrete if c in self.attributes],
                continuous_attributes=[c for c in self.continuous if c in self.attributes],
                normalization=normalization, sample_len=sample_len, missing=self.missing,
                transforms=self.transforms)
        features = self.feature_columns(frame)
        return Dataset.from_dataframe(
            frame, id_column=self.id, time_column=self.time, feature_columns=features,
            attribute_columns=self.attributes,
            discrete_features=[c for c in self.discrete if c in features],
            continuous_features=[c for c in self.continuous if c in features],
            discrete_attributes=[c for c in self.discrete if c in self.attributes],
            continuous_attributes=[c for c in self.continuous if c in self.attributes],
            normalization=normalization, sample_len=sample_len, missing=self.missing,
            transforms=self.transforms)

    def feature_columns(self, frame) -> List[str]:
        """The feature columns of a long frame: ``features``, or every other column."""
        if self.features:
            return list(self.features)
        taken = {self.id, self.time, *self.attributes}
        features = [str(c) for c in frame.columns if c not in taken]
        if not features:
            raise ValueError(f"the file has no column left for features besides the id, time "
                             f"and attributes (its columns: {list(frame.columns)[:20]}); give "
                             "--features")
        return features

    def read(self, path, sample_len: Optional[int] = None):
        """The Dataset of the CSV or Parquet file ``path``."""
        return self.dataset(read_frame(path, self.time), sample_len)


@dataclass
class TrainingOptions:
    """``[training]`` of a settings file. epochs: fit's epochs (under ``minutes``, a bound);
    minutes: a budget in wall time (None: none); seed: the weights, batches and generation;
    holdout: the share of series held out of training for the report; fidelity_every: epochs
    between the FidelityTracker's evaluations; checkpoint_seconds: least seconds between two
    checkpoints (0: every epoch; the last epoch and an interruption always save one)."""
    epochs: Optional[int] = None
    minutes: Optional[float] = None
    seed: int = 0
    holdout: float = 0.2
    fidelity_every: Optional[int] = None
    checkpoint_seconds: float = 60.0

    def __post_init__(self):
        for name in ("epochs", "fidelity_every"):
            value = getattr(self, name)
            if value is not None and (isinstance(value, bool) or not isinstance(value, int)
                                      or value < 1):
                raise SettingsError(f"training.{name} must be an integer >= 1, got {value!r}")
        if isinstance(self.seed, bool) or not isinstance(self.seed, int) or self.seed < 0:
            raise SettingsError(f"training.seed must be an integer >= 0, got {self.seed!r}")
        for name, low, high in (("minutes", 0, math.inf), ("holdout", 0, 1),
                                ("checkpoint_seconds", 0, math.inf)):
            value = getattr(self, name)
            if value is None and name == "minutes":
                continue
            if (isinstance(value, bool) or not isinstance(value, (int, float))
                    or not math.isfinite(value) or not low <= value < high
                    or (name == "minutes" and value == 0)):
                bounds = {"minutes": "a number > 0", "holdout": "a share in [0, 1)",
                          "checkpoint_seconds": "a number >= 0"}[name]
                raise SettingsError(f"training.{name} must be {bounds}, got {value!r}")
            setattr(self, name, float(value))

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)


@dataclass
class Settings:
    """A settings file's contents: ``config`` (a DGConfig, or None when the file has no
    ``[config]`` table), ``config_fields`` (the fields the file gives), ``data`` and
    ``training``, and which keys of those two the file gives (``given``)."""
    config: Optional[DGConfig]
    config_fields: dict
    data: DataOptions
    training: TrainingOptions
    given: Dict[str, set] = field(default_factory=dict)


def load_settings(path) -> Settings:
    """Read a settings file (module docstring). Unknown tables or keys are errors that name
    them (a misspelt key would otherwise be ignored)."""
    document = read_toml(path)
    unknown = set(document) - {"config", "data", "training"}
    if unknown:
        raise SettingsError(f"settings file {path}: unknown tables {sorted(unknown)}; a settings "
                            "file holds [config], [data] and [training]")
    tables = {}
    for name, kind in (("data", DataOptions), ("training", TrainingOptions)):
        values = document.get(name, {})
        known = {f.name for f in dataclasses.fields(kind)}
        extra = set(values) - known
        if extra:
            raise SettingsError(f"settings file {path}: unknown [{name}] keys {sorted(extra)}; "
                                f"known: {sorted(known)}")
        try:
            tables[name] = kind(**values)
        except SettingsError as error:
            raise SettingsError(f"settings file {path}: {error}") from None
    fields = dict(document.get("config", {}))
    try:
        config = DGConfig.from_dict(fields) if fields else None
    except (TypeError, ValueError) as error:
        raise SettingsError(f"settings file {path}, [config]: {error}") from None
    return Settings(config=config, config_fields=fields, data=tables["data"],
                    training=tables["training"],
                    given={name: set(document.get(name, {})) for name in ("data", "training")})


def settings_text(config: DGConfig, data: DataOptions, training: TrainingOptions,
                  reasons: Optional[Dict[str, str]] = None, header: str = "") -> str:
    """The TOML text of a run's settings; ``reasons``: {config field: why} written as
    comments beside the fields."""
    values = config.to_dict()
    defaults = DGConfig().to_dict()
    for name, value in values.items():
        if value is None and defaults.get(name) is not None:
            raise ValueError(f"DGConfig.{name} is None where its default is not: a settings "
                             "file (TOML has no null) cannot hold it")
    comments = {"config": dict(reasons or {})}
    return toml_text({"data": data.to_dict(), "training": training.to_dict(), "config": values},
                     comments, header)


def save_settings(path, config: DGConfig, data: DataOptions, training: TrainingOptions,
                  reasons: Optional[Dict[str, str]] = None, header: str = "") -> None:
    """Write a settings file atomically (a reader never sees half of it)."""
    from .persistence.atomic import atomic_file
    text = settings_text(config, data, training, reasons, header)
    with atomic_file(path) as f:
        f.write(text)


# --- data files -----------------------------------------------------------------------------------

def read_frame(path, time_column: Optional[str] = None):
    """A DataFrame from a .csv or .parquet file. A CSV's time column of text that reads as
    dates (ISO 8601, e.g. 2015-07-01) becomes datetimes, as Parquet stores them; other text is
    left as it is. Errors name the file and what to do."""
    import pandas as pd
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in FILE_SUFFIXES:
        raise ValueError(f"{path}: give a .csv or .parquet file (the suffix says which)")
    if path.is_dir():
        raise ValueError(f"{path} is a directory; give a .csv or .parquet file")
    if not path.exists():
        raise FileNotFoundError(f"{path}: no such file")
    try:
        if suffix == ".parquet":
            try:
                frame = pd.read_parquet(path)
            except ImportError:
                raise ValueError("reading Parquet needs pyarrow: pip install pyarrow (or give "
                                 "a .csv file)") from None
        else:
            frame = pd.read_csv(path)
    except (UnicodeDecodeError, pd.errors.ParserError, pd.errors.EmptyDataError) as error:
        detail = " ".join(str(error).split())[:200]
        raise ValueError(f"cannot read {path} as {suffix[1:].upper()}: {detail}") from None
    except PermissionError:
        raise PermissionError(f"{path}: permission denied (cannot read the file)") from None
    except OSError as error:
        if isinstance(error, FileNotFoundError):
            raise
        detail = " ".join(str(error).split())[:200]
        raise ValueError(f"cannot read {path} as {suffix[1:].upper()}: {detail}") from None
    if suffix == ".csv" and time_column is not None and time_column in frame.columns:
        frame[time_column] = _dates(frame[time_column])
    return frame


def _dates(column):
    """``column`` as datetimes when it is text that reads as ISO 8601 dates, else as is."""
    import pandas as pd
    if not (pd.api.types.is_object_dtype(column) or pd.api.types.is_string_dtype(column)):
        return column
    try:
        return pd.to_datetime(column, format="ISO8601")
    except (ValueError, TypeError):
        return column
