"""The feature generator's LSTM as one fused TensorFlow operation on CPUs.

``kernels/lstm_sequence.cc`` runs a whole LSTM sequence, forward and backward, as one operation
each, with Keras' gate order and maths (same weights, same results to float rounding). At the
WWT shape a training step takes 0.88 of its time with Keras' LSTM on a 2-core CPU
(docs/benchmarks.md).

TensorFlow has no such operation for CPUs, so the source is compiled on first use with the C++
compiler (``$CXX``, default ``g++``) against the installed TensorFlow's headers, for this CPU
(``-march=native``), and cached under ``$DOPPELGANGER_TF_CACHE`` (default
``~/.cache/doppelganger_tf``), one library per TensorFlow version, source, compiler and CPU.
Where it cannot be built, :func:`load_kernels` raises :class:`FusedLSTMUnavailable` with the
compiler's message, and ``DGConfig(lstm_implementation="auto")`` uses Keras' LSTM instead.
"""
from __future__ import annotations

import functools
import hashlib
import os
import platform
import shutil
import subprocess
import tempfile
import warnings
from pathlib import Path

import tensorflow as tf
from tensorflow.python.framework import op_def_registry

from .config import LSTM_IMPLEMENTATIONS

SOURCE = Path(__file__).with_name("kernels") / "lstm_sequence.cc"


class FusedLSTMUnavailable(RuntimeError):
    """The fused LSTM operation could not be built or loaded on this machine."""


def cache_dir() -> Path:
    if os.environ.get("DOPPELGANGER_TF_CACHE"):
        return Path(os.environ["DOPPELGANGER_TF_CACHE"])
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "doppelganger_tf"


def _cpu_identity() -> str:
    """The CPU's model and instruction-set flags: a library built with -march=native runs only
    where they are the same."""
    try:
        lines = Path("/proc/cpuinfo").read_text().splitlines()
        wanted = ("model name", "flags")
        return "\n".join(sorted({line for line in lines if line.startswith(wanted)}))
    except OSError:
        return platform.processor() + platform.machine()


def _build_command(compiler: str, output: Path) -> list:
    return ([compiler, "-shared", "-fPIC", "-O3", "-march=native", str(SOURCE), "-o", str(output)]
            + tf.sysconfig.get_compile_flags() + tf.sysconfig.get_link_flags())


def load_kernels(compiler: str | None = None, directory: str | None = None):
    """The loaded operation library (its ``dg_lstm_sequence`` and ``dg_lstm_sequence_grad``),
    built first if this machine has no cached build. Raises FusedLSTMUnavailable (also on
    later calls, without trying to build again)."""
    library, error = _load(compiler or os.environ.get("CXX") or "g++",
                           str(directory or cache_dir()))
    if error is not None:
        raise error
    return library


@functools.lru_cache(maxsize=None)
def _load(compiler: str, directory: str):
    try:
        return _build_and_load(compiler, Path(directory)), None
    except FusedLSTMUnavailable as error:
        return None, error


def library_path(compiler: str, directory: Path) -> Path:
    """Where the build for this compiler, TensorFlow, source and CPU lives (or will)."""
    if shutil.which(compiler) is None:
        raise FusedLSTMUnavailable(
            f"no C++ compiler {compiler!r} on PATH to build the fused LSTM (set CXX, or install "
            "g++; DGConfig(lstm_implementation='keras') avoids the build)")
    try:
        version = subprocess.run([compiler, "--version"], capture_output=True, text=True,
                                 timeout=60).stdout.splitlines()[:1]
    except (OSError, subprocess.SubprocessError) as error:
        raise FusedLSTMUnavailable(f"the C++ compiler {compiler!r} does not run: {error}") from None
    key = hashlib.sha256("\n".join([SOURCE.read_text(), tf.__version__, compiler, *version,
                                    " ".join(_build_command(compiler, Path("x"))),
                                    _cpu_identity()]).encode()).hexdigest()[:16]
    return Path(directory) / f"lstm_sequence-{key}.so"


def _build_and_load(compiler: str, directory: Path):
    library = library_path(compiler, directory)
    if not library.exists():
        _build(compiler, library)
    # a second library with these ops would register their kernels twice, which breaks every
    # later call of them in this process: load one build per process only
    if op_def_registry.get("DgLstmSequence") is not None:
        raise FusedLSTMUnavailable(f"another build of the fused LSTM is already loaded in this "
                                   f"process, so {library} is not loaded (keep one compiler and "
                                   "DOPPELGANGER_TF_CACHE per process)")
    try:
        return tf.load_op_library(str(library))
    except (tf.errors.OpError, OSError) as error:
        raise FusedLSTMUnavailable(f"the fused LSTM library {library} does not load: {error} "
                                   "(delete it to rebuild)") from None


def _build(compiler: str, library: Path):
    """Compile into a temporary file beside ``library`` and rename it into place, so that a
    killed or concurrent build never leaves a half-written library behind."""
    try:
        library.parent.mkdir(parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(suffix=".so.tmp", dir=library.parent)
        os.close(handle)
    except OSError as error:
        raise FusedLSTMUnavailable(f"cannot write the fused LSTM build to {library.parent}: "
                                   f"{error} (set DOPPELGANGER_TF_CACHE to a writable folder)"
                                   ) from None
    try:
        result = subprocess.run(_build_command(compiler, Path(temporary)), capture_output=True,
                                text=True, timeout=600)
        if result.returncode != 0:
            raise FusedLSTMUnavailable("building the fused LSTM failed:\n"
                                       + result.stderr[-2000:])
        os.replace(temporary, library)
    except (OSError, subprocess.SubprocessError) as error:
        raise FusedLSTMUnavailable(f"building the fused LSTM failed: {error}") from None
    finally:
        if os.path.exists(temporary):
            os.remove(temporary)


def resolve_implementation(requested: str) -> str:
    """DGConfig.lstm_implementation -> "keras" or "fused". "auto" is the fused operation on a
    CPU-only machine where it builds (with a warning where it does not), Keras' LSTM where a GPU
    is visible (cuDNN's)."""
    if requested not in LSTM_IMPLEMENTATIONS:
        raise ValueError(f"lstm_implementation must be one of {LSTM_IMPLEMENTATIONS}, got "
                         f"{requested!r}")
    if requested == "keras" or (requested == "auto" and tf.config.list_physical_devices("GPU")):
        return "keras"
    try:
        load_kernels()
    except FusedLSTMUnavailable as error:
        if requested == "fused":
            raise  # names the problem
        _warn_fallback(str(error))
        return "keras"
    return "fused"


@functools.lru_cache(maxsize=None)
def _warn_fallback(reason: str):  # once per reason
    warnings.warn(f"using Keras' LSTM (the same model, slower on CPUs): {reason}",
                  RuntimeWarning, stacklevel=3)


def lstm_sequence(context, x, kernel, recurrent_kernel, h0, c0, differentiable=True):
    """h [T, B, U] of an LSTM with Keras' gates: z_t = context + x_t kernel + h_{t-1} R.

    context [B, 4U]: the per-sample term constant over time (bias included); x [T, B, D]
    (D may be 0); kernel [D, 4U]; recurrent_kernel [U, 4U]; h0, c0 [B, U]. float32.
    differentiable=False (generation) keeps no activations for the gradient: faster, and
    differentiating it raises.
    """
    return load_kernels().dg_lstm_sequence(context, x, kernel, recurrent_kernel, h0, c0,
                                           keep_activations=differentiable)[0]


@tf.RegisterGradient("DgLstmSequence")
def _lstm_sequence_gradient(op, dh, unused_dc, unused_dgates):
    if not op.get_attr("keep_activations"):
        raise ValueError("this fused LSTM kept no activations for a gradient (the generator "
                         "was called with training=False or differentiable=False): call it "
                         "with training=True to take gradients through it")
    # the op's c and gates outputs are the activations this gradient reads, used nowhere else
    context, x, kernel, recurrent_kernel, h0, c0 = op.inputs
    h = op.outputs[0]
    if dh is None:
        dh = tf.zeros_like(h)
    dz, dh0, dc0 = load_kernels().dg_lstm_sequence_grad(*op.inputs, *op.outputs, dh)
    # the sums over time as two halves each, which run side by side: as single operations
    # they come one after the other at the end of the training step's critical path
    steps = tf.shape(dz)[0]
    half = tf.maximum(steps // 2, 1)

    def over_time(term):
        return term(slice(None, half)) + term(slice(half, None))

    def flat(t, part):
        return tf.reshape(t[part], [-1, t.shape[-1]])

    def recurrent_term(start, stop):  # sum of h_{t-1}^T dz_t over 1 <= start <= t < stop
        return tf.matmul(flat(h, slice(start - 1, stop - 1)), flat(dz, slice(start, stop)),
                         transpose_a=True)
    d_context = over_time(lambda part: tf.reduce_sum(dz[part], axis=0))
    d_kernel = over_time(lambda part: tf.matmul(flat(x, part), flat(dz, part), transpose_a=True))
    # h_{t-1} is h0 at t = 0, else a time slice of h (no concatenated copy of h)
    d_recurrent = (tf.matmul(h0, dz[0], transpose_a=True) + recurrent_term(1, half)
                   + recurrent_term(half, steps))
    dx = tf.reshape(tf.matmul(flat(dz, slice(None)), kernel, transpose_b=True), tf.shape(x))
    return d_context, dx, d_kernel, d_recurrent, dh0, dc0
