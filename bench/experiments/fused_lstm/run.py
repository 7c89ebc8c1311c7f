"""Experiment: the feature generator's LSTM as one fused C++ operation (lstm_sequence.cc)
against Keras' LSTM, at the WWT shape. Not part of the package or CI: it did not pay off in
the training step (docs/benchmarks.md, "A fused LSTM operation"), and is kept so that the
figures can be reproduced.

    python bench/experiments/fused_lstm/run.py --mode isolated --inter_op 2
    python bench/experiments/fused_lstm/run.py --mode step --inter_op 2 --blocks 8

It compiles lstm_sequence.cc with g++ against the installed TensorFlow (~15 s) into a
temporary folder. `isolated` times one LSTM forward and forward+backward (batch 100, 55 steps,
16 context + 5 noise inputs, 100 units) and checks the fused outputs and gradients against
Keras'; `step` times whole training steps of two models (Keras' LSTM / the fused op patched
into the feature generator), alternating blocks of 20 steps, as bench/train_step.py builds
them. Threads: intra_op 1 and --inter_op (2 = what set_cpu_threads() picks on 2 cores).
"""
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent.parent))  # bench/

from absl import app, flags  # noqa: E402

MODE = flags.DEFINE_enum("mode", "isolated", ["isolated", "step"], "what to time")
INTER_OP = flags.DEFINE_integer("inter_op", 2, "inter-op threads (intra-op is 1)")
BLOCKS = flags.DEFINE_integer("blocks", 8, "alternating timing blocks per variant")


def build_op_library():
    import tensorflow as tf
    out = Path(tempfile.mkdtemp()) / "lstm_sequence.so"
    cmd = (["g++", "-shared", "-fPIC", "-O3", "-march=native", str(HERE / "lstm_sequence.cc"),
            "-o", str(out)] + tf.sysconfig.get_compile_flags() + tf.sysconfig.get_link_flags())
    subprocess.run(cmd, check=True)
    return tf.load_op_library(str(out))


def fused_lstm(ops):
    """(context [B, 4U], x [T, B, D], kernel [D, 4U], recurrent [U, 4U], h0, c0) -> h [T, B, U],
    differentiable: the op's backward recursion gives dz at the gates' inputs, and the weight
    and input gradients are MatMuls of it."""
    import tensorflow as tf

    @tf.RegisterGradient("DgLstmSequence")
    def _gradient(op, dh, unused_dc, unused_dgates):  # c and gates only feed this gradient
        context, x, kernel, recurrent, h0, c0 = op.inputs
        h = op.outputs[0]
        dz, dh0, dc0 = ops.dg_lstm_sequence_grad(*op.inputs, *op.outputs, dh)
        h_prev = tf.concat([h0[None], h[:-1]], axis=0)
        # the sums over time (dR = sum_t h_{t-1}^T dz_t, dK = sum_t x_t^T dz_t, d_context =
        # sum_t dz_t) as two halves each: as single operations they would run one after the
        # other at the end of the step's critical path, with the other core idle
        half = tf.shape(dz)[0] // 2
        halves = [slice(None, half), slice(half, None)]

        def over_time(product):
            return tf.add_n([product(part) for part in halves])

        def flat(t, part):
            return tf.reshape(t[part], [-1, t.shape[-1]])
        d_context = over_time(lambda part: tf.reduce_sum(dz[part], 0))
        d_kernel = over_time(lambda part: tf.matmul(flat(x, part), flat(dz, part),
                                                    transpose_a=True))
        d_recurrent = over_time(lambda part: tf.matmul(flat(h_prev, part), flat(dz, part),
                                                       transpose_a=True))
        dx = tf.reshape(tf.matmul(tf.reshape(dz, [-1, dz.shape[-1]]), kernel, transpose_b=True),
                        tf.shape(x))
        return d_context, dx, d_kernel, d_recurrent, dh0, dc0

    return lambda *args: ops.dg_lstm_sequence(*args)[0]


def keras_and_fused_calls(lstm, lstm_sequence, context_dim):
    """Two functions (x [T, B, context + noise], h0, c0) -> h: Keras' LSTM layer, and the fused
    op on the same weights with the context columns' projection computed once per sequence."""
    import tensorflow as tf

    def keras_call(x, h0, c0):
        return lstm(x, initial_state=[h0, c0])

    def fused_call(x, h0, c0):
        cell = lstm.cell
        context = tf.matmul(x[0, :, :context_dim], cell.kernel[:context_dim]) + cell.bias
        # the noise columns depend on no weights: no gradient to take through them
        noise = tf.stop_gradient(x[:, :, context_dim:])
        return lstm_sequence(context, noise, cell.kernel[context_dim:], cell.recurrent_kernel,
                             h0, c0)
    return keras_call, fused_call


def median_ms(fn, blocks, calls=20):
    import numpy as np
    import tensorflow as tf
    times = []
    for _ in range(blocks):
        start = time.perf_counter()
        for _ in range(calls):
            out = fn()
        tf.nest.map_structure(lambda t: t.numpy(), out)
        times.append((time.perf_counter() - start) / calls * 1e3)
    return float(np.median(times))


def isolated(lstm_sequence):
    import numpy as np
    import tensorflow as tf
    from tensorflow import keras
    steps, batch, context_dim, noise_dim, units = 55, 100, 16, 5, 100
    lstm = keras.layers.LSTM(units, return_sequences=True, unit_forget_bias=True, time_major=True)
    # the feature generator's input: the same context at every step, then that step's noise
    context = tf.random.normal([batch, context_dim], seed=1)
    noise = tf.random.normal([steps, batch, noise_dim], seed=5)
    h0, c0 = tf.random.normal([batch, units], seed=2), tf.random.normal([batch, units], seed=3)

    def inputs():
        return tf.concat([tf.repeat(context[None], steps, axis=0), noise], axis=-1)
    lstm(inputs(), initial_state=[h0, c0])
    weights = tf.random.normal([steps, batch, units], seed=4)
    results, timed = {}, {}
    for name, call in zip(["keras", "fused"], keras_and_fused_calls(lstm, lstm_sequence,
                                                                    context_dim)):
        @tf.function
        def forward_backward(call=call):
            with tf.GradientTape() as tape:
                tape.watch([context, h0, c0])  # noise: no gradient wanted, as in the model
                h = call(inputs(), h0, c0)
                loss = tf.reduce_sum(h * weights)
            return [h] + tape.gradient(loss, [context, h0, c0] + lstm.trainable_variables)
        results[name] = [t.numpy() for t in forward_backward()]
        timed[f"{name} forward"] = tf.function(lambda call=call: call(inputs(), h0, c0))
        timed[f"{name} forward+backward"] = forward_backward
    worst = max(float(np.max(np.abs(a - b)) / max(1.0, float(np.max(np.abs(a)))))
                for a, b in zip(results["keras"], results["fused"]))
    print(f"fused vs Keras, outputs and gradients: largest difference {worst:.1e} "
          "(relative to each tensor's largest value)")
    medians = {name: [] for name in timed}
    for _ in range(BLOCKS.value):  # alternating, so that machine drift hits all alike
        for name, fn in timed.items():
            medians[name].append(median_ms(fn, 1))
    for name, ms in medians.items():
        print(f"{name:22s} median {np.median(ms):6.2f} ms  ({' '.join(f'{m:.1f}' for m in ms)})")


def patch_feature_generator(model, lstm_sequence):
    """Route the model's (single-layer) feature-generator LSTM through the fused op."""
    generator = model.feature_generator
    lstm = generator.lstms[0]
    context_dim = {}

    def lstm_call(x, initial_state=None, training=None):
        _, fused_call = keras_and_fused_calls(lstm, lstm_sequence, context_dim["value"])
        return fused_call(x, *initial_state)

    def generator_call(attributes, noise, initial_states, training=None):
        context_dim["value"] = attributes.shape[-1]
        return type(generator).call(generator, attributes, noise, initial_states,
                                    training=training)
    generator.call = generator_call
    lstm.call = lstm_call


def training_step(lstm_sequence):
    import numpy as np
    import train_step as ts
    variants = {}
    for name in ["keras", "fused"]:
        model, _, data, step = ts.build_training(ts.SHAPES["wwt"])
        if name == "fused":
            patch_feature_generator(model, lstm_sequence)
        step(data)
        variants[name] = (model, data, step)
    per_block = {name: [] for name in variants}
    for _ in range(BLOCKS.value):
        for name, (model, data, step) in variants.items():
            per_block[name].append(1e3 * np.mean(ts.time_steps(model, data, step, 20, 1)))
    for name, ms in per_block.items():
        print(f"{name:6s} ms/step " + " ".join(f"{m:.1f}" for m in ms)
              + f"  median {np.median(ms):.1f}")
    ratios = [f / k for k, f in zip(per_block["keras"], per_block["fused"])]
    print("fused/keras per block " + " ".join(f"{r:.2f}" for r in ratios)
          + f"  median {np.median(ratios):.3f}")


def main(_):
    from doppelganger_tf.runtime import set_cpu_threads
    set_cpu_threads(1, INTER_OP.value)
    lstm_sequence = fused_lstm(build_op_library())
    (isolated if MODE.value == "isolated" else training_step)(lstm_sequence)


if __name__ == "__main__":
    app.run(main)
