// One thread budget for OpenMP and the BLAS: the BLAS is kept single-threaded and every
// GEMM is split over OpenMP threads (blas.cpp), so there is one pool of threads.
#include <algorithm>
#include <atomic>
#include <stdexcept>
#include <string>
#include <thread>

#include "blas.h"
#include "minrnn/minrnn.h"
#ifdef _OPENMP
#include <omp.h>
#endif

namespace minrnn {
namespace {
constexpr int kMaxThreads = 1024;  // beyond this a request is a mistake, not a machine

int initial_threads() {
#ifdef _OPENMP
  int n = omp_get_max_threads();  // honours OMP_NUM_THREADS
#else
  int n = static_cast<int>(std::thread::hardware_concurrency());
#endif
  detail::blas_single_threaded();
  return std::min(kMaxThreads, std::max(1, n));
}
std::atomic<int>& budget() {
  static std::atomic<int> n{initial_threads()};
  return n;
}
// Settle the budget (and the BLAS's single thread) when the library loads, before any call.
const int loaded = (budget(), 0);
}  // namespace

void set_num_threads(int n) {
  if (n < 1 || n > kMaxThreads)
    throw std::invalid_argument("set_num_threads: n must be in [1, " + std::to_string(kMaxThreads) +
                                "], got " + std::to_string(n));
  budget().store(n);
}

#ifdef _OPENMP
int get_num_threads() { return budget().load(); }
#else
int get_num_threads() { return 1; }  // built without OpenMP: every kernel runs on one thread
#endif

}  // namespace minrnn
