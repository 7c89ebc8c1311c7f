"""Shared test fixtures. Real data lives in ../shared/data beside the checkout (never in the repo);
tests that need it skip with a clear message when it is absent."""
import os
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import pytest

SHARED_DATA = Path(os.environ.get(
    "DGTF_SHARED_DATA", Path(__file__).resolve().parents[1].parent / "shared" / "data"))


@pytest.fixture
def shared_data():
    """Path to ../shared/data; skips the test when the folder is absent."""
    if not SHARED_DATA.is_dir():
        pytest.skip(f"real data folder {SHARED_DATA} is absent (set DGTF_SHARED_DATA to use it)")
    return SHARED_DATA
