// Argument checks shared by the kernels' entry points (before any thread starts).
#pragma once
#include <cstdint>
#include <limits>
#include <stdexcept>
#include <string>

namespace minrnn::detail {

// Product of sizes, refusing overflow of int64 (and so of any buffer size).
inline int64_t checked_product(const char* fn, std::initializer_list<int64_t> dims) {
  int64_t p = 1;
  for (int64_t d : dims) {
    if (d < 0) throw std::invalid_argument(std::string(fn) + ": negative size " + std::to_string(d));
    if (d != 0 && p > std::numeric_limits<int64_t>::max() / 8 / d)
      throw std::overflow_error(std::string(fn) + ": array size overflows");
    p *= d;
  }
  return p;
}

inline void check_ptr(const char* fn, const char* name, const void* p, int64_t count) {
  if (count > 0 && p == nullptr)
    throw std::invalid_argument(std::string(fn) + ": " + name + " is null");
}

}  // namespace minrnn::detail
