"""The module paths of releases up to 0.3.0, when every module sat in ``doppelganger_tf/``, kept
working: ``doppelganger_tf.dataset`` is ``doppelganger_tf.data.dataset``, the same module object
under both names (not a copy), so ``from doppelganger_tf.dataset import Dataset``,
``import doppelganger_tf.dataset as m`` and a test's ``monkeypatch.setattr`` on the old name all
reach the module the package itself uses.

:func:`install` (run by ``doppelganger_tf/__init__.py``) puts :class:`OldPathFinder` first on
``sys.meta_path``; it answers only for the names in :data:`MOVED` and imports nothing until such
a name is imported, so importing the package stays free of TensorFlow. docs/design.md lists the
subpackages.
"""
import importlib
import importlib.abc
import importlib.util
import sys

# {subpackage: its modules that were top-level modules of doppelganger_tf}
GROUPS = {
    "data": ["array_builder", "column_arguments", "column_transform", "column_types",
             "conversion", "dataset", "encoding", "frame_arguments", "frame_builder", "frames",
             "missing", "outputs", "real_units", "synthetic", "time_axis", "time_gaps",
             "time_steps", "time_values", "transforms", "user_warning"],
    "persistence": ["atomic", "frame_files", "saved_model", "saved_weights", "shard_markers",
                    "sharded_storage", "storage"],
    "gan": ["conditional", "config", "critic_updates", "fused_lstm", "generation", "model",
            "networks", "observed", "precision", "resources", "training_data", "wgan_gp"],
    "training": ["callbacks", "checkpoint", "distribution", "fidelity_callback",
                 "fidelity_options", "fidelity_scores", "progress", "retrain", "runtime",
                 "stopping", "suggestion"],
    "dp": ["dp_clipping", "privacy", "privacy_budget"],
}
PACKAGE = __name__.rpartition(".")[0]
# {old module name: new module name}
MOVED = {f"{PACKAGE}.{module}": f"{PACKAGE}.{group}.{module}"
         for group, modules in GROUPS.items() for module in modules}


class AliasLoader(importlib.abc.Loader):
    """Loads an old name as the module of its new name: imports the new one (once; Python
    caches it) and hands back that very object, which the import system then also registers
    under the old name."""

    def __init__(self, new_name: str):
        self.new_name = new_name
        self.new_spec = None

    def create_module(self, spec):
        module = importlib.import_module(self.new_name)
        self.new_spec = module.__spec__
        return module

    def exec_module(self, module):
        # the import system sets __spec__ to the old name's; the module keeps its own
        module.__spec__ = self.new_spec


class OldPathFinder(importlib.abc.MetaPathFinder):
    """Finds the old module names of :data:`MOVED`, and nothing else."""

    def find_spec(self, fullname, path=None, target=None):
        if fullname not in MOVED:
            return None
        return importlib.util.spec_from_loader(fullname, AliasLoader(MOVED[fullname]))


def install() -> None:
    """Puts an :class:`OldPathFinder` first on ``sys.meta_path``, once per process."""
    if not any(isinstance(finder, OldPathFinder) for finder in sys.meta_path):
        sys.meta_path.insert(0, OldPathFinder())
