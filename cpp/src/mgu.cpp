// MGU (Zhou et al. 2016): f = sigmoid(W_if x + b_if + W_hf h + b_hf),
// n = tanh(W_in x + b_in + W_hn (f h) + b_hn), h_t = (1 - f) h_{t-1} + f n.
#include "activations.h"
#include "recurrent.h"

namespace minrnn::detail {
using MINRNN_ISA::sigmoid;
using MINRNN_ISA::tanh_;

template <class F>
void mgu_gates_forward(const StepForward<F>& s) {
  const int64_t H = s.H;
  for (int64_t b = 0; b < s.B; ++b) {
    const F *xp = s.xp + b * s.ldx, *hp = s.hp + b * s.ldp, *hq = s.h_prev + b * s.ldh;
    F *u = s.u + b * H, *h = s.h + b * s.ldo;
    for (int64_t c = 0; c < H; ++c) {
      const F f = sigmoid(xp[c] + hp[c] + s.bhh[c]);
      u[c] = f * hq[c];
      h[c] = f;  // parked in h_t until stage b
    }
  }
}

template <class F>
void mgu_forward(const StepForward<F>& s) {
  const int64_t H = s.H;
  for (int64_t b = 0; b < s.B; ++b) {
    const F *xp = s.xp + b * s.ldx, *hp = s.hp + b * s.ldp, *hq = s.h_prev + b * s.ldh;
    F* h = s.h + b * s.ldo;
    F* st = s.store ? s.store + b * s.lds : nullptr;
    for (int64_t c = 0; c < H; ++c) {
      const F f = h[c];
      const F n = tanh_(xp[H + c] + hp[H + c] + s.bhh[H + c]);
      h[c] = (F(1) - f) * hq[c] + f * n;
      if (st) st[c] = f, st[H + c] = n;
    }
  }
}

// Stage a: dn_pre into the n block, df so far (dh (n - h_{t-1})) parked in the f block.
template <class F>
void mgu_backward_a(const StepBackward<F>& s) {
  const int64_t H = s.H;
  for (int64_t b = 0; b < s.B; ++b) {
    const F *dy = s.dy + b * s.ldy, *carry = s.carry + b * H, *st = s.store + b * s.lds;
    const F* hq = s.h_prev + b * s.ldh;
    F *d = s.dxp + b * s.ldg, *direct = s.dh_prev + b * H;
    for (int64_t c = 0; c < H; ++c) {
      const F f = st[c], n = st[H + c];
      const F dh = dy[c] + carry[c];
      d[c] = dh * (n - hq[c]);
      d[H + c] = dh * f * (F(1) - n * n);
      direct[c] = dh * (F(1) - f);
    }
  }
}

// Stage b, with du = dn_pre W_hn: u = f h adds du h to df and du f to dh_{t-1}.
template <class F>
void mgu_backward_b(const StepBackward<F>& s) {
  const int64_t H = s.H;
  for (int64_t b = 0; b < s.B; ++b) {
    const F *st = s.store + b * s.lds, *hq = s.h_prev + b * s.ldh, *du = s.du + b * H;
    F *d = s.dxp + b * s.ldg, *direct = s.dh_prev + b * H;
    for (int64_t c = 0; c < H; ++c) {
      const F f = st[c];
      d[c] = (d[c] + du[c] * hq[c]) * f * (F(1) - f);
      direct[c] += du[c] * f;
    }
  }
}

#define MINRNN_INSTANTIATE(F)                                     \
  template void mgu_gates_forward<F>(const StepForward<F>&);      \
  template void mgu_forward<F>(const StepForward<F>&);            \
  template void mgu_backward_a<F>(const StepBackward<F>&);        \
  template void mgu_backward_b<F>(const StepBackward<F>&);
MINRNN_INSTANTIATE(float)
MINRNN_INSTANTIATE(double)

}  // namespace minrnn::detail
