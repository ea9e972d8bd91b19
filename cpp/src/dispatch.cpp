// Picks, once, the kernel set compiled for the best instruction set this CPU has.
// MINRNN_SIMD=baseline|avx2|avx512 asks for a lower one (a higher one than the CPU has is
// refused, with a warning, in favour of the best available).
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

#include "kernels.h"

#if defined(MINRNN_HAVE_AVX2)
MINRNN_DECLARE_KERNELS(isa_avx2)
#endif
#if defined(MINRNN_HAVE_AVX512)
MINRNN_DECLARE_KERNELS(isa_avx512)
#endif

namespace minrnn {
namespace {

enum Level { kBaseline = 0, kAvx2 = 1, kAvx512 = 2 };
const char* kNames[] = {"baseline", "avx2", "avx512"};

int cpu_level() {
  int level = kBaseline;
#if defined(__GNUC__) && (defined(__x86_64__) || defined(__i386__))
  __builtin_cpu_init();
#if defined(MINRNN_HAVE_AVX2)
  if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) level = kAvx2;
#endif
#if defined(MINRNN_HAVE_AVX512)
  if (level == kAvx2 && __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512dq") &&
      __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512vl"))
    level = kAvx512;
#endif
#endif
  return level;
}

int chosen_level() {
  static const int level = [] {
    int best = cpu_level();
    const char* env = std::getenv("MINRNN_SIMD");
    if (env && *env) {
      for (int l = kBaseline; l <= kAvx512; ++l)
        if (std::strcmp(env, kNames[l]) == 0) {
          if (l <= best) return l;
          std::fprintf(stderr, "minrnn: MINRNN_SIMD=%s is not available here; using %s\n", env,
                       kNames[best]);
          return best;
        }
      std::fprintf(stderr, "minrnn: MINRNN_SIMD=%s is not one of baseline, avx2, avx512; using %s\n",
                   env, kNames[best]);
    }
    return best;
  }();
  return level;
}

#define MINRNN_TABLE(ns, F)                                                                   \
  detail::Kernels<F> {                                                                        \
    &ns::scan_forward_pass<F>, &ns::scan_backward_pass<F>, &ns::mingru_forward_pass<F>,       \
        &ns::mingru_backward_pass<F>, &ns::minlstm_forward_pass<F>, &ns::minlstm_backward_pass<F>, \
        &ns::classic_step_forward<F>, &ns::classic_step_backward<F>, &ns::gemv_rows<F>,         \
        &ns::gemm_rows<F>, &ns::gemm_rows_untransposed<F>, &ns::pack_weights, &ns::pack_rows,  \
        &ns::gemm_packed,                                                                     \
        &ns::cross_entropy_forward_rows<F>, &ns::cross_entropy_backward_rows<F>                 \
  }

template <class F>
detail::Kernels<F> make_table() {
  switch (chosen_level()) {
#if defined(MINRNN_HAVE_AVX512)
    case kAvx512: return MINRNN_TABLE(isa_avx512, F);
#endif
#if defined(MINRNN_HAVE_AVX2)
    case kAvx2: return MINRNN_TABLE(isa_avx2, F);
#endif
    default: return MINRNN_TABLE(isa_base, F);
  }
}

}  // namespace

const char* simd_level() { return kNames[chosen_level()]; }

namespace detail {
template <class F>
const Kernels<F>& kernels() {
  static const Kernels<F> table = make_table<F>();
  return table;
}
template const Kernels<float>& kernels<float>();
template const Kernels<double>& kernels<double>();
}  // namespace detail

}  // namespace minrnn
