// The engine behind every linear recurrence in minrnn: h_s = a_s * h_{s-1} + b_s over
// s = 0..T-1, independently for each of the C channels of each of nb batch rows.
// A cell supplies an Op that computes (a, b) for one element and consumes h:
//   void coef(int64_t n, int64_t t, int64_t c, F& a, F& b) const;
//   void emit(int64_t n, int64_t t, int64_t c, F h) const;
// t is the time index the op sees: t = s going forward, t = T-1-s when `reverse`
// (backward passes are the same recurrence run from the end).
//
// Two schedules (DESIGN.md §4):
//  - sequential: threads split the (row, channel block) pairs; one pass over time,
//    vectorised over contiguous channels.
//  - parallel: threads split time. Work goes block by block; a block of time is cut
//    into K chunks (m per thread). Pass 1 reduces each chunk to one pair (A, B);
//    pass 2 scans the chunk pairs into the state entering each chunk; pass 3 re-walks
//    each chunk from that state, calling emit. Blocks are sized so a thread's chunks
//    stay in its cache between passes 1 and 3. With few channels a thread walks m = 8
//    chunks side by side, so 8 independent multiply-add chains hide the latency.
#pragma once
#include <algorithm>
#include <cstdint>
#include <vector>

#include "minrnn/minrnn.h"
#include "threads.h"

namespace minrnn::detail {

constexpr int64_t kBlockC = 64;       // channels per register block in the sequential walk
constexpr int64_t kChains = 8;        // chunks walked side by side when channels are few
constexpr int64_t kChunkBytes = 192 * 1024;  // what one thread keeps in cache per block

inline int64_t ceil_div(int64_t a, int64_t b) { return (a + b - 1) / b; }

template <class F, class Op>
void scan_run_sequential(const Op& op, int64_t nb, int64_t T, int64_t C, bool reverse,
                         const F* h0, F* hT, int nt) {
  // Enough channel blocks that every thread gets work, but no block narrower than 16.
  const int64_t want = std::max<int64_t>(1, ceil_div(nt, nb));
  int64_t cb = std::min(kBlockC, std::max<int64_t>(16, ceil_div(ceil_div(C, want), 8) * 8));
  cb = std::min(cb, C);
  const int64_t nblk = ceil_div(C, cb);
  const int64_t items = nb * nblk;
#pragma omp parallel for num_threads(nt) schedule(static) if (nt > 1 && items > 1)
  for (int64_t it = 0; it < items; ++it) {
    const int64_t n = it / nblk, c0 = (it % nblk) * cb, len = std::min(cb, C - c0);
    alignas(64) F h[kBlockC];
    for (int64_t i = 0; i < len; ++i) h[i] = h0 ? h0[n * C + c0 + i] : F(0);
    for (int64_t s = 0; s < T; ++s) {
      const int64_t t = reverse ? T - 1 - s : s;
      for (int64_t i = 0; i < len; ++i) {
        F a, b;
        op.coef(n, t, c0 + i, a, b);
        const F v = a * h[i] + b;
        h[i] = v;
        op.emit(n, t, c0 + i, v);
      }
    }
    if (hT)
      for (int64_t i = 0; i < len; ++i) hT[n * C + c0 + i] = h[i];
  }
}

template <class F, class Op>
void scan_run_parallel(const Op& op, int64_t nb, int64_t T, int64_t C, bool reverse,
                       const F* h0, F* hT, int nt, int64_t bytes_per_elem) {
  const int64_t m = C < 16 ? kChains : 1;
  const int64_t K = nt * m;
  int64_t L = std::max<int64_t>(32, kChunkBytes / (m * C * bytes_per_elem));
  L = std::min(L, ceil_div(T, K));
  const int64_t TB = K * L;
  // A[k*C + c], Bv[k*C + c]: the pair of chunk k; after pass 2, A holds the state entering it.
  std::vector<F> A(static_cast<size_t>(K * C)), Bv(static_cast<size_t>(K * C)),
      carry(static_cast<size_t>(C));
  for (int64_t n = 0; n < nb; ++n) {
    for (int64_t c = 0; c < C; ++c) carry[c] = h0 ? h0[n * C + c] : F(0);
#pragma omp parallel num_threads(nt) if (nt > 1)
    {
      const int64_t tid = thread_id(), nth = nt;
      const int64_t k0 = tid * m;
      F* Ap = A.data();
      F* Bp = Bv.data();
      for (int64_t s0 = 0; s0 < T; s0 += TB) {
        const int64_t blk = std::min(TB, T - s0);
        const int64_t Lb = ceil_div(blk, K);
        // pass 1: reduce this thread's chunks
        for (int64_t k = k0; k < k0 + m; ++k)
          for (int64_t c = 0; c < C; ++c) Ap[k * C + c] = F(1), Bp[k * C + c] = F(0);
        if (m == 1) {
          const int64_t lo = k0 * Lb, hi = std::min(blk, lo + Lb);
          F* a_ = Ap + k0 * C;
          F* b_ = Bp + k0 * C;
          for (int64_t i = lo; i < hi; ++i) {
            const int64_t s = s0 + i, t = reverse ? T - 1 - s : s;
            for (int64_t c = 0; c < C; ++c) {
              F a, b;
              op.coef(n, t, c, a, b);
              a_[c] *= a;
              b_[c] = a * b_[c] + b;
            }
          }
        } else {
          for (int64_t c = 0; c < C; ++c) {
            F ra[kChains], rb[kChains];
            for (int64_t j = 0; j < kChains; ++j) ra[j] = F(1), rb[j] = F(0);
            for (int64_t i = 0; i < Lb; ++i) {
#pragma GCC unroll 8
              for (int64_t j = 0; j < kChains; ++j) {
                const int64_t off = (k0 + j) * Lb + i;
                if (off < blk) {
                  const int64_t s = s0 + off, t = reverse ? T - 1 - s : s;
                  F a, b;
                  op.coef(n, t, c, a, b);
                  ra[j] *= a;
                  rb[j] = a * rb[j] + b;
                }
              }
            }
            for (int64_t j = 0; j < kChains; ++j) Ap[(k0 + j) * C + c] = ra[j], Bp[(k0 + j) * C + c] = rb[j];
          }
        }
#pragma omp barrier
        // pass 2: states entering each chunk, channels split across threads
        {
          const int64_t cs = C * tid / nth, ce = C * (tid + 1) / nth;
          for (int64_t c = cs; c < ce; ++c) {
            F h = carry[c];
            for (int64_t k = 0; k < K; ++k) {
              const F a = Ap[k * C + c];
              Ap[k * C + c] = h;
              h = a * h + Bp[k * C + c];
            }
            carry[c] = h;
          }
        }
#pragma omp barrier
        // pass 3: walk this thread's chunks from their entering states
        if (m == 1) {
          const int64_t lo = k0 * Lb, hi = std::min(blk, lo + Lb);
          F* h_ = Ap + k0 * C;
          for (int64_t i = lo; i < hi; ++i) {
            const int64_t s = s0 + i, t = reverse ? T - 1 - s : s;
            for (int64_t c = 0; c < C; ++c) {
              F a, b;
              op.coef(n, t, c, a, b);
              const F v = a * h_[c] + b;
              h_[c] = v;
              op.emit(n, t, c, v);
            }
          }
        } else {
          for (int64_t c = 0; c < C; ++c) {
            F rh[kChains];
            for (int64_t j = 0; j < kChains; ++j) rh[j] = Ap[(k0 + j) * C + c];
            for (int64_t i = 0; i < Lb; ++i) {
#pragma GCC unroll 8
              for (int64_t j = 0; j < kChains; ++j) {
                const int64_t off = (k0 + j) * Lb + i;
                if (off < blk) {
                  const int64_t s = s0 + off, t = reverse ? T - 1 - s : s;
                  F a, b;
                  op.coef(n, t, c, a, b);
                  rh[j] = a * rh[j] + b;
                  op.emit(n, t, c, rh[j]);
                }
              }
            }
          }
        }
        // No barrier needed here: the next pass 1 touches only this thread's chunks,
        // and pass 2 reads them only after the next barrier.
      }
    }
    if (hT)
      for (int64_t c = 0; c < C; ++c) hT[n * C + c] = carry[c];
  }
}

// Resolve Auto for a shape (nb rows of C channels over T steps) and thread count.
inline ScanMode scan_resolve(ScanMode mode, int64_t nb, int64_t T, int64_t C, int nt) {
  if (mode != ScanMode::Auto) return mode;
  if (T < 512) return ScanMode::Sequential;
  // Latency-bound: too few channels per row to fill a vector's worth of independent chains.
  if (C < 16) return ScanMode::Parallel;
  // Threads starved: fewer channel blocks of 16 than threads.
  if (nt > 1 && nb * ceil_div(C, 16) < nt) return ScanMode::Parallel;
  return ScanMode::Sequential;
}

template <class F, class Op>
void scan_run(const Op& op, int64_t nb, int64_t T, int64_t C, bool reverse, const F* h0, F* hT,
              ScanMode mode, int64_t bytes_per_elem) {
  const int nt = std::max(1, get_num_threads());
  if (nb == 0 || C == 0) return;
  if (T == 0) {
    if (hT)
      for (int64_t i = 0; i < nb * C; ++i) hT[i] = h0 ? h0[i] : F(0);
    return;
  }
  if (scan_resolve(mode, nb, T, C, nt) == ScanMode::Parallel)
    scan_run_parallel<F>(op, nb, T, C, reverse, h0, hT, nt, bytes_per_elem);
  else
    scan_run_sequential<F>(op, nb, T, C, reverse, h0, hT, nt);
}

}  // namespace minrnn::detail
