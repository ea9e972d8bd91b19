// Embedding: rows of a table looked up by token id; backward scatters the rows back.
#include <string>

#include "check.h"
#include "parallel.h"
#include "minrnn/minrnn.h"
#ifdef _OPENMP
#include <omp.h>
#endif

namespace minrnn {

namespace {
void check_ids(const char* fn, const int64_t* ids, int64_t N, int64_t V) {
  for (int64_t n = 0; n < N; ++n)
    if (ids[n] < 0 || ids[n] >= V)
      throw std::out_of_range(std::string(fn) + ": ids[" + std::to_string(n) + "] = " +
                              std::to_string(ids[n]) + " is outside [0, " + std::to_string(V) + ")");
}
}  // namespace

template <class F>
void embedding_forward(const int64_t* ids, const F* table, F* out, int64_t N, int64_t V, int64_t E) {
  const char* fn = "embedding_forward";
  detail::check_ptr(fn, "ids", ids, N);
  detail::check_ptr(fn, "table", table, detail::checked_product(fn, {V, E}));
  detail::check_ptr(fn, "out", out, detail::checked_product(fn, {N, E}));
  check_ids(fn, ids, N, V);
  const int nt = get_num_threads();
  detail::run_threads(N * E > 65536, nt, [&] {
#pragma omp for schedule(static)
    for (int64_t n = 0; n < N; ++n) {
      const F* src = table + ids[n] * E;
      F* dst = out + n * E;
      for (int64_t e = 0; e < E; ++e) dst[e] = src[e];
    }
  });
}

template <class F>
void embedding_backward(const int64_t* ids, const F* dout, F* dtable, int64_t N, int64_t V, int64_t E) {
  const char* fn = "embedding_backward";
  detail::check_ptr(fn, "ids", ids, N);
  detail::check_ptr(fn, "dout", dout, detail::checked_product(fn, {N, E}));
  detail::check_ptr(fn, "dtable", dtable, detail::checked_product(fn, {V, E}));
  check_ids(fn, ids, N, V);
  // Threads own column slices of the table, so repeated ids never race; the sum over n
  // runs in order for every column, so the result does not depend on the thread count.
  const int nt = get_num_threads();
  detail::run_threads(N * E > 65536, nt, [&] {
#ifdef _OPENMP
    const int t = omp_get_thread_num(), p = omp_get_num_threads();
#else
    const int t = 0, p = 1;
#endif
    const int64_t e0 = E * t / p, e1 = E * (t + 1) / p;
    for (int64_t v = 0; v < V; ++v)
      for (int64_t e = e0; e < e1; ++e) dtable[v * E + e] = F(0);
    for (int64_t n = 0; n < N; ++n) {
      F* dst = dtable + ids[n] * E;
      const F* src = dout + n * E;
      for (int64_t e = e0; e < e1; ++e) dst[e] += src[e];
    }
  });
}

#define MINRNN_INSTANTIATE(F)                                                              \
  template void embedding_forward<F>(const int64_t*, const F*, F*, int64_t, int64_t, int64_t); \
  template void embedding_backward<F>(const int64_t*, const F*, F*, int64_t, int64_t, int64_t);
MINRNN_INSTANTIATE(float)
MINRNN_INSTANTIATE(double)

}  // namespace minrnn
