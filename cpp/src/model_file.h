// Reading the model files of the Python package without Python: a zip archive (entries
// stored, not compressed, as NumPy's savez writes them) of .npy arrays and one JSON
// document, "meta". Every failure is a ModelError naming the file.
#pragma once
#include <cstdint>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "minrnn/model.h"

namespace minrnn::detail {

struct Json {
  enum Kind { Null, Bool, Number, String, Array, Object } kind = Null;
  bool boolean = false;
  double number = 0;
  std::string str;
  std::vector<Json> items;
  std::vector<std::pair<std::string, Json>> members;

  const Json* find(const std::string& key) const;  // nullptr if absent or not an object
};
Json parse_json(const std::string& text);  // throws ModelError

struct NpyArray {
  std::vector<int64_t> shape;
  std::vector<float> data;  // converted from float32 or float64
};

struct ModelFile {
  std::string path;
  Json meta;
  std::map<std::string, std::string> entries;  // .npy bytes by array name

  NpyArray array(const std::string& name) const;  // throws ModelError
  // Typed lookups in meta that throw ModelError naming the key.
  const Json& get(const Json& obj, const std::string& key, Json::Kind kind) const;
  int64_t get_int(const Json& obj, const std::string& key) const;
  [[noreturn]] void fail(const std::string& what) const;
};

ModelFile read_model_file(const std::string& path);

}  // namespace minrnn::detail
