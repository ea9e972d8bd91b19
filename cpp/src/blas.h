// The one BLAS (scipy-openblas32: cblas with scipy_-prefixed symbols), float and double.
#pragma once
#include <cstdint>

namespace minrnn::detail {

// Row-major C = alpha * op(A) op(B) + beta * C, op = transpose when the flag is set.
// Threaded over slices of C with minrnn's thread budget (the BLAS runs single-threaded).
template <class F>
void gemm(bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K, F alpha,
          const F* A, int64_t lda, const F* B, int64_t ldb, F beta, F* C, int64_t ldc);

// The same on the calling thread only (inside a kernel's own parallel region).
template <class F>
void gemm_single(bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K, F alpha,
                 const F* A, int64_t lda, const F* B, int64_t ldb, F beta, F* C, int64_t ldc);

// Up to this many rows, products with a weight go to minrnn's row kernels (gemv.cpp), which
// stream the weight once per four rows, instead of the BLAS, which packs all of it per call.
constexpr int64_t kRowKernelRows = 8;

// y = sum over the M rows of A (M, N) row-major: the bias gradient.
template <class F>
void column_sums(const F* A, int64_t M, int64_t N, F* y);

// The BLAS keeps one thread: minrnn threads its calls itself (gemm above).
void blas_single_threaded();

}  // namespace minrnn::detail
