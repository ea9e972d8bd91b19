// LSTM, gates i, f, g, o: c_t = f c_{t-1} + i g, h_t = o tanh(c_t).
// Compiled per instruction set (isa.h); rows go through restrict parameters to vectorise.
#include "activations.h"
#include "recurrent.h"

namespace minrnn::MINRNN_ISA {
namespace {

template <class F>
MINRNN_INLINE void row_forward(int64_t H, int64_t n, const F* __restrict xp, const F* __restrict hp,
                               const F* __restrict bhh, const F* __restrict cp, F* __restrict h,
                               F* __restrict cn, F* __restrict st) {
  for (int64_t c = 0; c < n; ++c) {
    const F i = sigmoid(xp[c] + hp[c] + bhh[c]);
    const F f = sigmoid(xp[H + c] + hp[H + c] + bhh[H + c]);
    const F g = tanh_(xp[2 * H + c] + hp[2 * H + c] + bhh[2 * H + c]);
    const F o = sigmoid(xp[3 * H + c] + hp[3 * H + c] + bhh[3 * H + c]);
    const F cc = f * cp[c] + i * g;
    cn[c] = cc;
    h[c] = o * tanh_(cc);
    st[c] = i, st[H + c] = f, st[2 * H + c] = g, st[3 * H + c] = o, st[4 * H + c] = cc;
  }
}

// dh = dy + carry; dc = carry_c + dh o (1 - tanh^2 c); then each gate through its activation.
template <class F>
MINRNN_INLINE void row_backward(int64_t H, int64_t n, const F* __restrict dy, const F* __restrict carry,
                                const F* __restrict carry_c, const F* __restrict st,
                                const F* __restrict cp, F* __restrict d, F* __restrict direct,
                                F* __restrict dcp) {
  for (int64_t c = 0; c < n; ++c) {
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

}  // namespace

template <class F>
void lstm_forward(const StepForward<F>& s) {
  for (int64_t b = 0; b < s.B; ++b)
    row_forward<F>(s.H, s.c1 - s.c0, s.xp + b * s.ldx + s.c0, s.hp + b * s.ldp + s.c0,
                   s.bhh + s.c0, s.c_prev + b * s.H + s.c0, s.h + b * s.ldo + s.c0,
                   s.c + b * s.H + s.c0, s.store + b * s.lds + s.c0);
}

template <class F>
void lstm_backward(const StepBackward<F>& s) {
  for (int64_t b = 0; b < s.B; ++b)
    row_backward<F>(s.H, s.c1 - s.c0, s.dy + b * s.ldy + s.c0, s.carry + b * s.H + s.c0,
                    s.carry_c + b * s.H + s.c0, s.store + b * s.lds + s.c0,
                    s.c_prev + b * s.ldc + s.c0, s.dxp + b * s.ldg + s.c0,
                    s.dh_prev + b * s.H + s.c0, s.dc_prev + b * s.H + s.c0);
}

template void lstm_forward<float>(const StepForward<float>&);
template void lstm_forward<double>(const StepForward<double>&);
template void lstm_backward<float>(const StepBackward<float>&);
template void lstm_backward<double>(const StepBackward<double>&);

}  // namespace minrnn::MINRNN_ISA
