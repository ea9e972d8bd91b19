// MinLSTM (Feng et al. 2024): f, i = sigmoid(.), h~ = act(.), normalised gates
// f' = f / (f + i), i' = i / (f + i), h_t = f' h_{t-1} + i' h~. Gate blocks: [f; i; h~].
// As a scan: a_t = f'_t, b_t = i'_t h~_t.
// Compiled once per instruction set (isa.h).
#include "activations.h"
#include "min_passes.h"

namespace minrnn::MINRNN_ISA {
namespace {

// exp(-x) with the clamps of sigmoid (float: exp_approx's [-87, 87]; double: [-700, 700]).
MINRNN_INLINE float exp_neg(float x) { return exp_approx(-x); }
MINRNN_INLINE double exp_neg(double x) { return std::exp(-clamp(x, -700.0, 700.0)); }

// The normalised gates f' = f / (f + i), i' = i / (f + i) with f = sigmoid(pf),
// i = sigmoid(pi), written with u = e^-pf, v = e^-pi as f' = (1 + v) / (2 + u + v): one
// division. When both pre-activations are far below zero, both are first raised by the
// same amount until the larger is -K: that keeps v / u (the 1s are negligible there), where
// plain sigmoids would both stop at their clamp and give f' = 1/2. Also returns
// 1 - f = u / (1 + u) and 1 - i for backward, without the cancellation of 1 - sigmoid.
template <class F>
MINRNN_INLINE void norm_gates(F pf, F pi, F& fn, F& in, F* one_minus_f = nullptr,
                              F* one_minus_i = nullptr) {
  // Past -K a 1 beside e^K is below rounding (e^-20 = 2e-9 for float, e^-40 = 4e-18 for
  // double), and the smaller gate keeps 87 - K (700 - K) of range below the larger.
  constexpr F K = sizeof(F) == 4 ? F(20) : F(40);
  const F top = pf > pi ? pf : pi;
  const F shift = top < -K ? -K - top : F(0);
  const F u = exp_neg(pf + shift), v = exp_neg(pi + shift);
  const F r = F(1) / (F(2) + u + v);
  fn = (F(1) + v) * r;
  in = (F(1) + u) * r;
  if (one_minus_f) *one_minus_f = u / (F(1) + u);
  if (one_minus_i) *one_minus_i = v / (F(1) + v);
}

template <class F>
MINRNN_INLINE F forget_norm(F pf, F pi) {
  F fn, in;
  norm_gates(pf, pi, fn, in);
  return fn;
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
      F in;
      norm_gates(pf[c] + bf[c], pi[c] + bi[c], a, in);
      b = in * candidate<CA>(ph[c] + bh[c]);
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
      const F x = ph[c] + bh[c];
      // i f / s^2 as f' i': both factors are in [0, 1], while 1/s^2 alone overflows
      // float when both gates saturate near 0.
      F fn, in, omf, omi;
      norm_gates(pf[c] + bf[c], pi[c] + bi[c], fn, in, &omf, &omi);
      const F e = g * (hprev[c] - candidate<CA>(x));
      dpf[c] = fn * in * omf * e;
      dpi[c] = -fn * in * omi * e;
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
