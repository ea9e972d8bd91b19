// C (M, N) = A (M, K) B (K, N) with B packed once and reused by every step of a walk: the
// recurrent product from batch 3 up. A GEMM library packs B = W_hh^T again on every call
// (4 MB per step for an LSTM at H = 512); here it is packed at the start of the walk, and
// each step packs only A (the B rows of h_{t-1}). The micro-kernel keeps a 6 x 16 block of
// C in twelve AVX2 registers (6 broadcasts of A and 2 loads of B per 12 multiply-adds); a
// last block of fewer rows gets a kernel of its own size. At 4 x 768 x 256 this is 2.5x
// faster than the row kernels of gemv.cpp (22 against 56 us), which compute at half speed.
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

// t[:R] = the R x NR block a (k-major, MR per k) times b (k-major, NR per k), over kc. R is
// a constant, so the accumulators live in registers; below 4 rows two sets alternate over
// k, to keep 8 multiply-adds in flight.
template <int R>
MINRNN_INLINE void micro_block(const float* a, const float* b, int64_t kc, float (&t)[MR][NR]) {
#if defined(__AVX2__) && defined(__FMA__)
  constexpr int S = R <= 3 ? 2 : 1;
  __m256 c[S][R][2];
  for (int s = 0; s < S; ++s)
    for (int r = 0; r < R; ++r) c[s][r][0] = c[s][r][1] = _mm256_setzero_ps();
  auto madd = [&](int s, int64_t k) {
    const __m256 b0 = _mm256_loadu_ps(b + k * NR), b1 = _mm256_loadu_ps(b + k * NR + 8);
    for (int r = 0; r < R; ++r) {
      const __m256 av = _mm256_broadcast_ss(a + k * MR + r);
      c[s][r][0] = _mm256_fmadd_ps(av, b0, c[s][r][0]);
      c[s][r][1] = _mm256_fmadd_ps(av, b1, c[s][r][1]);
    }
  };
  int64_t k = 0;
  for (; k + S <= kc; k += S)
    for (int s = 0; s < S; ++s) madd(s, k + s);
  for (; k < kc; ++k) madd(0, k);
  for (int r = 0; r < R; ++r) {
    _mm256_storeu_ps(t[r], S == 2 ? _mm256_add_ps(c[0][r][0], c[S - 1][r][0]) : c[0][r][0]);
    _mm256_storeu_ps(t[r] + 8, S == 2 ? _mm256_add_ps(c[0][r][1], c[S - 1][r][1]) : c[0][r][1]);
  }
#else
  for (int r = 0; r < R; ++r)
    for (int j = 0; j < NR; ++j) t[r][j] = 0.0f;
  for (int64_t k = 0; k < kc; ++k, a += MR, b += NR)
    for (int r = 0; r < R; ++r)
      for (int j = 0; j < NR; ++j) t[r][j] += a[r] * b[j];
#endif
}

MINRNN_INLINE void micro_block(int rows, const float* a, const float* b, int64_t kc, float (&t)[MR][NR]) {
  switch (rows) {
    case 6: return micro_block<6>(a, b, kc, t);
    case 5: return micro_block<5>(a, b, kc, t);
    case 4: return micro_block<4>(a, b, kc, t);
    case 3: return micro_block<3>(a, b, kc, t);
    case 2: return micro_block<2>(a, b, kc, t);
    default: return micro_block<1>(a, b, kc, t);
  }
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
        const int64_t rows = std::min<int64_t>(MR, M - ib * MR);
        float t[MR][NR];
        micro_block(static_cast<int>(rows), Ap + k0 * Mb * MR + ib * kc * MR, b, kc, t);
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
