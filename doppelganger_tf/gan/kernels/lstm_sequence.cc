// The feature generator's LSTM over a whole sequence as one TensorFlow operation, forward and
// backward, for CPUs (doppelganger_tf/fused_lstm.py builds, loads and differentiates it).
// Keras' while-loop LSTM runs ~15 small operations per step forward and ~35 backward; here
// each step is one matrix product plus one pass over the gates, and the caller computes the
// weight gradients as large MatMuls after the backward recursion.
//
// Gate order and maths are Keras' LSTM (i, f, c, o; sigmoid gates, tanh cell and output):
//   z_t = context + x_t K + h_{t-1} R,  c_t = f * c_{t-1} + i * g,  h_t = o * tanh(c_t).
// `context` is a per-sample term constant over time (the bias, plus the projection of inputs
// that repeat at every step), so it is computed once per sequence instead of once per step.
// Rows of the batch are independent: they are split over threads (ForRowBlocks).
#include <algorithm>
#include <atomic>
#include <functional>
#include <memory>
#include <vector>

#include "tensorflow/core/framework/op.h"
#include "tensorflow/core/framework/op_kernel.h"
#include "tensorflow/core/framework/shape_inference.h"
#include "tensorflow/core/platform/blocking_counter.h"
#include "tensorflow/core/util/work_sharder.h"

#if defined(__AVX2__) && defined(__FMA__)
#include <immintrin.h>
#endif

namespace {

using tensorflow::OpKernel;
using tensorflow::OpKernelConstruction;
using tensorflow::OpKernelContext;
using tensorflow::Tensor;
using tensorflow::TensorShape;
namespace errors = tensorflow::errors;
namespace shape_inference = tensorflow::shape_inference;

using Matrix = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
using MatrixMap = Eigen::Map<Matrix>;
using ConstMatrixMap = Eigen::Map<const Matrix>;
using Array = Eigen::Map<Eigen::ArrayXf>;
using ConstArray = Eigen::Map<const Eigen::ArrayXf>;

// The recursion's products h_{t-1} R (forward) and dz_t R^T (backward) are [B, U] x [U, 4U]
// and [B, 4U] x [4U, U] with the same right-hand side at every step.  Eigen's GEMM re-packs it
// at every call and reaches ~48 GFLOP/s on one core here; packing it once per sequence into
// 16-column panels and running 6x16 register tiles (12 AVX2 accumulators) reaches ~75-84.
class PackedRight {
 public:
  // b is [K, N] row-major, or with `transposed` the [N, K] row-major matrix whose transpose
  // is wanted on the right
  PackedRight(const float* b, int64_t K, int64_t N, bool transposed)
      : K_(K), N_(N), panels_((N + 15) / 16), data_(panels_ * K * 16 + 16, 0.f) {
    for (int64_t p = 0; p < panels_; ++p)
      for (int64_t k = 0; k < K; ++k)
        for (int64_t j = 0; j < 16 && p * 16 + j < N; ++j) {
          const int64_t col = p * 16 + j;
          Panel(p)[k * 16 + j] = transposed ? b[col * K + k] : b[k * N + col];
        }
  }

  // c[M, N] (row stride N) += a[M, K] (row stride K) x this
  void MultiplyAdd(const float* a, int64_t M, float* c) const {
    for (int64_t p = 0; p < panels_; ++p) {
      const int64_t width = std::min<int64_t>(16, N_ - p * 16);
      int64_t i = 0;
      for (; i + 6 <= M; i += 6) Tile<6>(a + i * K_, Panel(p), c + i * N_ + p * 16, width);
      if (i + 4 <= M) Tile<4>(a + i * K_, Panel(p), c + i * N_ + p * 16, width), i += 4;
      if (i + 2 <= M) Tile<2>(a + i * K_, Panel(p), c + i * N_ + p * 16, width), i += 2;
      if (i < M) Tile<1>(a + i * K_, Panel(p), c + i * N_ + p * 16, width);
    }
  }

 private:
  float* Panel(int64_t p) { return data_.data() + p * K_ * 16; }
  const float* Panel(int64_t p) const { return data_.data() + p * K_ * 16; }

  template <int R>
  void Tile(const float* a, const float* panel, float* c, int64_t width) const {
#if defined(__AVX2__) && defined(__FMA__)
    float edge[R * 16];  // a partial panel's tile goes through a full-width buffer
    float* out = c;
    int64_t stride = N_;
    if (width < 16) {
      for (int r = 0; r < R; ++r)
        for (int j = 0; j < 16; ++j) edge[r * 16 + j] = j < width ? c[r * N_ + j] : 0.f;
      out = edge;
      stride = 16;
    }
    __m256 acc[R][2];
    // (spelled out per row so that the compiler keeps all of them in registers)
#define DG_LOAD(r) if (R > r) { acc[r][0] = _mm256_loadu_ps(out + r * stride); \
                                acc[r][1] = _mm256_loadu_ps(out + r * stride + 8); }
    DG_LOAD(0) DG_LOAD(1) DG_LOAD(2) DG_LOAD(3) DG_LOAD(4) DG_LOAD(5)
#undef DG_LOAD
    for (int64_t k = 0; k < K_; ++k) {
      const __m256 b0 = _mm256_loadu_ps(panel + k * 16), b1 = _mm256_loadu_ps(panel + k * 16 + 8);
#define DG_FMA(r) if (R > r) { const __m256 x = _mm256_broadcast_ss(a + r * K_ + k); \
                               acc[r][0] = _mm256_fmadd_ps(x, b0, acc[r][0]); \
                               acc[r][1] = _mm256_fmadd_ps(x, b1, acc[r][1]); }
      DG_FMA(0) DG_FMA(1) DG_FMA(2) DG_FMA(3) DG_FMA(4) DG_FMA(5)
#undef DG_FMA
    }
#define DG_STORE(r) if (R > r) { _mm256_storeu_ps(out + r * stride, acc[r][0]); \
                                 _mm256_storeu_ps(out + r * stride + 8, acc[r][1]); }
    DG_STORE(0) DG_STORE(1) DG_STORE(2) DG_STORE(3) DG_STORE(4) DG_STORE(5)
#undef DG_STORE
    if (width < 16)
      for (int r = 0; r < R; ++r)
        for (int j = 0; j < width; ++j) c[r * N_ + j] = edge[r * 16 + j];
#else
    for (int r = 0; r < R; ++r)
      for (int64_t j = 0; j < width; ++j) {
        float sum = c[r * N_ + j];
        for (int64_t k = 0; k < K_; ++k) sum += a[r * K_ + k] * panel[k * 16 + j];
        c[r * N_ + j] = sum;
      }
#endif
  }

  int64_t K_, N_, panels_;
  std::vector<float> data_;
};

// Batch rows are independent, so row blocks run side by side: over the intra-op threads when
// there are several, else (one intra-op thread, what set_cpu_threads() picks on 2 cores) as
// kInterOpBlocks tasks on the inter-op pool, which then splits one long recursion over the
// cores instead of leaving them to the few other operations ready to run.  A block that no pool
// thread has started when this thread finishes its own is run here, so nothing ever waits on a
// busy pool.
constexpr int64_t kInterOpBlocks = 2;

template <typename Work>
void ForRowBlocks(OpKernelContext* ctx, int64_t rows, int64_t cost_per_row, Work work) {
  auto* workers = ctx->device()->tensorflow_cpu_worker_threads();
  if (workers->num_threads > 1) {
    tensorflow::Shard(workers->num_threads, workers->workers, rows, cost_per_row, work);
    return;
  }
  const int64_t blocks = std::min(kInterOpBlocks, rows);
  if (blocks <= 1 || ctx->runner() == nullptr) {
    work(0, rows);
    return;
  }
  // shared with the scheduled tasks, which may start after this function has returned (then
  // they find their block claimed and touch nothing else)
  struct State {
    explicit State(int64_t n) : claimed(n), done(n) {}
    std::vector<std::atomic<bool>> claimed;
    tensorflow::BlockingCounter done;
    std::function<void(int64_t, int64_t)> work;
    int64_t rows = 0, blocks = 0;
    void Run(int64_t b) {
      if (claimed[b].exchange(true)) return;
      work(b * rows / blocks, (b + 1) * rows / blocks);
      done.DecrementCount();
    }
  };
  auto state = std::make_shared<State>(blocks);
  state->work = work;
  state->rows = rows;
  state->blocks = blocks;
  for (int64_t b = 1; b < blocks; ++b) (*ctx->runner())([state, b] { state->Run(b); });
  for (int64_t b = 0; b < blocks; ++b) state->Run(b);
  state->done.Wait();
}

// The common checks of both kernels: shapes [B, 4U] context, [T, B, D] x, [D, 4U] kernel,
// [U, 4U] recurrent kernel, [B, U] h0 and c0.
struct Dims {
  int64_t steps, batch, inputs, units;
};

void CheckShapes(OpKernelContext* ctx, Dims* d) {
  const Tensor& x = ctx->input(1);
  const Tensor& kernel = ctx->input(2);
  const Tensor& recurrent = ctx->input(3);
  const Tensor& h0 = ctx->input(4);
  OP_REQUIRES(ctx, x.dims() == 3, errors::InvalidArgument("x must be [T, B, D]"));
  OP_REQUIRES(ctx, recurrent.dims() == 2 && recurrent.dim_size(1) == 4 * recurrent.dim_size(0),
              errors::InvalidArgument("recurrent_kernel must be [U, 4U]"));
  d->steps = x.dim_size(0);
  d->batch = x.dim_size(1);
  d->inputs = x.dim_size(2);
  d->units = recurrent.dim_size(0);
  const TensorShape state({d->batch, d->units});
  OP_REQUIRES(ctx, kernel.shape() == TensorShape({d->inputs, 4 * d->units}),
              errors::InvalidArgument("kernel must be [D, 4U]"));
  OP_REQUIRES(ctx, ctx->input(0).shape() == TensorShape({d->batch, 4 * d->units}),
              errors::InvalidArgument("context must be [B, 4U]"));
  OP_REQUIRES(ctx, h0.shape() == state && ctx->input(5).shape() == state,
              errors::InvalidArgument("h0 and c0 must be [B, U]"));
}

const float* Data(const Tensor& t) { return t.flat<float>().data(); }
float* Data(Tensor* t) { return t->flat<float>().data(); }

// Both kernels read the forward's six inputs first: Compute checks them, then runs Run.
class LstmSequenceKernel : public OpKernel {
 public:
  explicit LstmSequenceKernel(OpKernelConstruction* c) : OpKernel(c) {}

  void Compute(OpKernelContext* ctx) override {
    Dims d;
    CheckShapes(ctx, &d);
    if (ctx->status().ok()) Run(ctx, d);
  }

 protected:
  virtual void Run(OpKernelContext* ctx, const Dims& d) = 0;
};

// With keep_activations (training) the c and gates outputs hold every step's cell state and
// gate activations, which the gradient reads; without (generation) they are empty, and each
// row block works in a small scratch buffer that stays in cache instead of writing them.
class LstmSequenceOp : public LstmSequenceKernel {
 public:
  explicit LstmSequenceOp(OpKernelConstruction* c) : LstmSequenceKernel(c) {
    OP_REQUIRES_OK(c, c->GetAttr("keep_activations", &keep_activations_));
  }

 protected:
  void Run(OpKernelContext* ctx, const Dims& d) override {
    const int64_t T = d.steps, B = d.batch, D = d.inputs, U = d.units, G = 4 * d.units;
    const int64_t kept = keep_activations_ ? T : 0;
    Tensor *h_out, *c_out, *gates_out;
    OP_REQUIRES_OK(ctx, ctx->allocate_output(0, TensorShape({T, B, U}), &h_out));
    OP_REQUIRES_OK(ctx, ctx->allocate_output(1, TensorShape({kept, B, U}), &c_out));
    OP_REQUIRES_OK(ctx, ctx->allocate_output(2, TensorShape({kept, B, G}), &gates_out));
    const float *context = Data(ctx->input(0)), *x = Data(ctx->input(1));
    const float *h0 = Data(ctx->input(4)), *c0 = Data(ctx->input(5));
    ConstMatrixMap kernel(Data(ctx->input(2)), D, G);
    const PackedRight recurrent(Data(ctx->input(3)), U, G, false);
    float *hs = Data(h_out), *cs = Data(c_out), *gates = Data(gates_out);
    const bool keep = keep_activations_;

    auto block = [&](int64_t first, int64_t last) {
      const int64_t n = last - first;
      // without kept activations: the step's gates, and the cell state of two steps in turn.
      // Aligned as TensorFlow's buffers are: Eigen's elementwise loops start with scalar steps
      // up to the first aligned address, which round differently from its vector steps, so a
      // buffer aligned by chance would make the same seed generate different last digits.
      std::vector<float, Eigen::aligned_allocator<float>> scratch(keep ? 0 : n * (G + 2 * U));
      const float* c_prev = c0 + first * U;
      for (int64_t t = 0; t < T; ++t) {
        float* z_t = keep ? gates + (t * B + first) * G : scratch.data();
        float* c_t = keep ? cs + (t * B + first) * U : scratch.data() + n * (G + (t % 2) * U);
        float* h_t = hs + (t * B + first) * U;
        const float* h_prev = t == 0 ? h0 + first * U : h_t - B * U;
        MatrixMap z(z_t, n, G);
        z = ConstMatrixMap(context + first * G, n, G);
        if (D > 0) z.noalias() += ConstMatrixMap(x + (t * B + first) * D, n, D) * kernel;
        recurrent.MultiplyAdd(h_prev, n, z_t);
        for (int64_t r = 0; r < n; ++r) {
          float* zr = z_t + r * G;
          Array i(zr, U), f(zr + U, U), g(zr + 2 * U, U), o(zr + 3 * U, U);
          i = i.logistic();
          f = f.logistic();
          g = g.tanh();
          o = o.logistic();
          Array c(c_t + r * U, U);
          c = f * ConstArray(c_prev + r * U, U) + i * g;
          Array(h_t + r * U, U) = o * c.tanh();
        }
        c_prev = c_t;
      }
    };
    ForRowBlocks(ctx, B, T * (2 * (D + U) * G + 40 * U), block);
  }

 private:
  bool keep_activations_ = true;
};

class LstmSequenceGradOp : public LstmSequenceKernel {
 public:
  using LstmSequenceKernel::LstmSequenceKernel;

 protected:
  // inputs: context, x, kernel, recurrent_kernel, h0, c0 (as the forward), then its outputs
  // h, c, gates and the gradient dh of the loss with respect to h.  Outputs the gradient dz at
  // the gates' inputs z_t (all steps) and dh0, dc0; the weight and input gradients are large
  // products of dz (dR = sum_t h_{t-1}^T dz_t, ...) that TensorFlow's MatMul does faster than
  // Eigen's GEMM at these shapes, so the caller computes them (fused_lstm.py).
  void Run(OpKernelContext* ctx, const Dims& d) override {
    const int64_t T = d.steps, B = d.batch, U = d.units, G = 4 * d.units;
    const TensorShape seq({T, B, U});
    OP_REQUIRES(ctx, ctx->input(6).shape() == seq && ctx->input(7).shape() == seq &&
                     ctx->input(8).shape() == TensorShape({T, B, G}) &&
                     ctx->input(9).shape() == seq,
                errors::InvalidArgument("h, c, dh must be [T, B, U] and gates [T, B, 4U]"));
    Tensor *dz_out, *dh0, *dc0;
    OP_REQUIRES_OK(ctx, ctx->allocate_output(0, TensorShape({T, B, G}), &dz_out));
    OP_REQUIRES_OK(ctx, ctx->allocate_output(1, TensorShape({B, U}), &dh0));
    OP_REQUIRES_OK(ctx, ctx->allocate_output(2, TensorShape({B, U}), &dc0));
    const float* c0 = Data(ctx->input(5));
    const float* cs = Data(ctx->input(7));
    const float *gates = Data(ctx->input(8)), *dhs = Data(ctx->input(9));
    const PackedRight recurrent_t(Data(ctx->input(3)), G, U, true);  // R^T
    float *dz = Data(dz_out), *dh_first = Data(dh0), *dc_first = Data(dc0);

    // the recursion back through time, per row block: dh and dc carried from step t to t-1
    auto block = [&](int64_t first, int64_t last) {
      const int64_t n = last - first;
      Eigen::ArrayXf tanh_c(U);  // allocated once, not per row and step
      MatrixMap dh(dh_first + first * U, n, U);  // dh0 and dc0 are the carries' final values
      MatrixMap dc(dc_first + first * U, n, U);
      dh.setZero();
      dc.setZero();
      for (int64_t t = T - 1; t >= 0; --t) {
        dh += ConstMatrixMap(dhs + (t * B + first) * U, n, U);
        const float* c_prev = t == 0 ? c0 + first * U : cs + ((t - 1) * B + first) * U;
        MatrixMap dz_t(dz + (t * B + first) * G, n, G);
        for (int64_t r = 0; r < n; ++r) {
          const int64_t row = t * B + first + r;
          const float* gr = gates + row * G;
          ConstArray i(gr, U), f(gr + U, U), g(gr + 2 * U, U), o(gr + 3 * U, U);
          tanh_c = ConstArray(cs + row * U, U).tanh();
          Array dh_r(dh.data() + r * U, U), dc_r(dc.data() + r * U, U);
          dc_r += dh_r * o * (1.f - tanh_c.square());  // dc_r: the loss's gradient at c_t
          float* dzr = dz_t.data() + r * G;
          Array(dzr, U) = dc_r * g * i * (1.f - i);
          Array(dzr + U, U) = dc_r * ConstArray(c_prev + r * U, U) * f * (1.f - f);
          Array(dzr + 2 * U, U) = dc_r * i * (1.f - g.square());
          Array(dzr + 3 * U, U) = dh_r * tanh_c * o * (1.f - o);
          dc_r *= f;
        }
        dh.setZero();
        recurrent_t.MultiplyAdd(dz_t.data(), n, dh.data());
      }
    };
    ForRowBlocks(ctx, B, T * (2 * U * G + 60 * U), block);
  }
};

}  // namespace

REGISTER_OP("DgLstmSequence")
    .Input("context: float")
    .Input("x: float")
    .Input("kernel: float")
    .Input("recurrent_kernel: float")
    .Input("h0: float")
    .Input("c0: float")
    .Output("h: float")
    .Output("c: float")
    .Output("gates: float")
    .Attr("keep_activations: bool = true")
    .SetShapeFn([](shape_inference::InferenceContext* c) {
      bool keep;
      TF_RETURN_IF_ERROR(c->GetAttr("keep_activations", &keep));
      shape_inference::ShapeHandle x, rec;
      TF_RETURN_IF_ERROR(c->WithRank(c->input(1), 3, &x));
      TF_RETURN_IF_ERROR(c->WithRank(c->input(3), 2, &rec));
      shape_inference::DimensionHandle units = c->Dim(rec, 0), gates;
      TF_RETURN_IF_ERROR(c->Multiply(units, 4, &gates));
      c->set_output(0, c->MakeShape({c->Dim(x, 0), c->Dim(x, 1), units}));
      shape_inference::DimensionHandle kept = keep ? c->Dim(x, 0) : c->MakeDim(0);
      c->set_output(1, c->MakeShape({kept, c->Dim(x, 1), units}));
      c->set_output(2, c->MakeShape({kept, c->Dim(x, 1), gates}));
      return tensorflow::OkStatus();
    });

REGISTER_OP("DgLstmSequenceGrad")
    .Input("context: float")
    .Input("x: float")
    .Input("kernel: float")
    .Input("recurrent_kernel: float")
    .Input("h0: float")
    .Input("c0: float")
    .Input("h: float")
    .Input("c: float")
    .Input("gates: float")
    .Input("dh: float")
    .Output("dz: float")
    .Output("dh0: float")
    .Output("dc0: float")
    .SetShapeFn([](shape_inference::InferenceContext* c) {
      c->set_output(0, c->input(8));
      c->set_output(1, c->input(4));
      c->set_output(2, c->input(5));
      return tensorflow::OkStatus();
    });

REGISTER_KERNEL_BUILDER(Name("DgLstmSequence").Device(tensorflow::DEVICE_CPU), LstmSequenceOp);
REGISTER_KERNEL_BUILDER(Name("DgLstmSequenceGrad").Device(tensorflow::DEVICE_CPU),
                        LstmSequenceGradOp);
