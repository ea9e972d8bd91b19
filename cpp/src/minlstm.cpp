// MinLSTM (Feng et al. 2024): f, i = sigmoid(.), h~ = act(.), normalised gates
// f' = f / (f + i), i' = i / (f + i), h_t = f' h_{t-1} + i' h~. Gate blocks: [f; i; h~].
// As a scan: a_t = f'_t, b_t = i'_t h~_t.
#include "activations.h"
#include "min_layer.h"

namespace minrnn {
namespace {
using detail::candidate;
using detail::candidate_grad;
using detail::sigmoid;

template <class F, Candidate CA>
struct MinLSTMForwardOp {
  const F *proj, *bias;
  F* y;
  int64_t T, H;
  void coef(int64_t n, int64_t t, int64_t c, F& a, F& b) const {
    const F* p = proj + (n * T + t) * 3 * H;
    const F f = sigmoid(p[c] + bias[c]);
    const F i = sigmoid(p[H + c] + bias[H + c]);
    const F inv = F(1) / (f + i);  // f + i > 0: sigmoid is clamped away from 0
    a = f * inv;
    b = i * inv * candidate<CA>(p[2 * H + c] + bias[2 * H + c]);
  }
  void emit(int64_t n, int64_t t, int64_t c, F v) const { y[(n * T + t) * H + c] = v; }
};

// With s = f + i: df' = g h_{t-1}, di' = g h~, dh~ = g i';
// df = i (df' - di') / s^2, di = f (di' - df') / s^2 (the quotient rule).
template <class F, Candidate CA>
struct MinLSTMBackwardOp {
  const F *proj, *bias, *h0, *y, *dy;
  F* dproj;
  int64_t T, H;
  F a_at(int64_t n, int64_t t, int64_t c) const {
    const F* p = proj + (n * T + t) * 3 * H;
    const F f = sigmoid(p[c] + bias[c]);
    const F i = sigmoid(p[H + c] + bias[H + c]);
    return f / (f + i);
  }
  void coef(int64_t n, int64_t t, int64_t c, F& a, F& b) const {
    a = t + 1 < T ? a_at(n, t + 1, c) : F(1);  // the carry entering t = T-1 is dL/dh_n
    b = dy[(n * T + t) * H + c];
  }
  void emit(int64_t n, int64_t t, int64_t c, F g) const {
    const int64_t r = n * T + t;
    const F* p = proj + r * 3 * H;
    F* dp = dproj + r * 3 * H;
    const F f = sigmoid(p[c] + bias[c]);
    const F i = sigmoid(p[H + c] + bias[H + c]);
    const F ph = p[2 * H + c] + bias[2 * H + c];
    const F inv = F(1) / (f + i);
    const F hp = t > 0 ? y[r * H - H + c] : (h0 ? h0[n * H + c] : F(0));
    const F dfn = g * hp, din = g * candidate<CA>(ph);
    const F q = (dfn - din) * inv * inv;
    dp[c] = i * q * f * (F(1) - f);
    dp[H + c] = -f * q * i * (F(1) - i);
    dp[2 * H + c] = g * i * inv * candidate_grad<CA>(ph);
  }
};

}  // namespace

template <class F>
void minlstm_forward(const F* x, const F* w, const F* bias, const F* h0, F* proj, F* y, int64_t B,
                     int64_t T, int64_t D, int64_t H, Candidate cand, ScanMode mode) {
  detail::min_layer_forward<MinLSTMForwardOp, 3>("minlstm_forward", x, w, bias, h0, proj, y, B,
                                                 T, D, H, cand, mode);
}

template <class F>
void minlstm_backward(const F* x, const F* w, const F* bias, const F* h0, const F* proj,
                      const F* y, const F* dy, const F* dhn, F* dproj, F* dx, F* dw, F* dbias,
                      F* dh0, int64_t B, int64_t T, int64_t D, int64_t H, Candidate cand,
                      ScanMode mode) {
  detail::min_layer_backward<MinLSTMBackwardOp, 3>("minlstm_backward", x, w, bias, h0, proj, y,
                                                   dy, dhn, dproj, dx, dw, dbias, dh0, B, T, D, H,
                                                   cand, mode);
}

#define MINRNN_INSTANTIATE(F)                                                                   \
  template void minlstm_forward<F>(const F*, const F*, const F*, const F*, F*, F*, int64_t,     \
                                   int64_t, int64_t, int64_t, Candidate, ScanMode);             \
  template void minlstm_backward<F>(const F*, const F*, const F*, const F*, const F*, const F*, \
                                    const F*, const F*, F*, F*, F*, F*, F*, int64_t, int64_t,   \
                                    int64_t, int64_t, Candidate, ScanMode);
MINRNN_INSTANTIATE(float)
MINRNN_INSTANTIATE(double)

}  // namespace minrnn
