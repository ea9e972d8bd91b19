// The engine behind every linear recurrence in minrnn: h_s = a_s * h_{s-1} + b_s over
// s = 0..T-1, independently for each of the C channels of each of nb batch rows.
// A cell supplies an Op whose at(n, t) returns a Row for batch row n at time t, with
// every pointer resolved, so that the loop over channels is branch-free and vectorises:
//   void Row::coef(int64_t c, F& a, F& b) const;   // the step's coefficients
//   void Row::emit(int64_t c, F h) const;          // consume the new state
// t is the time index the op sees: t = s going forward, t = T-1-s when `reverse`
// (backward passes are the same recurrence run from the end).
//
// Two schedules (DESIGN.md §4):
//  - sequential: threads split the (row, channel range) pairs; one pass over time,
//    vectorised over contiguous channels.
//  - parallel: threads split time. Work goes block by block; a block of time is cut
//    into K chunks (m per thread). Pass 1 reduces each chunk to one pair (A, B);
//    pass 2 scans the chunk pairs into the state entering each chunk; pass 3 re-walks
//    each chunk from that state, calling emit. Blocks are sized so a thread's chunks
//    stay in its cache between passes 1 and 3. With few channels a thread walks m = 8
//    chunks side by side, so 8 independent multiply-add chains hide the latency.
#pragma once
#include <cstdint>

#include "isa.h"
#include "kernels.h"
#include "parallel.h"
#include "minrnn/minrnn.h"
#ifdef _OPENMP
#include <omp.h>
#endif

namespace minrnn::MINRNN_ISA {

constexpr int64_t kChunkBytes = 192 * 1024;  // what one thread keeps in cache per block

MINRNN_INLINE int64_t ceil_div(int64_t a, int64_t b) { return (a + b - 1) / b; }
MINRNN_INLINE int64_t min64(int64_t a, int64_t b) { return a < b ? a : b; }
MINRNN_INLINE int64_t max64(int64_t a, int64_t b) { return a > b ? a : b; }

// One time step over channels [c0, c0 + len). The row is a by-value parameter so that the
// __restrict on its pointers holds (GCC honours restrict on parameters, not on locals),
// which lets the loop vectorise without run-time alias checks.
template <class F, class Row>
MINRNN_NOINLINE void step_row(const Row row, F* __restrict h, int64_t c0, int64_t len) {
  for (int64_t i = 0; i < len; ++i) {
    F a, b;
    row.coef(c0 + i, a, b);
    const F v = a * h[i] + b;
    h[i] = v;
    row.emit(c0 + i, v);
  }
}

// Compose one time step into running pairs: A = a A, B = a B + b.
template <class F, class Row>
MINRNN_NOINLINE void reduce_row(const Row row, F* __restrict A, F* __restrict B, int64_t len) {
  for (int64_t c = 0; c < len; ++c) {
    F a, b;
    row.coef(c, a, b);
    A[c] *= a;
    B[c] = a * B[c] + b;
  }
}

// h: the thread's running state, kMaxSeqC channels at most per call.
constexpr int64_t kMaxSeqC = 2048;

// The kChains chunks [s_begin + j*L, s_begin + (j+1)*L) (cut at `avail` steps), walked
// side by side so that their independent multiply-add chains overlap. A and B hold the
// chunk pairs at [j*C + c]. The op is copied so that its fields stay in registers.
template <class F, class Op>
MINRNN_NOINLINE void chains_reduce(const Op op_, int64_t n, int64_t T, bool reverse, int64_t s_begin,
                                   int64_t L, int64_t avail, int64_t C, F* A, F* B) {
  const Op op = op_;
  const int64_t full = min64(L, max64(0, avail - (detail::kChains - 1) * L));  // steps every chain has
  const int64_t dir = reverse ? -1 : 1;
  int64_t t0[detail::kChains];
  for (int64_t j = 0; j < detail::kChains; ++j) {
    const int64_t s = s_begin + j * L;
    t0[j] = reverse ? T - 1 - s : s;
  }
  for (int64_t c = 0; c < C; ++c) {
    F ra[detail::kChains], rb[detail::kChains];
    for (int64_t j = 0; j < detail::kChains; ++j) ra[j] = F(1), rb[j] = F(0);
    for (int64_t i = 0; i < full; ++i) {
#pragma GCC unroll 8
      for (int64_t j = 0; j < detail::kChains; ++j) {
        F a, b;
        op.at(n, t0[j] + dir * i).coef(c, a, b);
        ra[j] *= a;
        rb[j] = a * rb[j] + b;
      }
    }
    for (int64_t j = 0; j < detail::kChains; ++j)
      for (int64_t i = full; i < min64(L, avail - j * L); ++i) {
        F a, b;
        op.at(n, t0[j] + dir * i).coef(c, a, b);
        ra[j] *= a;
        rb[j] = a * rb[j] + b;
      }
    for (int64_t j = 0; j < detail::kChains; ++j) A[j * C + c] = ra[j], B[j * C + c] = rb[j];
  }
}

// Pass 3 of the same chunks: walk each from its entering state A[j*C + c], emitting.
template <class F, class Op>
MINRNN_NOINLINE void chains_walk(const Op op_, int64_t n, int64_t T, bool reverse, int64_t s_begin,
                                 int64_t L, int64_t avail, int64_t C, const F* A) {
  const Op op = op_;
  const int64_t full = min64(L, max64(0, avail - (detail::kChains - 1) * L));
  const int64_t dir = reverse ? -1 : 1;
  int64_t t0[detail::kChains];
  for (int64_t j = 0; j < detail::kChains; ++j) {
    const int64_t s = s_begin + j * L;
    t0[j] = reverse ? T - 1 - s : s;
  }
  for (int64_t c = 0; c < C; ++c) {
    F rh[detail::kChains];
    for (int64_t j = 0; j < detail::kChains; ++j) rh[j] = A[j * C + c];
    for (int64_t i = 0; i < full; ++i) {
#pragma GCC unroll 8
      for (int64_t j = 0; j < detail::kChains; ++j) {
        const auto row = op.at(n, t0[j] + dir * i);
        F a, b;
        row.coef(c, a, b);
        rh[j] = a * rh[j] + b;
        row.emit(c, rh[j]);
      }
    }
    for (int64_t j = 0; j < detail::kChains; ++j)
      for (int64_t i = full; i < min64(L, avail - j * L); ++i) {
        const auto row = op.at(n, t0[j] + dir * i);
        F a, b;
        row.coef(c, a, b);
        rh[j] = a * rh[j] + b;
        row.emit(c, rh[j]);
      }
  }
}

template <class F, class Op>
void scan_run_sequential(const Op& op, int64_t nb, int64_t T, int64_t C, bool reverse,
                         const F* h0, F* hT, int nt) {
  // Work items are (row, channel range); a thread walks time for its item, reading whole
  // contiguous stretches of each row at every step (friendly to the prefetchers). Rows are
  // split only as far as needed to give every thread work, in slices of at least 64
  // channels (narrower slices of one row make threads share its cache lines and slow down).
  const int64_t want = max64(ceil_div(nt, nb), ceil_div(C, kMaxSeqC));
  const int64_t cb = min64(C, max64(64, ceil_div(ceil_div(C, want), 16) * 16));
  const int64_t nblk = ceil_div(C, cb);
  const int64_t items = nb * nblk;
  detail::run_threads(items > 1, nt, [&] {
    FlushDenormals ftz;
#pragma omp for schedule(static)
    for (int64_t it = 0; it < items; ++it) {
      const int64_t n = it / nblk, c0 = (it % nblk) * cb, len = min64(cb, C - c0);
      alignas(64) F h[kMaxSeqC];
      for (int64_t i = 0; i < len; ++i) h[i] = h0 ? h0[n * C + c0 + i] : F(0);
      for (int64_t s = 0; s < T; ++s) step_row<F>(op.at(n, reverse ? T - 1 - s : s), h, c0, len);
      if (hT)
        for (int64_t i = 0; i < len; ++i) hT[n * C + c0 + i] = h[i];
    }
  });
}

// work: detail::scan_workspace(C, nt) elements.
template <class F, class Op>
void scan_run_parallel(const Op& op, int64_t nb, int64_t T, int64_t C, bool reverse,
                       const F* h0, F* hT, int nt, int64_t bytes_per_elem, F* work) {
  const int64_t K = detail::scan_chunks(C, nt);
  const int64_t m = K / nt;
  int64_t L = max64(32, kChunkBytes / (m * C * bytes_per_elem));
  // Chains walked side by side must not sit a power of two apart: their streams would
  // share L1 sets (and alias at 4 KiB) and evict each other. An odd length spreads them.
  if (m > 1) L = (L & ~int64_t(63)) + 17;
  L = min64(L, ceil_div(T, K));
  const int64_t TB = K * L;
  // A[k*C + c], Bv[k*C + c]: the pair of chunk k; after pass 2, A holds the state entering it.
  F* const A = work;
  F* const Bv = work + K * C;
  F* const carry = work + 2 * K * C;
  for (int64_t n = 0; n < nb; ++n) {
    for (int64_t c = 0; c < C; ++c) carry[c] = h0 ? h0[n * C + c] : F(0);
    detail::run_threads(true, nt, [&] {
      FlushDenormals ftz;
#ifdef _OPENMP
      const int64_t tid = omp_get_thread_num();
#else
      const int64_t tid = 0;
#endif
      const int64_t k0 = tid * m;
      for (int64_t s0 = 0; s0 < T; s0 += TB) {
        const int64_t blk = min64(TB, T - s0);
        const int64_t Lb = ceil_div(blk, K);
        // pass 1: reduce this thread's chunks
        for (int64_t k = k0; k < k0 + m; ++k)
          for (int64_t c = 0; c < C; ++c) A[k * C + c] = F(1), Bv[k * C + c] = F(0);
        if (m == 1) {
          const int64_t lo = k0 * Lb, hi = min64(blk, lo + Lb);
          for (int64_t i = lo; i < hi; ++i) {
            const int64_t s = s0 + i;
            reduce_row<F>(op.at(n, reverse ? T - 1 - s : s), A + k0 * C, Bv + k0 * C, C);
          }
        } else {
          chains_reduce<F>(op, n, T, reverse, s0 + k0 * Lb, Lb, blk - k0 * Lb, C, A + k0 * C, Bv + k0 * C);
        }
#pragma omp barrier
        // pass 2: states entering each chunk, channels split across threads
        {
          const int64_t cs = C * tid / nt, ce = C * (tid + 1) / nt;
          for (int64_t c = cs; c < ce; ++c) {
            F h = carry[c];
            for (int64_t k = 0; k < K; ++k) {
              const F a = A[k * C + c];
              A[k * C + c] = h;
              // h = 0 (a zero initial state) skips the product: a chunk's A may have
              // overflowed to inf, and inf * 0 would be NaN where the sequential walk gives b.
              h = h == F(0) ? Bv[k * C + c] : a * h + Bv[k * C + c];
            }
            carry[c] = h;
          }
        }
#pragma omp barrier
        // pass 3: walk this thread's chunks from their entering states
        if (m == 1) {
          const int64_t lo = k0 * Lb, hi = min64(blk, lo + Lb);
          for (int64_t i = lo; i < hi; ++i) {
            const int64_t s = s0 + i;
            step_row<F>(op.at(n, reverse ? T - 1 - s : s), A + k0 * C, 0, C);
          }
        } else {
          chains_walk<F>(op, n, T, reverse, s0 + k0 * Lb, Lb, blk - k0 * Lb, C, A + k0 * C);
        }
        // No barrier needed here: the next pass 1 touches only this thread's chunks,
        // and pass 2 reads them only after the next barrier.
      }
    });
    if (hT)
      for (int64_t c = 0; c < C; ++c) hT[n * C + c] = carry[c];
  }
}

// Run op over (nb, T, C) with the resolved schedule. T = 0 leaves hT = h0.
template <class F, class Op>
void scan_run(const Op& op, int64_t nb, int64_t T, int64_t C, bool reverse, const F* h0, F* hT,
              bool parallel, int nt, int64_t bytes_per_elem, F* work) {
  if (nb == 0 || C == 0) return;
#ifndef _OPENMP
  nt = 1;  // built without OpenMP: one thread walks every chunk
#endif
  if (T == 0) {
    if (hT)
      for (int64_t i = 0; i < nb * C; ++i) hT[i] = h0 ? h0[i] : F(0);
    return;
  }
  if (parallel)
    scan_run_parallel<F>(op, nb, T, C, reverse, h0, hT, nt, bytes_per_elem, work);
  else
    scan_run_sequential<F>(op, nb, T, C, reverse, h0, hT, nt);
}

}  // namespace minrnn::MINRNN_ISA
