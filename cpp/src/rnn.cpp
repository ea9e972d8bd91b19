// Elman RNN: h_t = act(W_ih x_t + b_ih + W_hh h_{t-1} + b_hh), act = tanh or relu.
// Compiled per instruction set (isa.h); rows go through restrict parameters to vectorise.
#include "activations.h"
#include "recurrent.h"

namespace minrnn::MINRNN_ISA {
namespace {

template <class F>
MINRNN_INLINE void row_forward(int64_t n, bool relu, const F* __restrict xp, const F* __restrict hp,
                               const F* __restrict bhh, F* __restrict h) {
  if (relu)
    for (int64_t c = 0; c < n; ++c) {
      const F pre = xp[c] + hp[c] + bhh[c];
      h[c] = pre > F(0) ? pre : F(0);
    }
  else
    for (int64_t c = 0; c < n; ++c) h[c] = tanh_(xp[c] + hp[c] + bhh[c]);
}

// dpre = (dy + carry) act'(pre), with act' read off h: 1 - h^2 for tanh, [h > 0] for relu.
template <class F>
MINRNN_INLINE void row_backward(int64_t n, bool relu, const F* __restrict dy, const F* __restrict carry,
                                const F* __restrict h, F* __restrict dpre, F* __restrict direct) {
  for (int64_t c = 0; c < n; ++c) {
    const F dh = dy[c] + carry[c];
    dpre[c] = relu ? (h[c] > F(0) ? dh : F(0)) : dh * (F(1) - h[c] * h[c]);
    direct[c] = F(0);
  }
}

}  // namespace

template <class F>
void rnn_forward(const StepForward<F>& s, bool relu) {
  for (int64_t b = 0; b < s.B; ++b)
    row_forward<F>(s.c1 - s.c0, relu, s.xp + b * s.ldx + s.c0, s.hp + b * s.ldp + s.c0,
                   s.bhh + s.c0, s.h + b * s.ldo + s.c0);
}

template <class F>
void rnn_backward(const StepBackward<F>& s, bool relu) {
  for (int64_t b = 0; b < s.B; ++b)
    row_backward<F>(s.c1 - s.c0, relu, s.dy + b * s.ldy + s.c0, s.carry + b * s.H + s.c0,
                    s.h + b * s.ldo + s.c0, s.dxp + b * s.ldg + s.c0, s.dh_prev + b * s.H + s.c0);
}

template void rnn_forward<float>(const StepForward<float>&, bool);
template void rnn_forward<double>(const StepForward<double>&, bool);
template void rnn_backward<float>(const StepBackward<float>&, bool);
template void rnn_backward<double>(const StepBackward<double>&, bool);

}  // namespace minrnn::MINRNN_ISA
