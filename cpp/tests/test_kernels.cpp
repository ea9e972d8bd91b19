// C++ tests of the core without Python: the public API against plain loops (float64).
#include <array>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <string>
#include <random>
#include <stdexcept>
#include <utility>
#include <vector>

#include "minrnn/minrnn.h"
#include "minrnn/model.h"
#ifdef _OPENMP
#include <omp.h>
#endif

namespace {
int failures = 0;

void expect_close(const char* what, const std::vector<double>& got,
                  const std::vector<double>& want, double tol) {
  double worst = 0;
  for (size_t i = 0; i < got.size(); ++i) worst = std::fmax(worst, std::fabs(got[i] - want[i]));
  if (got.size() != want.size() || !(worst <= tol)) {
    std::printf("FAIL %s: max error %g > %g\n", what, worst, tol);
    ++failures;
  } else {
    std::printf("ok   %s (max error %.1e)\n", what, worst);
  }
}

std::vector<double> random(std::mt19937& g, size_t n, double lo, double hi) {
  std::uniform_real_distribution<double> d(lo, hi);
  std::vector<double> v(n);
  for (auto& x : v) x = d(g);
  return v;
}

double sigmoid(double x) { return 1 / (1 + std::exp(-x)); }

void test_scan(std::mt19937& g, minrnn::ScanMode mode, const char* name) {
  const int64_t B = 3, T = 2000, C = 5;
  auto a = random(g, B * T * C, 0.5, 1.0), b = random(g, B * T * C, -1, 1), h0 = random(g, B * C, -1, 1);
  std::vector<double> h(B * T * C), want(B * T * C);
  minrnn::scan_forward<double>(a.data(), b.data(), h0.data(), h.data(), B, T, C, mode);
  for (int64_t n = 0; n < B; ++n)
    for (int64_t c = 0; c < C; ++c) {
      double s = h0[n * C + c];
      for (int64_t t = 0; t < T; ++t) {
        const int64_t i = (n * T + t) * C + c;
        s = a[i] * s + b[i];
        want[i] = s;
      }
    }
  expect_close(name, h, want, 1e-10);
}

// One GRU layer (PyTorch's reset-after form) against the equations.
void test_gru(std::mt19937& g) {
  const int64_t B = 2, T = 7, D = 3, H = 4;
  auto x = random(g, B * T * D, -1, 1), wi = random(g, 3 * H * D, -0.5, 0.5),
       wh = random(g, 3 * H * H, -0.5, 0.5), bi = random(g, 3 * H, -0.5, 0.5),
       bh = random(g, 3 * H, -0.5, 0.5);
  std::vector<double> y(B * T * H), hn(B * H), want(B * T * H);
  minrnn::recurrent_forward<double>(minrnn::Cell::GRU, x.data(), wi.data(), wh.data(), bi.data(),
                                    bh.data(), nullptr, nullptr, y.data(), hn.data(), nullptr,
                                    nullptr, nullptr, B, T, D, H, false);
  for (int64_t n = 0; n < B; ++n) {
    std::vector<double> h(H, 0.0), hx(3 * H), hh(3 * H);
    for (int64_t t = 0; t < T; ++t) {
      for (int64_t r = 0; r < 3 * H; ++r) {
        hx[r] = bi[r], hh[r] = bh[r];
        for (int64_t k = 0; k < D; ++k) hx[r] += wi[r * D + k] * x[(n * T + t) * D + k];
        for (int64_t k = 0; k < H; ++k) hh[r] += wh[r * H + k] * h[k];
      }
      for (int64_t c = 0; c < H; ++c) {
        const double rg = sigmoid(hx[c] + hh[c]), z = sigmoid(hx[H + c] + hh[H + c]);
        const double nn = std::tanh(hx[2 * H + c] + rg * hh[2 * H + c]);
        want[(n * T + t) * H + c] = (1 - z) * nn + z * h[c];
      }
      for (int64_t c = 0; c < H; ++c) h[c] = want[(n * T + t) * H + c];
    }
  }
  expect_close("recurrent_forward GRU", y, want, 1e-12);
}

// One forward and backward of a classic cell in precision F from double inputs: y, dx and
// dW_hh, as double.
template <class F>
std::array<std::vector<double>, 3> forward_backward(minrnn::Cell cell, const std::vector<double>& x,
                                                    const std::vector<double>& wi, const std::vector<double>& wh,
                                                    const std::vector<double>& bi, const std::vector<double>& bh,
                                                    const std::vector<double>& dy, int64_t B, int64_t T,
                                                    int64_t D, int64_t H) {
  auto cast = [](const std::vector<double>& v) { return std::vector<F>(v.begin(), v.end()); };
  auto back = [](const std::vector<F>& v) { return std::vector<double>(v.begin(), v.end()); };
  const int64_t GH = minrnn::cell_gates(cell) * H, SH = minrnn::cell_store(cell) * H;
  auto xf = cast(x), wif = cast(wi), whf = cast(wh), bif = cast(bi), bhf = cast(bh), dyf = cast(dy);
  std::vector<F> y(B * T * H), st(B * T * SH), dx(B * T * D), dwi(GH * D), dwh(GH * H);
  minrnn::recurrent_forward<F>(cell, xf.data(), wif.data(), whf.data(), bif.data(), bhf.data(), nullptr,
                               nullptr, y.data(), nullptr, nullptr, nullptr, st.data(), B, T, D, H, false);
  minrnn::recurrent_backward<F>(cell, xf.data(), wif.data(), whf.data(), nullptr, nullptr, st.data(),
                                y.data(), dyf.data(), nullptr, nullptr, dx.data(), dwi.data(), dwh.data(),
                                nullptr, nullptr, nullptr, nullptr, B, T, D, H, false);
  return {back(y), back(dx), back(dwh)};
}

// float32 against float64 for every classic cell at batches and widths that take the packed
// step products (batch >= 3, gemm_packed.cpp) in float32 and the BLAS in float64: forward,
// and backward's input and recurrent-weight gradients.
void test_packed_products(std::mt19937& g) {
  using minrnn::Cell;
  const int64_t T = 6, D = 7;
  for (Cell cell : {Cell::RNNTanh, Cell::LSTM, Cell::GRU, Cell::GRUResetBefore, Cell::MGU})
    for (auto [B, H] : {std::pair<int64_t, int64_t>{3, 20}, {13, 45}, {9, 160}}) {
      const int64_t GH = minrnn::cell_gates(cell) * H;
      auto x = random(g, B * T * D, -1, 1), wi = random(g, GH * D, -0.3, 0.3),
           wh = random(g, GH * H, -0.3, 0.3), bi = random(g, GH, -0.3, 0.3),
           bh = random(g, GH, -0.3, 0.3), dy = random(g, B * T * H, -1, 1);
      const auto want = forward_backward<double>(cell, x, wi, wh, bi, bh, dy, B, T, D, H);
      const auto got = forward_backward<float>(cell, x, wi, wh, bi, bh, dy, B, T, D, H);
      const std::string at = " cell " + std::to_string(static_cast<int>(cell)) + " B=" +
                             std::to_string(B) + " H=" + std::to_string(H);
      expect_close(("float32 forward" + at).c_str(), got[0], want[0], 1e-5);
      expect_close(("float32 dx" + at).c_str(), got[1], want[1], 1e-4);
      expect_close(("float32 dW_hh" + at).c_str(), got[2], want[2], 1e-4);
    }
}

// Embedding lookup and scatter, and softmax cross-entropy (loss and fused gradient).
void test_lm_layers(std::mt19937& g) {
  const int64_t N = 40, V = 13, E = 3;
  std::vector<int64_t> ids(N), targets(N);
  for (int64_t n = 0; n < N; ++n) ids[n] = (n * 7) % V, targets[n] = (n * 5) % V;
  targets[3] = -100;
  auto table = random(g, V * E, -1, 1), dout = random(g, N * E, -1, 1);
  std::vector<double> out(N * E), want(N * E), dtable(V * E), dwant(V * E, 0.0);
  minrnn::embedding_forward<double>(ids.data(), table.data(), out.data(), N, V, E);
  for (int64_t n = 0; n < N; ++n)
    for (int64_t e = 0; e < E; ++e) {
      want[n * E + e] = table[ids[n] * E + e];
      dwant[ids[n] * E + e] += dout[n * E + e];
    }
  expect_close("embedding_forward", out, want, 0);
  minrnn::embedding_backward<double>(ids.data(), dout.data(), dtable.data(), N, V, E);
  expect_close("embedding_backward", dtable, dwant, 1e-12);

  auto logits = random(g, N * V, -5, 5);
  std::vector<double> rows(N), mx(N), ls(N), d(N * V), dref(N * V, 0.0);
  int64_t count = 0;
  const double loss = minrnn::cross_entropy_forward<double>(
      logits.data(), targets.data(), rows.data(), mx.data(), ls.data(), d.data(), N, V, -100, &count);
  double sum = 0;
  for (int64_t n = 0; n < N; ++n) {
    if (targets[n] == -100) continue;
    double z = 0;
    for (int64_t v = 0; v < V; ++v) z += std::exp(logits[n * V + v]);
    sum += std::log(z) - logits[n * V + targets[n]];
    for (int64_t v = 0; v < V; ++v) dref[n * V + v] = std::exp(logits[n * V + v]) / z / (N - 1);
    dref[n * V + targets[n]] -= 1.0 / (N - 1);
  }
  expect_close("cross_entropy_forward", {loss, double(count)}, {sum / (N - 1), double(N - 1)}, 1e-12);
  expect_close("cross_entropy fused gradient", d, dref, 1e-14);
  std::vector<double> d2(N * V);
  minrnn::cross_entropy_backward<double>(logits.data(), targets.data(), mx.data(), ls.data(),
                                         d2.data(), N, V, -100, 1.0 / (N - 1));
  expect_close("cross_entropy_backward", d2, dref, 1e-14);
  bool threw = false;
  try {
    ids[0] = V;
    minrnn::embedding_forward<double>(ids.data(), table.data(), out.data(), N, V, E);
  } catch (const std::out_of_range&) {
    threw = true;
  }
  std::printf("%s  embedding id out of range refused\n", threw ? "ok  " : "FAIL");
  failures += !threw;
}

// The Recurrent class: a stack streamed one step at a time equals its forward pass.
void test_recurrent_class(std::mt19937& g) {
  for (auto cell : {minrnn::CellType::GRU, minrnn::CellType::LSTM, minrnn::CellType::MinGRU}) {
    minrnn::Recurrent r(cell, 3, 5, 2);
    for (const auto& name : r.parameter_names()) {
      auto v = random(g, r.parameter(name).size(), -0.5, 0.5);
      std::vector<float> f(v.begin(), v.end());
      r.set_parameter(name, f.data(), int64_t(f.size()));
    }
    const int64_t B = 2, T = 6;
    auto xv = random(g, B * T * 3, -1, 1);
    std::vector<float> x(xv.begin(), xv.end()), y(B * T * 5), h(r.state_size(B), 0.0f),
        c(r.has_cell_state() ? h.size() : 0, 0.0f), yt(B * 5), xt(B * 3);
    r.forward(x.data(), B, T, y.data());
    std::vector<double> got, want;
    for (int64_t t = 0; t < T; ++t) {
      for (int64_t b = 0; b < B; ++b)
        for (int64_t d = 0; d < 3; ++d) xt[b * 3 + d] = x[(b * T + t) * 3 + d];
      r.step(xt.data(), B, h.data(), c.empty() ? nullptr : c.data(), yt.data());
      for (int64_t b = 0; b < B; ++b)
        for (int64_t k = 0; k < 5; ++k) got.push_back(yt[b * 5 + k]), want.push_back(y[(b * T + t) * 5 + k]);
    }
    expect_close("Recurrent step == forward", got, want, 1e-6);
  }
  minrnn::Recurrent r(minrnn::CellType::GRU, 3, 5);
  int refused = 0;
  try { r.step(nullptr, 1, nullptr, nullptr, nullptr); } catch (const std::invalid_argument&) { ++refused; }
  try { std::vector<float> w(7); r.set_parameter("weight_hh_l0", w.data(), 7); } catch (const std::invalid_argument&) { ++refused; }
  try { r.parameter("weight_hh_l9"); } catch (const std::invalid_argument&) { ++refused; }
  try {
    const char* path = "minrnn_test_garbage.ckpt";
    std::ofstream(path) << "PK not a zip at all";
    struct Remove { const char* p; ~Remove() { std::remove(p); } } cleanup{path};
    minrnn::LanguageModel::load(path);
  } catch (const minrnn::ModelError&) { ++refused; }
  try { minrnn::load_recurrent("/nonexistent/model.ckpt"); } catch (const minrnn::ModelError&) { ++refused; }
  std::printf("%s  bad arguments and files refused (%d of 5)\n", refused == 5 ? "ok  " : "FAIL", refused);
  failures += refused != 5;
}

// Calls made from inside the caller's own OpenMP region (by one thread, or by every thread
// on its own buffers) give the serial results: minrnn's worksharing and barriers bind to
// its own team, never to the caller's, whose other threads are not in the call.
void test_inside_caller_region(std::mt19937& g) {
#ifdef _OPENMP
  for (auto cell : {minrnn::CellType::GRU, minrnn::CellType::LSTM, minrnn::CellType::RNNTanh,
                    minrnn::CellType::MGU, minrnn::CellType::MinGRU}) {
    for (int64_t H : {16, 160}) {  // 160: a two-thread team walks the steps
      minrnn::Recurrent r(cell, 8, H);
      for (const auto& name : r.parameter_names()) {
        auto v = random(g, r.parameter(name).size(), -0.3, 0.3);
        std::vector<float> f(v.begin(), v.end());
        r.set_parameter(name, f.data(), int64_t(f.size()));
      }
      const int64_t B = 2, T = 20;
      auto xv = random(g, B * T * 8, -1, 1);
      std::vector<float> x(xv.begin(), xv.end()), want(B * T * H), one(B * T * H), mine[2];
      r.forward(x.data(), B, T, want.data());
#pragma omp parallel num_threads(2)
      {
#pragma omp single
        r.forward(x.data(), B, T, one.data());
      }
#pragma omp parallel num_threads(2)
      {
        std::vector<float> y(B * T * H);
        r.forward(x.data(), B, T, y.data());
        mine[omp_get_thread_num()] = y;
      }
      std::vector<double> got, ref;
      for (const auto* y : {&one, &mine[0], &mine[1]})
        for (size_t i = 0; i < want.size(); ++i) got.push_back(y->size() ? (*y)[i] : NAN), ref.push_back(want[i]);
      expect_close("forward from inside the caller's OpenMP region", got, ref, 0.0);
    }
  }
  // the entry points that branch around their region on small calls
  const int64_t M = 3, K = 4, N = 5;
  auto xv = random(g, M * K, -1, 1), wv = random(g, N * K, -1, 1), bv = random(g, N, -1, 1);
  std::vector<float> x(xv.begin(), xv.end()), w(wv.begin(), wv.end()), b(bv.begin(), bv.end());
  std::vector<float> want(M * N), got(2 * M * N);
  minrnn::linear_forward<float>(x.data(), w.data(), b.data(), want.data(), M, K, N);
#pragma omp parallel num_threads(2)
  minrnn::linear_forward<float>(x.data(), w.data(), b.data(), got.data() + omp_get_thread_num() * M * N, M, K, N);
  std::vector<double> g2(got.begin(), got.end()), w2;
  for (int i = 0; i < 2; ++i) w2.insert(w2.end(), want.begin(), want.end());
  expect_close("linear_forward from inside the caller's OpenMP region", g2, w2, 0.0);
#endif
}

// fn() throws E, whose message holds `says` if given.
template <class E, class Fn>
void expect_throws(const char* what, Fn&& fn, const char* says = nullptr) {
  bool ok = false;
  try {
    fn();
  } catch (const E& e) {
    ok = !says || std::string(e.what()).find(says) != std::string::npos;
    if (!ok) std::printf("     %s said: %s\n", what, e.what());
  } catch (const std::exception& e) {
    std::printf("     %s threw something else: %s\n", what, e.what());
  }
  std::printf("%s  %s\n", ok ? "ok  " : "FAIL", what);
  failures += !ok;
}

// Null arrays, negative sizes and values outside an enum are refused before any work,
// never read through.
void test_errors() {
  using minrnn::Candidate;
  using minrnn::ScanMode;
  using E = std::invalid_argument;
  std::vector<float> v(1000, 0.5f);
  float* p = v.data();
  const int64_t ids[4] = {0, 1, 2, 1};
  expect_throws<E>("scan_forward: null a", [&] {
    minrnn::scan_forward<float>(nullptr, nullptr, nullptr, nullptr, 1, 5, 1, ScanMode::Auto);
  });
  expect_throws<E>("scan_forward: ScanMode(9)", [&] {
    minrnn::scan_forward<float>(p, p, nullptr, p + 100, 1, 5, 1, ScanMode(9));
  });
  expect_throws<E>("scan_backward: ScanMode(-1)", [&] {
    minrnn::scan_backward<float>(p, nullptr, p, p, p + 100, p + 200, nullptr, 1, 5, 1, ScanMode(-1));
  });
  expect_throws<E>("mingru_forward: ScanMode(9)", [&] {
    minrnn::mingru_forward<float>(p, p, nullptr, nullptr, nullptr, p + 100, 1, 2, 3, 4, Candidate::G, ScanMode(9));
  });
  expect_throws<E>("minlstm_scan: Candidate(7)", [&] {
    minrnn::minlstm_scan<float>(p, nullptr, nullptr, p + 100, 1, 2, 4, Candidate(7), ScanMode::Auto);
  });
  expect_throws<E>("cross_entropy_forward: null logits", [&] {
    minrnn::cross_entropy_forward<float>(nullptr, ids, p, p, p, nullptr, 4, 3, -100, nullptr);
  });
  expect_throws<E>("cross_entropy_forward: null targets", [&] {
    minrnn::cross_entropy_forward<float>(p, nullptr, p + 10, p + 20, p + 30, nullptr, 4, 3, -100, nullptr);
  });
  expect_throws<E>("cross_entropy_forward: null row_loss", [&] {
    minrnn::cross_entropy_forward<float>(p, ids, nullptr, p + 20, p + 30, nullptr, 4, 3, -100, nullptr);
  });
  expect_throws<E>("cross_entropy_backward: null row_max", [&] {
    minrnn::cross_entropy_backward<float>(p, ids, nullptr, p + 30, p + 40, 4, 3, -100, 1.0);
  });
  expect_throws<E>("embedding_forward: null table", [&] { minrnn::embedding_forward<float>(ids, nullptr, p, 4, 3, 2); });
  expect_throws<E>("embedding_forward: null ids", [&] { minrnn::embedding_forward<float>(nullptr, p, p + 10, 4, 3, 2); });
  expect_throws<E>("embedding_backward: null ids", [&] { minrnn::embedding_backward<float>(nullptr, p, p + 10, 4, 3, 2); });
  expect_throws<E>("linear_backward: null dy", [&] {
    minrnn::linear_backward<float>(p, p, nullptr, p + 100, p + 200, nullptr, 3, 4, 5);
  });
  expect_throws<E>("linear_backward: null x with dw", [&] {
    minrnn::linear_backward<float>(nullptr, p, p, nullptr, p + 200, nullptr, 3, 4, 5);
  });
  expect_throws<E>("mse_forward: null pred", [&] { minrnn::mse_forward<float>(nullptr, p, 5); });
  expect_throws<E>("mse_forward: n = -3", [&] { minrnn::mse_forward<float>(p, p, -3); });
  expect_throws<E>("mse_backward: null dpred", [&] { minrnn::mse_backward<float>(p, p, nullptr, 5, 1.0); });
  expect_throws<E>("stream_mul_add: null out", [&] { minrnn::stream_mul_add<float>(p, p, nullptr, 5); });

  // what may be null: cross-entropy's row_max and log_sum, linear_backward's x without dw
  // and w without dx
  std::vector<float> logits = {1, 2, 3, 0, 0, 0, -1, 5, 2, 4, 4, 4}, rows(4), mx(4), ls(4);
  const double full = minrnn::cross_entropy_forward<float>(logits.data(), ids, rows.data(), mx.data(), ls.data(),
                                                           nullptr, 4, 3, -100, nullptr);
  const double bare = minrnn::cross_entropy_forward<float>(logits.data(), ids, rows.data(), nullptr, nullptr,
                                                           nullptr, 4, 3, -100, nullptr);
  minrnn::linear_backward<float>(nullptr, p, p, p + 100, nullptr, p + 200, 3, 4, 5);
  minrnn::linear_backward<float>(p, nullptr, p, nullptr, p + 100, nullptr, 3, 4, 5);
  expect_close("cross_entropy_forward without row_max and log_sum", {bare}, {full}, 0.0);
}
// The Recurrent class refuses what it cannot run before it allocates or reads anything:
// values outside an enum, sizes that overflow or cannot fit, a cell state for a cell
// without one.
void test_recurrent_arguments() {
  using minrnn::CellType;
  using minrnn::Recurrent;
  using E = std::invalid_argument;
  using O = std::overflow_error;
  std::vector<float> v(1000, 0.5f);
  float* p = v.data();
  expect_throws<E>("Recurrent: CellType(99)", [&] { Recurrent r(CellType(99), 3, 4); });
  expect_throws<E>("Recurrent: Candidate(7)", [&] {
    Recurrent r(CellType::MinGRU, 3, 4, 1, false, true, minrnn::Candidate(7));
  });
  expect_throws<E>("Recurrent: ScanMode(9)", [&] {
    Recurrent r(CellType::MinLSTM, 3, 4, 1, false, true, minrnn::Candidate::G, minrnn::ScanMode(9));
  });
  expect_throws<O>("Recurrent: hidden_size 2^62", [&] { Recurrent r(CellType::GRU, 4, int64_t(1) << 62); });
  expect_throws<O>("Recurrent: input_size 2^62", [&] { Recurrent r(CellType::GRU, int64_t(1) << 62, 4); });
  expect_throws<std::bad_alloc>(
      "Recurrent: 2^40 layers (more than any machine's memory)",
      [&] { Recurrent r(CellType::GRU, 4, 4, int64_t(1) << 40); }, "num_layers 1099511627776: the weights need");
  Recurrent gru(CellType::GRU, 3, 4);
  expect_throws<O>("Recurrent::forward: B = T = 2^31", [&] { gru.forward(p, int64_t(1) << 31, int64_t(1) << 31, p); });
  expect_throws<O>("Recurrent::forward: B = 2^33", [&] { gru.forward(p, int64_t(1) << 33, 1, p); });
  expect_throws<O>("Recurrent::step: B = 2^40", [&] { gru.step(p, int64_t(1) << 40, p, nullptr, p); });
  expect_throws<O>("Recurrent::step: B = 2^62", [&] { gru.step(p, int64_t(1) << 62, p, nullptr, p); });
  expect_throws<E>("Recurrent::forward: cn for a GRU", [&] {
    gru.forward(p, 1, 2, p + 100, nullptr, nullptr, p + 200, p + 300);
  });
  expect_throws<E>("Recurrent::step: c for a GRU", [&] { gru.step(p, 1, p + 100, p + 300, p + 200); });
}

// set_parameter checks every value at about the speed of a copy (it ran at 64 MB/s).
void test_set_parameter() {
  minrnn::Recurrent r(minrnn::CellType::MinGRU, 2048, 4096);
  std::vector<float> w(size_t(2 * 4096) * 2048, 0.25f), copy(w.size());
  auto seconds = [](auto&& fn) {
    const auto t0 = std::chrono::steady_clock::now();
    fn();
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  };
  const double c = seconds([&] { std::copy(w.begin(), w.end(), copy.begin()); });
  const double s = seconds([&] { r.set_parameter("weight_ih_l0", w.data(), int64_t(w.size())); });
  const bool fast = s < 0.05 + 20 * c;
  std::printf("%s  set_parameter of 64 MB in %.3f s (a copy: %.3f s)\n", fast ? "ok  " : "FAIL", s, c);
  failures += !fast;
  w[123457] = NAN;
  bool named = false;
  try {
    r.set_parameter("weight_ih_l0", w.data(), int64_t(w.size()));
  } catch (const std::invalid_argument& e) {
    named = std::string(e.what()).find("weight_ih_l0' contains non-finite values (nan at index 123457)") != std::string::npos;
  }
  std::printf("%s  set_parameter names the first non-finite value\n", named ? "ok  " : "FAIL");
  failures += !named;
}

// release_workspace() frees what Recurrent::step keeps for the next step too.
void test_release_step_scratch() {
#if defined(__linux__) && !defined(__SANITIZE_ADDRESS__)  // ASan holds freed memory back
  const char* preload = std::getenv("LD_PRELOAD");
  if (preload && std::strstr(preload, "vgpreload")) return;  // and so does valgrind
  auto rss_mb = [] {
    std::ifstream in("/proc/self/statm");
    long size = 0, resident = 0;
    in >> size >> resident;
    return double(resident) * 4096 / (1 << 20);
  };
  minrnn::Recurrent r(minrnn::CellType::RNNTanh, 1, 8);
  const int64_t B = 1 << 19;  // the step's scratch: B * (1 + 3 * 8) floats, 50 MB
  std::vector<float> x(B, 0.5f), h(B * 8, 0.0f), y(B * 8, 0.0f);
  minrnn::release_workspace();
  const double before = rss_mb();
  r.step(x.data(), B, h.data(), nullptr, y.data());
  const double during = rss_mb();
  minrnn::release_workspace();
  const double after = rss_mb();
  const bool ok = during - before > 40 && after - before < 8;
  std::printf("%s  release_workspace frees the step's scratch (resident %.0f MB, %.0f during the step, %.0f after)\n",
              ok ? "ok  " : "FAIL", before, during, after);
  failures += !ok;
#endif
}
}  // namespace

int main() {
  std::mt19937 g(7);
  for (int threads : {1, 2}) {
    minrnn::set_num_threads(threads);
    test_scan(g, minrnn::ScanMode::Sequential, "scan_forward sequential");
    test_scan(g, minrnn::ScanMode::Parallel, "scan_forward parallel");
    test_gru(g);
    test_packed_products(g);
    test_lm_layers(g);
  }
  test_recurrent_class(g);
  minrnn::set_num_threads(2);
  test_inside_caller_region(g);
  test_errors();
  test_recurrent_arguments();
  test_set_parameter();
  test_release_step_scratch();
  std::printf("%d failed\n", failures);
  return failures ? 1 : 0;
}
