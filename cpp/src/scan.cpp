// The linear scan h_t = a_t h_{t-1} + b_t, forward and backward (DESIGN.md §4).
// Compiled once per instruction set (isa.h).
#include "scan_engine.h"

namespace minrnn::MINRNN_ISA {
namespace {

template <class F>
struct ScanForwardOp {
  const F *a, *b;
  F* h;
  int64_t T, C;
  struct Row {
    const F *__restrict a, *__restrict b;
    F* __restrict h;
    MINRNN_INLINE void coef(int64_t c, F& a_, F& b_) const { a_ = a[c], b_ = b[c]; }
    MINRNN_INLINE void emit(int64_t c, F v) const { h[c] = v; }
  };
  Row at(int64_t n, int64_t t) const {
    const int64_t o = (n * T + t) * C;
    return {a + o, b + o, h + o};
  }
};

// Reverse recurrence g_t = a_{t+1} g_{t+1} + dh_t (g_T = 0), emitting da_t = g_t h_{t-1}, db_t = g_t.
template <class F>
struct ScanBackwardOp {
  const F *a, *h0, *h, *dh, *zeros;
  F *da, *db;
  int64_t T, C;
  struct Row {
    const F *__restrict a_next, *__restrict dh, *__restrict hprev;
    F *__restrict da, *__restrict db;
    MINRNN_INLINE void coef(int64_t c, F& a_, F& b_) const { a_ = a_next[c], b_ = dh[c]; }
    MINRNN_INLINE void emit(int64_t c, F g) const {
      db[c] = g;
      da[c] = g * hprev[c];
    }
  };
  Row at(int64_t n, int64_t t) const {
    const int64_t o = (n * T + t) * C;
    // zeros stand in for a_T (the carry g_T is 0 anyway) and for a missing h0
    const F* hprev = t > 0 ? h + o - C : (h0 ? h0 + n * C : zeros);
    return {t + 1 == T ? zeros : a + o + C, dh + o, hprev, da + o, db + o};
  }
};

}  // namespace

template <class F>
void scan_forward_pass(const F* a, const F* b, const F* h0, F* h, int64_t B, int64_t T,
                       int64_t C, bool parallel, int nt, F* work) {
  scan_run<F>(ScanForwardOp<F>{a, b, h, T, C}, B, T, C, false, h0, nullptr, parallel, nt,
              3 * sizeof(F), work);
}

// g0 (B, C) receives dL/dh at t = 0; then dh0 = a_0 g_0.
template <class F>
void scan_backward_pass(const F* a, const F* h0, const F* h, const F* dh, const F* zeros, F* da,
                        F* db, F* dh0, F* g0, int64_t B, int64_t T, int64_t C, bool parallel,
                        int nt, F* work) {
  scan_run<F>(ScanBackwardOp<F>{a, h0, h, dh, zeros, da, db, T, C}, B, T, C, true, nullptr, g0,
              parallel, nt, 5 * sizeof(F), work);
  if (dh0)
    for (int64_t n = 0; n < B; ++n)
      for (int64_t c = 0; c < C; ++c) dh0[n * C + c] = T > 0 ? a[n * T * C + c] * g0[n * C + c] : F(0);
}

#define MINRNN_INSTANTIATE(F)                                                                    \
  template void scan_forward_pass<F>(const F*, const F*, const F*, F*, int64_t, int64_t, int64_t, \
                                     bool, int, F*);                                              \
  template void scan_backward_pass<F>(const F*, const F*, const F*, const F*, const F*, F*, F*,  \
                                      F*, F*, int64_t, int64_t, int64_t, bool, int, F*);
MINRNN_INSTANTIATE(float)
MINRNN_INSTANTIATE(double)
#undef MINRNN_INSTANTIATE

}  // namespace minrnn::MINRNN_ISA
