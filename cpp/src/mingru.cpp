// MinGRU (Feng et al. 2024): z = sigmoid(W_z x + b_z), h~ = act(W_h x + b_h),
// h_t = (1 - z) h_{t-1} + z h~. Gate blocks of weight_ih: [z; h~].
// As a scan: a_t = 1 - z_t, b_t = z_t h~_t.
// Compiled once per instruction set (isa.h).
#include "activations.h"
#include "min_passes.h"

namespace minrnn::MINRNN_ISA {
namespace {

// Rows keep one pointer per gate block: with a runtime offset H between two stores into
// one array the compiler cannot prove they don't overlap, and gives up vectorising.
template <class F, Candidate CA>
struct MinGRUForwardOp {
  const F *proj, *bias;
  F* y;
  int64_t T, H;
  struct Row {
    const F *__restrict pz, *__restrict ph, *__restrict bz, *__restrict bh;
    F* __restrict y;
    MINRNN_INLINE void coef(int64_t c, F& a, F& b) const {
      const F z = sigmoid(pz[c] + bz[c]);
      a = F(1) - z;
      b = z * candidate<CA>(ph[c] + bh[c]);
    }
    MINRNN_INLINE void emit(int64_t c, F v) const { y[c] = v; }
  };
  Row at(int64_t n, int64_t t) const {
    const F* p = proj + (n * T + t) * 2 * H;
    return {p, p + H, bias, bias + H, y + (n * T + t) * H};
  }
};

// g_t = dL/dh_t = dy_t + a_{t+1} g_{t+1}. Then dz = g (h~ - h_{t-1}), dh~ = g z.
template <class F, Candidate CA>
struct MinGRUBackwardOp {
  const F *proj, *bias, *h0, *y, *dy, *dhn, *zeros;
  F* dproj;
  int64_t T, H;
  struct Row {
    const F *__restrict pz, *__restrict ph, *__restrict pz_next, *__restrict bz, *__restrict bh;
    const F *__restrict hprev, *__restrict dy, *__restrict dhn;
    F *__restrict dpz, *__restrict dph;
    MINRNN_INLINE void coef(int64_t c, F& a, F& b) const {
      a = F(1) - sigmoid(pz_next[c] + bz[c]);
      b = dy[c] + dhn[c];
    }
    MINRNN_INLINE void emit(int64_t c, F g) const {
      const F z = sigmoid(pz[c] + bz[c]);
      const F x = ph[c] + bh[c];
      dpz[c] = g * (candidate<CA>(x) - hprev[c]) * z * (F(1) - z);
      dph[c] = g * z * candidate_grad<CA>(x);
    }
  };
  Row at(int64_t n, int64_t t) const {
    const int64_t r = n * T + t;
    const bool last = t + 1 == T;
    const F* p = proj + r * 2 * H;
    F* dp = dproj + r * 2 * H;
    // The carry starts at 0 and dL/dh_n enters with the last step's output gradient, so
    // the coefficient read at t = T-1 (from zeros) multiplies 0 and only has to be finite.
    return {p, p + H, last ? zeros : p + 2 * H, bias, bias + H,
            t > 0 ? y + (r - 1) * H : (h0 ? h0 + n * H : zeros), dy + r * H,
            last && dhn ? dhn + n * H : zeros, dp, dp + H};
  }
  F a_at(int64_t n, int64_t t, int64_t c) const {
    return F(1) - sigmoid(proj[(n * T + t) * 2 * H + c] + bias[c]);
  }
};

}  // namespace

MINRNN_DEFINE_MIN_PASSES(mingru, MinGRUForwardOp, MinGRUBackwardOp, 2)

}  // namespace minrnn::MINRNN_ISA
