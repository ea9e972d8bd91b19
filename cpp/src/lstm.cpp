// LSTM, gates i, f, g, o: c_t = f c_{t-1} + i g, h_t = o tanh(c_t).
#include "activations.h"
#include "recurrent.h"

namespace minrnn::detail {
using MINRNN_ISA::sigmoid;
using MINRNN_ISA::tanh_;

template <class F>
void lstm_forward(const StepForward<F>& s) {
  const int64_t H = s.H;
  for (int64_t b = 0; b < s.B; ++b) {
    const F *xp = s.xp + b * s.ldx, *hp = s.hp + b * s.ldp, *cp = s.c_prev + b * H;
    F *h = s.h + b * s.ldo, *cn = s.c + b * H;
    F* st = s.store ? s.store + b * s.lds : nullptr;
    for (int64_t c = 0; c < H; ++c) {
      const F i = sigmoid(xp[c] + hp[c] + s.bhh[c]);
      const F f = sigmoid(xp[H + c] + hp[H + c] + s.bhh[H + c]);
      const F g = tanh_(xp[2 * H + c] + hp[2 * H + c] + s.bhh[2 * H + c]);
      const F o = sigmoid(xp[3 * H + c] + hp[3 * H + c] + s.bhh[3 * H + c]);
      const F cc = f * cp[c] + i * g;
      cn[c] = cc;
      h[c] = o * tanh_(cc);
      if (st) st[c] = i, st[H + c] = f, st[2 * H + c] = g, st[3 * H + c] = o, st[4 * H + c] = cc;
    }
  }
}

// dh = dy + carry; dc = carry_c + dh o (1 - tanh^2 c); then each gate through its activation.
template <class F>
void lstm_backward(const StepBackward<F>& s) {
  const int64_t H = s.H;
  for (int64_t b = 0; b < s.B; ++b) {
    const F *dy = s.dy + b * s.ldy, *carry = s.carry + b * H, *carry_c = s.carry_c + b * H;
    const F *st = s.store + b * s.lds, *cp = s.c_prev + b * s.ldc;
    F* d = s.dxp + b * s.ldg;
    F *direct = s.dh_prev + b * H, *dcp = s.dc_prev + b * H;
    for (int64_t c = 0; c < H; ++c) {
      const F i = st[c], f = st[H + c], g = st[2 * H + c], o = st[3 * H + c];
      const F tc = tanh_(st[4 * H + c]);
      const F dh = dy[c] + carry[c];
      const F dc = carry_c[c] + dh * o * (F(1) - tc * tc);
      d[c] = dc * g * i * (F(1) - i);
      d[H + c] = dc * cp[c] * f * (F(1) - f);
      d[2 * H + c] = dc * i * (F(1) - g * g);
      d[3 * H + c] = dh * tc * o * (F(1) - o);
      dcp[c] = dc * f;
      direct[c] = F(0);
    }
  }
}

template void lstm_forward<float>(const StepForward<float>&);
template void lstm_forward<double>(const StepForward<double>&);
template void lstm_backward<float>(const StepBackward<float>&);
template void lstm_backward<double>(const StepBackward<double>&);

}  // namespace minrnn::detail
