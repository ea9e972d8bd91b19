// MinLSTM (Feng et al. 2024): f, i = sigmoid(.), h~ = act(.), normalised gates
// f' = f / (f + i), i' = i / (f + i), h_t = f' h_{t-1} + i' h~. Gate blocks: [f; i; h~].
// As a scan: a_t = f'_t, b_t = i'_t h~_t.
// Compiled once per instruction set (isa.h).
#include "activations.h"
#include "min_passes.h"

namespace minrnn::MINRNN_ISA {
namespace {

// The normalised forget gate f / (f + i); f + i > 0 since sigmoid is clamped away from 0.
template <class F>
MINRNN_INLINE F forget_norm(F pf, F pi) {
  const F f = sigmoid(pf), i = sigmoid(pi);
  return f / (f + i);
}

// Rows keep one pointer per gate block (see mingru.cpp).
template <class F, Candidate CA>
struct MinLSTMForwardOp {
  const F *proj, *bias;
  F* y;
  int64_t T, H;
  struct Row {
    const F *__restrict pf, *__restrict pi, *__restrict ph;
    const F *__restrict bf, *__restrict bi, *__restrict bh;
    F* __restrict y;
    MINRNN_INLINE void coef(int64_t c, F& a, F& b) const {
      const F f = sigmoid(pf[c] + bf[c]);
      const F i = sigmoid(pi[c] + bi[c]);
      const F inv = F(1) / (f + i);
      a = f * inv;
      b = i * inv * candidate<CA>(ph[c] + bh[c]);
    }
    MINRNN_INLINE void emit(int64_t c, F v) const { y[c] = v; }
  };
  Row at(int64_t n, int64_t t) const {
    const F* p = proj + (n * T + t) * 3 * H;
    return {p, p + H, p + 2 * H, bias, bias + H, bias + 2 * H, y + (n * T + t) * H};
  }
};

// With s = f + i: df' = g h_{t-1}, di' = g h~, dh~ = g i';
// df = i (df' - di') / s^2, di = f (di' - df') / s^2 (the quotient rule), and each
// through its sigmoid: dpf = f(1-f) df.
template <class F, Candidate CA>
struct MinLSTMBackwardOp {
  const F *proj, *bias, *h0, *y, *dy, *dhn, *zeros;
  F* dproj;
  int64_t T, H;
  struct Row {
    const F *__restrict pf, *__restrict pi, *__restrict ph, *__restrict pf_next, *__restrict pi_next;
    const F *__restrict bf, *__restrict bi, *__restrict bh;
    const F *__restrict hprev, *__restrict dy, *__restrict dhn;
    F *__restrict dpf, *__restrict dpi, *__restrict dph;
    MINRNN_INLINE void coef(int64_t c, F& a, F& b) const {
      a = forget_norm(pf_next[c] + bf[c], pi_next[c] + bi[c]);
      b = dy[c] + dhn[c];
    }
    MINRNN_INLINE void emit(int64_t c, F g) const {
      const F f = sigmoid(pf[c] + bf[c]);
      const F i = sigmoid(pi[c] + bi[c]);
      const F x = ph[c] + bh[c];
      const F inv = F(1) / (f + i);
      // i f / s^2 as (i/s)(f/s): both factors are in [0, 1], while 1/s^2 alone overflows
      // float when both gates saturate near 0.
      const F fn = f * inv, in = i * inv;
      const F e = g * (hprev[c] - candidate<CA>(x));
      dpf[c] = fn * in * (F(1) - f) * e;
      dpi[c] = -fn * in * (F(1) - i) * e;
      dph[c] = g * in * candidate_grad<CA>(x);
    }
  };
  Row at(int64_t n, int64_t t) const {
    const int64_t r = n * T + t;
    const bool last = t + 1 == T;
    const F* p = proj + r * 3 * H;
    const F* pn = last ? zeros : p + 3 * H;  // see MinGRUBackwardOp::at
    F* dp = dproj + r * 3 * H;
    return {p, p + H, p + 2 * H, pn, pn + H, bias, bias + H, bias + 2 * H,
            t > 0 ? y + (r - 1) * H : (h0 ? h0 + n * H : zeros), dy + r * H,
            last && dhn ? dhn + n * H : zeros, dp, dp + H, dp + 2 * H};
  }
  F a_at(int64_t n, int64_t t, int64_t c) const {
    const F* p = proj + (n * T + t) * 3 * H;
    return forget_norm(p[c] + bias[c], p[H + c] + bias[H + c]);
  }
};

}  // namespace

MINRNN_DEFINE_MIN_PASSES(minlstm, MinLSTMForwardOp, MinLSTMBackwardOp, 3)

}  // namespace minrnn::MINRNN_ISA
