// Models for native programs: recurrent stacks and language models built from weights,
// or loaded from the files the Python package writes (layer.save, LanguageModel.save,
// Trainer.save). float32, batch-first, inference only (forward over a sequence and one
// step at a time with a caller-owned state). The file format is in the README.
//
// Errors are exceptions: std::invalid_argument for a bad argument (null where an array is
// needed, a size below 1, a value outside its enum), std::overflow_error for sizes whose
// element count overflows int64 or whose B * T rows exceed the 32-bit BLAS, std::bad_alloc
// when memory runs out, ModelError for any failure while loading a file.
#pragma once
#include <cstdint>
#include <map>
#include <stdexcept>
#include <string>
#include <vector>

#include "minrnn/minrnn.h"

namespace minrnn {

// A model file that cannot be read, or does not describe a valid model.
struct ModelError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

enum class CellType { RNNTanh, RNNReLU, LSTM, GRU, GRUResetBefore, MGU, MinGRU, MinLSTM };

// A stack of recurrent layers with PyTorch's parameter names and layout (as the Python
// layers: weight_ih_l0, weight_hh_l0_reverse, ...). forward and step change nothing in
// it and may run from several threads at once; set_parameter may not run beside them.
class Recurrent {
 public:
  // candidate and scan apply to MinGRU / MinLSTM only. The weights start at zero. Throws
  // std::invalid_argument for a size below 1 or a cell, candidate or scan outside its enum,
  // std::overflow_error if the weights' element count overflows int64, std::bad_alloc if
  // they do not fit in this machine's memory (checked before anything is allocated).
  Recurrent(CellType cell, int64_t input_size, int64_t hidden_size, int64_t num_layers = 1,
            bool bidirectional = false, bool bias = true, Candidate candidate = Candidate::G,
            ScanMode scan = ScanMode::Auto);

  CellType cell() const { return cell_; }
  int64_t input_size() const { return D_; }
  int64_t hidden_size() const { return H_; }
  int64_t num_layers() const { return L_; }
  bool bidirectional() const { return dirs_ == 2; }
  bool has_cell_state() const { return cell_ == CellType::LSTM; }
  int64_t output_size() const { return H_ * dirs_; }
  // Elements of h (and of c for LSTM) for a batch: num_layers * directions * B * H.
  int64_t state_size(int64_t batch) const { return L_ * dirs_ * batch * H_; }

  std::vector<std::string> parameter_names() const;
  std::vector<int64_t> parameter_shape(const std::string& name) const;  // throws if unknown
  // Copies count floats into the named parameter; std::invalid_argument for an unknown
  // name, a count that does not match its shape, or a value that is not finite.
  void set_parameter(const std::string& name, const float* data, int64_t count);
  const std::vector<float>& parameter(const std::string& name) const;

  // x (B, T, input_size) -> y (B, T, output_size), always batch-first: a layer saved from
  // Python with batch_first=False loads all the same (that setting is only the layout of
  // the Python call). h0, c0: (layers * dirs, B, H) or null for zeros; hn, cn receive the
  // final states (may be null). c0 and cn are an LSTM's cell state: non-null for another
  // cell is an std::invalid_argument. B * T above 2^31 - 1 is an std::overflow_error (the
  // BLAS takes 32-bit sizes): run a longer sequence in chunks, carrying hn and cn.
  void forward(const float* x, int64_t B, int64_t T, float* y, const float* h0 = nullptr,
               const float* c0 = nullptr, float* hn = nullptr, float* cn = nullptr) const;
  // One time step of a unidirectional stack: x (B, input_size) -> y (B, H); h (and c for
  // an LSTM; null for any other cell), (layers, B, H), are read and updated in place.
  // The scratch it needs stays with the calling thread for the next step, until
  // release_workspace() (minrnn.h). B above 2^31 - 1 is an std::overflow_error.
  void step(const float* x, int64_t B, float* h, float* c, float* y) const;

 private:
  // The parameters of one layer in one direction, as indices into values_ (-1: none).
  struct Unit {
    int wi = -1, wh = -1, bi = -1, bh = -1;
  };
  int add(const std::string& name, std::vector<int64_t> shape);
  int find(const std::string& name) const;  // throws if unknown
  const float* w(int i) const { return i < 0 ? nullptr : values_[size_t(i)].data(); }
  CellType cell_;
  int64_t D_, H_, L_, dirs_;
  bool bias_;
  Candidate cand_;
  ScanMode scan_;
  std::vector<std::string> names_;
  std::vector<std::vector<int64_t>> shapes_;
  std::vector<std::vector<float>> values_;
  std::vector<Unit> units_;  // layer * dirs + direction
};

// A layer written by the Python package's layer.save(path) (GRU, LSTM, RNN, MGU, MinGRU,
// MinLSTM). Throws ModelError naming the file for anything that goes wrong, running out of
// memory included. The file is checked by the rules of Python's reader (minrnn.load_layer:
// configuration keys, the arrays meta lists, shapes), and the sizes its configuration
// gives are checked against the arrays it holds before anything is allocated.
Recurrent load_recurrent(const std::string& path);

// Embedding -> Recurrent -> Linear head, as minrnn.LanguageModel, with its vocabulary.
class LanguageModel {
 public:
  // A model written by LanguageModel.save or Trainer.save. Throws ModelError as
  // load_recurrent does; the vocabulary is checked as minrnn.Vocab checks it.
  static LanguageModel load(const std::string& path);

  int64_t vocab_size() const { return V_; }
  const Recurrent& rnn() const { return rnn_; }
  // The vocabulary: token strings by id (id 0 is the unknown token); char or word level.
  const std::vector<std::string>& tokens() const { return tokens_; }
  bool word_level() const { return word_level_; }
  // UTF-8 text <-> ids, as Vocab.encode / Vocab.decode (words are split at ASCII
  // whitespace; Python's str.split also splits at Unicode spaces). decode throws on a bad id.
  std::vector<int64_t> encode(const std::string& text) const;
  std::string decode(const std::vector<int64_t>& ids) const;

  struct State {
    std::vector<float> h, c;  // (layers, 1, H); c only for LSTM
  };
  State initial_state() const;
  // Feeds ids (n >= 1) one sequence after state (updated) and writes the logits (V) that
  // predict the token after the last one. A state that is not initial_state()'s shape (c
  // not empty for a cell other than LSTM included) is an std::invalid_argument.
  void feed(const int64_t* ids, int64_t n, State& state, float* logits) const;
  // n tokens drawn after prime (at least one id), as the Python sample_ids: temperature 0
  // is greedy, top_k <= 0 means all tokens, never the unknown token (id 0) of a model with
  // a vocabulary; the same seed gives the same tokens as Python.
  std::vector<int64_t> sample(const std::vector<int64_t>& prime, int64_t n,
                              double temperature = 1.0, int64_t top_k = 0,
                              uint64_t seed = 0) const;

 private:
  LanguageModel(Recurrent rnn) : rnn_(std::move(rnn)) {}
  Recurrent rnn_;
  int64_t V_ = 0, E_ = 0;
  std::vector<float> embedding_, head_w_, head_b_;
  std::vector<std::string> tokens_;
  std::map<std::string, int64_t> ids_;
  bool word_level_ = false;
};

// The sampler's random numbers, identical to minrnn.model.SplitMix64 in Python.
struct SplitMix64 {
  uint64_t state;
  explicit SplitMix64(uint64_t seed) : state(seed) {}
  uint64_t next() {
    uint64_t z = (state += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
  }
  double uniform() { return double(next() >> 11) * (1.0 / 9007199254740992.0); }
};

// One id from logits (V), as minrnn.model.pick: argmax at temperature 0, else a draw from
// softmax(logits / temperature) over the top_k largest (all if top_k <= 0). exclude is an
// id never drawn (the vocabulary's unknown token, 0), -1 for none. Throws
// std::invalid_argument for a temperature that is negative or not finite.
int64_t pick(const float* logits, int64_t V, double temperature, int64_t top_k, SplitMix64& rng,
             int64_t exclude = -1);

}  // namespace minrnn
