// Losses: softmax cross-entropy from logits and mean squared error. Entry points: check,
// split rows over threads, sum in a fixed order; the cross-entropy rows are per
// instruction set (cross_entropy.cpp).
#include <string>
#include <tuple>

#include "check.h"
#include "kernels.h"
#include "parallel.h"
#include "minrnn/minrnn.h"
#ifdef _OPENMP
#include <omp.h>
#endif

namespace minrnn {

namespace {
int64_t count_targets(const char* fn, const int64_t* t, int64_t N, int64_t V, int64_t ignore) {
  int64_t c = 0;
  for (int64_t n = 0; n < N; ++n) {
    if (t[n] == ignore) continue;
    if (t[n] < 0 || t[n] >= V)
      throw std::out_of_range(std::string(fn) + ": targets[" + std::to_string(n) + "] = " +
                              std::to_string(t[n]) + " is outside [0, " + std::to_string(V) + ")");
    ++c;
  }
  return c;
}

// Rows [n0, n1) of thread t of p; small problems stay on one thread.
template <class Fn>
void over_rows(int64_t N, int64_t V, Fn&& fn) {
  detail::run_threads(N * V > 32768, get_num_threads(), [&] {
#ifdef _OPENMP
    const int t = omp_get_thread_num(), p = omp_get_num_threads();
#else
    const int t = 0, p = 1;
#endif
    fn(N * t / p, N * (t + 1) / p);
  });
}
}  // namespace

template <class F>
double cross_entropy_forward(const F* logits, const int64_t* targets, F* row_loss, F* row_max,
                             F* log_sum, F* dlogits, int64_t N, int64_t V, int64_t ignore_index,
                             int64_t* count) {
  const char* fn = "cross_entropy_forward";
  const int64_t n = detail::checked_product(fn, {N, V});
  if (V < 1) throw std::invalid_argument(std::string(fn) + ": V must be >= 1, got " + std::to_string(V));
  detail::check_ptr(fn, "logits", logits, n);
  detail::check_ptr(fn, "targets", targets, N);
  detail::check_ptr(fn, "row_loss", row_loss, N);
  const int64_t c = count_targets(fn, targets, N, V, ignore_index);
  const F scale = c ? F(1.0 / double(c)) : F(0);
  const auto& k = detail::kernels<F>();
  over_rows(N, V, [&](int64_t n0, int64_t n1) {
    k.cross_entropy_forward(logits, targets, row_loss, row_max, log_sum, dlogits, scale, n0, n1,
                            V, ignore_index);
  });
  // Summed in order, in double: the mean does not depend on the thread count.
  double sum = 0;
  for (int64_t n = 0; n < N; ++n)
    if (targets[n] != ignore_index) sum += row_loss[n];
  if (count) *count = c;
  return c ? sum / double(c) : 0.0;
}

template <class F>
void cross_entropy_backward(const F* logits, const int64_t* targets, const F* row_max,
                            const F* log_sum, F* dlogits, int64_t N, int64_t V,
                            int64_t ignore_index, double scale) {
  const char* fn = "cross_entropy_backward";
  const int64_t n = detail::checked_product(fn, {N, V});
  for (auto [name, p, count] : {std::tuple<const char*, const void*, int64_t>{"logits", logits, n},
                                {"targets", targets, N}, {"row_max", row_max, N},
                                {"log_sum", log_sum, N}, {"dlogits", dlogits, n}})
    detail::check_ptr(fn, name, p, count);
  count_targets(fn, targets, N, V, ignore_index);
  const auto& k = detail::kernels<F>();
  over_rows(N, V, [&](int64_t n0, int64_t n1) {
    k.cross_entropy_backward(logits, targets, row_max, log_sum, dlogits, F(scale), n0, n1, V,
                             ignore_index);
  });
}

template <class F>
double mse_forward(const F* pred, const F* target, int64_t n) {
  const char* fn = "mse_forward";
  detail::checked_product(fn, {n});
  detail::check_ptr(fn, "pred", pred, n);
  detail::check_ptr(fn, "target", target, n);
  double sum = 0;  // in order, in double, so the result does not depend on threads
  for (int64_t i = 0; i < n; ++i) {
    const double e = double(pred[i]) - double(target[i]);
    sum += e * e;
  }
  return n ? sum / double(n) : 0.0;
}

template <class F>
void mse_backward(const F* pred, const F* target, F* dpred, int64_t n, double scale) {
  const char* fn = "mse_backward";
  detail::checked_product(fn, {n});
  detail::check_ptr(fn, "pred", pred, n);
  detail::check_ptr(fn, "target", target, n);
  detail::check_ptr(fn, "dpred", dpred, n);
  const F two_s = F(2 * scale);
  const int nt = get_num_threads();
  detail::run_threads(n > 65536, nt, [&] {
#pragma omp for schedule(static)
    for (int64_t i = 0; i < n; ++i) dpred[i] = two_s * (pred[i] - target[i]);
  });
}

#define MINRNN_INSTANTIATE(F)                                                                  \
  template double cross_entropy_forward<F>(const F*, const int64_t*, F*, F*, F*, F*, int64_t, \
                                           int64_t, int64_t, int64_t*);                        \
  template void cross_entropy_backward<F>(const F*, const int64_t*, const F*, const F*, F*,    \
                                          int64_t, int64_t, int64_t, double);                  \
  template double mse_forward<F>(const F*, const F*, int64_t);                                 \
  template void mse_backward<F>(const F*, const F*, F*, int64_t, double);
MINRNN_INSTANTIATE(float)
MINRNN_INSTANTIATE(double)

}  // namespace minrnn
