// MinGRU (Feng et al. 2024): z = sigmoid(W_z x + b_z), h~ = act(W_h x + b_h),
// h_t = (1 - z) h_{t-1} + z h~. Gate blocks of weight_ih: [z; h~].
// As a scan: a_t = 1 - z_t, b_t = z_t h~_t.
#include "activations.h"
#include "min_layer.h"

namespace minrnn {
namespace {
using detail::candidate;
using detail::candidate_grad;
using detail::sigmoid;

template <class F, Candidate CA>
struct MinGRUForwardOp {
  const F *proj, *bias;
  F* y;
  int64_t T, H;
  void coef(int64_t n, int64_t t, int64_t c, F& a, F& b) const {
    const F* p = proj + (n * T + t) * 2 * H;
    const F z = sigmoid(p[c] + bias[c]);
    a = F(1) - z;
    b = z * candidate<CA>(p[H + c] + bias[H + c]);
  }
  void emit(int64_t n, int64_t t, int64_t c, F v) const { y[(n * T + t) * H + c] = v; }
};

// g_t = dL/dh_t = dy_t + a_{t+1} g_{t+1}. Then dz = g (h~ - h_{t-1}), dh~ = g z.
template <class F, Candidate CA>
struct MinGRUBackwardOp {
  const F *proj, *bias, *h0, *y, *dy;
  F* dproj;
  int64_t T, H;
  F a_at(int64_t n, int64_t t, int64_t c) const {
    return F(1) - sigmoid(proj[(n * T + t) * 2 * H + c] + bias[c]);
  }
  void coef(int64_t n, int64_t t, int64_t c, F& a, F& b) const {
    a = t + 1 < T ? a_at(n, t + 1, c) : F(1);  // the carry entering t = T-1 is dL/dh_n
    b = dy[(n * T + t) * H + c];
  }
  void emit(int64_t n, int64_t t, int64_t c, F g) const {
    const int64_t r = n * T + t;
    const F* p = proj + r * 2 * H;
    const F pz = p[c] + bias[c], ph = p[H + c] + bias[H + c];
    const F z = sigmoid(pz);
    const F hp = t > 0 ? y[r * H - H + c] : (h0 ? h0[n * H + c] : F(0));
    dproj[r * 2 * H + c] = g * (candidate<CA>(ph) - hp) * z * (F(1) - z);
    dproj[r * 2 * H + H + c] = g * z * candidate_grad<CA>(ph);
  }
};

}  // namespace

template <class F>
void mingru_forward(const F* x, const F* w, const F* bias, const F* h0, F* proj, F* y, int64_t B,
                    int64_t T, int64_t D, int64_t H, Candidate cand, ScanMode mode) {
  detail::min_layer_forward<MinGRUForwardOp, 2>("mingru_forward", x, w, bias, h0, proj, y, B, T,
                                                D, H, cand, mode);
}

template <class F>
void mingru_backward(const F* x, const F* w, const F* bias, const F* h0, const F* proj,
                     const F* y, const F* dy, const F* dhn, F* dproj, F* dx, F* dw, F* dbias,
                     F* dh0, int64_t B, int64_t T, int64_t D, int64_t H, Candidate cand,
                     ScanMode mode) {
  detail::min_layer_backward<MinGRUBackwardOp, 2>("mingru_backward", x, w, bias, h0, proj, y, dy,
                                                  dhn, dproj, dx, dw, dbias, dh0, B, T, D, H,
                                                  cand, mode);
}

#define MINRNN_INSTANTIATE(F)                                                                   \
  template void mingru_forward<F>(const F*, const F*, const F*, const F*, F*, F*, int64_t,      \
                                  int64_t, int64_t, int64_t, Candidate, ScanMode);              \
  template void mingru_backward<F>(const F*, const F*, const F*, const F*, const F*, const F*,  \
                                   const F*, const F*, F*, F*, F*, F*, F*, int64_t, int64_t,    \
                                   int64_t, int64_t, Candidate, ScanMode);
MINRNN_INSTANTIATE(float)
MINRNN_INSTANTIATE(double)

}  // namespace minrnn
