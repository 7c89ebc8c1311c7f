"""Checks of the DataFrame builders' column arguments: the named columns exist, each under a
label of its own and in one role, with values of one kind where that matters."""
from __future__ import annotations

from . import column_types


def check_frame_columns(df, id_column, time_column, feature_columns, attribute_columns,
                         id_may_be_attribute: bool = False):
    """The named columns exist (one id and time column each) under labels of their own, each
    in one role, the frame has rows, every row has an id (and a time) and ids and times are of
    one type; no column holds complex values.  ``feature_columns`` None: a wide frame, whose
    features are its time columns (checked by the caller).  ``id_may_be_attribute``: the id
    column may also be listed as an attribute (windows keep their series' id)."""
    for argument, column in (("id_column", id_column), ("time_column", time_column)):
        try:
            hash(column)
        except TypeError:
            raise ValueError(f"{argument} takes one column name, got {column!r}") from None
    used = [id_column] + ([time_column] if time_column is not None else [])
    for argument, columns in (("id_column", [id_column]),
                              ("time_column", used[1:]),
                              ("feature_columns", feature_columns or []),
                              ("attribute_columns", attribute_columns)):
        missing = [c for c in columns if c not in df.columns]
        if missing:
            raise ValueError(f"{argument} names {quoted(missing)}, not in the DataFrame "
                             f"(it has the columns {list(df.columns)})")
    if feature_columns is not None and not feature_columns:
        raise ValueError("feature_columns is empty; DoppelGANger needs at least one "
                         "time-series feature")
    check_distinct_labels(df, [*used, *(feature_columns or []), *attribute_columns])
    _check_roles([("id_column", [id_column]), ("time_column", used[1:]),
                  ("feature_columns", feature_columns or []),
                  ("attribute_columns", [c for c in attribute_columns
                                         if not (id_may_be_attribute and c == id_column)])])
    if len(df) == 0:
        raise ValueError("the DataFrame is empty (N == 0 samples)")
    for column in used:
        if df[column].isna().any():
            raise ValueError(f"column {column!r} has missing values; every row needs an id "
                             "(and a time when time_column is given)")
    for role, column in zip(("id", "time"), used):
        column_types.check_values(df[column], f"{role} column {column!r}", one_kind=True,
                                  fix=column_types.mixed_kind_fix(column, role))
    for role, columns in (("feature", feature_columns or []), ("attribute", attribute_columns)):
        for column in columns:  # before the type decisions read them as float64
            column_types.check_values(df[column], f"{role} column {column!r}", one_kind=False)


def _check_roles(arguments) -> None:
    """Every column in one role: (argument, its columns) pairs, names compared as text (the
    names of the Dataset's columns)."""
    seen = {}  # name -> the argument that listed it first
    for argument, columns in arguments:
        for column in columns:
            name = str(column)
            if name not in seen:
                seen[name] = argument
                continue
            if seen[name] == argument:
                raise ValueError(f"{argument} lists {column!r} twice; list each column once")
            raise ValueError(
                f"column {column!r} is given as {seen[name]} and in {argument}; a column has "
                "one role (id, time, feature or attribute): drop it from one of them, or copy "
                f"it under another name (df[{name + '_copy'!r}] = df[{column!r}]) to use it "
                "twice")


def check_distinct_labels(df, columns) -> None:
    """The used columns have labels no other column has (pandas gives a DataFrame, not a
    column, for a repeated label) and names that differ as text (1 and '1' would both be
    named '1')."""
    repeated = list(dict.fromkeys(c for c in df.columns[df.columns.duplicated()]
                                  if c in set(columns)))
    if repeated:
        raise ValueError(f"the DataFrame has several columns labelled {_listed(repeated)}; "
                         "give each column a distinct label (df.columns = [...]), or keep "
                         "the first of each: df = df.loc[:, ~df.columns.duplicated()]")
    names = {}
    for column in dict.fromkeys(columns):
        other = names.setdefault(str(column), column)
        if other is not column and other != column:
            raise ValueError(f"the columns {other!r} and {column!r} have the same name as text "
                             f"({str(column)!r}), which names the Dataset's columns; rename "
                             "one (df.rename(columns=...))")


def _listed(labels: list) -> str:
    return repr(labels[0]) if len(labels) == 1 else ", ".join(repr(c) for c in labels)


def quoted(names: list) -> str:
    """'x' for one name, ['x', 'y'] for several (in error messages)."""
    return f"column {names[0]!r}" if len(names) == 1 else f"columns {names}"


def check_discrete_kinds(df, decisions) -> None:
    """Discrete columns hold values of one kind (their categories are sorted, and True would
    otherwise be the category 1)."""
    for d in decisions:
        if d.discrete:
            column = next(c for c in df.columns if str(c) == d.name)
            column_types.check_values(df[column], f"discrete {d.role} column {d.name!r}",
                                      one_kind=True,
                                      fix=column_types.mixed_kind_fix(column, d.role))
