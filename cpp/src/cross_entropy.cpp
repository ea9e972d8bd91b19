// Softmax cross-entropy over rows of logits, forward and backward: the row loops (the
// entry points in loss.cpp check, thread and sum). Compiled once per instruction set
// (isa.h): float exponentials are exp_approx, double calls libm.
#include "activations.h"
#include "kernels.h"

namespace minrnn::MINRNN_ISA {
namespace {

MINRNN_INLINE float exp_(float x) { return exp_approx(x); }
MINRNN_INLINE double exp_(double x) { return std::exp(x); }

constexpr int kLanes = 8;  // independent accumulators, so the reductions vectorise

// max of a row; NaN entries are skipped here and propagate through the exponentials.
template <class F>
MINRNN_INLINE F row_max(const F* __restrict x, int64_t V) {
  F m[kLanes];
  for (int j = 0; j < kLanes; ++j) m[j] = x[0];
  int64_t v = 0;
  for (; v + kLanes <= V; v += kLanes)
    for (int j = 0; j < kLanes; ++j) m[j] = x[v + j] > m[j] ? x[v + j] : m[j];
  F r = m[0];
  for (int j = 1; j < kLanes; ++j) r = m[j] > r ? m[j] : r;
  for (; v < V; ++v) r = x[v] > r ? x[v] : r;
  return r;
}

// sum_v exp(x_v - m), accumulated in double; with e non-null the terms are stored there.
template <class F>
MINRNN_INLINE double row_exp_sum(const F* __restrict x, F m, int64_t V, F* __restrict e) {
  double acc[kLanes] = {};
  int64_t v = 0;
  for (; v + kLanes <= V; v += kLanes)
    for (int j = 0; j < kLanes; ++j) {
      const F t = exp_(x[v + j] - m);
      if (e) e[v + j] = t;
      acc[j] += double(t);
    }
  for (; v < V; ++v) {
    const F t = exp_(x[v] - m);
    if (e) e[v] = t;
    acc[0] += double(t);
  }
  double s = 0;
  for (int j = 0; j < kLanes; ++j) s += acc[j];
  return s;
}

}  // namespace

template <class F>
void cross_entropy_forward_rows(const F* logits, const int64_t* targets, F* row_loss,
                                F* row_max_out, F* log_sum, F* dlogits, F scale, int64_t n0,
                                int64_t n1, int64_t V, int64_t ignore) {
  FlushDenormals ftz;
  for (int64_t n = n0; n < n1; ++n) {
    // loss = (m - x_t) + log sum exp(x - m), m the row maximum: nothing overflows, and
    // m + log s (which rounds when m is large) is never formed.
    const F* x = logits + n * V;
    const bool counted = targets[n] != ignore;
    F* d = dlogits && counted ? dlogits + n * V : nullptr;
    const F m = row_max(x, V);
    const double s = d ? row_exp_sum(x, m, V, d) : row_exp_sum<F>(x, m, V, nullptr);
    const F ls = F(std::log(s));
    if (row_max_out) row_max_out[n] = m;
    if (log_sum) log_sum[n] = ls;
    row_loss[n] = counted ? (m - x[targets[n]]) + ls : F(0);
    if (dlogits && !counted) {
      F* z = dlogits + n * V;
      for (int64_t v = 0; v < V; ++v) z[v] = F(0);
    } else if (d) {
      // d loss / d x_v = scale * (softmax(x)_v - [v == target])
      const F k = F(double(scale) / s);
      for (int64_t v = 0; v < V; ++v) d[v] *= k;
      d[targets[n]] -= scale;
    }
  }
}

template <class F>
void cross_entropy_backward_rows(const F* logits, const int64_t* targets, const F* row_max_in,
                                 const F* log_sum, F* dlogits, F scale, int64_t n0, int64_t n1,
                                 int64_t V, int64_t ignore) {
  FlushDenormals ftz;
  for (int64_t n = n0; n < n1; ++n) {
    const F* __restrict x = logits + n * V;
    F* __restrict d = dlogits + n * V;
    if (targets[n] == ignore) {
      for (int64_t v = 0; v < V; ++v) d[v] = F(0);
      continue;
    }
    const F m = row_max_in[n], ls = log_sum[n];
    for (int64_t v = 0; v < V; ++v) d[v] = scale * exp_((x[v] - m) - ls);
    d[targets[n]] -= scale;
  }
}

#define MINRNN_INSTANTIATE(F)                                                                \
  template void cross_entropy_forward_rows<F>(const F*, const int64_t*, F*, F*, F*, F*, F,    \
                                              int64_t, int64_t, int64_t, int64_t);            \
  template void cross_entropy_backward_rows<F>(const F*, const int64_t*, const F*, const F*, \
                                               F*, F, int64_t, int64_t, int64_t, int64_t);
MINRNN_INSTANTIATE(float)
MINRNN_INSTANTIATE(double)
#undef MINRNN_INSTANTIATE

}  // namespace minrnn::MINRNN_ISA
