#include "blas.h"

#include <cblas.h>

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

template <>
void gemm<float>(bool ta, bool tb, int64_t M, int64_t N, int64_t K, float alpha,
                 const float* A, int64_t lda, const float* B, int64_t ldb, float beta,
                 float* C, int64_t ldc) {
  if (M == 0 || N == 0) return;
  if (K == 0) return scale(M, N, beta, C, ldc);
  scipy_cblas_sgemm(CblasRowMajor, ta ? CblasTrans : CblasNoTrans, tb ? CblasTrans : CblasNoTrans,
                    to_blasint(M, "M"), to_blasint(N, "N"), to_blasint(K, "K"), alpha, A,
                    to_blasint(lda, "lda"), B, to_blasint(ldb, "ldb"), beta, C,
                    to_blasint(ldc, "ldc"));
}

template <>
void gemm<double>(bool ta, bool tb, int64_t M, int64_t N, int64_t K, double alpha,
                  const double* A, int64_t lda, const double* B, int64_t ldb, double beta,
                  double* C, int64_t ldc) {
  if (M == 0 || N == 0) return;
  if (K == 0) return scale(M, N, beta, C, ldc);
  scipy_cblas_dgemm(CblasRowMajor, ta ? CblasTrans : CblasNoTrans, tb ? CblasTrans : CblasNoTrans,
                    to_blasint(M, "M"), to_blasint(N, "N"), to_blasint(K, "K"), alpha, A,
                    to_blasint(lda, "lda"), B, to_blasint(ldb, "ldb"), beta, C,
                    to_blasint(ldc, "ldc"));
}

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

void blas_set_num_threads(int n) { scipy_openblas_set_num_threads(n); }

}  // namespace minrnn::detail
