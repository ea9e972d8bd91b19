// Recurrent stacks and language models for native programs (minrnn/model.h), on top of the
// layer kernels; they make the same calls as the Python package, so the numbers match.
#include "minrnn/model.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <iterator>
#include <limits>
#include <new>
#include <set>
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
                                        detail::shape_str(shapes_[size_t(i)]) + " (" + std::to_string(p.size()) +
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
// A file is checked as Python's reader checks it (python/minrnn/checkpoint.py), so that
// the two load the same files: configuration keys the constructors take and no others,
// the arrays the configuration implies and no others, a vocabulary Vocab accepts.
namespace {
using detail::Json;
using detail::ModelFile;

// obj holds no keys but `keys` (Python passes them to a constructor, which refuses others).
void only_keys(const ModelFile& f, const Json& obj, const char* what, std::vector<std::string> keys) {
  for (const auto& [k, v] : obj.members)
    if (std::find(keys.begin(), keys.end(), k) == keys.end())
      f.fail(std::string(what) + " has an unknown key '" + k + "'");
}

std::string opt_str(const ModelFile& f, const Json& obj, const char* key, const char* dflt) {
  const Json* v = obj.find(key);
  if (!v) return dflt;
  if (v->kind != Json::String) f.fail(std::string("meta '") + key + "' is not a string");
  return v->str;
}

// Python's bool(v) of a flag (the constructors take any value for one).
bool opt_bool(const Json& obj, const char* key, bool dflt) {
  const Json* v = obj.find(key);
  if (!v) return dflt;
  switch (v->kind) {
    case Json::Null: return false;
    case Json::Bool: return v->boolean;
    case Json::Number: return v->number != 0;
    case Json::String: return !v->str.empty();
    case Json::Array: return !v->items.empty();
    case Json::Object: return !v->members.empty();
  }
  return dflt;
}

int64_t size_of(const ModelFile& f, const Json& obj, const char* key) {
  const int64_t n = f.get_int(obj, key);
  if (n < 1) f.fail(std::string("meta '") + key + "' is " + std::to_string(n) + ", not >= 1");
  return n;
}

// The options both kinds of file share, as the constructors check them: dropout in
// [0, 1); dtype float32 or float64 (NumPy's names for them; None is float64); seed None or
// an int >= 0 (a layer's numpy.random.default_rng also takes a bool or a list of them).
void check_common(const ModelFile& f, const Json& cfg, bool layer) {
  if (const Json* d = cfg.find("dropout"); d && !(d->kind == Json::Number && d->number >= 0 && d->number < 1))
    f.fail("meta 'dropout' is not a number in [0, 1)");
  if (const Json* d = cfg.find("dtype"); d && d->kind != Json::Null) {
    static const char* kNames[] = {"float32", "f4", "<f4", "=f4", "single", "f",
                                   "float64", "f8", "<f8", "=f8", "double", "d", "float"};
    auto named = [&](const char* n) { return d->str == n; };
    if (d->kind != Json::String || std::none_of(std::begin(kNames), std::end(kNames), named))
      f.fail("meta 'dtype' is not float32 or float64");
  }
  auto seed = [](const Json& v) { return v.kind == Json::Number && v.integer && v.number >= 0; };
  if (const Json* s = cfg.find("seed"); s && s->kind != Json::Null && !seed(*s)) {
    const bool seeds = s->kind == Json::Array && std::all_of(s->items.begin(), s->items.end(), seed);
    if (!layer || !(s->kind == Json::Bool || seeds)) f.fail("meta 'seed' is not None or an int >= 0");
  }
}

// A recurrent stack as a file's configuration describes it.
struct Stack {
  CellType cell;
  Candidate cand = Candidate::G;
  ScanMode scan = ScanMode::Auto;
  int64_t D, H, L, dirs;
  bool bias;
};

// family: the Python class's name in lower case ("gru", ..., "minlstm"); opts: the object
// that holds its options (the layer's config, a language model's config["options"]).
Stack stack_of(const ModelFile& f, const std::string& family, const Json& opts, const Json& cfg, int64_t D,
               bool bidirectional) {
  Stack st{};
  if (family == "gru") st.cell = opt_bool(opts, "reset_after", true) ? CellType::GRU : CellType::GRUResetBefore;
  else if (family == "lstm") st.cell = CellType::LSTM;
  else if (family == "mgu") st.cell = CellType::MGU;
  else if (family == "mingru") st.cell = CellType::MinGRU;
  else if (family == "minlstm") st.cell = CellType::MinLSTM;
  else if (family == "rnn") {
    const std::string nl = opt_str(f, opts, "nonlinearity", "tanh");
    if (nl != "tanh" && nl != "relu") f.fail("unknown nonlinearity '" + nl + "'");
    st.cell = nl == "tanh" ? CellType::RNNTanh : CellType::RNNReLU;
  } else {
    f.fail("unknown cell '" + family + "'");
  }
  if (minimal(st.cell)) {
    const std::string c = opt_str(f, opts, "candidate", "g"), sc = opt_str(f, opts, "scan", "auto");
    if (c != "g" && c != "identity" && c != "tanh") f.fail("unknown candidate '" + c + "'");
    if (sc != "auto" && sc != "sequential" && sc != "parallel") f.fail("unknown scan '" + sc + "'");
    st.cand = c == "identity" ? Candidate::Identity : c == "tanh" ? Candidate::Tanh : Candidate::G;
    st.scan = sc == "sequential" ? ScanMode::Sequential : sc == "parallel" ? ScanMode::Parallel : ScanMode::Auto;
  }
  st.D = D, st.H = size_of(f, cfg, "hidden_size"), st.L = size_of(f, cfg, "num_layers");
  st.dirs = bidirectional ? 2 : 1;
  st.bias = opt_bool(cfg, "bias", true);
  return st;
}

// The cell options of each family, as the Python classes take them.
std::vector<std::string> cell_options(const std::string& family) {
  if (family == "gru") return {"reset_after"};
  if (family == "rnn") return {"nonlinearity"};
  if (family == "mingru" || family == "minlstm") return {"candidate", "scan"};
  return {};
}

// The stack's arrays (prefix + PyTorch name) must be the file's arrays under prefix. They
// are compared, shapes included, with the arrays' headers before anything is allocated:
// a damaged size fails here instead of allocating gigabytes (the file holds the bytes of
// every array that passes, so what is then built is at most the file's size).
Recurrent build_recurrent(const ModelFile& f, const Stack& st, const std::string& prefix) {
  std::set<std::string> names;
  for (int64_t l = 0; l < st.L; ++l)  // (ends at the first missing array, whatever num_layers says)
    for (int64_t d = 0; d < st.dirs; ++d)
      unit_parameters(st.cell, st.D, st.H, st.dirs, st.bias, l, d, [&](int, const std::string& name, auto shape) {
        const ModelFile::Entry* e = f.find(prefix + name);
        if (!e) f.fail("no array '" + prefix + name + "'");
        if (e->shape != shape)
          f.fail("array '" + prefix + name + "' has shape " + detail::shape_str(e->shape) + ", expected " +
                 detail::shape_str(shape));
        names.insert(prefix + name);
      });
  for (const auto& [name, e] : f.entries)
    if (name.compare(0, prefix.size(), prefix) == 0 && !names.count(name))
      f.fail("array '" + name + "' is not a parameter of this " + std::to_string(st.L) + "-layer stack");
  Recurrent r(st.cell, st.D, st.H, st.L, st.dirs == 2, st.bias, st.cand, st.scan);
  for (const auto& name : r.parameter_names()) {
    const auto a = f.array(prefix + name);
    try {
      r.set_parameter(name, a.data.data(), int64_t(a.data.size()));
    } catch (const std::invalid_argument& e) {
      f.fail(e.what());
    }
  }
  return r;
}

// Python's str.isspace: a word-level token holds none of these.
bool is_space(uint32_t c) {
  return (c >= 0x09 && c <= 0x0D) || (c >= 0x1C && c <= 0x20) || c == 0x85 || c == 0xA0 || c == 0x1680 ||
         (c >= 0x2000 && c <= 0x200A) || c == 0x2028 || c == 0x2029 || c == 0x202F || c == 0x205F || c == 0x3000;
}

}  // namespace

Recurrent load_recurrent(const std::string& path) {
  return detail::naming_file(path, [&] {
    const auto f = detail::read_model_file(path);
    const auto& kind = f.get(f.meta, "kind", Json::String).str;
    if (kind != "recurrent") f.fail("it holds a '" + kind + "', not a recurrent layer");
    const auto& cfg = f.get(f.meta, "config", Json::Object);
    // the class name, as the Python package's LAYERS spells it
    const std::string type = f.get(cfg, "type", Json::String).str;
    static const char* kTypes[] = {"RNN", "GRU", "LSTM", "MGU", "MinGRU", "MinLSTM"};
    if (std::none_of(std::begin(kTypes), std::end(kTypes), [&](const char* t) { return type == t; }))
      f.fail("unknown layer type '" + type + "'");
    std::string family = type;
    for (auto& ch : family) ch = char(std::tolower(static_cast<unsigned char>(ch)));
    std::vector<std::string> keys = {"type", "input_size", "hidden_size", "num_layers", "bias", "batch_first",
                                     "dropout", "bidirectional", "dtype", "seed"};
    for (auto& o : cell_options(family)) keys.push_back(o);
    only_keys(f, cfg, "config", keys);
    check_common(f, cfg, true);
    // batch_first is the Python call's layout only: the C++ forward is always batch-first.
    const int64_t D = size_of(f, cfg, "input_size");
    return build_recurrent(f, stack_of(f, family, cfg, cfg, D, opt_bool(cfg, "bidirectional", false)), "model/");
  });
}

LanguageModel LanguageModel::load(const std::string& path) {
  return detail::naming_file(path, [&] {
    const auto f = detail::read_model_file(path);
    const auto& kind = f.get(f.meta, "kind", Json::String).str;
    if (kind != "language_model") f.fail("it holds a '" + kind + "', not a language model");
    const auto& cfg = f.get(f.meta, "config", Json::Object);
    // The cell's options (reset_after, nonlinearity, candidate, ...) are config["options"];
    // Python takes them in config itself too, and refuses one given in both.
    const std::string family = opt_str(f, cfg, "cell", "mingru");
    const std::vector<std::string> known = cell_options(family);
    std::vector<std::string> keys = {"vocab_size", "embed_size", "hidden_size", "cell", "num_layers",
                                     "dropout", "bias", "seed", "dtype", "options"};
    keys.insert(keys.end(), known.begin(), known.end());
    only_keys(f, cfg, "config", keys);
    check_common(f, cfg, false);
    Json opts;
    opts.kind = Json::Object;
    if (const Json* o = cfg.find("options")) {
      if (o->kind != Json::Object) f.fail("meta 'options' is not an object");
      only_keys(f, *o, "config['options']", known);
      opts.members = o->members;
    }
    for (const auto& k : known)
      if (const Json* v = cfg.find(k)) {
        if (opts.find(k)) f.fail("config gives '" + k + "' twice (also in its 'options')");
        opts.members.emplace_back(k, *v);
      }
    const int64_t V = size_of(f, cfg, "vocab_size"), E = size_of(f, cfg, "embed_size");
    const Stack st = stack_of(f, family, opts, cfg, E, false);
    // the embedding and the head against the arrays' headers too, before anything is built
    std::map<std::string, std::vector<int64_t>> parts = {{"model/embedding.weight", {V, E}},
                                                         {"model/head.weight", {V, st.H}}};
    if (st.bias) parts["model/head.bias"] = {V};
    for (const auto& [name, want] : parts) {
      const ModelFile::Entry* e = f.find(name);
      if (!e) f.fail("no array '" + name + "'");
      if (e->shape != want)
        f.fail("array '" + name + "' has shape " + detail::shape_str(e->shape) + ", expected " +
               detail::shape_str(want));
    }
    for (const auto& [name, e] : f.entries)
      if (name.compare(0, 6, "model/") == 0 && name.compare(0, 10, "model/rnn.") != 0 && !parts.count(name))
        f.fail("array '" + name + "' is not a parameter of this language model");
    // the dropout generator's state (unused here; Python restores it, and refuses a file without)
    const Json* rng = f.get(f.meta, "rng", Json::Object).find("rnn_dropout");
    const Json* rs = rng ? rng->find("state") : nullptr;
    if (!rng || opt_str(f, *rng, "bit_generator", "") != "PCG64" || !rs || !rs->find("state") || !rs->find("inc") ||
        !rng->find("has_uint32") || !rng->find("uinteger"))
      f.fail("meta 'rng' holds no PCG64 state for the dropout generator");
    LanguageModel m(build_recurrent(f, st, "model/rnn."));
    m.V_ = V, m.E_ = E;
    auto load = [&](const std::string& name, std::vector<float>& into) {
      auto a = f.array("model/" + name);
      for (float v : a.data)
        if (!std::isfinite(v)) f.fail("array 'model/" + name + "' contains non-finite values");
      into = std::move(a.data);
    };
    load("embedding.weight", m.embedding_);
    load("head.weight", m.head_w_);
    if (st.bias) load("head.bias", m.head_b_);
    // the vocabulary, as minrnn.Vocab.from_dict accepts it
    const Json* vocab = f.meta.find("vocab");
    if (vocab && vocab->kind != Json::Null) {
      if (vocab->kind != Json::Object) f.fail("meta 'vocab' is not an object");
      const std::string level = f.get(*vocab, "level", Json::String).str;
      if (level != "char" && level != "word") f.fail("the vocabulary's level is '" + level + "', not char or word");
      m.word_level_ = level == "word";
      const Json* unk = vocab->find("unk");
      if (!unk) f.fail("meta 'vocab' has no 'unk'");
      m.tokens_.push_back(unk->kind == Json::Null ? (m.word_level_ ? "<unk>" : "\xEF\xBF\xBD")  // Vocab's defaults
                                                  : f.get(*vocab, "unk", Json::String).str);
      for (const auto& t : f.get(*vocab, "tokens", Json::Array).items) {
        if (t.kind != Json::String) f.fail("a vocabulary token is not a string");
        m.tokens_.push_back(t.str);
      }
      std::vector<uint32_t> cps;
      for (size_t i = 0; i < m.tokens_.size(); ++i) {
        const std::string& t = m.tokens_[i];
        if (!detail::utf8_code_points(t, cps) || cps.empty())
          f.fail("vocabulary token " + std::to_string(i) + " is empty or not UTF-8");
        if (i > 0 && !m.word_level_ && cps.size() != 1) f.fail("the char-level token '" + t + "' is not one character");
        if (i > 0 && m.word_level_ && std::any_of(cps.begin(), cps.end(), is_space))
          f.fail("the word-level token '" + t + "' holds whitespace");
        if (!m.ids_.emplace(t, int64_t(i)).second) f.fail("the vocabulary lists '" + t + "' twice");
      }
      if (int64_t(m.tokens_.size()) != V)
        f.fail("the vocabulary has " + std::to_string(m.tokens_.size()) + " tokens, the model " + std::to_string(V));
    }
    return m;
  });
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
