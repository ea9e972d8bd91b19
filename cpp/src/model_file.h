// Reading the model files of the Python package without Python: a zip archive (entries
// stored, not compressed, as NumPy's savez writes them) of .npy arrays and one JSON
// document, "meta", which lists every other array with its shape and type. Only regular
// files are read, each once, with the size the file system gives. Every failure is a
// ModelError naming the file.
#pragma once
#include <cstdint>
#include <exception>
#include <map>
#include <new>
#include <string>
#include <utility>
#include <vector>

#include "minrnn/model.h"

namespace minrnn::detail {

struct Json {
  enum Kind { Null, Bool, Number, String, Array, Object } kind = Null;
  bool boolean = false;
  double number = 0;
  bool integer = false;  // a Number written without fraction or exponent (Python's int)
  std::string str;
  std::vector<Json> items;
  std::vector<std::pair<std::string, Json>> members;

  // nullptr if absent or not an object; of repeated keys the last, as Python's json.
  const Json* find(const std::string& key) const;
};
Json parse_json(const std::string& text);  // throws ModelError

std::string shape_str(const std::vector<int64_t>& shape);  // "(2, 3)", "(4,)"

// The code points of UTF-8 text, false if it is not valid UTF-8 (as Python decodes it).
bool utf8_code_points(const std::string& s, std::vector<uint32_t>& out);

struct NpyArray {
  std::vector<int64_t> shape;
  std::vector<float> data;  // converted from float32 or float64
};

struct ModelFile {
  // An .npy entry, by its header: element type (NumPy's descr, '<f4', ...), shape, and
  // where its data lies in bytes.
  struct Entry {
    std::string descr;
    std::vector<int64_t> shape;
    size_t data = 0, size = 0;
  };
  std::string path;
  std::string bytes;  // the whole file
  Json meta;
  std::map<std::string, Entry> entries;  // every array but meta, by name (".npy" dropped)

  const Entry* find(const std::string& name) const;  // nullptr if absent
  NpyArray array(const std::string& name) const;     // throws ModelError
  // Typed lookups in meta that throw ModelError naming the key; get_int takes integers
  // from 0 below 9e15.
  const Json& get(const Json& obj, const std::string& key, Json::Kind kind) const;
  int64_t get_int(const Json& obj, const std::string& key) const;
  [[noreturn]] void fail(const std::string& what) const;
};

ModelFile read_model_file(const std::string& path);

// fn() with every exception but ModelError (std::bad_alloc included) turned into a
// ModelError naming path: for the loaders, which build from what read_model_file gave.
[[noreturn]] void fail_file(const std::string& path, const std::string& what);
template <class Fn>
auto naming_file(const std::string& path, Fn&& fn) -> decltype(fn()) {
  try {
    return fn();
  } catch (const ModelError&) {
    throw;
  } catch (const std::bad_alloc&) {
    fail_file(path, "out of memory");
  } catch (const std::exception& e) {
    fail_file(path, e.what());
  }
}

}  // namespace minrnn::detail
