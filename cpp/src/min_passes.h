// The forward and backward passes shared by MinGRU and MinLSTM (compiled per instruction
// set with them). A cell supplies two ops templated on <F, Candidate>:
//   Fwd{proj, bias, y, T, H}: an op as in scan_engine.h whose rows write y.
//   Bwd{proj, bias, h0, y, dy, dhn, zeros, dproj, T, H}: the reverse recurrence of dL/dh,
//     whose rows write dproj; a_at(n, t, c) gives the forward coefficient a_t.
// bytes_* are the bytes one element of the pass moves (to size the parallel scan's chunks).
#pragma once
#include "scan_engine.h"

namespace minrnn::MINRNN_ISA {

template <template <class, Candidate> class Fwd, int64_t bytes, class F>
void min_forward_pass(const F* proj, const F* bias, const F* h0, F* y, int64_t B, int64_t T,
                      int64_t H, Candidate cand, bool parallel, int nt, F* work) {
  auto go = [&](const auto& op) {
    scan_run<F>(op, B, T, H, false, h0, nullptr, parallel, nt, bytes, work);
  };
  switch (cand) {
    case Candidate::G: go(Fwd<F, Candidate::G>{proj, bias, y, T, H}); break;
    case Candidate::Identity: go(Fwd<F, Candidate::Identity>{proj, bias, y, T, H}); break;
    case Candidate::Tanh: go(Fwd<F, Candidate::Tanh>{proj, bias, y, T, H}); break;
  }
}

// g0 (B, H) receives dL/dh at t = 0; then dh0 = a_0 g_0 (dL/dh_n itself when T = 0).
template <template <class, Candidate> class Bwd, int64_t bytes, class F>
void min_backward_pass(const F* proj, const F* bias, const F* h0, const F* y, const F* dy,
                       const F* dhn, const F* zeros, F* dproj, F* dh0, F* g0, int64_t B,
                       int64_t T, int64_t H, Candidate cand, bool parallel, int nt, F* work) {
  auto go = [&](const auto& op) {
    scan_run<F>(op, B, T, H, true, nullptr, g0, parallel, nt, bytes, work);
    if (dh0)
      for (int64_t n = 0; n < B; ++n)
        for (int64_t c = 0; c < H; ++c)
          dh0[n * H + c] = T > 0 ? op.a_at(n, 0, c) * g0[n * H + c] : (dhn ? dhn[n * H + c] : F(0));
  };
  switch (cand) {
    case Candidate::G: go(Bwd<F, Candidate::G>{proj, bias, h0, y, dy, dhn, zeros, dproj, T, H}); break;
    case Candidate::Identity:
      go(Bwd<F, Candidate::Identity>{proj, bias, h0, y, dy, dhn, zeros, dproj, T, H});
      break;
    case Candidate::Tanh: go(Bwd<F, Candidate::Tanh>{proj, bias, h0, y, dy, dhn, zeros, dproj, T, H}); break;
  }
}

}  // namespace minrnn::MINRNN_ISA

// Defines <cell>_forward_pass / <cell>_backward_pass (kernels.h) for float and double.
#define MINRNN_DEFINE_MIN_PASSES(cell, Fwd, Bwd, G)                                             \
  template <class F>                                                                           \
  void cell##_forward_pass(const F* proj, const F* bias, const F* h0, F* y, int64_t B,         \
                           int64_t T, int64_t H, Candidate cand, bool parallel, int nt,        \
                           F* work) {                                                          \
    min_forward_pass<Fwd, (G + 1) * sizeof(F)>(proj, bias, h0, y, B, T, H, cand, parallel, nt, \
                                              work);                                           \
  }                                                                                            \
  template <class F>                                                                           \
  void cell##_backward_pass(const F* proj, const F* bias, const F* h0, const F* y,             \
                            const F* dy, const F* dhn, const F* zeros, F* dproj, F* dh0,       \
                            F* g0, int64_t B, int64_t T, int64_t H, Candidate cand,            \
                            bool parallel, int nt, F* work) {                                  \
    min_backward_pass<Bwd, (2 * G + 2) * sizeof(F)>(proj, bias, h0, y, dy, dhn, zeros, dproj,  \
                                                    dh0, g0, B, T, H, cand, parallel, nt,      \
                                                    work);                                     \
  }                                                                                            \
  template void cell##_forward_pass<float>(const float*, const float*, const float*, float*,   \
                                           int64_t, int64_t, int64_t, Candidate, bool, int,    \
                                           float*);                                            \
  template void cell##_forward_pass<double>(const double*, const double*, const double*,       \
                                            double*, int64_t, int64_t, int64_t, Candidate,     \
                                            bool, int, double*);                               \
  template void cell##_backward_pass<float>(const float*, const float*, const float*,          \
                                            const float*, const float*, const float*,          \
                                            const float*, float*, float*, float*, int64_t,     \
                                            int64_t, int64_t, Candidate, bool, int, float*);   \
  template void cell##_backward_pass<double>(const double*, const double*, const double*,      \
                                             const double*, const double*, const double*,      \
                                             const double*, double*, double*, double*,         \
                                             int64_t, int64_t, int64_t, Candidate, bool, int,  \
                                             double*);
