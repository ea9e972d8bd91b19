// MGU (Zhou et al. 2016): f = sigmoid(W_if x + b_if + W_hf h + b_hf),
// n = tanh(W_in x + b_in + W_hn (f h) + b_hn), h_t = (1 - f) h_{t-1} + f n.
// Compiled per instruction set (isa.h); rows go through restrict parameters to vectorise.
#include "activations.h"
#include "recurrent.h"

namespace minrnn::MINRNN_ISA {
namespace {

// Stage a: f into the store, u = f h_{t-1} for the second GEMM.
template <class F>
MINRNN_INLINE void row_gates(int64_t n, const F* __restrict xp, const F* __restrict hp,
                             const F* __restrict bhh, const F* __restrict hq, F* __restrict u,
                             F* __restrict st) {
  for (int64_t c = 0; c < n; ++c) {
    const F f = sigmoid(xp[c] + hp[c] + bhh[c]);
    u[c] = f * hq[c];
    st[c] = f;
  }
}

template <class F>
MINRNN_INLINE void row_forward(int64_t H, int64_t n, const F* __restrict xp, const F* __restrict hp,
                               const F* __restrict bhh, const F* __restrict hq, F* __restrict h,
                               F* __restrict st) {
  for (int64_t c = 0; c < n; ++c) {
    const F f = st[c];
    const F n = tanh_(xp[H + c] + hp[H + c] + bhh[H + c]);
    h[c] = (F(1) - f) * hq[c] + f * n;
    st[H + c] = n;
  }
}

// Stage a: dn_pre into the n block, df so far (dh (n - h_{t-1})) parked in the f block.
template <class F>
MINRNN_INLINE void row_backward_a(int64_t H, int64_t n, const F* __restrict dy, const F* __restrict carry,
                                  const F* __restrict st, const F* __restrict hq, F* __restrict d,
                                  F* __restrict direct) {
  for (int64_t c = 0; c < n; ++c) {
    const F f = st[c], n = st[H + c];
    const F dh = dy[c] + carry[c];
    d[c] = dh * (n - hq[c]);
    d[H + c] = dh * f * (F(1) - n * n);
    direct[c] = dh * (F(1) - f);
  }
}

// Stage b, with du = dn_pre W_hn: u = f h adds du h to df and du f to dh_{t-1}.
template <class F>
MINRNN_INLINE void row_backward_b(int64_t n, const F* __restrict st, const F* __restrict hq,
                                  const F* __restrict du, F* __restrict d, F* __restrict direct) {
  for (int64_t c = 0; c < n; ++c) {
    const F f = st[c];
    d[c] = (d[c] + du[c] * hq[c]) * f * (F(1) - f);
    direct[c] += du[c] * f;
  }
}

}  // namespace

template <class F>
void mgu_gates_forward(const StepForward<F>& s) {
  for (int64_t b = 0; b < s.B; ++b)
    row_gates<F>(s.c1 - s.c0, s.xp + b * s.ldx + s.c0, s.hp + b * s.ldp + s.c0,
                 s.bhh + s.c0, s.h_prev + b * s.ldh + s.c0, s.u + b * s.H + s.c0,
                 s.store + b * s.lds + s.c0);
}
template <class F>
void mgu_forward(const StepForward<F>& s) {
  for (int64_t b = 0; b < s.B; ++b)
    row_forward<F>(s.H, s.c1 - s.c0, s.xp + b * s.ldx + s.c0, s.hp + b * s.ldp + s.c0,
                   s.bhh + s.c0, s.h_prev + b * s.ldh + s.c0, s.h + b * s.ldo + s.c0,
                   s.store + b * s.lds + s.c0);
}
template <class F>
void mgu_backward_a(const StepBackward<F>& s) {
  for (int64_t b = 0; b < s.B; ++b)
    row_backward_a<F>(s.H, s.c1 - s.c0, s.dy + b * s.ldy + s.c0, s.carry + b * s.H + s.c0,
                      s.store + b * s.lds + s.c0, s.h_prev + b * s.ldh + s.c0,
                      s.dxp + b * s.ldg + s.c0, s.dh_prev + b * s.H + s.c0);
}
template <class F>
void mgu_backward_b(const StepBackward<F>& s) {
  for (int64_t b = 0; b < s.B; ++b)
    row_backward_b<F>(s.c1 - s.c0, s.store + b * s.lds + s.c0, s.h_prev + b * s.ldh + s.c0,
                      s.du + b * s.H + s.c0, s.dxp + b * s.ldg + s.c0, s.dh_prev + b * s.H + s.c0);
}

#define MINRNN_INSTANTIATE(F)                                     \
  template void mgu_gates_forward<F>(const StepForward<F>&);      \
  template void mgu_forward<F>(const StepForward<F>&);            \
  template void mgu_backward_a<F>(const StepBackward<F>&);        \
  template void mgu_backward_b<F>(const StepBackward<F>&);
MINRNN_INSTANTIATE(float)
MINRNN_INSTANTIATE(double)
#undef MINRNN_INSTANTIATE

}  // namespace minrnn::MINRNN_ISA
