// Entering an OpenMP region only when it pays.
#pragma once
#ifdef _OPENMP
#include <omp.h>
#endif

namespace minrnn::detail {

// Runs body() on a team of nt threads when `threaded`, else on the calling thread alone
// (where omp_get_thread_num() is 0 and an orphaned `omp for` or barrier binds to a team of
// one). A region whose if() clause is false still wakes libgomp's futex on the way in and
// out (~1 us a call on a KVM guest, a fifth of a small streaming step), so a small call
// branches around it. Called from inside the caller's own parallel region, it opens a
// region all the same: the body's worksharing and barriers must bind to minrnn's team,
// never to the caller's (whose other threads are not running this call).
template <class Fn>
void run_threads(bool threaded, int nt, Fn&& body) {
#ifdef _OPENMP
  if ((!threaded || nt <= 1) && !omp_in_parallel()) return body();
#pragma omp parallel num_threads(threaded ? nt : 1)
  body();
#else
  (void)threaded, (void)nt;
  body();
#endif
}

}  // namespace minrnn::detail
