// The model-file reader against the fixtures written by tools/make_cpp_fixtures.py, and
// against thousands of damaged copies of them: every one must load or throw ModelError
// (run under AddressSanitizer in CI, so a read past a buffer fails the test too).
#include <cstdio>
#include <fstream>
#include <iterator>
#include <random>
#include <string>
#include <vector>

#include "minrnn/model.h"
#include "model_file.h"

namespace {
int failures = 0;

void expect(bool ok, const std::string& what) {
  std::printf("%s %s\n", ok ? "ok  " : "FAIL", what.c_str());
  failures += !ok;
}

std::string slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

// Loads path as a language model or a layer; true if it loaded, false on ModelError.
bool try_load(const std::string& path, bool lm) {
  try {
    if (lm) {
      const auto m = minrnn::LanguageModel::load(path);
      m.sample({1}, 3, 1.0, 0, 1);
    } else {
      const auto r = minrnn::load_recurrent(path);
      std::vector<float> x(size_t(r.input_size()) * 2), y(size_t(r.output_size()) * 2);
      r.forward(x.data(), 1, 2, y.data());
    }
    return true;
  } catch (const minrnn::ModelError&) {
    return false;
  }
}

void fuzz(const std::string& fixture, bool lm, int cases) {
  const std::string good = slurp(fixture), tmp = "minrnn_fuzz.ckpt";
  std::mt19937 g(12345);
  int loaded = 0, refused = 0, other = 0;
  for (int i = 0; i < cases; ++i) {
    std::string b = good;
    switch (g() % 4) {
      case 0: b[g() % b.size()] ^= char(1u << (g() % 8)); break;  // one bit
      case 1: b.resize(g() % b.size()); break;                    // truncated
      case 2: {                                                   // a random 4-byte value
        const size_t at = g() % (b.size() - 4);
        for (int k = 0; k < 4; ++k) b[at + size_t(k)] = char(g());
        break;
      }
      default: {  // a field of the zip directory or a header set to 0xFF..FF
        const size_t at = g() % 2 ? b.size() - 1 - g() % 300 : g() % 200;
        b[at] = char(0xFF);
        if (at + 1 < b.size()) b[at + 1] = char(0xFF);
      }
    }
    std::ofstream(tmp, std::ios::binary) << b;
    try {
      try_load(tmp, lm) ? ++loaded : ++refused;
    } catch (const std::exception& e) {
      ++other;
      std::printf("  case %d threw %s\n", i, e.what());
    }
  }
  std::remove(tmp.c_str());
  expect(other == 0, fixture + ": " + std::to_string(cases) + " damaged copies: " + std::to_string(loaded) +
                         " still load, " + std::to_string(refused) + " refused with ModelError, " +
                         std::to_string(other) + " other errors");
}

void fuzz_json(int cases) {
  const std::string seed = R"({"a": [1, -2.5e3, true, false, null, "x\u00e9\ud834\udd1e\n"], "b": {"c": {}}, "d": NaN})";
  std::mt19937 g(7);
  int ok = 0, refused = 0;
  for (int i = 0; i < cases; ++i) {
    std::string s = seed;
    const int edits = 1 + int(g() % 4);
    for (int k = 0; k < edits; ++k) {
      const size_t at = g() % s.size();
      switch (g() % 3) {
        case 0: s[at] = char(g() % 128); break;
        case 1: s.erase(at, 1 + g() % 5); break;
        default: s.insert(at, 1, "{}[]\",:\\u"[g() % 9]);
      }
      if (s.empty()) s = "[";
    }
    try {
      minrnn::detail::parse_json(s);
      ++ok;
    } catch (const minrnn::ModelError&) {
      ++refused;
    }
  }
  bool deep_refused = false;
  try {
    minrnn::detail::parse_json(std::string(100000, '['));
  } catch (const minrnn::ModelError&) {
    deep_refused = true;
  }
  expect(deep_refused, "JSON nested 100000 deep is refused, not a stack overflow");
  expect(ok + refused == cases, "JSON: " + std::to_string(cases) + " damaged documents parse or throw ModelError");
}
}  // namespace

int main() {
  const std::string dir = MINRNN_FIXTURES;
  {
    const auto m = minrnn::LanguageModel::load(dir + "/tiny_lm.ckpt");
    const auto ids = m.encode("der schnelle ∑ 𝄞 unbekannt");
    expect(m.word_level() && ids.size() == 5 && ids[4] == 0, "word vocabulary with non-ASCII tokens encodes");
    expect(m.decode(ids) == "der schnelle ∑ 𝄞 " + m.tokens()[0], "decode inverts encode");
    const auto a = m.sample(ids, 20, 0.8, 3, 9), b = m.sample(ids, 20, 0.8, 3, 9);
    expect(a == b && a.size() == 20, "sampling repeats for a seed");
    const auto r = minrnn::load_recurrent(dir + "/tiny_gru.ckpt");
    expect(r.bidirectional() && r.num_layers() == 2 && r.cell() == minrnn::CellType::GRUResetBefore &&
               r.output_size() == 8,
           "bidirectional reset-before GRU layer loads");
  }
  fuzz(dir + "/tiny_lm.ckpt", true, 3000);
  fuzz(dir + "/tiny_gru.ckpt", false, 3000);
  fuzz_json(20000);
  std::printf("%d failed\n", failures);
  return failures ? 1 : 0;
}
