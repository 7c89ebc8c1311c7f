"""Warnings about the user's data, attributed to the user's own line (the ``from_arrays`` or
``from_dataframe`` call), however deep in the package the helper that warns."""
from __future__ import annotations

import os
import sys
import warnings


def warn_user(message: str) -> None:
    """A UserWarning attributed to the first caller outside this package (the user's
    from_arrays / from_dataframe line), whatever the depth of the helpers in between."""
    package = os.path.dirname(os.path.abspath(__file__)) + os.sep
    frame, level = sys._getframe(0), 1
    while frame is not None and os.path.abspath(frame.f_code.co_filename).startswith(package):
        frame, level = frame.f_back, level + 1
    warnings.warn(message, UserWarning, stacklevel=level)
