// The model-file reader against the fixtures written by tools/make_cpp_fixtures.py, and
// against thousands of damaged copies of them: every one must load or throw ModelError
// (run under AddressSanitizer in CI, so a read past a buffer fails the test too). Files
// written here check what it refuses: sizes beyond the arrays, files that are not
// regular, and what Python's reader refuses.
#include <sys/stat.h>

#include <cstdint>
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

// ---- files written here: stored zips of .npy entries, as np.savez writes them ----
void put(std::string& o, uint64_t v, int n) {
  for (int k = 0; k < n; ++k) o += char((v >> (8 * k)) & 0xFF);
}

uint32_t crc32(const std::string& s) {
  uint32_t c = 0xFFFFFFFFu;
  for (unsigned char b : s) {
    c ^= b;
    for (int k = 0; k < 8; ++k) c = c & 1 ? 0xEDB88320u ^ (c >> 1) : c >> 1;
  }
  return c ^ 0xFFFFFFFFu;
}

std::string npy(const std::string& descr, const std::vector<int64_t>& shape, const std::string& data) {
  std::string h = "{'descr': '" + descr + "', 'fortran_order': False, 'shape': (";
  for (size_t i = 0; i < shape.size(); ++i)  // (3,) and (2, 3), as Python writes tuples
    h += std::to_string(shape[i]) + (shape.size() == 1 ? "," : i + 1 < shape.size() ? ", " : "");
  h += "), }";
  while ((10 + h.size() + 1) % 64) h += ' ';
  h += '\n';
  std::string o = "\x93NUMPY\x01";
  o += '\0';
  put(o, h.size(), 2);
  return o + h + data;
}

struct Entry {
  std::string name, data, local_name;  // local_name: the local header's, if not name
};

void write_zip(const std::string& path, const std::vector<Entry>& entries) {
  std::string out, dir;
  for (const auto& e : entries) {
    const std::string local = e.local_name.empty() ? e.name : e.local_name;
    const uint32_t crc = crc32(e.data), offset = uint32_t(out.size());
    out += "PK\3\4";
    put(out, 20, 2), put(out, 0, 2), put(out, 0, 2), put(out, 0, 4), put(out, crc, 4);
    put(out, e.data.size(), 4), put(out, e.data.size(), 4), put(out, local.size(), 2), put(out, 0, 2);
    out += local + e.data;
    dir += "PK\1\2";
    put(dir, 20, 2), put(dir, 20, 2), put(dir, 0, 2), put(dir, 0, 2), put(dir, 0, 4), put(dir, crc, 4);
    put(dir, e.data.size(), 4), put(dir, e.data.size(), 4), put(dir, e.name.size(), 2);
    put(dir, 0, 2), put(dir, 0, 2), put(dir, 0, 2), put(dir, 0, 2), put(dir, 0, 4), put(dir, offset, 4);
    dir += e.name;
  }
  const uint32_t cd = uint32_t(out.size());
  out += dir + "PK\5\6";
  put(out, 0, 4), put(out, entries.size(), 2), put(out, entries.size(), 2), put(out, dir.size(), 4), put(out, cd, 4);
  put(out, 0, 2);
  std::ofstream(path, std::ios::binary) << out;
}

struct Array {
  std::string name;
  std::vector<int64_t> shape;
  bool listed = true;  // in meta's "arrays"
};

// A checkpoint holding `arrays` (small random float32 values), whose meta is the JSON
// object with the members `meta` and the "arrays" listing.
void write_checkpoint(const std::string& path, const std::string& meta, const std::vector<Array>& arrays,
                      const std::string& local_name_of_first = "") {
  std::mt19937 g(3);
  std::uniform_real_distribution<float> u(-0.5f, 0.5f);
  std::vector<Entry> entries;
  std::string listing;
  for (const auto& a : arrays) {
    int64_t n = 1;
    for (int64_t d : a.shape) n *= d;
    std::string data;
    for (int64_t k = 0; k < n; ++k) {
      const float v = u(g);
      data.append(reinterpret_cast<const char*>(&v), 4);
    }
    entries.push_back({a.name + ".npy", npy("<f4", a.shape, data), ""});
    if (!a.listed) continue;
    listing += std::string(listing.empty() ? "" : ", ") + "\"" + a.name + "\": [[";
    for (size_t i = 0; i < a.shape.size(); ++i) listing += (i ? ", " : "") + std::to_string(a.shape[i]);
    listing += "], \"<f4\"]";
  }
  const std::string json = "{" + meta + ", \"arrays\": {" + listing + "}}";
  entries.insert(entries.begin(), {"meta.npy", npy("|u1", {int64_t(json.size())}, json), ""});
  entries[0].local_name = local_name_of_first;
  write_zip(path, entries);
}

const std::string kHead = R"("format": "minrnn-checkpoint", "version": 1, )";

// A one-layer GRU (input 3, hidden 4), as layer.save writes it; `config` replaces its
// configuration.
const std::string kGruConfig = R"({"type": "GRU", "input_size": 3, "hidden_size": 4, "num_layers": 1, "bias": true, )"
                               R"("batch_first": true, "dropout": 0.0, "bidirectional": false, "dtype": "float32", )"
                               R"("reset_after": true})";
std::vector<Array> gru_arrays(const std::string& prefix) {
  return {{prefix + "weight_ih_l0", {12, 3}}, {prefix + "weight_hh_l0", {12, 4}}, {prefix + "bias_ih_l0", {12}},
          {prefix + "bias_hh_l0", {12}}};
}
void write_layer(const std::string& path, const std::string& config = kGruConfig) {
  write_checkpoint(path, kHead + R"("kind": "recurrent", "config": )" + config, gru_arrays("model/"));
}

// A GRU language model over the characters a, b, c, d (and the unknown token).
const std::string kLmConfig = R"({"vocab_size": 5, "embed_size": 3, "hidden_size": 4, "cell": "gru", "num_layers": 1, )"
                              R"("dropout": 0.0, "bias": true, "seed": 0, "dtype": "float32", "options": {}})";
const std::string kVocab = R"({"level": "char", "unk": "\ufffd", "tokens": ["a", "b", "c", "d"]})";
void write_lm(const std::string& path, const std::string& config = kLmConfig, const std::string& vocab = kVocab,
              std::vector<Array> extra = {}) {
  auto arrays = gru_arrays("model/rnn.");
  arrays.insert(arrays.begin(), {"model/embedding.weight", {5, 3}});
  arrays.push_back({"model/head.weight", {5, 4}});
  arrays.push_back({"model/head.bias", {5}});
  arrays.insert(arrays.end(), extra.begin(), extra.end());
  write_checkpoint(path, kHead + R"("kind": "language_model", "config": )" + config + R"(, "vocab": )" + vocab +
                             R"(, "rng": {"rnn_dropout": {"bit_generator": "PCG64", "state": {"state": 1, "inc": 3}, )"
                             R"("has_uint32": 0, "uinteger": 0}}, "optimizer": null, "trainer": null)",
                   arrays);
}

// load() of path throws ModelError naming the file and saying `says`.
void expect_refused(const std::string& what, const std::string& path, bool lm, const std::string& says) {
  std::string msg = "(loaded)";
  try {
    if (lm) minrnn::LanguageModel::load(path);
    else minrnn::load_recurrent(path);
  } catch (const minrnn::ModelError& e) {
    msg = e.what();
  } catch (const std::exception& e) {
    msg = std::string("not a ModelError: ") + e.what();
  }
  const bool ok = msg.rfind(path + ": ", 0) == 0 && msg.find(says) != std::string::npos;
  expect(ok, what + (ok ? "" : ": " + msg));
}

long max_rss_mb() {
  std::ifstream in("/proc/self/status");
  std::string line;
  while (std::getline(in, line))
    if (line.rfind("VmHWM:", 0) == 0) return std::stol(line.substr(6)) / 1024;
  return 0;
}

// Files a reader must refuse, each with a ModelError naming it before it allocates by a
// size the file gives, and the files Python's reader refuses.
void test_refused() {
  const std::string f = "minrnn_test_refused.ckpt";
  write_layer(f);
  expect(minrnn::load_recurrent(f).hidden_size() == 4, "a GRU layer written here loads");
  write_lm(f);
  const auto m = minrnn::LanguageModel::load(f);
  expect(m.decode(m.sample(m.encode("ab"), 5, 1.0, 0, 3)).size() == 5, "a GRU language model written here loads and samples");
  for (int64_t n : {1, 2}) {  // a cell state for a model without one
    auto state = m.initial_state();
    state.c.assign(state.h.size(), 0.0f);
    std::vector<float> logits(5);
    const std::vector<int64_t> ids(size_t(n), 1);
    bool refused = false;
    try {
      m.feed(ids.data(), n, state, logits.data());
    } catch (const std::invalid_argument& e) {
      refused = std::string(e.what()).find("the state does not fit this model") != std::string::npos;
    }
    expect(refused, "feed refuses a state with c for a GRU, fed " + std::to_string(n) + " ids");
  }

  // sizes in meta far beyond the arrays: refused by the arrays' headers, allocating nothing
  const long rss = max_rss_mb();
  auto layer = [&](const std::string& from, const std::string& to) {
    std::string c = kGruConfig;
    c.replace(c.find(from), from.size(), to);
    write_layer(f, c);
  };
  layer("\"input_size\": 3", "\"input_size\": 100000000000");
  expect_refused("input_size 1e11", f, false, "'model/weight_ih_l0' has shape (12, 3), expected (12, 100000000000)");
  layer("\"hidden_size\": 4", "\"hidden_size\": 16777216");
  expect_refused("hidden_size 2^24", f, false, "'model/weight_ih_l0' has shape (12, 3), expected (50331648, 3)");
  layer("\"input_size\": 3", "\"input_size\": 100000000");
  expect_refused("input_size 1e8", f, false, "expected (12, 100000000)");
  layer("\"num_layers\": 1", "\"num_layers\": 4611686018427387904");
  expect_refused("num_layers 2^62", f, false, "is not a size");
  layer("\"num_layers\": 1", "\"num_layers\": 4000");
  expect_refused("num_layers 4000", f, false, "no array 'model/weight_ih_l1'");
  std::string c = kLmConfig;
  write_lm(f, c.replace(c.find("\"embed_size\": 3"), 15, "\"embed_size\": 100000000000"));
  expect_refused("embed_size 1e11", f, true, "'model/embedding.weight' has shape (5, 3), expected (5, 100000000000)");
  expect(max_rss_mb() - rss < 64, "... and none allocated by them (peak resident memory grew " +
                                      std::to_string(max_rss_mb() - rss) + " MB)");

  // not regular files: /dev/zero never ends, a FIFO waits for a writer, a directory
  expect_refused("/dev/zero", "/dev/zero", false, "not a regular file");
  expect_refused("a directory", MINRNN_FIXTURES, true, "not a regular file");
  const std::string fifo = "minrnn_test_fifo.ckpt";
  std::remove(fifo.c_str());
  if (mkfifo(fifo.c_str(), 0600) == 0) {
    expect_refused("a FIFO", fifo, false, "not a regular file");
    std::remove(fifo.c_str());
  }

  // what Python's reader (minrnn/checkpoint.py, minrnn.Vocab) refuses
  auto lm_config = [&](const std::string& from, const std::string& to) {
    std::string cfg = kLmConfig;
    cfg.replace(cfg.find(from), from.size(), to);
    return cfg;
  };
  write_lm(f, kLmConfig, R"({"level": "char", "unk": "?", "tokens": ["a", "b", "a", "d"]})");
  expect_refused("a token listed twice", f, true, "the vocabulary lists 'a' twice");
  write_lm(f, kLmConfig, R"({"level": "char", "unk": "?", "tokens": ["a", "b", "?", "d"]})");
  expect_refused("a token that is the unknown token", f, true, "the vocabulary lists '?' twice");
  write_lm(f, kLmConfig, R"({"level": "byte", "unk": "?", "tokens": ["a", "b", "c", "d"]})");
  expect_refused("vocabulary level byte", f, true, "level is 'byte', not char or word");
  write_lm(f, kLmConfig, R"({"level": "char", "unk": "?", "tokens": ["a", "bc", "d", "e"]})");
  expect_refused("a char-level token of two characters", f, true, "'bc' is not one character");
  write_lm(f, kLmConfig, R"({"level": "word", "unk": "?", "tokens": ["a", "b\u3000c", "d", "e"]})");
  expect_refused("a word-level token holding whitespace", f, true, "holds whitespace");
  write_lm(f, kLmConfig, R"(["a", "b"])");
  expect_refused("a vocabulary that is not an object", f, true, "meta 'vocab' is not an object");
  write_lm(f, lm_config("\"options\": {}", "\"options\": [1, 2]"));
  expect_refused("options that are not an object", f, true, "meta 'options' is not an object");
  write_lm(f, lm_config("\"options\": {}", "\"options\": {\"candidate\": \"g\"}"));
  expect_refused("an option the cell does not take", f, true, "config['options'] has an unknown key 'candidate'");
  write_lm(f, lm_config("\"options\": {}", "\"options\": {\"reset_after\": false}, \"reset_after\": true"));
  expect_refused("an option given twice", f, true, "gives 'reset_after' twice");
  write_lm(f, lm_config("\"seed\": 0", "\"sede\": 0"));
  expect_refused("an unknown configuration key", f, true, "config has an unknown key 'sede'");
  write_lm(f, lm_config("\"embed_size\": 3", "\"embed_size\": 3.0"));
  expect_refused("a size written as a float", f, true, "meta 'embed_size' is not a size");
  write_lm(f, lm_config("\"dtype\": \"float32\"", "\"dtype\": \"float16\""));
  expect_refused("dtype float16", f, true, "meta 'dtype' is not float32 or float64");
  write_lm(f, kLmConfig, kVocab, {{"model/extra", {3}, false}});
  expect_refused("an array meta does not list", f, true, "array 'model/extra' is not listed in meta");
  write_lm(f, kLmConfig, kVocab, {{"model/rnn.weight_ih_l1", {12, 4}}});
  expect_refused("an array the model does not have", f, true, "'model/rnn.weight_ih_l1' is not a parameter");
  write_lm(f, kLmConfig, kVocab, {{"model/embedding.weight", {5, 3}}});
  expect_refused("an array twice", f, true, "entry model/embedding.weight.npy appears twice");
  write_checkpoint(f, kHead + R"("kind": "recurrent", "config": )" + kGruConfig, gru_arrays("model/"), "metb.npy");
  expect_refused("a local header naming another entry", f, false, "entry meta.npy has another name in its local header");
  std::string gru = kGruConfig;
  write_layer(f, gru.replace(gru.find("\"GRU\""), 5, "\"gru\""));
  expect_refused("a layer type in lower case", f, false, "unknown layer type 'gru'");

  // and what it takes: a cell's option in config itself (Python passes both on)
  write_lm(f, lm_config("\"options\": {}", "\"options\": {}, \"reset_after\": false"));
  expect(!minrnn::LanguageModel::load(f).rnn().parameter_names().empty() &&
             minrnn::LanguageModel::load(f).rnn().cell() == minrnn::CellType::GRUResetBefore,
         "a cell option in config itself is read");
  std::remove(f.c_str());
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
  test_refused();
  fuzz(dir + "/tiny_lm.ckpt", true, 3000);
  fuzz(dir + "/tiny_gru.ckpt", false, 3000);
  fuzz_json(20000);
  std::printf("%d failed\n", failures);
  return failures ? 1 : 0;
}
