// The public entry points of the scan and the min cells: check sizes, size workspaces,
// run the GEMMs, and hand the recurrent pass to the kernels of the chosen instruction set.
#include <stdexcept>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "blas.h"
#include "check.h"
#include "kernels.h"
#include "parallel.h"
#include "workspace.h"
#include "minrnn/minrnn.h"

namespace minrnn {
namespace {

// Auto: parallel only where it wins on the measurements of bench/compare.py: long (T >= 512)
// and latency-bound (fewer than 16 channels per row, so a step's few multiply-adds wait on
// the previous step's). With more channels the sequential walk already streams at memory
// speed, and the chunked scan, which reads its inputs twice, is slower.
bool use_parallel(ScanMode mode, int64_t nb, int64_t T, int64_t C, int nt) {
  (void)nb, (void)nt;
  if (mode != ScanMode::Auto) return mode == ScanMode::Parallel;
  return T >= 512 && C < 16;
}

void check_mode(const char* fn, ScanMode mode) {
  const int m = static_cast<int>(mode);
  if (m < 0 || m > 2)
    throw std::invalid_argument(std::string(fn) + ": mode must be ScanMode::Sequential, Parallel or Auto, got ScanMode(" +
                                std::to_string(m) + ")");
}

template <class F>
struct Scratch {
  std::vector<F> work, zeros, g0;
  Scratch(bool parallel, int64_t B, int64_t C, int64_t zeros_n, int nt)
      : work(parallel ? static_cast<size_t>(detail::scan_workspace(C, nt)) : 0),
        zeros(static_cast<size_t>(zeros_n), F(0)),
        g0(static_cast<size_t>(B * C)) {}
};

}  // namespace

ScanMode scan_choose(int64_t B, int64_t T, int64_t C) {
  return use_parallel(ScanMode::Auto, B, T, C, get_num_threads()) ? ScanMode::Parallel
                                                                   : ScanMode::Sequential;
}

template <class F>
void scan_forward(const F* a, const F* b, const F* h0, F* h, int64_t B, int64_t T, int64_t C,
                  ScanMode mode) {
  const char* fn = "scan_forward";
  const int64_t n = detail::checked_product(fn, {B, T, C});
  detail::check_ptr(fn, "a", a, n);
  detail::check_ptr(fn, "b", b, n);
  detail::check_ptr(fn, "h", h, n);
  check_mode(fn, mode);
  const int nt = get_num_threads();
  const bool par = use_parallel(mode, B, T, C, nt);
  std::vector<F> work(par ? static_cast<size_t>(detail::scan_workspace(C, nt)) : 0);
  detail::kernels<F>().scan_forward(a, b, h0, h, B, T, C, par, nt, work.data());
}

template <class F>
void scan_backward(const F* a, const F* h0, const F* h, const F* dh, F* da, F* db, F* dh0,
                   int64_t B, int64_t T, int64_t C, ScanMode mode) {
  const char* fn = "scan_backward";
  const int64_t n = detail::checked_product(fn, {B, T, C});
  for (auto [name, p] : {std::pair<const char*, const void*>{"a", a}, {"h", h}, {"dh", dh},
                         {"da", da}, {"db", db}})
    detail::check_ptr(fn, name, p, n);
  check_mode(fn, mode);
  const int nt = get_num_threads();
  const bool par = use_parallel(mode, B, T, C, nt);
  Scratch<F> s(par, B, C, C, nt);
  detail::kernels<F>().scan_backward(a, h0, h, dh, s.zeros.data(), da, db, dh0, s.g0.data(), B, T,
                                     C, par, nt, s.work.data());
}

// ---- MinGRU and MinLSTM: their gates read x_t only, so a layer is one GEMM for every
// projection and one fused gate + scan pass; backward is one reverse fused pass and the
// input- and weight-gradient GEMMs. G gate blocks. ----
namespace {

template <class F>
using ForwardPass = void (*)(const F*, const F*, const F*, F*, int64_t, int64_t, int64_t,
                             Candidate, bool, int, F*);
template <class F>
using BackwardPass = void (*)(const F*, const F*, const F*, const F*, const F*, const F*,
                              const F*, F*, F*, F*, int64_t, int64_t, int64_t, Candidate, bool,
                              int, F*);

void check_layer(const char* fn, int64_t B, int64_t T, int64_t D, int64_t H, int G,
                 Candidate cand, ScanMode mode) {
  detail::checked_product(fn, {B, T, D});
  detail::checked_product(fn, {B, T, G, H});
  detail::checked_product(fn, {G, H, D});
  if (cand != Candidate::G && cand != Candidate::Identity && cand != Candidate::Tanh)
    throw std::invalid_argument(std::string(fn) + ": cand must be Candidate::G, Identity or Tanh, got Candidate(" +
                                std::to_string(static_cast<int>(cand)) + ")");
  check_mode(fn, mode);
}

template <class F, int G>
void min_scan(const char* fn, ForwardPass<F> pass, const F* proj, const F* bias, const F* h0,
              F* y, int64_t B, int64_t T, int64_t H, Candidate cand, ScanMode mode) {
  check_layer(fn, B, T, 0, H, G, cand, mode);
  detail::check_ptr(fn, "proj", proj, B * T * G * H);
  detail::check_ptr(fn, "y", y, B * T * H);
  const int nt = get_num_threads();
  const bool par = use_parallel(mode, B, T, H, nt);
  Scratch<F> s(par, 0, H, G * H, nt);
  pass(proj, bias ? bias : s.zeros.data(), h0, y, B, T, H, cand, par, nt, s.work.data());
}

template <class F, int G>
void min_forward(const char* fn, ForwardPass<F> pass, const F* x, const F* w, const F* bias,
                 const F* h0, F* proj, F* y, int64_t B, int64_t T, int64_t D, int64_t H,
                 Candidate cand, ScanMode mode) {
  check_layer(fn, B, T, D, H, G, cand, mode);
  detail::check_ptr(fn, "x", x, B * T * D);
  detail::check_ptr(fn, "w", w, G * H * D);
  if (!proj) proj = detail::workspace<F>(detail::kGates, B * T * G * H);  // inference: nothing to keep
  detail::gemm<F>(false, true, B * T, G * H, D, F(1), x, D, w, D, F(0), proj, G * H);
  min_scan<F, G>(fn, pass, proj, bias, h0, y, B, T, H, cand, mode);
}

template <class F, int G>
void min_backward(const char* fn, BackwardPass<F> pass, const F* x, const F* w, const F* bias,
                  const F* h0, const F* proj, const F* y, const F* dy, const F* dhn, F* dproj,
                  F* dx, F* dw, F* dbias, F* dh0, int64_t B, int64_t T, int64_t D, int64_t H,
                  Candidate cand, ScanMode mode) {
  check_layer(fn, B, T, D, H, G, cand, mode);
  for (auto [name, p, count] :
       {std::tuple<const char*, const void*, int64_t>{"x", x, B * T * D}, {"w", w, G * H * D},
        {"proj", proj, B * T * G * H}, {"y", y, B * T * H}, {"dy", dy, B * T * H},
        {"dx", dx, B * T * D}, {"dw", dw, G * H * D}})
    detail::check_ptr(fn, name, p, count);
  if (!dproj) dproj = detail::workspace<F>(detail::kGates, B * T * G * H);
  const int nt = get_num_threads();
  const bool par = use_parallel(mode, B, T, H, nt);
  Scratch<F> s(par, B, H, G * H, nt);  // zeros stand in for a null bias, h0 or dh_n
  pass(proj, bias ? bias : s.zeros.data(), h0, y, dy, dhn, s.zeros.data(), dproj, dh0,
       s.g0.data(), B, T, H, cand, par, nt, s.work.data());
  // dx = dproj w ; dw = dproj^T x ; dbias = column sums of dproj
  detail::gemm<F>(false, false, B * T, D, G * H, F(1), dproj, G * H, w, D, F(0), dx, D);
  detail::gemm<F>(true, false, G * H, D, B * T, F(1), dproj, G * H, x, D, F(0), dw, D);
  if (dbias) detail::column_sums<F>(dproj, B * T, G * H, dbias);
}

}  // namespace

template <class F>
void mingru_forward(const F* x, const F* w, const F* bias, const F* h0, F* proj, F* y, int64_t B,
                    int64_t T, int64_t D, int64_t H, Candidate cand, ScanMode mode) {
  min_forward<F, 2>("mingru_forward", detail::kernels<F>().mingru_forward, x, w, bias, h0, proj,
                    y, B, T, D, H, cand, mode);
}
template <class F>
void minlstm_forward(const F* x, const F* w, const F* bias, const F* h0, F* proj, F* y, int64_t B,
                     int64_t T, int64_t D, int64_t H, Candidate cand, ScanMode mode) {
  min_forward<F, 3>("minlstm_forward", detail::kernels<F>().minlstm_forward, x, w, bias, h0,
                    proj, y, B, T, D, H, cand, mode);
}
template <class F>
void mingru_scan(const F* proj, const F* bias, const F* h0, F* y, int64_t B, int64_t T, int64_t H,
                 Candidate cand, ScanMode mode) {
  min_scan<F, 2>("mingru_scan", detail::kernels<F>().mingru_forward, proj, bias, h0, y, B, T, H,
                 cand, mode);
}
template <class F>
void minlstm_scan(const F* proj, const F* bias, const F* h0, F* y, int64_t B, int64_t T,
                  int64_t H, Candidate cand, ScanMode mode) {
  min_scan<F, 3>("minlstm_scan", detail::kernels<F>().minlstm_forward, proj, bias, h0, y, B, T,
                 H, cand, mode);
}

template <class F>
void stream_mul_add(const F* a, const F* b, F* out, int64_t n) {
  const char* fn = "stream_mul_add";
  detail::checked_product(fn, {n});
  detail::check_ptr(fn, "a", a, n);
  detail::check_ptr(fn, "b", b, n);
  detail::check_ptr(fn, "out", out, n);
  const int nt = get_num_threads();
  detail::run_threads(true, nt, [&] {
#pragma omp for schedule(static)
    for (int64_t i = 0; i < n; ++i) out[i] = a[i] * b[i] + b[i];
  });
}

template <class F>
void mingru_backward(const F* x, const F* w, const F* bias, const F* h0, const F* proj,
                     const F* y, const F* dy, const F* dhn, F* dproj, F* dx, F* dw, F* dbias,
                     F* dh0, int64_t B, int64_t T, int64_t D, int64_t H, Candidate cand,
                     ScanMode mode) {
  min_backward<F, 2>("mingru_backward", detail::kernels<F>().mingru_backward, x, w, bias, h0,
                     proj, y, dy, dhn, dproj, dx, dw, dbias, dh0, B, T, D, H, cand, mode);
}
template <class F>
void minlstm_backward(const F* x, const F* w, const F* bias, const F* h0, const F* proj,
                      const F* y, const F* dy, const F* dhn, F* dproj, F* dx, F* dw, F* dbias,
                      F* dh0, int64_t B, int64_t T, int64_t D, int64_t H, Candidate cand,
                      ScanMode mode) {
  min_backward<F, 3>("minlstm_backward", detail::kernels<F>().minlstm_backward, x, w, bias, h0,
                     proj, y, dy, dhn, dproj, dx, dw, dbias, dh0, B, T, D, H, cand, mode);
}

#define MINRNN_INSTANTIATE(F)                                                                   \
  template void scan_forward<F>(const F*, const F*, const F*, F*, int64_t, int64_t, int64_t,    \
                                ScanMode);                                                      \
  template void scan_backward<F>(const F*, const F*, const F*, const F*, F*, F*, F*, int64_t,   \
                                 int64_t, int64_t, ScanMode);                                   \
  template void mingru_forward<F>(const F*, const F*, const F*, const F*, F*, F*, int64_t,      \
                                  int64_t, int64_t, int64_t, Candidate, ScanMode);              \
  template void minlstm_forward<F>(const F*, const F*, const F*, const F*, F*, F*, int64_t,     \
                                   int64_t, int64_t, int64_t, Candidate, ScanMode);             \
  template void mingru_backward<F>(const F*, const F*, const F*, const F*, const F*, const F*,  \
                                   const F*, const F*, F*, F*, F*, F*, F*, int64_t, int64_t,    \
                                   int64_t, int64_t, Candidate, ScanMode);                      \
  template void minlstm_backward<F>(const F*, const F*, const F*, const F*, const F*, const F*, \
                                    const F*, const F*, F*, F*, F*, F*, F*, int64_t, int64_t,   \
                                    int64_t, int64_t, Candidate, ScanMode);                     \
  template void mingru_scan<F>(const F*, const F*, const F*, F*, int64_t, int64_t, int64_t,     \
                               Candidate, ScanMode);                                            \
  template void minlstm_scan<F>(const F*, const F*, const F*, F*, int64_t, int64_t, int64_t,    \
                                Candidate, ScanMode);                                           \
  template void stream_mul_add<F>(const F*, const F*, F*, int64_t);
MINRNN_INSTANTIATE(float)
MINRNN_INSTANTIATE(double)

}  // namespace minrnn
