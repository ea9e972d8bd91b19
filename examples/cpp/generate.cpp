// Generate text from a language model saved by the Python package, one token at a time.
//
//   generate MODEL [--prime TEXT] [-n N] [--temperature T] [--top-k K] [--seed S] [--threads N]
//
// Prints the prime, then each token as it is drawn. The same seed draws the same tokens
// as LanguageModel.sample in Python.
#include <cctype>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <string>
#include <vector>

#include "minrnn/model.h"

// A seed as Python's int() and `minrnn sample --seed` read one (spaces around it, a sign,
// '_' between digits), in [0, 2^64): the sampler's state is 64 bits, and a larger seed
// would wrap around silently.
bool parse_seed(const char* v, unsigned long long& seed) {
  const char* p = v;
  while (std::isspace(static_cast<unsigned char>(*p))) ++p;
  const bool negative = *p == '-';
  if (*p == '+' || *p == '-') ++p;
  unsigned long long x = 0;
  int digits = 0;
  for (; *p; ++p) {
    if (*p == '_' && digits && std::isdigit(static_cast<unsigned char>(p[1]))) continue;  // 1_000
    if (!std::isdigit(static_cast<unsigned char>(*p))) break;
    const unsigned d = unsigned(*p - '0');
    if (x > (~0ull - d) / 10) return false;  // 2^64 or more
    x = x * 10 + d, ++digits;
  }
  while (std::isspace(static_cast<unsigned char>(*p))) ++p;
  if (!digits || *p || (negative && x != 0)) return false;
  seed = x;
  return true;
}

int main(int argc, char** argv) {
  const char* usage = "usage: generate MODEL [--prime TEXT] [-n N] [--temperature T] [--top-k K] "
                      "[--seed S] [--threads N]\n";
  if (argc >= 2 && (!std::strcmp(argv[1], "--help") || !std::strcmp(argv[1], "-h"))) {
    std::fputs(usage, stdout);
    return 0;
  }
  if (argc < 2) {
    std::fputs(usage, stderr);
    return 2;
  }
  std::string prime;
  bool have_prime = false;
  long long n = 200, top_k = 0, threads = 0;  // top_k 0: all tokens; threads 0: the default
  unsigned long long seed = 0;
  double temperature = 1.0;
  for (int i = 2; i < argc; ++i) {
    const std::string a = argv[i];
    if (i + 1 >= argc) {
      std::fprintf(stderr, "generate: error: %s needs a value\n", a.c_str());
      return 2;
    }
    const char* v = argv[++i];
    char* end = nullptr;
    if (a == "--prime") prime = v, have_prime = true, end = const_cast<char*>(v) + std::strlen(v);
    else if (a == "-n") n = std::strtoll(v, &end, 10);
    else if (a == "--temperature") temperature = std::strtod(v, &end);
    else if (a == "--top-k") top_k = std::strtoll(v, &end, 10);
    else if (a == "--seed") {
      if (!parse_seed(v, seed)) {
        std::fprintf(stderr, "generate: error: bad value %s for --seed (expected an integer in [0, 2^64))\n", v);
        return 2;
      }
      end = const_cast<char*>(v) + std::strlen(v);
    }
    else if (a == "--threads") threads = std::strtoll(v, &end, 10);
    else {
      std::fprintf(stderr, "generate: error: unknown option %s\n", a.c_str());
      return 2;
    }
    const bool bad = (a == "-n" && n < 0) || (a == "--top-k" && top_k < 0) ||
                     (a == "--threads" && threads < 0) ||
                     (a == "--temperature" && !(std::isfinite(temperature) && temperature >= 0));
    if (end == v || *end != '\0' || bad) {
      std::fprintf(stderr, "generate: error: bad value %s for %s\n", v, a.c_str());
      return 2;
    }
  }
  try {
    if (threads > 0) minrnn::set_num_threads(int(threads));
    const auto model = minrnn::LanguageModel::load(argv[1]);
    if (model.tokens().empty()) throw std::runtime_error("the model has no vocabulary");
    if (!have_prime) prime = model.tokens().size() > 1 ? model.tokens()[1] : model.tokens()[0];
    const auto ids = model.encode(prime);
    if (ids.empty()) throw std::runtime_error("--prime holds no token");
    // The same walk as LanguageModel::sample, printing each token as it comes.
    minrnn::SplitMix64 rng(seed);
    auto state = model.initial_state();
    std::vector<float> logits(static_cast<size_t>(model.vocab_size()));
    std::fputs(prime.c_str(), stdout);
    model.feed(ids.data(), int64_t(ids.size()), state, logits.data());
    for (long long i = 0; i < n; ++i) {
      const int64_t token = minrnn::pick(logits.data(), model.vocab_size(), temperature, top_k, rng, 0);
      std::string text = model.decode({token});
      if (model.word_level() && (i > 0 || !prime.empty())) text = " " + text;
      std::fputs(text.c_str(), stdout);
      std::fflush(stdout);
      if (i + 1 < n) model.feed(&token, 1, state, logits.data());
    }
    std::fputc('\n', stdout);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "generate: error: %s\n", e.what());
    return 1;
  }
  return 0;
}
