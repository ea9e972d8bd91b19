// Losses: softmax cross-entropy from logits (fused, stable) and mean squared error.
#include <cmath>
#include <string>

#include "check.h"
#include "minrnn/minrnn.h"

namespace minrnn {

namespace {
void check_targets(const char* fn, const int64_t* t, int64_t N, int64_t V, int64_t ignore) {
  for (int64_t n = 0; n < N; ++n)
    if (t[n] != ignore && (t[n] < 0 || t[n] >= V))
      throw std::out_of_range(std::string(fn) + ": targets[" + std::to_string(n) + "] = " +
                              std::to_string(t[n]) + " is outside [0, " + std::to_string(V) + ")");
}
}  // namespace

template <class F>
double cross_entropy_forward(const F* logits, const int64_t* targets, F* row_loss, F* row_max,
                             F* log_sum, int64_t N, int64_t V, int64_t ignore_index,
                             int64_t* count) {
  const char* fn = "cross_entropy_forward";
  detail::checked_product(fn, {N, V});
  if (V < 1) throw std::invalid_argument(std::string(fn) + ": needs at least one class");
  check_targets(fn, targets, N, V, ignore_index);
  const int nt = get_num_threads();
#pragma omp parallel for num_threads(nt) schedule(static) if (nt > 1 && N * V > 65536)
  for (int64_t n = 0; n < N; ++n) {
    // log sum exp(x) = m + log sum exp(x - m) with m the row's maximum: nothing overflows,
    // and the loss (m - x_t) + log s never forms m + log s, which rounds when m is large.
    const F* x = logits + n * V;
    F m = x[0];
    for (int64_t v = 1; v < V; ++v) m = x[v] > m ? x[v] : m;
    double s = 0;
    for (int64_t v = 0; v < V; ++v) s += std::exp(x[v] - m);
    const F ls = F(std::log(s));
    row_max[n] = m;
    log_sum[n] = ls;
    row_loss[n] = targets[n] == ignore_index ? F(0) : (m - x[targets[n]]) + ls;
  }
  // Summed in order, in double: the mean does not depend on the thread count.
  double sum = 0;
  int64_t c = 0;
  for (int64_t n = 0; n < N; ++n)
    if (targets[n] != ignore_index) sum += row_loss[n], ++c;
  if (count) *count = c;
  return c ? sum / double(c) : 0.0;
}

template <class F>
void cross_entropy_backward(const F* logits, const int64_t* targets, const F* row_max,
                            const F* log_sum, F* dlogits, int64_t N, int64_t V,
                            int64_t ignore_index, double scale) {
  const char* fn = "cross_entropy_backward";
  detail::checked_product(fn, {N, V});
  check_targets(fn, targets, N, V, ignore_index);
  const F sc = F(scale);
  const int nt = get_num_threads();
#pragma omp parallel for num_threads(nt) schedule(static) if (nt > 1 && N * V > 65536)
  for (int64_t n = 0; n < N; ++n) {
    const F* x = logits + n * V;
    F* d = dlogits + n * V;
    if (targets[n] == ignore_index) {
      for (int64_t v = 0; v < V; ++v) d[v] = F(0);
      continue;
    }
    // d loss / d x_v = softmax(x)_v - [v == target], softmax from the forward's m and log s.
    const F m = row_max[n], ls = log_sum[n];
    for (int64_t v = 0; v < V; ++v) d[v] = sc * std::exp((x[v] - m) - ls);
    d[targets[n]] -= sc;
  }
}

template <class F>
double mse_forward(const F* pred, const F* target, int64_t n) {
  double sum = 0;  // in order, in double, so the result does not depend on threads
  for (int64_t i = 0; i < n; ++i) {
    const double e = double(pred[i]) - double(target[i]);
    sum += e * e;
  }
  return n ? sum / double(n) : 0.0;
}

template <class F>
void mse_backward(const F* pred, const F* target, F* dpred, int64_t n, double scale) {
  const F two_s = F(2 * scale);
  const int nt = get_num_threads();
#pragma omp parallel for num_threads(nt) schedule(static) if (nt > 1 && n > 65536)
  for (int64_t i = 0; i < n; ++i) dpred[i] = two_s * (pred[i] - target[i]);
}

#define MINRNN_INSTANTIATE(F)                                                                  \
  template double cross_entropy_forward<F>(const F*, const int64_t*, F*, F*, F*, int64_t,     \
                                           int64_t, int64_t, int64_t*);                        \
  template void cross_entropy_backward<F>(const F*, const int64_t*, const F*, const F*, F*,    \
                                          int64_t, int64_t, int64_t, double);                  \
  template double mse_forward<F>(const F*, const F*, int64_t);                                 \
  template void mse_backward<F>(const F*, const F*, F*, int64_t, double);
MINRNN_INSTANTIATE(float)
MINRNN_INSTANTIATE(double)

}  // namespace minrnn
