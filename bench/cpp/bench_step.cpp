// One streaming step of a recurrent layer at batch 1, through the C++ API (Recurrent::step)
// and through the raw kernel (recurrent_forward with T = 1); prints JSON with the medians.
//   bench_step [cell=gru] [H=256] [threads=1] [repeat=20000]
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <random>
#include <string>
#include <vector>

#include "minrnn/model.h"

namespace {
template <class Fn>
double median_us(Fn&& fn, int repeat) {
  for (int i = 0; i < repeat / 10 + 10; ++i) fn();  // warm up
  std::vector<double> t;
  const int per = 50;  // calls per timing, so the clock's resolution does not matter
  for (int r = 0; r < std::max(1, repeat / per); ++r) {
    auto t0 = std::chrono::steady_clock::now();
    for (int i = 0; i < per; ++i) fn();
    t.push_back(std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - t0).count() / per);
  }
  std::nth_element(t.begin(), t.begin() + t.size() / 2, t.end());
  return t[t.size() / 2];
}
}  // namespace

int run(int argc, char** argv) {
  const std::string cell = argc > 1 ? argv[1] : "gru";
  const int64_t H = argc > 2 ? std::atoll(argv[2]) : 256;
  const int threads = argc > 3 ? std::atoi(argv[3]) : 1;
  const int repeat = argc > 4 ? std::atoi(argv[4]) : 20000;
  minrnn::set_num_threads(threads);
  const auto type = cell == "lstm" ? minrnn::CellType::LSTM : cell == "rnn" ? minrnn::CellType::RNNTanh
                    : cell == "mingru" ? minrnn::CellType::MinGRU : minrnn::CellType::GRU;
  const auto kcell = cell == "lstm" ? minrnn::Cell::LSTM : cell == "rnn" ? minrnn::Cell::RNNTanh : minrnn::Cell::GRU;
  minrnn::Recurrent r(type, H, H);
  std::mt19937 g(0);
  std::uniform_real_distribution<float> u(-0.06f, 0.06f);
  for (const auto& name : r.parameter_names()) {
    std::vector<float> w(r.parameter(name).size());
    for (auto& v : w) v = u(g);
    r.set_parameter(name, w.data(), int64_t(w.size()));
  }
  std::vector<float> x(H), y(H), h(H, 0.0f), c(H, 0.0f), hn(H), cn(H);
  for (auto& v : x) v = u(g);
  float* cp = r.has_cell_state() ? c.data() : nullptr;
  const double api = median_us([&] { r.step(x.data(), 1, h.data(), cp, y.data()); }, repeat);
  double raw = 0;
  if (type != minrnn::CellType::MinGRU) {
    const float *wi = r.parameter("weight_ih_l0").data(), *wh = r.parameter("weight_hh_l0").data(),
                *bi = r.parameter("bias_ih_l0").data(), *bh = r.parameter("bias_hh_l0").data();
    raw = median_us([&] {
      minrnn::recurrent_forward<float>(kcell, x.data(), wi, wh, bi, bh, h.data(), cp, y.data(), hn.data(),
                                       cp ? cn.data() : nullptr, nullptr, nullptr, 1, 1, H, H, false);
      std::copy(hn.begin(), hn.end(), h.begin());
      if (cp) std::copy(cn.begin(), cn.end(), c.begin());
    }, repeat);
  }
  std::printf("{\"cell\": \"%s\", \"H\": %lld, \"threads\": %d, \"api_us\": %.3f, \"raw_us\": %.3f}\n",
              cell.c_str(), static_cast<long long>(H), threads, api, raw);
  return 0;
}

int main(int argc, char** argv) {
  try {
    return run(argc, argv);
  } catch (const std::exception& e) {  // a bad size or thread count: say so, no abort
    std::fprintf(stderr, "bench_step: %s\n", e.what());
    return 2;
  }
}
