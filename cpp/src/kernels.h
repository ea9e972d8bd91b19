// The per-instruction-set kernel entry points and the table that picks one set at run time.
// A "pass" is the elementwise, recurrent part of a layer (the GEMMs stay in the drivers).
// `parallel` selects the chunked scan; `work` is a workspace of scan_workspace() elements.
#pragma once
#include <cstdint>

#include "minrnn/minrnn.h"
#include "recurrent.h"

#define MINRNN_DECLARE_KERNELS(ns)                                                              \
  namespace minrnn::ns {                                                                        \
  template <class F>                                                                            \
  void scan_forward_pass(const F* a, const F* b, const F* h0, F* h, int64_t B, int64_t T,       \
                         int64_t C, bool parallel, int nt, F* work);                            \
  template <class F>                                                                            \
  void scan_backward_pass(const F* a, const F* h0, const F* h, const F* dh, const F* zeros,     \
                          F* da, F* db, F* dh0, F* g0, int64_t B, int64_t T, int64_t C,         \
                          bool parallel, int nt, F* work);                                      \
  template <class F>                                                                            \
  void mingru_forward_pass(const F* proj, const F* bias, const F* h0, F* y, int64_t B,          \
                           int64_t T, int64_t H, Candidate cand, bool parallel, int nt, F* work); \
  template <class F>                                                                            \
  void mingru_backward_pass(const F* proj, const F* bias, const F* h0, const F* y, const F* dy, \
                            const F* dhn, const F* zeros, F* dproj, F* dh0, F* g0, int64_t B,   \
                            int64_t T, int64_t H, Candidate cand, bool parallel, int nt,        \
                            F* work);                                                           \
  template <class F>                                                                            \
  void minlstm_forward_pass(const F* proj, const F* bias, const F* h0, F* y, int64_t B,         \
                            int64_t T, int64_t H, Candidate cand, bool parallel, int nt,        \
                            F* work);                                                           \
  template <class F>                                                                            \
  void minlstm_backward_pass(const F* proj, const F* bias, const F* h0, const F* y,             \
                             const F* dy, const F* dhn, const F* zeros, F* dproj, F* dh0,       \
                             F* g0, int64_t B, int64_t T, int64_t H, Candidate cand,            \
                             bool parallel, int nt, F* work);                                   \
  /* classic cells, one step: stage 0 = the whole step, or the gates (two-stage cells);  */   \
  /* stage 1 = the second stage of GRU (reset before) and MGU                           */   \
  template <class F>                                                                            \
  void classic_step_forward(Cell cell, int stage, const detail::StepForward<F>& s);           \
  template <class F>                                                                            \
  void classic_step_backward(Cell cell, int stage, const detail::StepBackward<F>& s);         \
  /* y = W x (or y += W x), W row-major (N, K) with row stride ldw */                         \
  template <class F>                                                                            \
  void gemv_rows(const F* W, int64_t ldw, const F* x, F* y, int64_t N, int64_t K,              \
                 bool accumulate);                                                              \
  /* Y = X W^T (or Y += X W^T) for a few rows of X (M, K); W row-major (N, K) */             \
  template <class F>                                                                            \
  void gemm_rows(const F* W, int64_t ldw, const F* X, int64_t ldx, F* Y, int64_t ldy,          \
                 int64_t M, int64_t N, int64_t K, bool accumulate);                             \
  /* Y = X W (or Y += X W) for a few rows of X (M, K); W row-major (K, N) */                   \
  template <class F>                                                                            \
  void gemm_rows_untransposed(const F* W, int64_t ldw, const F* X, int64_t ldx, F* Y,          \
                              int64_t ldy, int64_t M, int64_t N, int64_t K, bool accumulate);   \
  /* float32 C (M, N) (+)= A B with B packed once (gemm_packed.cpp): B = W^T for W (N, K) */ \
  /* (transposed) or W (K, N); A packed per product. Sizes: packed_*_size below.        */ \
  void pack_weights(const float* W, int64_t ldw, int64_t N, int64_t K, bool transposed,        \
                    float* Wp);                                                                 \
  void pack_rows(const float* A, int64_t lda, int64_t M, int64_t K, float* Ap);                \
  void gemm_packed(const float* Ap, const float* Wp, float* C, int64_t ldc, int64_t M,          \
                   int64_t N, int64_t K, bool accumulate);                                      \
  /* softmax cross-entropy over rows [n0, n1) of (N, V) logits (cross_entropy.cpp) */                  \
  template <class F>                                                                            \
  void cross_entropy_forward_rows(const F* logits, const int64_t* targets, F* row_loss,         \
                                  F* row_max, F* log_sum, F* dlogits, F scale, int64_t n0,      \
                                  int64_t n1, int64_t V, int64_t ignore);                       \
  template <class F>                                                                            \
  void cross_entropy_backward_rows(const F* logits, const int64_t* targets, const F* row_max,   \
                                   const F* log_sum, F* dlogits, F scale, int64_t n0,           \
                                   int64_t n1, int64_t V, int64_t ignore);                      \
  }

MINRNN_DECLARE_KERNELS(isa_base)

namespace minrnn::detail {

// Chunks of time the parallel scan cuts each block into: m per thread, and m = 8 when
// channels are few, so that 8 independent chains hide the multiply-add latency.
// static: each translation unit keeps its own copy (see isa.h).
static constexpr int64_t kChains = 8;
static inline int64_t scan_chunks(int64_t C, int nt) { return (C < 16 ? kChains : 1) * nt; }
// Elements of workspace the parallel scan needs (the sequential scan needs none).
static inline int64_t scan_workspace(int64_t C, int nt) { return 2 * scan_chunks(C, nt) * C + C; }

// The packed product's blocks: 6 rows of A by 16 columns of C per micro-kernel, 256 deep.
static constexpr int64_t kPanelRows = 6, kPanelCols = 16, kPanelDepth = 256;
// Elements of a packed B (K, N) and of a packed A (M, K).
static inline int64_t packed_weights_size(int64_t N, int64_t K) {
  return (N + kPanelCols - 1) / kPanelCols * kPanelCols * K;
}
static inline int64_t packed_rows_size(int64_t M, int64_t K) {
  return (M + kPanelRows - 1) / kPanelRows * kPanelRows * K;
}

template <class F>
struct Kernels {
  decltype(&isa_base::scan_forward_pass<F>) scan_forward;
  decltype(&isa_base::scan_backward_pass<F>) scan_backward;
  decltype(&isa_base::mingru_forward_pass<F>) mingru_forward;
  decltype(&isa_base::mingru_backward_pass<F>) mingru_backward;
  decltype(&isa_base::minlstm_forward_pass<F>) minlstm_forward;
  decltype(&isa_base::minlstm_backward_pass<F>) minlstm_backward;
  decltype(&isa_base::classic_step_forward<F>) step_forward;
  decltype(&isa_base::classic_step_backward<F>) step_backward;
  decltype(&isa_base::gemv_rows<F>) gemv_rows;
  decltype(&isa_base::gemm_rows<F>) gemm_rows;
  decltype(&isa_base::gemm_rows_untransposed<F>) gemm_rows_untransposed;
  decltype(&isa_base::pack_weights) pack_weights;
  decltype(&isa_base::pack_rows) pack_rows;
  decltype(&isa_base::gemm_packed) gemm_packed;
  decltype(&isa_base::cross_entropy_forward_rows<F>) cross_entropy_forward;
  decltype(&isa_base::cross_entropy_backward_rows<F>) cross_entropy_backward;
};

// The table for the instruction set chosen at first use (dispatch.cpp).
template <class F>
const Kernels<F>& kernels();

}  // namespace minrnn::detail
