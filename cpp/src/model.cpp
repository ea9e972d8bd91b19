// Recurrent stacks and language models for native programs (minrnn/model.h), on top of the
// layer kernels; they make the same calls as the Python package, so the numbers match.
#include "minrnn/model.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <limits>
#include <new>
#include <unistd.h>

#include "check.h"
#include "model_file.h"
#include "workspace.h"

namespace minrnn {
namespace {

bool minimal(CellType c) { return c == CellType::MinGRU || c == CellType::MinLSTM; }

int64_t gates(CellType c) {
  switch (c) {
    case CellType::RNNTanh: case CellType::RNNReLU: return 1;
    case CellType::LSTM: return 4;
    case CellType::GRU: case CellType::GRUResetBefore: case CellType::MinLSTM: return 3;
    case CellType::MGU: case CellType::MinGRU: return 2;
  }
  return 1;
}

Cell classic(CellType c) {
  switch (c) {
    case CellType::RNNTanh: return Cell::RNNTanh;
    case CellType::RNNReLU: return Cell::RNNReLU;
    case CellType::LSTM: return Cell::LSTM;
    case CellType::GRU: return Cell::GRU;
    case CellType::GRUResetBefore: return Cell::GRUResetBefore;
    default: return Cell::MGU;
  }
}

std::string shape_str(const std::vector<int64_t>& s) {
  std::string o = "(";
  for (size_t i = 0; i < s.size(); ++i) o += (i ? ", " : "") + std::to_string(s[i]);
  return o + (s.size() == 1 ? ",)" : ")");
}

void check(bool ok, const std::string& what) {
  if (!ok) throw std::invalid_argument(what);
}

// std::bad_alloc that says what did not fit.
struct TooLarge : std::bad_alloc {
  std::string msg;
  explicit TooLarge(std::string m) : msg(std::move(m)) {}
  const char* what() const noexcept override { return msg.c_str(); }
};

double physical_memory() {
#if defined(_SC_PHYS_PAGES) && defined(_SC_PAGE_SIZE)
  const long pages = sysconf(_SC_PHYS_PAGES), page = sysconf(_SC_PAGE_SIZE);
  if (pages > 0 && page > 0) return double(pages) * double(page);
#endif
  return INFINITY;
}

// a * b + c for sizes >= 0, refusing what overflows int64 (with room to count bytes).
int64_t size_mul_add(const std::string& what, int64_t a, int64_t b, int64_t c = 0) {
  constexpr int64_t kMax = std::numeric_limits<int64_t>::max() / 8;
  if (c > kMax || (b != 0 && a > (kMax - c) / b))
    throw std::overflow_error(what + ": the weights' size overflows int64");
  return a * b + c;
}

// The parameters of layer l in direction d, in PyTorch's order and names: fn(slot, name,
// shape) with slot 0..3 for weight_ih, weight_hh, bias_ih, bias_hh (the min cells have no
// *_hh). The constructor allocates them; the loader checks a file's arrays against them.
template <class Fn>
void unit_parameters(CellType cell, int64_t D, int64_t H, int64_t dirs, bool bias, int64_t l, int64_t d, Fn&& fn) {
  const int64_t GH = gates(cell) * H;
  const std::string sfx = "_l" + std::to_string(l) + (d ? "_reverse" : "");
  fn(0, "weight_ih" + sfx, std::vector<int64_t>{GH, l == 0 ? D : H * dirs});
  if (!minimal(cell)) fn(1, "weight_hh" + sfx, std::vector<int64_t>{GH, H});
  if (bias) {
    fn(2, "bias_ih" + sfx, std::vector<int64_t>{GH});
    if (!minimal(cell)) fn(3, "bias_hh" + sfx, std::vector<int64_t>{GH});
  }
}

}  // namespace

Recurrent::Recurrent(CellType cell, int64_t input_size, int64_t hidden_size, int64_t num_layers,
                     bool bidirectional, bool bias, Candidate candidate, ScanMode scan)
    : cell_(cell), D_(input_size), H_(hidden_size), L_(num_layers), dirs_(bidirectional ? 2 : 1),
      bias_(bias), cand_(candidate), scan_(scan) {
  check(int(cell) >= 0 && int(cell) <= int(CellType::MinLSTM),
        "Recurrent: cell must be one of CellType's values, got CellType(" + std::to_string(int(cell)) + ")");
  check(int(candidate) >= 0 && int(candidate) <= 2,
        "Recurrent: candidate must be Candidate::G, Identity or Tanh, got Candidate(" + std::to_string(int(candidate)) + ")");
  check(int(scan) >= 0 && int(scan) <= 2,
        "Recurrent: scan must be ScanMode::Sequential, Parallel or Auto, got ScanMode(" + std::to_string(int(scan)) + ")");
  check(D_ >= 1 && H_ >= 1 && L_ >= 1, "Recurrent: input_size, hidden_size and num_layers must be >= 1, got " +
                                            std::to_string(D_) + ", " + std::to_string(H_) + ", " + std::to_string(L_));
  // The weights' total size before any is allocated: one that overflows, or that this
  // machine cannot hold, is refused at once instead of after minutes of allocating.
  const std::string sizes = "Recurrent: input_size " + std::to_string(D_) + ", hidden_size " + std::to_string(H_) +
                            ", num_layers " + std::to_string(L_);
  const int64_t per_row = size_mul_add(sizes, minimal(cell) ? 0 : 1, H_, bias ? (minimal(cell) ? 1 : 2) : 0);
  const int64_t GH = size_mul_add(sizes, gates(cell), H_);
  const int64_t first = size_mul_add(sizes, GH, size_mul_add(sizes, 1, D_, per_row));
  const int64_t above = size_mul_add(sizes, GH, size_mul_add(sizes, H_, dirs_, per_row));
  const int64_t total = size_mul_add(sizes, dirs_, size_mul_add(sizes, L_ - 1, above, first));
  const int64_t count = L_ * dirs_ * (minimal(cell) ? 1 : 2) * (bias ? 2 : 1);  // <= total: no overflow
  const double bytes = double(total) * sizeof(float) + double(count) * 256;   // 256: a name and a shape
  if (bytes > physical_memory()) {
    char need[64];
    std::snprintf(need, sizeof need, "%.1f GiB", bytes / double(1 << 30));
    throw TooLarge(sizes + ": the weights need " + need + ", more than this machine's memory");
  }
  names_.reserve(size_t(count)), shapes_.reserve(size_t(count)), values_.reserve(size_t(count));
  units_.reserve(size_t(L_ * dirs_));
  for (int64_t l = 0; l < L_; ++l)
    for (int64_t d = 0; d < dirs_; ++d) {
      Unit u;
      int* slot[] = {&u.wi, &u.wh, &u.bi, &u.bh};
      unit_parameters(cell, D_, H_, dirs_, bias, l, d, [&](int k, const std::string& name, std::vector<int64_t> shape) {
        *slot[k] = add(name, std::move(shape));
      });
      units_.push_back(u);
    }
}

int Recurrent::add(const std::string& name, std::vector<int64_t> shape) {
  int64_t n = 1;
  for (int64_t s : shape) n *= s;
  names_.push_back(name);
  shapes_.push_back(std::move(shape));
  values_.emplace_back(static_cast<size_t>(n), 0.0f);
  return int(names_.size()) - 1;
}

int Recurrent::find(const std::string& name) const {
  for (size_t i = 0; i < names_.size(); ++i)
    if (names_[i] == name) return int(i);
  throw std::invalid_argument("Recurrent: no parameter named '" + name + "'");
}

std::vector<std::string> Recurrent::parameter_names() const { return names_; }

std::vector<int64_t> Recurrent::parameter_shape(const std::string& name) const {
  return shapes_[size_t(find(name))];
}

void Recurrent::set_parameter(const std::string& name, const float* data, int64_t count) {
  const int i = find(name);
  auto& p = values_[size_t(i)];
  check(count == int64_t(p.size()), "Recurrent: parameter '" + name + "' has shape " +
                                        shape_str(shapes_[size_t(i)]) + " (" + std::to_string(p.size()) +
                                        " values), got " + std::to_string(count));
  check(data != nullptr || count == 0, "Recurrent: data for '" + name + "' is null");
  // The message is built only on failure (built for every value, it held a load to 64 MB/s).
  const float* bad = std::find_if(data, data + count, [](float v) { return !std::isfinite(v); });
  if (bad != data + count)
    throw std::invalid_argument("Recurrent: parameter '" + name + "' contains non-finite values (" +
                                std::to_string(*bad) + " at index " + std::to_string(bad - data) + ")");
  std::copy(data, data + count, p.begin());
}

const std::vector<float>& Recurrent::parameter(const std::string& name) const {
  return values_[size_t(find(name))];
}

void Recurrent::forward(const float* x, int64_t B, int64_t T, float* y, const float* h0,
                        const float* c0, float* hn, float* cn) const {
  const char* fn = "Recurrent::forward";
  check(B >= 0 && T >= 0,
        "Recurrent::forward: B and T must be >= 0, got " + std::to_string(B) + ", " + std::to_string(T));
  // Sizes before any buffer is allocated: B*T rows of at most max(input, output) values,
  // which the kernels multiply in one GEMM of the 32-bit BLAS.
  const int64_t rows = detail::checked_product(fn, {B, T});
  detail::checked_product(fn, {rows, std::max(D_, H_ * dirs_)});
  if (rows > std::numeric_limits<int32_t>::max())
    throw std::overflow_error("Recurrent::forward: B * T = " + std::to_string(rows) + " rows exceed the 32-bit BLAS " +
                              "(at most 2147483647); run the sequence in chunks, carrying hn");
  check((x && y) || rows == 0, "Recurrent::forward: x and y must not be null");
  check(has_cell_state() || (!c0 && !cn),
        "Recurrent::forward: c0 and cn are for an LSTM's cell state; pass nullptr for this cell");
  const int64_t H = H_, out = H_ * dirs_;
  std::vector<float> inp, next(size_t(B * T * out)), yd(size_t(B * T * H)), xr, hlast(size_t(B * H));
  const float* in = x;
  int64_t din = D_;
  for (int64_t l = 0; l < L_; ++l) {
    for (int64_t d = 0; d < dirs_; ++d) {
      const int64_t i = l * dirs_ + d;
      const Unit& u = units_[size_t(i)];
      const float* h0i = h0 ? h0 + i * B * H : nullptr;
      const float* c0i = c0 ? c0 + i * B * H : nullptr;
      float* hni = hn ? hn + i * B * H : nullptr;
      float* cni = cn ? cn + i * B * H : nullptr;
      if (!minimal(cell_)) {
        recurrent_forward<float>(classic(cell_), in, w(u.wi), w(u.wh), w(u.bi), w(u.bh), h0i, c0i, yd.data(),
                                 hni, cni, nullptr, nullptr, B, T, din, H, d == 1);
      } else {
        // The reverse direction runs the kernel on the time-reversed sequence (as Python).
        const float* src = in;
        if (d == 1) {
          xr.resize(size_t(B * T * din));
          for (int64_t b = 0; b < B; ++b)
            for (int64_t t = 0; t < T; ++t)
              std::memcpy(&xr[size_t((b * T + t) * din)], in + (b * T + (T - 1 - t)) * din, sizeof(float) * din);
          src = xr.data();
        }
        auto fwd = cell_ == CellType::MinGRU ? &mingru_forward<float> : &minlstm_forward<float>;
        fwd(src, w(u.wi), w(u.bi), h0i, nullptr, yd.data(), B, T, din, H, cand_, scan_);
        for (int64_t b = 0; b < B; ++b)
          for (int64_t c = 0; c < H; ++c)
            hlast[size_t(b * H + c)] = T ? yd[size_t((b * T + T - 1) * H + c)] : (h0i ? h0i[b * H + c] : 0.0f);
        if (hni) std::copy(hlast.begin(), hlast.end(), hni);
        if (d == 1)
          for (int64_t b = 0; b < B; ++b)
            for (int64_t t = 0; t < T / 2; ++t)
              std::swap_ranges(&yd[size_t((b * T + t) * H)], &yd[size_t((b * T + t) * H + H)],
                               &yd[size_t((b * T + T - 1 - t) * H)]);
      }
      for (int64_t r = 0; r < B * T; ++r)
        std::memcpy(&next[size_t(r * out + d * H)], &yd[size_t(r * H)], sizeof(float) * H);
    }
    inp.swap(next);
    next.resize(size_t(B * T * out));
    in = inp.data();
    din = out;
  }
  if (B * T > 0) std::memcpy(y, inp.data(), sizeof(float) * B * T * out);
}

void Recurrent::step(const float* x, int64_t B, float* h, float* c, float* y) const {
  const char* fn = "Recurrent::step";
  check(dirs_ == 1, "Recurrent::step needs a unidirectional stack: the reverse direction reads the sequence from its end");
  check(B >= 1, "Recurrent::step: B must be >= 1, got " + std::to_string(B));
  if (B > std::numeric_limits<int32_t>::max())
    throw std::overflow_error("Recurrent::step: B = " + std::to_string(B) +
                              " rows exceed the 32-bit BLAS (at most 2147483647); step the batch in parts");
  check(x && h && y, "Recurrent::step: x, h and y must not be null");
  check(has_cell_state() == (c != nullptr),
        has_cell_state() ? "Recurrent::step: an LSTM needs its cell state c"
                         : "Recurrent::step: c is an LSTM's cell state; pass nullptr for this cell");
  const int64_t H = H_, BH = B * H, wide = std::max(D_, H);
  // Scratch of this thread, kept between calls (a streaming step allocates nothing) and
  // freed by release_workspace().
  float* a = detail::workspace<float>(detail::kStep, detail::checked_product(fn, {B, wide + 3 * H}));
  float *out = a + B * wide, *hn = out + BH, *cn = hn + BH;
  std::copy(x, x + B * D_, a);
  int64_t din = D_;
  for (int64_t l = 0; l < L_; ++l) {
    const Unit& u = units_[size_t(l)];
    float* hl = h + l * BH;
    float* cl = has_cell_state() ? c + l * BH : nullptr;
    if (!minimal(cell_)) {
      recurrent_forward<float>(classic(cell_), a, w(u.wi), w(u.wh), w(u.bi), w(u.bh), hl, cl, out, hn,
                               cl ? cn : nullptr, nullptr, nullptr, B, 1, din, H, false);
      std::copy(hn, hn + BH, hl);
      if (cl) std::copy(cn, cn + BH, cl);
    } else {
      auto fwd = cell_ == CellType::MinGRU ? &mingru_forward<float> : &minlstm_forward<float>;
      fwd(a, w(u.wi), w(u.bi), hl, nullptr, out, B, 1, din, H, cand_, scan_);
      std::copy(out, out + BH, hl);
    }
    std::copy(out, out + BH, a);
    din = H;
  }
  std::copy(a, a + BH, y);
}

// ---- loading ----
namespace {

Recurrent build_recurrent(const detail::ModelFile& f, const detail::Json& cfg, const std::string& type,
                          int64_t input_size, const std::string& prefix) {
  using detail::Json;
  auto opt_str = [&](const char* key, const char* dflt) {
    const Json* v = cfg.find(key);
    if (!v) return std::string(dflt);
    if (v->kind != Json::String) f.fail(std::string("meta '") + key + "' is not a string");
    return v->str;
  };
  auto opt_bool = [&](const char* key, bool dflt) {
    const Json* v = cfg.find(key);
    if (!v) return dflt;
    if (v->kind != Json::Bool) f.fail(std::string("meta '") + key + "' is not true/false");
    return v->boolean;
  };
  CellType cell;
  if (type == "gru") cell = opt_bool("reset_after", true) ? CellType::GRU : CellType::GRUResetBefore;
  else if (type == "lstm") cell = CellType::LSTM;
  else if (type == "mgu") cell = CellType::MGU;
  else if (type == "mingru") cell = CellType::MinGRU;
  else if (type == "minlstm") cell = CellType::MinLSTM;
  else if (type == "rnn") {
    const std::string nl = opt_str("nonlinearity", "tanh");
    if (nl != "tanh" && nl != "relu") f.fail("unknown nonlinearity '" + nl + "'");
    cell = nl == "tanh" ? CellType::RNNTanh : CellType::RNNReLU;
  } else {
    f.fail("unknown cell '" + type + "'");
  }
  Candidate cand = Candidate::G;
  const std::string c = opt_str("candidate", "g");
  if (c == "identity") cand = Candidate::Identity;
  else if (c == "tanh") cand = Candidate::Tanh;
  else if (c != "g") f.fail("unknown candidate '" + c + "'");
  const std::string sc = opt_str("scan", "auto");
  if (sc != "auto" && sc != "sequential" && sc != "parallel") f.fail("unknown scan '" + sc + "'");
  const ScanMode mode = sc == "sequential" ? ScanMode::Sequential : sc == "parallel" ? ScanMode::Parallel : ScanMode::Auto;
  const int64_t H = f.get_int(cfg, "hidden_size"), L = f.get_int(cfg, "num_layers");
  if (H < 1 || L < 1 || input_size < 1 || H > (1 << 24) || L > 4096) f.fail("bad layer sizes");
  Recurrent r(cell, input_size, H, L, opt_bool("bidirectional", false), f.get(cfg, "bias", Json::Bool).boolean,
              cand, mode);
  for (const auto& name : r.parameter_names()) {
    const auto a = f.array(prefix + name);
    const auto want = r.parameter_shape(name);
    if (a.shape != want)
      f.fail("array '" + prefix + name + "' has shape " + shape_str(a.shape) + ", expected " + shape_str(want));
    try {
      r.set_parameter(name, a.data.data(), int64_t(a.data.size()));
    } catch (const std::invalid_argument& e) {
      f.fail(e.what());
    }
  }
  return r;
}

std::string lower(std::string s) {
  for (auto& ch : s) ch = char(std::tolower(static_cast<unsigned char>(ch)));
  return s;
}

}  // namespace

Recurrent load_recurrent(const std::string& path) {
  const auto f = detail::read_model_file(path);
  const auto& kind = f.get(f.meta, "kind", detail::Json::String).str;
  if (kind != "recurrent") f.fail("it holds a '" + kind + "', not a recurrent layer");
  const auto& cfg = f.get(f.meta, "config", detail::Json::Object);
  return build_recurrent(f, cfg, lower(f.get(cfg, "type", detail::Json::String).str),
                         f.get_int(cfg, "input_size"), "model/");
}

LanguageModel LanguageModel::load(const std::string& path) {
  using detail::Json;
  const auto f = detail::read_model_file(path);
  const auto& kind = f.get(f.meta, "kind", Json::String).str;
  if (kind != "language_model") f.fail("it holds a '" + kind + "', not a language model");
  const auto& cfg = f.get(f.meta, "config", Json::Object);
  // the cell options live in config["options"] (reset_after, nonlinearity, candidate, ...)
  Json merged = cfg;
  if (const Json* o = cfg.find("options"); o && o->kind == Json::Object)
    for (const auto& m : o->members) merged.members.push_back(m);
  const int64_t V = f.get_int(cfg, "vocab_size"), E = f.get_int(cfg, "embed_size");
  LanguageModel m(build_recurrent(f, merged, f.get(cfg, "cell", Json::String).str, E, "model/rnn."));
  m.V_ = V, m.E_ = E;
  const int64_t H = m.rnn_.hidden_size();
  auto load = [&](const std::string& name, std::vector<int64_t> want, std::vector<float>& into) {
    auto a = f.array("model/" + name);
    if (a.shape != want)
      f.fail("array 'model/" + name + "' has shape " + shape_str(a.shape) + ", expected " + shape_str(want));
    for (float v : a.data)
      if (!std::isfinite(v)) f.fail("array 'model/" + name + "' contains non-finite values");
    into = std::move(a.data);
  };
  load("embedding.weight", {V, E}, m.embedding_);
  load("head.weight", {V, H}, m.head_w_);
  if (f.get(cfg, "bias", Json::Bool).boolean) load("head.bias", {V}, m.head_b_);
  const Json* vocab = f.meta.find("vocab");
  if (vocab && vocab->kind == Json::Object) {
    m.word_level_ = f.get(*vocab, "level", Json::String).str == "word";
    m.tokens_.push_back(f.get(*vocab, "unk", Json::String).str);
    for (const auto& t : f.get(*vocab, "tokens", Json::Array).items) {
      if (t.kind != Json::String) f.fail("a vocabulary token is not a string");
      m.tokens_.push_back(t.str);
    }
    if (int64_t(m.tokens_.size()) != V)
      f.fail("the vocabulary has " + std::to_string(m.tokens_.size()) + " tokens, the model " + std::to_string(V));
    for (size_t i = 0; i < m.tokens_.size(); ++i) m.ids_.emplace(m.tokens_[i], int64_t(i));
  }
  return m;
}

// ---- text ----
std::vector<int64_t> LanguageModel::encode(const std::string& text) const {
  check(!tokens_.empty(), "LanguageModel::encode: the model has no vocabulary");
  std::vector<int64_t> out;
  auto id = [&](const std::string& t) {
    auto it = ids_.find(t);
    return it == ids_.end() ? int64_t(0) : it->second;
  };
  if (word_level_) {  // whitespace-separated words, as str.split()
    size_t i = 0;
    while (i < text.size()) {
      while (i < text.size() && std::isspace(static_cast<unsigned char>(text[i]))) ++i;
      size_t j = i;
      while (j < text.size() && !std::isspace(static_cast<unsigned char>(text[j]))) ++j;
      if (j > i) out.push_back(id(text.substr(i, j - i)));
      i = j;
    }
  } else {  // one token per UTF-8 character
    for (size_t i = 0; i < text.size();) {
      const unsigned char c = static_cast<unsigned char>(text[i]);
      const size_t n = c < 0x80 ? 1 : c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : c >= 0xC0 ? 2 : 1;
      out.push_back(id(text.substr(i, n)));
      i += n;
    }
  }
  return out;
}

std::string LanguageModel::decode(const std::vector<int64_t>& ids) const {
  check(!tokens_.empty(), "LanguageModel::decode: the model has no vocabulary");
  std::string out;
  for (size_t i = 0; i < ids.size(); ++i) {
    check(ids[i] >= 0 && ids[i] < V_, "LanguageModel::decode: id " + std::to_string(ids[i]) +
                                          " is outside [0, " + std::to_string(V_) + ")");
    if (word_level_ && i) out += ' ';
    out += tokens_[size_t(ids[i])];
  }
  return out;
}

// ---- running ----
LanguageModel::State LanguageModel::initial_state() const {
  State s;
  s.h.assign(size_t(rnn_.state_size(1)), 0.0f);
  if (rnn_.has_cell_state()) s.c.assign(s.h.size(), 0.0f);
  return s;
}

void LanguageModel::feed(const int64_t* ids, int64_t n, State& state, float* logits) const {
  check(ids && n >= 1 && logits, "LanguageModel::feed: needs at least one id and a logits buffer");
  check(int64_t(state.h.size()) == rnn_.state_size(1) &&
            state.c.size() == (rnn_.has_cell_state() ? state.h.size() : 0),
        "LanguageModel::feed: the state does not fit this model: h has " + std::to_string(state.h.size()) +
            " values and c " + std::to_string(state.c.size()) + ", expected " + std::to_string(rnn_.state_size(1)) +
            " and " + std::to_string(rnn_.has_cell_state() ? rnn_.state_size(1) : 0) + " (use initial_state())");
  for (int64_t i = 0; i < n; ++i)
    check(ids[i] >= 0 && ids[i] < V_, "LanguageModel::feed: id " + std::to_string(ids[i]) +
                                          " is outside [0, " + std::to_string(V_) + ")");
  const int64_t H = rnn_.hidden_size();
  std::vector<float> y(static_cast<size_t>(H));
  // All but the last id as one sequence (as Python's forward over the prime), the last as
  // a step, so that the numbers are the Python package's.
  if (n > 1) {
    std::vector<float> x(size_t((n - 1) * E_)), ys(size_t((n - 1) * H));
    for (int64_t i = 0; i < n - 1; ++i)
      std::memcpy(&x[size_t(i * E_)], &embedding_[size_t(ids[i] * E_)], sizeof(float) * E_);
    std::vector<float> hn(state.h.size()), cn(state.c.size());
    rnn_.forward(x.data(), 1, n - 1, ys.data(), state.h.data(), state.c.empty() ? nullptr : state.c.data(),
                 hn.data(), cn.empty() ? nullptr : cn.data());
    state.h.swap(hn);
    state.c.swap(cn);
  }
  rnn_.step(&embedding_[size_t(ids[n - 1] * E_)], 1, state.h.data(), state.c.empty() ? nullptr : state.c.data(),
            y.data());
  linear_forward<float>(y.data(), head_w_.data(), head_b_.empty() ? nullptr : head_b_.data(), logits, 1, H, V_);
}

std::vector<int64_t> LanguageModel::sample(const std::vector<int64_t>& prime, int64_t n, double temperature,
                                           int64_t top_k, uint64_t seed) const {
  check(!prime.empty(), "LanguageModel::sample: prime must hold at least one token");
  check(n >= 0, "LanguageModel::sample: n must be >= 0");
  check(std::isfinite(temperature) && temperature >= 0, "LanguageModel::sample: temperature must be a finite number >= 0");
  SplitMix64 rng(seed);
  State state = initial_state();
  std::vector<float> logits(static_cast<size_t>(V_));
  std::vector<int64_t> out;
  int64_t token = prime.back();
  // As Python: forward over prime[:-1] from zero state, then a step from its last id.
  feed(prime.data(), int64_t(prime.size()), state, logits.data());
  for (int64_t i = 0; i < n; ++i) {
    if (i) feed(&token, 1, state, logits.data());
    token = pick(logits.data(), V_, temperature, top_k, rng, tokens_.empty() ? -1 : 0);
    out.push_back(token);
  }
  return out;
}

int64_t pick(const float* logits, int64_t V, double temperature, int64_t top_k, SplitMix64& rng,
             int64_t exclude) {
  check(logits && V >= 1, "pick: needs logits");
  check(std::isfinite(temperature) && temperature >= 0, "pick: temperature must be a finite number >= 0");
  constexpr double kNone = -std::numeric_limits<double>::infinity();
  std::vector<double> z(logits, logits + V);
  if (exclude >= 0 && exclude < V && V > 1) z[size_t(exclude)] = kNone;
  if (temperature == 0) return int64_t(std::max_element(z.begin(), z.end()) - z.begin());
  // Subtract the maximum before dividing: a tiny temperature then sends every other token
  // to -inf (greedy) instead of overflowing.
  const double m = *std::max_element(z.begin(), z.end());
  for (auto& v : z) v = (v - m) / temperature;
  if (top_k > 0 && top_k < V) {  // keep the values >= the k-th largest (ties included)
    std::vector<double> sorted(z);
    std::nth_element(sorted.begin(), sorted.begin() + (V - top_k), sorted.end());
    const double kth = sorted[size_t(V - top_k)];
    for (auto& v : z) v = v >= kth ? v : kNone;
  }
  double c = 0;
  for (auto& v : z) v = (c += std::exp(v));  // the running sum, as np.cumsum
  const double u = rng.uniform() * z.back();
  const int64_t i = int64_t(std::upper_bound(z.begin(), z.end(), u) - z.begin());
  return std::min(i, V - 1);
}

}  // namespace minrnn
