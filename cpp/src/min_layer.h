// The layer drivers shared by MinGRU and MinLSTM: their gates read x_t only, so a
// layer is one GEMM for every projection, one fused gate+scan pass, and in backward
// one reverse fused pass followed by the input- and weight-gradient GEMMs.
// A cell supplies two ops templated on <F, Candidate>:
//   Fwd{proj, bias, y, T, H}: coef/emit as in scan_engine.h, emit writes y.
//   Bwd{proj, bias, h0, y, dy, dproj, T, H}: the reverse recurrence of dL/dh; emit
//     writes dproj; a_at(n, t, c) gives the forward coefficient a_t.
#pragma once
#include <vector>

#include "blas.h"
#include "check.h"
#include "minrnn/minrnn.h"
#include "scan_engine.h"

namespace minrnn::detail {


inline void check_layer(const char* fn, int64_t B, int64_t T, int64_t D, int64_t H, int G) {
  checked_product(fn, {B, T, D});
  checked_product(fn, {B, T, G, H});
  checked_product(fn, {G, H, D});
}

template <template <class, Candidate> class Fwd, int G, class F>
void min_layer_forward(const char* fn, const F* x, const F* w, const F* bias, const F* h0,
                       F* proj, F* y, int64_t B, int64_t T, int64_t D, int64_t H, Candidate cand,
                       ScanMode mode) {
  check_layer(fn, B, T, D, H, G);
  check_ptr(fn, "x", x, B * T * D);
  check_ptr(fn, "w", w, G * H * D);
  check_ptr(fn, "proj", proj, B * T * G * H);
  check_ptr(fn, "y", y, B * T * H);
  gemm<F>(false, true, B * T, G * H, D, F(1), x, D, w, D, F(0), proj, G * H);
  std::vector<F> zero;
  if (!bias) zero.assign(static_cast<size_t>(G * H), F(0)), bias = zero.data();
  auto go = [&](const auto& op) {
    scan_run<F>(op, B, T, H, false, h0, nullptr, mode, (G + 1) * sizeof(F));
  };
  switch (cand) {
    case Candidate::G: go(Fwd<F, Candidate::G>{proj, bias, y, T, H}); break;
    case Candidate::Identity: go(Fwd<F, Candidate::Identity>{proj, bias, y, T, H}); break;
    case Candidate::Tanh: go(Fwd<F, Candidate::Tanh>{proj, bias, y, T, H}); break;
    default: throw std::invalid_argument(std::string(fn) + ": unknown candidate activation");
  }
}

template <template <class, Candidate> class Bwd, int G, class F>
void min_layer_backward(const char* fn, const F* x, const F* w, const F* bias, const F* h0,
                        const F* proj, const F* y, const F* dy, const F* dhn, F* dproj, F* dx,
                        F* dw, F* dbias, F* dh0, int64_t B, int64_t T, int64_t D, int64_t H,
                        Candidate cand, ScanMode mode) {
  check_layer(fn, B, T, D, H, G);
  check_ptr(fn, "x", x, B * T * D);
  check_ptr(fn, "w", w, G * H * D);
  check_ptr(fn, "proj", proj, B * T * G * H);
  check_ptr(fn, "y", y, B * T * H);
  check_ptr(fn, "dy", dy, B * T * H);
  check_ptr(fn, "dproj", dproj, B * T * G * H);
  check_ptr(fn, "dx", dx, B * T * D);
  check_ptr(fn, "dw", dw, G * H * D);
  std::vector<F> zero;
  if (!bias) zero.assign(static_cast<size_t>(G * H), F(0)), bias = zero.data();
  // The reverse pass leaves g_0 = dL/dh_0 (the output at t=0) in g0; dh0 = a_0 g_0.
  std::vector<F> g0(static_cast<size_t>(B * H));
  auto go = [&](const auto& op) {
    scan_run<F>(op, B, T, H, true, dhn, g0.data(), mode, (2 * G + 2) * sizeof(F));
    if (dh0)
      for (int64_t n = 0; n < B; ++n)
        for (int64_t c = 0; c < H; ++c)
          dh0[n * H + c] = T > 0 ? op.a_at(n, 0, c) * g0[n * H + c] : g0[n * H + c];
  };
  switch (cand) {
    case Candidate::G: go(Bwd<F, Candidate::G>{proj, bias, h0, y, dy, dproj, T, H}); break;
    case Candidate::Identity:
      go(Bwd<F, Candidate::Identity>{proj, bias, h0, y, dy, dproj, T, H});
      break;
    case Candidate::Tanh: go(Bwd<F, Candidate::Tanh>{proj, bias, h0, y, dy, dproj, T, H}); break;
    default: throw std::invalid_argument(std::string(fn) + ": unknown candidate activation");
  }
  // dx = dproj w ; dw = dproj^T x ; dbias = column sums of dproj
  gemm<F>(false, false, B * T, D, G * H, F(1), dproj, G * H, w, D, F(0), dx, D);
  if (B * T > 0)
    gemm<F>(true, false, G * H, D, B * T, F(1), dproj, G * H, x, D, F(0), dw, D);
  else
    for (int64_t i = 0; i < G * H * D; ++i) dw[i] = F(0);
  if (dbias) column_sums<F>(dproj, B * T, G * H, dbias);
}

}  // namespace minrnn::detail
