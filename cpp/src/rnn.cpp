// Elman RNN: h_t = act(W_ih x_t + b_ih + W_hh h_{t-1} + b_hh), act = tanh or relu.
#include "activations.h"
#include "recurrent.h"

namespace minrnn::detail {
using MINRNN_ISA::tanh_;

template <class F>
void rnn_forward(const StepForward<F>& s, bool relu) {
  for (int64_t b = 0; b < s.B; ++b) {
    const F *xp = s.xp + b * s.ldx, *hp = s.hp + b * s.ldp;
    F* h = s.h + b * s.ldo;
    for (int64_t c = 0; c < s.H; ++c) {
      const F pre = xp[c] + hp[c] + s.bhh[c];
      h[c] = relu ? (pre > F(0) ? pre : F(0)) : tanh_(pre);
    }
  }
}

// dpre = (dy + carry) act'(pre), with act' read off h: 1 - h^2 for tanh, [h > 0] for relu.
template <class F>
void rnn_backward(const StepBackward<F>& s, bool relu) {
  for (int64_t b = 0; b < s.B; ++b) {
    const F *dy = s.dy + b * s.ldy, *carry = s.carry + b * s.H, *h = s.h + b * s.ldo;
    F* dpre = s.dxp + b * s.ldg;
    F* direct = s.dh_prev + b * s.H;
    for (int64_t c = 0; c < s.H; ++c) {
      const F dh = dy[c] + carry[c];
      dpre[c] = relu ? (h[c] > F(0) ? dh : F(0)) : dh * (F(1) - h[c] * h[c]);
      direct[c] = F(0);
    }
  }
}

template void rnn_forward<float>(const StepForward<float>&, bool);
template void rnn_forward<double>(const StepForward<double>&, bool);
template void rnn_backward<float>(const StepBackward<float>&, bool);
template void rnn_backward<double>(const StepBackward<double>&, bool);

}  // namespace minrnn::detail
