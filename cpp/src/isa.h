// Kernel translation units (scan.cpp, mingru.cpp, minlstm.cpp) are compiled once per
// instruction set, each into its own namespace minrnn::MINRNN_ISA, and chosen at run time
// (dispatch.cpp). Everything they define lives in that namespace and they use no std
// containers, so no inline code compiled for one instruction set can be merged by the
// linker into code that runs on another.
#pragma once
#ifndef MINRNN_ISA
#define MINRNN_ISA isa_base
#endif

// Forced inlining: a call inside a channel loop stops it from vectorising.
#if defined(__GNUC__) || defined(__clang__)
#define MINRNN_INLINE inline __attribute__((always_inline))
#define MINRNN_NOINLINE __attribute__((noinline))
#else
#define MINRNN_INLINE inline
#define MINRNN_NOINLINE
#endif

#if defined(__SSE2__) || defined(_M_X64)
#include <xmmintrin.h>
#endif

namespace minrnn::MINRNN_ISA {
// Flush denormals to zero (FTZ) and read them as zero (DAZ) while a kernel thread runs,
// restoring the caller's mode after: products of many gates (a chunk's A = a_1 ... a_L)
// pass through the denormal range, where arithmetic is ~100x slower. MXCSR is
// per-thread, so every OpenMP region sets it in each of its threads.
struct FlushDenormals {
#if defined(__SSE2__) || defined(_M_X64)
  unsigned int saved;
  FlushDenormals() : saved(_mm_getcsr()) { _mm_setcsr(saved | 0x8040u); }
  ~FlushDenormals() { _mm_setcsr(saved); }
#endif
  FlushDenormals(const FlushDenormals&) = delete;
  FlushDenormals& operator=(const FlushDenormals&) = delete;
};
}  // namespace minrnn::MINRNN_ISA
