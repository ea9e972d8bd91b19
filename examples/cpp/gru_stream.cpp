// Run a recurrent layer saved by the Python package (e.g. minrnn.GRU(...).save(path)) over a
// stream of feature frames: float32 frames of input_size values on stdin, one float32 frame
// of hidden_size values out on stdout per frame in, state carried from frame to frame.
//
//   producer | gru_stream LAYER [--threads N] | consumer
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <string>
#include <vector>

#include "minrnn/model.h"

int main(int argc, char** argv) {
  if (argc != 2 && !(argc == 4 && !std::strcmp(argv[2], "--threads"))) {
    std::fprintf(stderr, "usage: gru_stream LAYER [--threads N] < frames.f32 > out.f32\n");
    return 2;
  }
  try {
    if (argc == 4) minrnn::set_num_threads(std::atoi(argv[3]));
    const auto rnn = minrnn::load_recurrent(argv[1]);
    if (rnn.bidirectional()) throw std::runtime_error("a bidirectional layer needs the whole sequence");
    const size_t D = size_t(rnn.input_size()), H = size_t(rnn.hidden_size());
    std::vector<float> x(D), y(H), h(size_t(rnn.state_size(1)), 0.0f),
        c(rnn.has_cell_state() ? h.size() : 0, 0.0f);
    size_t frames = 0;
    while (true) {
      const size_t got = std::fread(x.data(), sizeof(float), D, stdin);
      if (got == 0) break;
      if (got != D) throw std::runtime_error("the input ends inside a frame (" + std::to_string(got) + " of " +
                                             std::to_string(D) + " values)");
      rnn.step(x.data(), 1, h.data(), c.empty() ? nullptr : c.data(), y.data());
      if (std::fwrite(y.data(), sizeof(float), H, stdout) != H) throw std::runtime_error("cannot write the output");
      ++frames;
    }
    std::fprintf(stderr, "gru_stream: %zu frames\n", frames);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "gru_stream: error: %s\n", e.what());
    return 1;
  }
  return 0;
}
