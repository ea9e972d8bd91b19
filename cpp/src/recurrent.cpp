// Walks time for the classic cells: the input projections of all steps in one GEMM, then
// per step the recurrent GEMM(s) and the cell's elementwise pass (rnn.cpp, lstm.cpp,
// gru.cpp, mgu.cpp). Backward runs the steps in reverse and leaves the weight gradients
// to one GEMM per matrix at the end. Workspaces are sized once, before the time loop.
#include <cstring>
#include <stdexcept>
#include <string>
#include <tuple>
#include <type_traits>
#include <utility>
#include <vector>

#include "blas.h"
#include "check.h"
#include "minrnn/minrnn.h"
#include "kernels.h"
#include "parallel.h"
#include "recurrent.h"
#include "workspace.h"
#ifdef _OPENMP
#include <omp.h>
#endif

namespace minrnn {
namespace {

// Cells whose candidate reads a gated state (r h or f h) need a second GEMM per step.
bool two_stage(Cell cell) { return cell == Cell::GRUResetBefore || cell == Cell::MGU; }

// Sizes that overflow, null arrays and unknown cells are refused before any work starts.
template <class F>
void check_layer(const char* fn, Cell cell, const F* x, const F* w_ih, const F* w_hh, const F* y,
                 int64_t B, int64_t T, int64_t D, int64_t H) {
  const int c = static_cast<int>(cell);
  if (c < 0 || c > 5) throw std::invalid_argument(std::string(fn) + ": unknown cell " + std::to_string(c));
  const int64_t GH = cell_gates(cell) * H, SH = cell_store(cell) * H;
  // Each product is checked on its own: one zero size must not hide an overflow of another.
  for (auto dims : {std::initializer_list<int64_t>{B, T}, {T, GH}, {T, SH}, {T, D}, {B, GH},
                    {B, D}, {GH, D + H}})
    detail::checked_product(fn, dims);
  detail::checked_product(fn, {B, T, GH});
  detail::checked_product(fn, {B, T, D});
  // Rows of a step sit T*G*H apart, all B*T rows go through one GEMM, and the BLAS takes
  // 32-bit sizes and strides: refuse here what it would refuse inside the time loop's
  // threads, where an exception cannot be caught.
  const int64_t widest = T * (GH > SH ? GH : SH);
  if (widest > 2147483647 || D > 2147483647 || B * T > 2147483647)
    throw std::overflow_error(std::string(fn) + ": T * G * H = " + std::to_string(widest) +
                              ", B * T = " + std::to_string(B * T) +
                              " exceed the 32-bit BLAS; run the sequence in chunks, carrying h_n");
  for (auto [name, p, n] : {std::tuple<const char*, const void*, int64_t>{"x", x, B * T * D},
                            {"w_ih", w_ih, GH * D}, {"w_hh", w_hh, GH * H}, {"y", y, B * T * H}})
    detail::check_ptr(fn, name, p, n);
}

// Where step s of the walk reads h_{t-1} (and, for LSTM in backward, c_{t-1}).
struct Walk {
  int64_t T;
  bool reverse;
  int64_t t(int64_t s) const { return reverse ? T - 1 - s : s; }
  int64_t prev(int64_t s) const { return reverse ? T - s : s - 1; }  // time of the previous step
};

// A step's elementwise pass over many rows (large B*H) is split across threads by batch
// rows; the same pass with offset row pointers.
template <class F>
detail::StepForward<F> rows_of(detail::StepForward<F> s, int64_t b0, int64_t b1) {
  const int64_t H = s.H;
  s.B = b1 - b0;
  s.xp += b0 * s.ldx, s.hp += b0 * s.ldp, s.h_prev += b0 * s.ldh, s.h += b0 * s.ldo;
  s.store += b0 * s.lds;
  if (s.c_prev) s.c_prev += b0 * H;
  if (s.c) s.c += b0 * H;
  if (s.u) s.u += b0 * H;
  return s;
}
template <class F>
detail::StepBackward<F> rows_of(detail::StepBackward<F> s, int64_t b0, int64_t b1) {
  const int64_t H = s.H;
  s.B = b1 - b0;
  s.dy += b0 * s.ldy, s.carry += b0 * H, s.store += b0 * s.lds, s.h += b0 * s.ldo;
  s.h_prev += b0 * s.ldh, s.dxp += b0 * s.ldg, s.dhp += b0 * s.ldg, s.dh_prev += b0 * H;
  if (s.carry_c) s.carry_c += b0 * H;
  if (s.c_prev) s.c_prev += b0 * s.ldc;
  if (s.du) s.du += b0 * H;
  if (s.dc_prev) s.dc_prev += b0 * H;
  return s;
}

template <class Step, class Fn>
void split_rows(const Step& st, int nt, bool split, Fn&& fn) {
  if (!split) return fn(st);
#pragma omp parallel for num_threads(nt) schedule(static)
  for (int p = 0; p < nt; ++p) {
    MINRNN_ISA::FlushDenormals ftz;
    const int64_t b0 = st.B * p / nt, b1 = st.B * (p + 1) / nt;
    if (b1 > b0) fn(rows_of(st, b0, b1));
  }
}

// The calling thread's number in its OpenMP team (0 outside one).
int omp_thread() {
#ifdef _OPENMP
  return omp_get_thread_num();
#else
  return 0;
#endif
}

// The channels [ch0, ch1) of the calling thread of a team (all of them outside a team):
// equal slices cut at multiples of 16 elements, so that two threads never write the same
// 64-byte cache line of a row.
std::pair<int64_t, int64_t> team_channels(bool team, int64_t H) {
#ifdef _OPENMP
  const int tid = team ? omp_get_thread_num() : 0, nth = team ? omp_get_num_threads() : 1;
#else
  const int tid = 0, nth = 1;
  (void)team;
#endif
  const int64_t ch0 = (H * tid / nth) & ~int64_t(15);
  const int64_t ch1 = tid + 1 == nth ? H : (H * (tid + 1) / nth) & ~int64_t(15);
  return {ch0, ch1};
}

// Several small buffers in one zeroed allocation: buffer i has sizes[i] elements.
template <class F>
class Buffers {
 public:
  Buffers(std::initializer_list<int64_t> sizes) {
    if (sizes.size() > 8) throw std::logic_error("Buffers: at most 8 buffers");
    int64_t total = 0, i = 0;
    for (int64_t n : sizes) offset_[i++] = total, total += n;
    data_.assign(static_cast<size_t>(total), F(0));
  }
  F* operator[](int i) { return data_.data() + offset_[i]; }

 private:
  std::vector<F> data_;
  int64_t offset_[8] = {};
};

// From this batch on, step products use W_hh packed once per walk (gemm_packed.cpp): at
// batch 2 both ways take the same time, from 3 on the packed product is ~2x faster.
constexpr int64_t kPanelBatch = 3;

// Rows enough to pay for waking the threads every step.
constexpr int64_t kSplitRows = 8192;

}  // namespace

int cell_gates(Cell cell) {
  switch (cell) {
    case Cell::RNNTanh: case Cell::RNNReLU: return 1;
    case Cell::LSTM: return 4;
    case Cell::GRU: case Cell::GRUResetBefore: return 3;
    case Cell::MGU: return 2;
  }
  throw std::invalid_argument("unknown cell");
}

int cell_store(Cell cell) {
  switch (cell) {
    case Cell::RNNTanh: case Cell::RNNReLU: return 0;
    case Cell::LSTM: return 5;
    case Cell::GRU: return 4;
    case Cell::GRUResetBefore: return 3;
    case Cell::MGU: return 2;
  }
  throw std::invalid_argument("unknown cell");
}

template <class F>
void recurrent_forward(Cell cell, const F* x, const F* w_ih, const F* w_hh, const F* b_ih,
                       const F* b_hh, const F* h0, const F* c0, F* y, F* hn, F* cn, F* xp,
                       F* store, int64_t B, int64_t T, int64_t D, int64_t H, bool reverse) {
  const char* fn = "recurrent_forward";
  check_layer(fn, cell, x, w_ih, w_hh, y, B, T, D, H);
  if (B == 0) return;  // nothing to walk, nothing to write
  const int64_t G = cell_gates(cell), GH = G * H, SH = cell_store(cell) * H;
  if (!xp) xp = detail::workspace<F>(detail::kGates, B * T * GH);
  const bool lstm = cell == Cell::LSTM;
  const int nt = get_num_threads();
  // One team of threads walks every step: each thread owns a slice of the channels,
  // multiplies only its rows of W_hh (which then stay in its own cache) and runs the
  // elementwise pass on its own channels, so a step needs a single barrier to publish
  // h_t, instead of waking the threads for the GEMM and again for the elementwise pass.
  // With fewer than 64 channels a thread, the step's GEMM is split per call instead.
  const bool team = nt > 1 && H >= 64 * nt;
  // The input projections of all steps are one GEMM, unless there are so few rows (a
  // streaming step) that the team's threads do their own channels of them as well.
  const bool team_xp = team && B * T <= 4;
  const bool split = !team && nt > 1 && B > 1 && B * H >= kSplitRows;
  // From kPanelBatch rows on, each thread's rows of W_hh are packed once for the walk into
  // the panels of gemm_packed; below, and for a walk too short to repay the packing, the
  // row kernels stream W_hh from its own layout. When the walk is long, that layout is
  // first copied into the workspace, whose huge pages keep it in L2 (workspace.cpp); in
  // a team, the copy groups the rows by thread.
  const bool panels = std::is_same_v<F, float> && B >= kPanelBatch && T >= 4 && (team || nt == 1);
  const bool pack = !panels && T >= 16;
  const int team_size = team ? nt : 1;
  const int64_t abuf_size = panels ? detail::packed_rows_size(B, H) : 0;  // A packed, per thread
  // The small per-call buffers in one allocation (a streaming step makes one call per token).
  Buffers<F> buf({B * H > GH ? B * H : GH, B * GH, two_stage(cell) ? B * H : 0, lstm ? 2 * B * H : 0,
                  store ? 0 : B * SH, pack && team ? B * GH : 0, team_size * abuf_size});
  F *zeros = buf[0], *hp = buf[1], *u = buf[2], *cbuf = buf[3], *hp_packed = buf[5];
  F* scratch = buf[4];  // the store row at inference
  const auto& k = detail::kernels<F>();
  if (lstm && c0) std::memcpy(cbuf, c0, sizeof(F) * B * H);
  const F* bhh = b_hh ? b_hh : zeros;

  const Walk walk{T, reverse};
  // Thread i's panels start at G (ch0 + 16 i) H: each gate block's slice rounds up to 16 rows.
  F* packed = pack || panels ? detail::workspace<F>(detail::kPackedWeights, G * (H + 16 * team_size) * H)
                             : nullptr;
  if (!team_xp) linear_forward<F>(x, w_ih, b_ih, xp, B * T, D, GH);
  auto walk_steps = [&] {
    MINRNN_ISA::FlushDenormals ftz;
    const auto ch = team_channels(team, H);  // (not a structured binding: lambdas capture these)
    const int64_t ch0 = ch.first, ch1 = ch.second;
    // Walking many steps, this thread's rows of each gate block are copied once into one
    // contiguous matrix (at rows G * ch0 of `packed`), so that a step is one product whose
    // output is then spread into the gate blocks of hp (outside a team: W_hh as it is).
    const int64_t w = ch1 - ch0;
    if (pack)
      for (int64_t g = 0; g < G; ++g)
        std::memcpy(packed + (G * ch0 + g * w) * H, w_hh + (g * H + ch0) * H, sizeof(F) * w * H);
    const int tid = team ? omp_thread() : 0;
    F* my_panels = packed ? packed + G * (ch0 + 16 * tid) * H : nullptr;
    const int64_t panel_size = detail::packed_weights_size(w, H);  // one gate block's slice
    float* abuf = reinterpret_cast<float*>(buf[6]) + tid * abuf_size;
    if constexpr (std::is_same_v<F, float>) {
      if (panels)
        for (int64_t g = 0; g < G; ++g)
          k.pack_weights(w_hh + (g * H + ch0) * H, H, w, H, true, my_panels + g * panel_size);
    }
    auto rows = [&](int64_t g0, int64_t g1, const F* h_in, int64_t ld_in) {
      if constexpr (std::is_same_v<F, float>) {
        if (panels) {  // this thread's channels of each gate block, from its panels
          k.pack_rows(h_in, ld_in, B, H, abuf);
          for (int64_t g = g0; g < g1; ++g)
            k.gemm_packed(abuf, my_panels + g * panel_size, hp + g * H + ch0, GH, B, w, H, false);
          return;
        }
      }
      if (!team)  // (a copy of W_hh packed whole is W_hh itself)
        return detail::gemm<F>(false, true, B, (g1 - g0) * H, H, F(1), h_in, ld_in,
                               (pack ? packed : w_hh) + g0 * H * H, H, F(0), hp + g0 * H, GH);
      if (!pack) {
        for (int64_t g = g0; g < g1; ++g)
          detail::gemm_single<F>(false, true, B, w, H, F(1), h_in, ld_in, w_hh + (g * H + ch0) * H,
                                 H, F(0), hp + g * H + ch0, GH);
        return;
      }
      F* out = hp_packed + G * ch0;  // (B, (g1 - g0) * w) rows, stride GH
      detail::gemm_single<F>(false, true, B, (g1 - g0) * w, H, F(1), h_in, ld_in,
                             packed + (G * ch0 + g0 * w) * H, H, F(0), out, GH);
      for (int64_t b = 0; b < B; ++b)
        for (int64_t g = g0; g < g1; ++g)
          std::memcpy(hp + b * GH + g * H + ch0, out + b * GH + (g - g0) * w, sizeof(F) * w);
    };
    if (team_xp)
      for (int64_t g = 0; g < G; ++g) {
        F* out = xp + g * H + ch0;
        for (int64_t r = 0; r < B * T; ++r)
          for (int64_t c = 0; c < ch1 - ch0; ++c) out[r * GH + c] = b_ih ? b_ih[g * H + ch0 + c] : F(0);
        detail::gemm_single<F>(false, true, B * T, ch1 - ch0, D, F(1), x, D, w_ih + (g * H + ch0) * D,
                               D, F(1), out, GH);
      }
    for (int64_t s = 0; s < T; ++s) {
      const int64_t t = walk.t(s);
      const F* h_prev = s == 0 ? (h0 ? h0 : zeros) : y + walk.prev(s) * H;
      const int64_t ldh = s == 0 ? H : T * H;
      detail::StepForward<F> st{B, H, ch0, ch1, xp + t * GH, T * GH, hp, GH, bhh, h_prev, ldh,
                                lstm ? cbuf + (s % 2) * B * H : nullptr, y + t * H, T * H,
                                lstm ? cbuf + ((s + 1) % 2) * B * H : nullptr, u,
                                store ? store + t * SH : scratch, store ? T * SH : SH};
      auto pass = [&](int stage) {
        split_rows(st, nt, split, [&](const detail::StepForward<F>& part) { k.step_forward(cell, stage, part); });
      };
      if (!two_stage(cell)) {
        rows(0, G, h_prev, ldh);
        pass(0);
      } else {
        rows(0, G - 1, h_prev, ldh);
        pass(0);
#pragma omp barrier
        rows(G - 1, G, u, H);  // the candidate rows read all of u = gate * h
        pass(1);
      }
      if (s + 1 < T) {  // (after the last step, the end of the region is the barrier)
#pragma omp barrier
      }
    }
  };
  detail::run_threads(team, nt, walk_steps);  // outside a team, on the calling thread
  const int64_t t_last = walk.t(T - 1);
  for (int64_t b = 0; b < B; ++b)
    for (int64_t c = 0; c < H; ++c) {
      if (hn) hn[b * H + c] = T > 0 ? y[(b * T + t_last) * H + c] : (h0 ? h0[b * H + c] : F(0));
      if (cn && lstm) cn[b * H + c] = cbuf[(T % 2) * B * H + b * H + c];
    }
}

template <class F>
void recurrent_backward(Cell cell, const F* x, const F* w_ih, const F* w_hh, const F* h0,
                        const F* c0, const F* store, const F* y, const F* dy, const F* dhn,
                        const F* dcn, F* dx, F* dw_ih, F* dw_hh, F* db_ih, F* db_hh, F* dh0,
                        F* dc0, int64_t B, int64_t T, int64_t D, int64_t H, bool reverse) {
  const char* fn = "recurrent_backward";
  check_layer(fn, cell, x, w_ih, w_hh, y, B, T, D, H);
  const int64_t G = cell_gates(cell), GH = G * H, SH = cell_store(cell) * H;
  if (B == 0) {  // no rows: the weight gradients are zero
    for (F* p : {dw_ih, dw_hh}) std::memset(p, 0, sizeof(F) * GH * (p == dw_ih ? D : H));
    for (F* p : {db_ih, db_hh})
      if (p) std::memset(p, 0, sizeof(F) * GH);
    return;
  }
  for (auto [name, p, n] : {std::tuple<const char*, const void*, int64_t>{"dy", dy, B * T * H},
                            {"store", store, B * T * SH}, {"dx", dx, B * T * D},
                            {"dw_ih", dw_ih, GH * D}, {"dw_hh", dw_hh, GH * H}})
    detail::check_ptr(fn, name, p, n);
  const bool lstm = cell == Cell::LSTM, gru = cell == Cell::GRU;
  std::vector<F> zeros(static_cast<size_t>(B * H), F(0));
  // Every element of these is written before it is read.
  F* dxp = detail::workspace<F>(detail::kGates, B * T * GH);
  F* dhp = gru ? detail::workspace<F>(detail::kGatesHidden, B * T * GH) : dxp;  // the same gradients except for GRU
  std::vector<F> carry(static_cast<size_t>(2 * B * H), F(0)), carry_c(static_cast<size_t>(lstm ? 2 * B * H : 0), F(0));
  std::vector<F> du(static_cast<size_t>(two_stage(cell) ? B * H : 0));
  if (dhn) std::memcpy(carry.data(), dhn, sizeof(F) * B * H);
  if (lstm && dcn) std::memcpy(carry_c.data(), dcn, sizeof(F) * B * H);

  const Walk walk{T, reverse};
  const int64_t G1 = GH - H;
  const auto& kern = detail::kernels<F>();
  const int nt = get_num_threads();
  // The same team as in forward: each thread owns a slice of channels. Its elementwise
  // pass reads and writes only those channels; the product dL/dh_{t-1} += dhp W_hh needs
  // all of dhp (a barrier) and gives each thread its own columns of dL/dh_{t-1}, which is
  // all its next step reads.
  const bool team = nt > 1 && H >= 64 * nt;
  const bool split = !team && nt > 1 && B > 1 && B * H >= kSplitRows;
  // As in forward: from kPanelBatch rows on, each thread's columns of W_hh are packed once
  // into the panels of gemm_packed (GH deep in all: W_hh whole, or its two row blocks).
  const bool panels = std::is_same_v<F, float> && B >= kPanelBatch && T >= 4 && (team || nt == 1);
  const int team_size = team ? nt : 1;
  const int64_t abuf_size = panels ? detail::packed_rows_size(B, GH) : 0;  // A packed, per thread
  std::vector<F> abufs(static_cast<size_t>(team_size * abuf_size));
  F* packed = panels ? detail::workspace<F>(detail::kPackedWeights, (H + 16 * team_size) * GH) : nullptr;
  // Below that, the row kernels stream W_hh itself; over a long walk, from a copy in the
  // workspace's huge pages, which stays in L2 (as in forward).
  const F* whh = w_hh;
  if (!panels && T >= 16) {
    F* copy = detail::workspace<F>(detail::kPackedWeights, GH * H);
    std::memcpy(copy, w_hh, sizeof(F) * GH * H);
    whh = copy;
  }
  auto walk_steps = [&] {
    MINRNN_ISA::FlushDenormals ftz;
    const auto ch = team_channels(team, H);  // (not a structured binding: lambdas capture these)
    const int64_t ch0 = ch.first, ch1 = ch.second;
    const int tid = team ? omp_thread() : 0;
    F* my_panels = packed ? packed + (ch0 + 16 * tid) * GH : nullptr;
    float* abuf = reinterpret_cast<float*>(abufs.data()) + tid * abuf_size;
    // Panels of w's columns ch0:ch1 for the rows w (K of them) that a product below reads.
    auto panels_of = [&](const F* w) {
      return my_panels + (w == w_hh ? 0 : detail::packed_weights_size(ch1 - ch0, G1));
    };
    if constexpr (std::is_same_v<F, float>) {
      if (panels) {
        if (!two_stage(cell)) {
          kern.pack_weights(w_hh + ch0, H, ch1 - ch0, GH, false, panels_of(w_hh));
        } else {
          kern.pack_weights(w_hh + ch0, H, ch1 - ch0, G1, false, panels_of(w_hh));
          kern.pack_weights(w_hh + G1 * H + ch0, H, ch1 - ch0, H, false, panels_of(w_hh + G1 * H));
        }
      }
    }
    auto pass = [&](int stage, const detail::StepBackward<F>& sb) {
      split_rows(sb, nt, split, [&](const detail::StepBackward<F>& part) { kern.step_backward(cell, stage, part); });
    };
    // out[:, ch0:ch1] (+)= a (B x K, rows lda apart) times the columns ch0:ch1 of w (K x H)
    auto cols = [&](const F* a, int64_t lda, int64_t K, const F* w, F beta, F* out) {
      if constexpr (std::is_same_v<F, float>) {
        if (panels) {
          kern.pack_rows(a, lda, B, K, abuf);
          kern.gemm_packed(abuf, panels_of(w), out + ch0, H, B, ch1 - ch0, K, beta == F(1));
          return;
        }
      }
      if (team)
        detail::gemm_single<F>(false, false, B, ch1 - ch0, K, F(1), a, lda, w + ch0, H, beta,
                               out + ch0, H);
      else
        detail::gemm<F>(false, false, B, H, K, F(1), a, lda, w, H, beta, out, H);
    };
    int k = 0;  // carry[k] holds dL/dh of the step being processed
    for (int64_t s = T - 1; s >= 0; --s) {
      const int64_t t = walk.t(s);
      const F* h_prev = s == 0 ? (h0 ? h0 : zeros.data()) : y + walk.prev(s) * H;
      const int64_t ldh = s == 0 ? H : T * H;
      const F* c_prev = nullptr;
      int64_t ldc = H;
      if (lstm) {
        c_prev = s == 0 ? (c0 ? c0 : zeros.data()) : store + walk.prev(s) * SH + 4 * H;
        ldc = s == 0 ? H : T * SH;
      }
      F* next = carry.data() + (1 - k) * B * H;
      detail::StepBackward<F> sb{B, H, team ? ch0 : 0, team ? ch1 : H, dy + t * H, T * H,
                                 carry.data() + k * B * H,
                                 lstm ? carry_c.data() + k * B * H : nullptr, store + t * SH, T * SH,
                                 y + t * H, T * H, h_prev, ldh, c_prev, ldc, du.data(),
                                 dxp + t * GH, dhp + t * GH, T * GH, next,
                                 lstm ? carry_c.data() + (1 - k) * B * H : nullptr};
      if (!two_stage(cell)) {
        pass(0, sb);
#pragma omp barrier
        cols(dhp + t * GH, T * GH, GH, whh, F(1), next);  // dL/dh_{t-1} = direct + dhp W_hh
      } else {
        pass(0, sb);
#pragma omp barrier
        cols(dxp + t * GH + G1, T * GH, H, whh + G1 * H, F(0), du.data());  // du = dn_pre W_hn
        pass(1, sb);
#pragma omp barrier
        cols(dxp + t * GH, T * GH, G1, whh, F(1), next);
      }
      k = 1 - k;
    }
  };
  detail::run_threads(team, nt, walk_steps);
  const int k = static_cast<int>(T % 2);  // each step swapped the carries
  if (dh0) std::memcpy(dh0, carry.data() + k * B * H, sizeof(F) * B * H);
  if (dc0) {
    if (lstm) std::memcpy(dc0, carry_c.data() + k * B * H, sizeof(F) * B * H);
    else std::memset(dc0, 0, sizeof(F) * B * H);
  }

  // Weight gradients, one GEMM each over all steps: dW_hh = sum_t dhp_t^T h_{t-1}
  // (for two-stage cells the candidate rows pair with u_t = gate_t h_{t-1} instead).
  F* hprev = detail::workspace<F>(detail::kPrevStates, B * T * H);
  F* useq = detail::workspace<F>(detail::kGatedStates, two_stage(cell) ? B * T * H : 0);
  for (int64_t s = 0; s < T; ++s) {
    const int64_t t = walk.t(s);
    for (int64_t b = 0; b < B; ++b) {
      const F* src = s == 0 ? (h0 ? h0 + b * H : zeros.data()) : y + (b * T + walk.prev(s)) * H;
      F* dst = hprev + (b * T + t) * H;
      std::memcpy(dst, src, sizeof(F) * H);
      if (two_stage(cell)) {
        const F* gate = store + (b * T + t) * SH;  // r or f: the first stored block
        for (int64_t c = 0; c < H; ++c) useq[(b * T + t) * H + c] = gate[c] * dst[c];
      }
    }
  }
  const int64_t M = B * T;
  if (!two_stage(cell)) {
    detail::gemm<F>(true, false, GH, H, M, F(1), dhp, GH, hprev, H, F(0), dw_hh, H);
  } else {
    detail::gemm<F>(true, false, G1, H, M, F(1), dxp, GH, hprev, H, F(0), dw_hh, H);
    detail::gemm<F>(true, false, H, H, M, F(1), dxp + G1, GH, useq, H, F(0),
                    dw_hh + G1 * H, H);
  }
  if (db_hh) detail::column_sums<F>(dhp, M, GH, db_hh);
  linear_backward<F>(x, w_ih, dxp, dx, dw_ih, db_ih, M, D, GH);
}

#define MINRNN_INSTANTIATE(F)                                                                  \
  template void recurrent_forward<F>(Cell, const F*, const F*, const F*, const F*, const F*,   \
                                     const F*, const F*, F*, F*, F*, F*, F*, int64_t, int64_t, \
                                     int64_t, int64_t, bool);                                  \
  template void recurrent_backward<F>(Cell, const F*, const F*, const F*, const F*, const F*,  \
                                      const F*, const F*, const F*, const F*, const F*, F*,    \
                                      F*, F*, F*, F*, F*, F*, int64_t, int64_t, int64_t,       \
                                      int64_t, bool);
MINRNN_INSTANTIATE(float)
MINRNN_INSTANTIATE(double)

}  // namespace minrnn
