// Entering an OpenMP region only when it pays.
#pragma once

namespace minrnn::detail {

// Runs body() on a team of nt threads when `threaded`, else on the calling thread alone
// (where omp_get_thread_num() is 0 and an orphaned `omp for` runs every iteration). A region
// whose if() clause is false still wakes libgomp's futex on the way in and out (~1 us a
// call on a KVM guest): a fifth of a small streaming step, so small calls branch around it.
template <class Fn>
void run_threads(bool threaded, int nt, Fn&& body) {
  if (!threaded || nt <= 1) return body();
#pragma omp parallel num_threads(nt)
  body();
}

}  // namespace minrnn::detail
