"""The feature generator's LSTM as one fused TensorFlow operation on CPUs.

``kernels/lstm_sequence.cc`` runs a whole LSTM sequence, forward and backward, as one operation
each, with Keras' gate order and maths (same weights, same results to float rounding). At the
WWT shape a training step takes 0.88 of its time with Keras' LSTM on a 2-core CPU
(docs/performance.md).

TensorFlow has no such operation for CPUs, so the source is compiled on first use with the C++
compiler (``$CXX``, default ``g++``) against the installed TensorFlow's headers, for this CPU
(``-march=native``), and cached under ``$DOPPELGANGER_TF_CACHE`` (default
``~/.cache/doppelganger_tf``), one library per TensorFlow version, source, compiler, flags and
CPU. Where it cannot be built, :func:`load_kernels` raises :class:`FusedLSTMUnavailable` with the
compiler's first error (the whole output is in a ``.log`` file beside the library), and
``DoppelGANger(..., lstm_implementation="auto")`` uses Keras' LSTM instead. A failed build is
remembered in a ``.failed`` file beside the library, so later processes do not spend the compile
time again: delete that file, or set ``DOPPELGANGER_TF_REBUILD=1``, to try again.
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
# set to 1: build again although an earlier build with the same cache key failed
REBUILD_VARIABLE = "DOPPELGANGER_TF_REBUILD"


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


def _predefined_macros(compiler: str, flags: tuple) -> str | None:
    """The macros the compiler predefines with these flags, or None where it refuses them."""
    try:
        result = subprocess.run([compiler, *flags, "-dM", "-E", "-x", "c++", os.devnull],
                                capture_output=True, text=True, timeout=60)
    except (OSError, subprocess.SubprocessError):
        return None
    return result.stdout if result.returncode == 0 else None


@functools.lru_cache(maxsize=None)
def _target_flags(compiler: str) -> tuple:
    """-march=native, less AVX512-FP16 where it turns that on and the compiler can turn it off.

    The kernel computes in float32 only and its fast path is AVX2/FMA (AVX-512 stays on), so
    half-precision vector arithmetic gains it nothing, while with it Eigen's headers in
    TensorFlow 2.21 do not compile under g++ 12 ("PacketMathFP16.h: expected initializer before
    '<'", on Sapphire Rapids and later)."""
    native = ("-march=native",)
    macros = _predefined_macros(compiler, native)
    if macros is None or "__AVX512FP16__" not in macros:
        return native
    without = native + ("-mno-avx512fp16",)
    macros = _predefined_macros(compiler, without)
    if macros is None or "__AVX512FP16__" in macros:
        return native  # this compiler cannot turn it off: try the build as it is
    return without


def _build_command(compiler: str, output: Path) -> list:
    return ([compiler, "-shared", "-fPIC", "-O3", *_target_flags(compiler), str(SOURCE), "-o",
             str(output)] + tf.sysconfig.get_compile_flags() + tf.sysconfig.get_link_flags())


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
            "g++; lstm_implementation='keras' avoids the build)")
    try:
        version = subprocess.run([compiler, "--version"], capture_output=True, text=True,
                                 timeout=60).stdout.splitlines()[:1]
    except (OSError, subprocess.SubprocessError) as error:
        raise FusedLSTMUnavailable(f"the C++ compiler {compiler!r} does not run: {error}") from None
    key = hashlib.sha256("\n".join([SOURCE.read_text(), tf.__version__, compiler, *version,
                                    " ".join(_build_command(compiler, Path("x"))),
                                    _cpu_identity()]).encode()).hexdigest()[:16]
    return Path(directory) / f"lstm_sequence-{key}.so"


def failure_marker(library: Path) -> Path:
    """The file that remembers a failed build of ``library`` (it holds the error message)."""
    return library.with_suffix(".failed")


def _build_and_load(compiler: str, directory: Path):
    library = library_path(compiler, directory)
    if not library.exists():
        marker = failure_marker(library)
        if marker.exists() and os.environ.get(REBUILD_VARIABLE) != "1":
            try:
                remembered = marker.read_text()
            except OSError as error:
                remembered = f"(its message cannot be read: {error})"
            raise FusedLSTMUnavailable(
                f"{remembered}\n[remembered from an earlier build with the same source, "
                f"compiler, flags, TensorFlow and CPU: {marker}; to try again, delete that "
                f"file or set {REBUILD_VARIABLE}=1]")
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


def _first_error(output: str, before: int = 2, after: int = 4) -> str:
    """The first line that says "error:" with a few lines around it; the output's last lines
    where none does. (g++ prints its errors among hundreds of lines of warnings from
    TensorFlow's headers, so the end of the output rarely shows the cause.)"""
    lines = output.splitlines()
    first = next((i for i, line in enumerate(lines) if "error:" in line), None)
    if first is None:
        return "\n".join(lines[-before - after - 1:])
    return "\n".join(lines[max(0, first - before):first + after + 1])


def _write_atomically(path: Path, text: str):
    handle, temporary = tempfile.mkstemp(suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(handle, "w") as file:
            file.write(text)
        os.replace(temporary, path)
    finally:
        if os.path.exists(temporary):
            os.remove(temporary)


def _build(compiler: str, library: Path):
    """Compile into a temporary file beside ``library`` and rename it into place, so that a
    killed or concurrent build never leaves a half-written library behind. A failure leaves the
    compiler's output in a .log file and its message in the failure marker."""
    try:
        library.parent.mkdir(parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(suffix=".so.tmp", dir=library.parent)
        os.close(handle)
    except OSError as error:
        raise FusedLSTMUnavailable(f"cannot write the fused LSTM build to {library.parent}: "
                                   f"{error} (set DOPPELGANGER_TF_CACHE to a writable folder)"
                                   ) from None
    command = _build_command(compiler, Path(temporary))
    try:
        try:
            result = subprocess.run(command, capture_output=True, text=True, timeout=600)
        except subprocess.TimeoutExpired as error:  # its output is bytes, whatever text= says
            output = b"".join(part or b"" for part in (error.stdout, error.stderr))
            _fail(compiler, library, command, f"timed out after {error.timeout:.0f} s",
                  output.decode(errors="replace"))
        if result.returncode != 0:
            _fail(compiler, library, command, f"exit status {result.returncode}",
                  result.stdout + result.stderr)
        os.replace(temporary, library)
    except OSError as error:
        raise FusedLSTMUnavailable(f"building the fused LSTM failed: {error}") from None
    finally:
        if os.path.exists(temporary):
            os.remove(temporary)
    for stale in (failure_marker(library), library.with_suffix(".log")):  # of an earlier try
        try:
            stale.unlink()
        except FileNotFoundError:
            pass


def _fail(compiler: str, library: Path, command: list, status: str, output: str):
    """Raise FusedLSTMUnavailable with the compiler's first error, after writing its whole
    output to a .log file and the message to the failure marker (which later processes read
    instead of building again)."""
    log = library.with_suffix(".log")
    try:
        _write_atomically(log, " ".join(command) + "\n\n" + output)
        where = f"the whole output: {log}"
    except OSError as error:
        where = f"the output could not be saved to {log}: {error}"
    message = (f"building the fused LSTM failed ({compiler}, {status}); the first error:\n"
               f"{_first_error(output) or '(the compiler printed nothing)'}\n"
               f"[{where}; DoppelGANger(..., lstm_implementation='keras') avoids the build]")
    try:
        _write_atomically(failure_marker(library), message)
    except OSError:
        pass  # then the next process tries again: slower, still correct
    raise FusedLSTMUnavailable(message)


def resolve_implementation(requested: str) -> str:
    """DoppelGANger's lstm_implementation -> "keras" or "fused". "auto" is the fused operation
    on a CPU-only machine where it builds (with a warning where it does not), Keras' LSTM where
    a GPU is visible (cuDNN's)."""
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
