#pragma once
#ifdef _OPENMP
#include <omp.h>
#endif

namespace minrnn::detail {
inline int thread_id() {
#ifdef _OPENMP
  return omp_get_thread_num();
#else
  return 0;
#endif
}
}  // namespace minrnn::detail
