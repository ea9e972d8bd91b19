// The linear scan h_t = a_t h_{t-1} + b_t, forward and backward (DESIGN.md §4).
#include "minrnn/minrnn.h"

#include <vector>

#include "check.h"
#include "scan_engine.h"

namespace minrnn {
namespace {

template <class F>
struct ScanForwardOp {
  const F *a, *b;
  F* h;
  int64_t T, C;
  void coef(int64_t n, int64_t t, int64_t c, F& a_, F& b_) const {
    const int64_t i = (n * T + t) * C + c;
    a_ = a[i];
    b_ = b[i];
  }
  void emit(int64_t n, int64_t t, int64_t c, F v) const { h[(n * T + t) * C + c] = v; }
};

// Reverse recurrence g_t = a_{t+1} g_{t+1} + dh_t (g_T = 0), emitting da_t = g_t h_{t-1}, db_t = g_t.
template <class F>
struct ScanBackwardOp {
  const F *a, *h0, *h, *dh;
  F *da, *db;
  int64_t T, C;
  void coef(int64_t n, int64_t t, int64_t c, F& a_, F& b_) const {
    const int64_t i = (n * T + t) * C + c;
    a_ = t + 1 < T ? a[i + C] : F(0);
    b_ = dh[i];
  }
  void emit(int64_t n, int64_t t, int64_t c, F g) const {
    const int64_t i = (n * T + t) * C + c;
    const F hp = t > 0 ? h[i - C] : (h0 ? h0[n * C + c] : F(0));
    db[i] = g;
    da[i] = g * hp;
  }
};

}  // namespace

ScanMode scan_choose(int64_t B, int64_t T, int64_t C) {
  return detail::scan_resolve(ScanMode::Auto, B, T, C, get_num_threads());
}

template <class F>
void scan_forward(const F* a, const F* b, const F* h0, F* h, int64_t B, int64_t T, int64_t C,
                  ScanMode mode) {
  const char* fn = "scan_forward";
  const int64_t n = detail::checked_product(fn, {B, T, C});
  detail::check_ptr(fn, "a", a, n);
  detail::check_ptr(fn, "b", b, n);
  detail::check_ptr(fn, "h", h, n);
  detail::scan_run<F>(ScanForwardOp<F>{a, b, h, T, C}, B, T, C, false, h0, nullptr, mode,
                      3 * sizeof(F));
}

template <class F>
void scan_backward(const F* a, const F* h0, const F* h, const F* dh, F* da, F* db, F* dh0,
                   int64_t B, int64_t T, int64_t C, ScanMode mode) {
  const char* fn = "scan_backward";
  const int64_t n = detail::checked_product(fn, {B, T, C});
  for (auto [name, p] : {std::pair<const char*, const void*>{"a", a}, {"h", h}, {"dh", dh},
                         {"da", da}, {"db", db}})
    detail::check_ptr(fn, name, p, n);
  // The engine leaves g_0 in g0; dh0 = a_0 g_0.
  std::vector<F> g0(static_cast<size_t>(B * C));
  detail::scan_run<F>(ScanBackwardOp<F>{a, h0, h, dh, da, db, T, C}, B, T, C, true, nullptr,
                      g0.data(), mode, 5 * sizeof(F));
  if (dh0)
    for (int64_t r = 0; r < B; ++r)
      for (int64_t c = 0; c < C; ++c)
        dh0[r * C + c] = T > 0 ? a[r * T * C + c] * g0[r * C + c] : F(0);
}

template void scan_forward<float>(const float*, const float*, const float*, float*, int64_t,
                                  int64_t, int64_t, ScanMode);
template void scan_forward<double>(const double*, const double*, const double*, double*, int64_t,
                                   int64_t, int64_t, ScanMode);
template void scan_backward<float>(const float*, const float*, const float*, const float*, float*,
                                   float*, float*, int64_t, int64_t, int64_t, ScanMode);
template void scan_backward<double>(const double*, const double*, const double*, const double*,
                                    double*, double*, double*, int64_t, int64_t, int64_t,
                                    ScanMode);

}  // namespace minrnn
