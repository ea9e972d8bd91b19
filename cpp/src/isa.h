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
