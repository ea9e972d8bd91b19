// GRU, gates r, z, n; h_t = (1 - z) n + z h_{t-1}.
//  reset after the product (PyTorch): n = tanh(W_in x + b_in + r (W_hn h + b_hn))
//  reset before (Cho 2014):           n = tanh(W_in x + b_in + W_hn (r h) + b_hn)
#include "activations.h"
#include "recurrent.h"

namespace minrnn::detail {
using MINRNN_ISA::sigmoid;
using MINRNN_ISA::tanh_;

template <class F>
void gru_forward(const StepForward<F>& s) {
  const int64_t H = s.H;
  for (int64_t b = 0; b < s.B; ++b) {
    const F *xp = s.xp + b * s.ldx, *hp = s.hp + b * s.ldp, *hq = s.h_prev + b * s.ldh;
    F* h = s.h + b * s.ldo;
    F* st = s.store ? s.store + b * s.lds : nullptr;
    for (int64_t c = 0; c < H; ++c) {
      const F r = sigmoid(xp[c] + hp[c] + s.bhh[c]);
      const F z = sigmoid(xp[H + c] + hp[H + c] + s.bhh[H + c]);
      const F hn = hp[2 * H + c] + s.bhh[2 * H + c];
      const F n = tanh_(xp[2 * H + c] + r * hn);
      h[c] = (F(1) - z) * n + z * hq[c];
      if (st) st[c] = r, st[H + c] = z, st[2 * H + c] = n, st[3 * H + c] = hn;
    }
  }
}

// dn = dh (1 - z), dz = dh (h_{t-1} - n); the n pre-activation's gradient reaches
// W_hn h + b_hn scaled by r, so dhp differs from dxp in the n block.
template <class F>
void gru_backward(const StepBackward<F>& s) {
  const int64_t H = s.H;
  for (int64_t b = 0; b < s.B; ++b) {
    const F *dy = s.dy + b * s.ldy, *carry = s.carry + b * H, *st = s.store + b * s.lds;
    const F* hq = s.h_prev + b * s.ldh;
    F *dx = s.dxp + b * s.ldg, *dh_ = s.dhp + b * s.ldg, *direct = s.dh_prev + b * H;
    for (int64_t c = 0; c < H; ++c) {
      const F r = st[c], z = st[H + c], n = st[2 * H + c], hn = st[3 * H + c];
      const F dh = dy[c] + carry[c];
      const F dn = dh * (F(1) - z) * (F(1) - n * n);
      const F dr = dn * hn * r * (F(1) - r);
      const F dz = dh * (hq[c] - n) * z * (F(1) - z);
      dx[c] = dr, dx[H + c] = dz, dx[2 * H + c] = dn;
      dh_[c] = dr, dh_[H + c] = dz, dh_[2 * H + c] = dn * r;
      direct[c] = dh * z;
    }
  }
}

template <class F>
void gru_rb_gates_forward(const StepForward<F>& s) {
  const int64_t H = s.H;
  for (int64_t b = 0; b < s.B; ++b) {
    const F *xp = s.xp + b * s.ldx, *hp = s.hp + b * s.ldp, *hq = s.h_prev + b * s.ldh;
    F *u = s.u + b * H, *h = s.h + b * s.ldo;
    for (int64_t c = 0; c < H; ++c) {
      const F r = sigmoid(xp[c] + hp[c] + s.bhh[c]);
      u[c] = r * hq[c];
      h[c] = r;  // parked in h_t until stage b (r is needed for the store)
    }
  }
}

template <class F>
void gru_rb_forward(const StepForward<F>& s) {
  const int64_t H = s.H;
  for (int64_t b = 0; b < s.B; ++b) {
    const F *xp = s.xp + b * s.ldx, *hp = s.hp + b * s.ldp, *hq = s.h_prev + b * s.ldh;
    F* h = s.h + b * s.ldo;
    F* st = s.store ? s.store + b * s.lds : nullptr;
    for (int64_t c = 0; c < H; ++c) {
      const F r = h[c];
      const F z = sigmoid(xp[H + c] + hp[H + c] + s.bhh[H + c]);
      const F n = tanh_(xp[2 * H + c] + hp[2 * H + c] + s.bhh[2 * H + c]);
      h[c] = (F(1) - z) * n + z * hq[c];
      if (st) st[c] = r, st[H + c] = z, st[2 * H + c] = n;
    }
  }
}

// Stage a: dn_pre into the n block, dz (not yet through z') parked in the z block.
template <class F>
void gru_rb_backward_a(const StepBackward<F>& s) {
  const int64_t H = s.H;
  for (int64_t b = 0; b < s.B; ++b) {
    const F *dy = s.dy + b * s.ldy, *carry = s.carry + b * H, *st = s.store + b * s.lds;
    const F* hq = s.h_prev + b * s.ldh;
    F *d = s.dxp + b * s.ldg, *direct = s.dh_prev + b * H;
    for (int64_t c = 0; c < H; ++c) {
      const F z = st[H + c], n = st[2 * H + c];
      const F dh = dy[c] + carry[c];
      d[H + c] = dh * (hq[c] - n);
      d[2 * H + c] = dh * (F(1) - z) * (F(1) - n * n);
      direct[c] = dh * z;
    }
  }
}

// Stage b, with du = dn_pre W_hn: dr = du h_{t-1}, and du r flows on to h_{t-1}.
template <class F>
void gru_rb_backward_b(const StepBackward<F>& s) {
  const int64_t H = s.H;
  for (int64_t b = 0; b < s.B; ++b) {
    const F *st = s.store + b * s.lds, *hq = s.h_prev + b * s.ldh, *du = s.du + b * H;
    F *d = s.dxp + b * s.ldg, *direct = s.dh_prev + b * H;
    for (int64_t c = 0; c < H; ++c) {
      const F r = st[c], z = st[H + c];
      d[c] = du[c] * hq[c] * r * (F(1) - r);
      d[H + c] *= z * (F(1) - z);
      direct[c] += du[c] * r;
    }
  }
}

#define MINRNN_INSTANTIATE(F)                                              \
  template void gru_forward<F>(const StepForward<F>&);                     \
  template void gru_backward<F>(const StepBackward<F>&);                   \
  template void gru_rb_gates_forward<F>(const StepForward<F>&);            \
  template void gru_rb_forward<F>(const StepForward<F>&);                  \
  template void gru_rb_backward_a<F>(const StepBackward<F>&);              \
  template void gru_rb_backward_b<F>(const StepBackward<F>&);
MINRNN_INSTANTIATE(float)
MINRNN_INSTANTIATE(double)

}  // namespace minrnn::detail
