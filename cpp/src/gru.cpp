// GRU, gates r, z, n; h_t = (1 - z) n + z h_{t-1}.
//  reset after the product (PyTorch): n = tanh(W_in x + b_in + r (W_hn h + b_hn))
//  reset before (Cho 2014):           n = tanh(W_in x + b_in + W_hn (r h) + b_hn)
// Compiled per instruction set (isa.h); rows go through restrict parameters to vectorise.
#include "activations.h"
#include "recurrent.h"

namespace minrnn::MINRNN_ISA {
namespace {

template <class F>
MINRNN_INLINE void row_forward(int64_t H, int64_t n, const F* __restrict xp, const F* __restrict hp,
                               const F* __restrict bhh, const F* __restrict hq, F* __restrict h,
                               F* __restrict st) {
  for (int64_t c = 0; c < n; ++c) {
    const F r = sigmoid(xp[c] + hp[c] + bhh[c]);
    const F z = sigmoid(xp[H + c] + hp[H + c] + bhh[H + c]);
    const F hn = hp[2 * H + c] + bhh[2 * H + c];
    const F n = tanh_(xp[2 * H + c] + r * hn);
    h[c] = (F(1) - z) * n + z * hq[c];
    st[c] = r, st[H + c] = z, st[2 * H + c] = n, st[3 * H + c] = hn;
  }
}

// dn = dh (1 - z), dz = dh (h_{t-1} - n); the n pre-activation's gradient reaches
// W_hn h + b_hn scaled by r, so dhp differs from dxp in the n block.
template <class F>
MINRNN_INLINE void row_backward(int64_t H, int64_t n, const F* __restrict dy, const F* __restrict carry,
                                const F* __restrict st, const F* __restrict hq, F* __restrict dx,
                                F* __restrict dhp, F* __restrict direct) {
  for (int64_t c = 0; c < n; ++c) {
    const F r = st[c], z = st[H + c], n = st[2 * H + c], hn = st[3 * H + c];
    const F dh = dy[c] + carry[c];
    const F dn = dh * (F(1) - z) * (F(1) - n * n);
    const F dr = dn * hn * r * (F(1) - r);
    const F dz = dh * (hq[c] - n) * z * (F(1) - z);
    dx[c] = dr, dx[H + c] = dz, dx[2 * H + c] = dn;
    dhp[c] = dr, dhp[H + c] = dz, dhp[2 * H + c] = dn * r;
    direct[c] = dh * z;
  }
}

// Reset before: r into the store, u = r h_{t-1} for the second GEMM.
template <class F>
MINRNN_INLINE void rb_row_gates(int64_t n, const F* __restrict xp, const F* __restrict hp,
                                const F* __restrict bhh, const F* __restrict hq, F* __restrict u,
                                F* __restrict st) {
  for (int64_t c = 0; c < n; ++c) {
    const F r = sigmoid(xp[c] + hp[c] + bhh[c]);
    u[c] = r * hq[c];
    st[c] = r;
  }
}

template <class F>
MINRNN_INLINE void rb_row_forward(int64_t H, int64_t n, const F* __restrict xp, const F* __restrict hp,
                                  const F* __restrict bhh, const F* __restrict hq, F* __restrict h,
                                  F* __restrict st) {
  for (int64_t c = 0; c < n; ++c) {
    const F z = sigmoid(xp[H + c] + hp[H + c] + bhh[H + c]);
    const F n = tanh_(xp[2 * H + c] + hp[2 * H + c] + bhh[2 * H + c]);
    h[c] = (F(1) - z) * n + z * hq[c];
    st[H + c] = z, st[2 * H + c] = n;
  }
}

// Stage a: dn_pre into the n block, dz (not yet through z') parked in the z block.
template <class F>
MINRNN_INLINE void rb_row_backward_a(int64_t H, int64_t n, const F* __restrict dy, const F* __restrict carry,
                                     const F* __restrict st, const F* __restrict hq,
                                     F* __restrict d, F* __restrict direct) {
  for (int64_t c = 0; c < n; ++c) {
    const F z = st[H + c], n = st[2 * H + c];
    const F dh = dy[c] + carry[c];
    d[H + c] = dh * (hq[c] - n);
    d[2 * H + c] = dh * (F(1) - z) * (F(1) - n * n);
    direct[c] = dh * z;
  }
}

// Stage b, with du = dn_pre W_hn: dr = du h_{t-1}, and du r flows on to h_{t-1}.
template <class F>
MINRNN_INLINE void rb_row_backward_b(int64_t H, int64_t n, const F* __restrict st, const F* __restrict hq,
                                     const F* __restrict du, F* __restrict d, F* __restrict direct) {
  for (int64_t c = 0; c < n; ++c) {
    const F r = st[c], z = st[H + c];
    d[c] = du[c] * hq[c] * r * (F(1) - r);
    d[H + c] *= z * (F(1) - z);
    direct[c] += du[c] * r;
  }
}

}  // namespace

template <class F>
void gru_forward(const StepForward<F>& s) {
  for (int64_t b = 0; b < s.B; ++b)
    row_forward<F>(s.H, s.c1 - s.c0, s.xp + b * s.ldx + s.c0, s.hp + b * s.ldp + s.c0,
                   s.bhh + s.c0, s.h_prev + b * s.ldh + s.c0, s.h + b * s.ldo + s.c0,
                   s.store + b * s.lds + s.c0);
}
template <class F>
void gru_backward(const StepBackward<F>& s) {
  for (int64_t b = 0; b < s.B; ++b)
    row_backward<F>(s.H, s.c1 - s.c0, s.dy + b * s.ldy + s.c0, s.carry + b * s.H + s.c0,
                    s.store + b * s.lds + s.c0, s.h_prev + b * s.ldh + s.c0,
                    s.dxp + b * s.ldg + s.c0, s.dhp + b * s.ldg + s.c0, s.dh_prev + b * s.H + s.c0);
}
template <class F>
void gru_rb_gates_forward(const StepForward<F>& s) {
  for (int64_t b = 0; b < s.B; ++b)
    rb_row_gates<F>(s.c1 - s.c0, s.xp + b * s.ldx + s.c0, s.hp + b * s.ldp + s.c0,
                    s.bhh + s.c0, s.h_prev + b * s.ldh + s.c0, s.u + b * s.H + s.c0,
                    s.store + b * s.lds + s.c0);
}
template <class F>
void gru_rb_forward(const StepForward<F>& s) {
  for (int64_t b = 0; b < s.B; ++b)
    rb_row_forward<F>(s.H, s.c1 - s.c0, s.xp + b * s.ldx + s.c0, s.hp + b * s.ldp + s.c0,
                      s.bhh + s.c0, s.h_prev + b * s.ldh + s.c0, s.h + b * s.ldo + s.c0,
                      s.store + b * s.lds + s.c0);
}
template <class F>
void gru_rb_backward_a(const StepBackward<F>& s) {
  for (int64_t b = 0; b < s.B; ++b)
    rb_row_backward_a<F>(s.H, s.c1 - s.c0, s.dy + b * s.ldy + s.c0, s.carry + b * s.H + s.c0,
                         s.store + b * s.lds + s.c0, s.h_prev + b * s.ldh + s.c0,
                         s.dxp + b * s.ldg + s.c0, s.dh_prev + b * s.H + s.c0);
}
template <class F>
void gru_rb_backward_b(const StepBackward<F>& s) {
  for (int64_t b = 0; b < s.B; ++b)
    rb_row_backward_b<F>(s.H, s.c1 - s.c0, s.store + b * s.lds + s.c0, s.h_prev + b * s.ldh + s.c0,
                         s.du + b * s.H + s.c0, s.dxp + b * s.ldg + s.c0, s.dh_prev + b * s.H + s.c0);
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
#undef MINRNN_INSTANTIATE

}  // namespace minrnn::MINRNN_ISA
