#include "blas.h"

#include "kernels.h"

#include "minrnn/minrnn.h"

#include <cblas.h>

#include <algorithm>
#include <utility>
#include <limits>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <vector>

namespace minrnn::detail {

static blasint to_blasint(int64_t v, const char* what) {
  if (v < 0 || v > std::numeric_limits<blasint>::max())
    throw std::overflow_error(std::string("minrnn: ") + what + " = " + std::to_string(v) +
                              " does not fit the 32-bit BLAS interface");
  return static_cast<blasint>(v);
}

// C = beta * C, for an empty inner dimension (the BLAS refuses lda = 0).
template <class F>
static void scale(int64_t M, int64_t N, F beta, F* C, int64_t ldc) {
  for (int64_t i = 0; i < M; ++i)
    for (int64_t j = 0; j < N; ++j) C[i * ldc + j] = beta == F(0) ? F(0) : beta * C[i * ldc + j];
}

template <class F>
static void blas_gemv(bool trans, int64_t rows, int64_t cols, F alpha, const F* A, int64_t lda,
                      const F* x, int64_t incx, F beta, F* y, int64_t incy) {
  const auto T = trans ? CblasTrans : CblasNoTrans;
  if constexpr (std::is_same_v<F, float>)
    scipy_cblas_sgemv(CblasRowMajor, T, to_blasint(rows, "M"), to_blasint(cols, "N"), alpha, A,
                      to_blasint(lda, "lda"), x, to_blasint(incx, "incx"), beta, y,
                      to_blasint(incy, "incy"));
  else
    scipy_cblas_dgemv(CblasRowMajor, T, to_blasint(rows, "M"), to_blasint(cols, "N"), alpha, A,
                      to_blasint(lda, "lda"), x, to_blasint(incx, "incx"), beta, y,
                      to_blasint(incy, "incy"));
}


template <class F>
static void blas_gemm(bool ta, bool tb, int64_t M, int64_t N, int64_t K, F alpha, const F* A,
                      int64_t lda, const F* B, int64_t ldb, F beta, F* C, int64_t ldc) {
  // A single row or column is a matrix-vector product: OpenBLAS's gemm would pack the
  // whole other matrix for it (50 us for 256 x 512, against 3 us as a gemv).
  if (M == 1) {  // C (1 x N) = a op(B): with B stored N x K (tb) it is B a, else B^T a
    if (tb && !ta && alpha == F(1) && (beta == F(0) || beta == F(1)) && std::is_same_v<F, float>)
      return kernels<F>().gemv_rows(B, ldb, A, C, N, K, beta == F(1));  // row dot products: ours
    return blas_gemv(!tb, tb ? N : K, tb ? K : N, alpha, B, ldb, A, ta ? lda : 1, beta, C, 1);
  }
  // A few rows against W stored N x K: our row-dot kernel, which streams W once per four
  // rows instead of packing it (2 x 256 @ 256 x 768 took 90 us in OpenBLAS, 4x a gemv).
  if (M <= kRowKernelRows && tb && !ta && alpha == F(1) && (beta == F(0) || beta == F(1)) &&
      std::is_same_v<F, float>)
    return kernels<F>().gemm_rows(B, ldb, A, lda, C, ldc, M, N, K, beta == F(1));
  if (M <= kRowKernelRows && !tb && !ta && alpha == F(1) && (beta == F(0) || beta == F(1)) &&
      std::is_same_v<F, float>)
    return kernels<F>().gemm_rows_untransposed(B, ldb, A, lda, C, ldc, M, N, K, beta == F(1));
  if (N == 1)  // C (M x 1) = op(A) b
    return blas_gemv(ta, ta ? K : M, ta ? M : K, alpha, A, lda, B, tb ? 1 : ldb, beta, C, ldc);
  const auto Ta = ta ? CblasTrans : CblasNoTrans, Tb = tb ? CblasTrans : CblasNoTrans;
  if constexpr (std::is_same_v<F, float>)
    scipy_cblas_sgemm(CblasRowMajor, Ta, Tb, to_blasint(M, "M"), to_blasint(N, "N"),
                      to_blasint(K, "K"), alpha, A, to_blasint(lda, "lda"), B,
                      to_blasint(ldb, "ldb"), beta, C, to_blasint(ldc, "ldc"));
  else
    scipy_cblas_dgemm(CblasRowMajor, Ta, Tb, to_blasint(M, "M"), to_blasint(N, "N"),
                      to_blasint(K, "K"), alpha, A, to_blasint(lda, "lda"), B,
                      to_blasint(ldb, "ldb"), beta, C, to_blasint(ldc, "ldc"));
}

// The BLAS itself runs on one thread; the thread budget is spent here, by OpenMP, on
// slices of C. So minrnn has one pool of threads, never the BLAS's and OpenMP's at once
// (on a 2-core machine two pools that spin-wait stall each other for milliseconds).
template <class F>
void gemm(bool ta, bool tb, int64_t M, int64_t N, int64_t K, F alpha, const F* A, int64_t lda,
          const F* B, int64_t ldb, F beta, F* C, int64_t ldc) {
  if (M == 0 || N == 0) return;
  if (K == 0) return scale(M, N, beta, C, ldc);
  // Refuse sizes the 32-bit BLAS cannot take here, not inside the threads below (an
  // exception must not leave an OpenMP region).
  for (auto [v, what] : {std::pair<int64_t, const char*>{M, "M"}, {N, "N"}, {K, "K"},
                         {lda, "lda"}, {ldb, "ldb"}, {ldc, "ldc"}})
    to_blasint(v, what);
  const int nt = get_num_threads();
  const bool split_rows = M >= N;
  const int64_t extent = split_rows ? M : N;
  // Slices of at least 32 rows/columns and about a million multiply-adds each.
  int64_t parts = std::min<int64_t>({nt, extent / 32, (M * N * K) / (1 << 20)});
  if (parts <= 1) return blas_gemm(ta, tb, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
#pragma omp parallel for num_threads(static_cast<int>(parts)) schedule(static)
  for (int64_t p = 0; p < parts; ++p) {
    const int64_t lo = (extent * p / parts) & ~int64_t(7), hi = p + 1 == parts ? extent : (extent * (p + 1) / parts) & ~int64_t(7);
    if (hi <= lo) continue;
    if (split_rows)  // rows of op(A) and C
      blas_gemm(ta, tb, hi - lo, N, K, alpha, ta ? A + lo : A + lo * lda, lda, B, ldb, beta,
                C + lo * ldc, ldc);
    else  // columns of op(B) and C
      blas_gemm(ta, tb, M, hi - lo, K, alpha, A, lda, tb ? B + lo * ldb : B + lo, ldb, beta,
                C + lo, ldc);
  }
}
template <class F>
void gemm_single(bool ta, bool tb, int64_t M, int64_t N, int64_t K, F alpha, const F* A,
                 int64_t lda, const F* B, int64_t ldb, F beta, F* C, int64_t ldc) {
  if (M == 0 || N == 0) return;
  if (K == 0) return scale(M, N, beta, C, ldc);
  blas_gemm(ta, tb, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
}
template void gemm_single<float>(bool, bool, int64_t, int64_t, int64_t, float, const float*,
                                 int64_t, const float*, int64_t, float, float*, int64_t);
template void gemm_single<double>(bool, bool, int64_t, int64_t, int64_t, double, const double*,
                                  int64_t, const double*, int64_t, double, double*, int64_t);

template void gemm<float>(bool, bool, int64_t, int64_t, int64_t, float, const float*, int64_t,
                          const float*, int64_t, float, float*, int64_t);
template void gemm<double>(bool, bool, int64_t, int64_t, int64_t, double, const double*, int64_t,
                           const double*, int64_t, double, double*, int64_t);

// Column sums as A^T * ones: one pass over A inside the BLAS, threaded by it.
template <class F>
void column_sums(const F* A, int64_t M, int64_t N, F* y) {
  for (int64_t j = 0; j < N; ++j) y[j] = F(0);
  if (M == 0 || N == 0) return;
  std::vector<F> ones(static_cast<size_t>(M), F(1));
  if constexpr (std::is_same_v<F, float>)
    scipy_cblas_sgemv(CblasRowMajor, CblasTrans, to_blasint(M, "M"), to_blasint(N, "N"), 1.0f, A,
                      to_blasint(N, "N"), ones.data(), 1, 0.0f, y, 1);
  else
    scipy_cblas_dgemv(CblasRowMajor, CblasTrans, to_blasint(M, "M"), to_blasint(N, "N"), 1.0, A,
                      to_blasint(N, "N"), ones.data(), 1, 0.0, y, 1);
}
template void column_sums<float>(const float*, int64_t, int64_t, float*);
template void column_sums<double>(const double*, int64_t, int64_t, double*);


void blas_single_threaded() { scipy_openblas_set_num_threads(1); }

}  // namespace minrnn::detail
