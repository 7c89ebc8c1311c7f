"""The experiment scripts. They run as ``python experiments/<script>.py`` and import ``common``
from their own folder (Python puts a script's folder first on sys.path); this file only lets
the tests import ``experiments.common`` from the repository root (pytest.ini's pythonpath)."""
