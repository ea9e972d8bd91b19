// Linear (dense) layer y = x w^T + b over rows of x: one GEMM each way.
#include "minrnn/minrnn.h"

#include "blas.h"
#include "check.h"
#include "parallel.h"

namespace minrnn {

template <class F>
void linear_forward(const F* x, const F* w, const F* bias, F* y, int64_t M, int64_t K, int64_t N) {
  const char* fn = "linear_forward";
  detail::checked_product(fn, {M, K});
  detail::checked_product(fn, {M, N});
  detail::checked_product(fn, {N, K});
  detail::check_ptr(fn, "x", x, M * K);
  detail::check_ptr(fn, "w", w, N * K);
  detail::check_ptr(fn, "y", y, M * N);
  // Seed y with the bias so that the GEMM adds onto it (beta = 1). Threaded like the GEMM's
  // rows: on one thread this copy was a quarter of a two-thread (2048 x 64) x (64 x 768).
  if (bias) {
    const int nt = get_num_threads();
    detail::run_threads(M * N >= (1 << 16), nt, [&] {
#pragma omp for schedule(static)
      for (int64_t i = 0; i < M; ++i)
        for (int64_t j = 0; j < N; ++j) y[i * N + j] = bias[j];
    });
  }
  detail::gemm<F>(false, true, M, N, K, F(1), x, K, w, K, bias ? F(1) : F(0), y, N);
}

template <class F>
void linear_backward(const F* x, const F* w, const F* dy, F* dx, F* dw, F* dbias, int64_t M,
                     int64_t K, int64_t N) {
  const char* fn = "linear_backward";
  const int64_t MK = detail::checked_product(fn, {M, K}), MN = detail::checked_product(fn, {M, N}),
                NK = detail::checked_product(fn, {N, K});
  // each output needs only its own inputs: dx = dy w, dw = dy^T x, dbias = sums of dy
  if (dx || dw || dbias) detail::check_ptr(fn, "dy", dy, MN);
  if (dx) detail::check_ptr(fn, "w", w, NK);
  if (dw) detail::check_ptr(fn, "x", x, MK);
  if (dx) detail::gemm<F>(false, false, M, K, N, F(1), dy, N, w, K, F(0), dx, K);
  if (dw) detail::gemm<F>(true, false, N, K, M, F(1), dy, N, x, K, F(0), dw, K);
  if (dbias) detail::column_sums<F>(dy, M, N, dbias);
}

template void linear_forward<float>(const float*, const float*, const float*, float*, int64_t,
                                    int64_t, int64_t);
template void linear_forward<double>(const double*, const double*, const double*, double*,
                                     int64_t, int64_t, int64_t);
template void linear_backward<float>(const float*, const float*, const float*, float*, float*,
                                     float*, int64_t, int64_t, int64_t);
template void linear_backward<double>(const double*, const double*, const double*, double*,
                                      double*, double*, int64_t, int64_t, int64_t);

}  // namespace minrnn
