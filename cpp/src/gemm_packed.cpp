// C (M, N) = A (M, K) B (K, N) with B packed once and reused by every step of a walk: the
// recurrent product at batch 9 and up. A GEMM library packs B = W_hh^T again on every call
// (4 MB per step for an LSTM at H = 512); here it is packed at the start of the walk, and
// each step packs only A (the B rows of h_{t-1}). The micro-kernel keeps a 6 x 16 block of
// C in twelve AVX2 registers (6 broadcasts of A and 2 loads of B per 12 multiply-adds).
// Compiled per instruction set (isa.h); the baseline build runs the same blocking in plain
// loops.
#include <algorithm>
#include <cstdint>

#include "isa.h"
#include "kernels.h"
#if defined(__AVX2__) && defined(__FMA__)
#include <immintrin.h>
#endif

namespace minrnn::MINRNN_ISA {

namespace {
using detail::kPanelCols;
using detail::kPanelDepth;
using detail::kPanelRows;
constexpr int MR = static_cast<int>(kPanelRows), NR = static_cast<int>(kPanelCols);

// t = the MR x NR block a (k-major, MR per k) times b (k-major, NR per k), over kc.
MINRNN_INLINE void micro_block(const float* a, const float* b, int64_t kc, float (&t)[MR][NR]) {
#if defined(__AVX2__) && defined(__FMA__)
  // Twelve named accumulators: GCC keeps an array of them in memory, at half the speed.
  __m256 c00 = _mm256_setzero_ps(), c01 = c00, c10 = c00, c11 = c00, c20 = c00, c21 = c00,
         c30 = c00, c31 = c00, c40 = c00, c41 = c00, c50 = c00, c51 = c00;
  for (int64_t k = 0; k < kc; ++k, a += MR, b += NR) {
    const __m256 b0 = _mm256_loadu_ps(b), b1 = _mm256_loadu_ps(b + 8);
    __m256 av = _mm256_broadcast_ss(a);
    c00 = _mm256_fmadd_ps(av, b0, c00), c01 = _mm256_fmadd_ps(av, b1, c01);
    av = _mm256_broadcast_ss(a + 1);
    c10 = _mm256_fmadd_ps(av, b0, c10), c11 = _mm256_fmadd_ps(av, b1, c11);
    av = _mm256_broadcast_ss(a + 2);
    c20 = _mm256_fmadd_ps(av, b0, c20), c21 = _mm256_fmadd_ps(av, b1, c21);
    av = _mm256_broadcast_ss(a + 3);
    c30 = _mm256_fmadd_ps(av, b0, c30), c31 = _mm256_fmadd_ps(av, b1, c31);
    av = _mm256_broadcast_ss(a + 4);
    c40 = _mm256_fmadd_ps(av, b0, c40), c41 = _mm256_fmadd_ps(av, b1, c41);
    av = _mm256_broadcast_ss(a + 5);
    c50 = _mm256_fmadd_ps(av, b0, c50), c51 = _mm256_fmadd_ps(av, b1, c51);
  }
  _mm256_storeu_ps(t[0], c00), _mm256_storeu_ps(t[0] + 8, c01);
  _mm256_storeu_ps(t[1], c10), _mm256_storeu_ps(t[1] + 8, c11);
  _mm256_storeu_ps(t[2], c20), _mm256_storeu_ps(t[2] + 8, c21);
  _mm256_storeu_ps(t[3], c30), _mm256_storeu_ps(t[3] + 8, c31);
  _mm256_storeu_ps(t[4], c40), _mm256_storeu_ps(t[4] + 8, c41);
  _mm256_storeu_ps(t[5], c50), _mm256_storeu_ps(t[5] + 8, c51);
#else
  for (int r = 0; r < MR; ++r)
    for (int j = 0; j < NR; ++j) t[r][j] = 0.0f;
  for (int64_t k = 0; k < kc; ++k, a += MR, b += NR)
    for (int r = 0; r < MR; ++r)
      for (int j = 0; j < NR; ++j) t[r][j] += a[r] * b[j];
#endif
}
}  // namespace

void pack_weights(const float* W, int64_t ldw, int64_t N, int64_t K, bool transposed, float* Wp) {
  using F = float;
  // Panel p holds columns [NR p, NR p + NR) of B, k-major; columns past N are zero.
  for (int64_t p = 0; p * NR < N; ++p) {
    F* panel = Wp + p * K * NR;
    const int64_t cols = std::min<int64_t>(NR, N - p * NR);
    for (int64_t k = 0; k < K; ++k) {
      F* row = panel + k * NR;
      for (int64_t j = 0; j < cols; ++j)  // B[k][n] = W[n][k] (B = W^T) or W[k][n]
        row[j] = transposed ? W[(p * NR + j) * ldw + k] : W[k * ldw + p * NR + j];
      for (int64_t j = cols; j < NR; ++j) row[j] = F(0);
    }
  }
}

void pack_rows(const float* A, int64_t lda, int64_t M, int64_t K, float* Ap) {
  using F = float;
  // Depth blocks of kPanelDepth; in each, blocks of MR rows, k-major; rows past M are zero.
  const int64_t Mb = (M + MR - 1) / MR;
  for (int64_t k0 = 0; k0 < K; k0 += kPanelDepth) {
    const int64_t kc = std::min<int64_t>(kPanelDepth, K - k0);
    for (int64_t ib = 0; ib < Mb; ++ib) {
      F* blk = Ap + k0 * Mb * MR + ib * kc * MR;
      const int64_t rows = std::min<int64_t>(MR, M - ib * MR);
      for (int64_t r = 0; r < rows; ++r) {
        const F* a = A + (ib * MR + r) * lda + k0;
        for (int64_t k = 0; k < kc; ++k) blk[k * MR + r] = a[k];
      }
      for (int64_t r = rows; r < MR; ++r)
        for (int64_t k = 0; k < kc; ++k) blk[k * MR + r] = F(0);
    }
  }
}

void gemm_packed(const float* Ap, const float* Wp, float* C, int64_t ldc, int64_t M, int64_t N,
                 int64_t K, bool accumulate) {
  using F = float;
  const int64_t Mb = (M + MR - 1) / MR, P = (N + NR - 1) / NR;
  if (K == 0 && !accumulate)
    for (int64_t m = 0; m < M; ++m) std::fill(C + m * ldc, C + m * ldc + N, F(0));
  // A depth block of one panel of B (16 KB) stays in L1 while every row block passes it.
  for (int64_t k0 = 0; k0 < K; k0 += kPanelDepth) {
    const int64_t kc = std::min<int64_t>(kPanelDepth, K - k0);
    const bool add = accumulate || k0 > 0;
    for (int64_t p = 0; p < P; ++p) {
      const F* b = Wp + (p * K + k0) * NR;
      const int64_t cols = std::min<int64_t>(NR, N - p * NR);
      for (int64_t ib = 0; ib < Mb; ++ib) {
        float t[MR][NR];
        micro_block(Ap + k0 * Mb * MR + ib * kc * MR, b, kc, t);
        const int64_t rows = std::min<int64_t>(MR, M - ib * MR);
        for (int64_t r = 0; r < rows; ++r) {
          F* c = C + (ib * MR + r) * ldc + p * NR;
          if (cols == NR)  // (a constant trip count: one vector loop)
            for (int j = 0; j < NR; ++j) c[j] = add ? c[j] + t[r][j] : t[r][j];
          else
            for (int64_t j = 0; j < cols; ++j) c[j] = add ? c[j] + t[r][j] : t[r][j];
        }
      }
    }
  }
}

}  // namespace minrnn::MINRNN_ISA
