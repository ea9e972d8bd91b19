// minrnn: the public C++ API of the core library (no Python anywhere).
//
// Layout conventions: every sequence array is (B, T, C) row-major (batch, time,
// channel), states are (B, C). Weights follow PyTorch: weight_ih is (G*H, D) with
// the gate blocks stacked in the order documented per cell. Kernels take raw
// pointers and sizes, validate them up front (std::invalid_argument for a negative size,
// a null array that the call reads or writes, an enum value outside its enum;
// std::overflow_error for sizes whose product overflows), then run without allocating
// inside their time loop.
#pragma once
#include <cstdint>

namespace minrnn {

// ---- threads: one budget shared by OpenMP and the BLAS ----
// Every entry point may run from several threads at once, and from inside the caller's own
// OpenMP parallel region (there it runs on the calling thread, in a team of its own).
void set_num_threads(int n);   // n >= 1
int get_num_threads();

// Frees the workspaces this thread keeps between calls (the large per-call buffers,
// kept so that the next call does not fault its pages in again; Recurrent::step's too).
void release_workspace();

// The instruction set the kernels run with: "baseline", "avx2" or "avx512" (chosen once
// from the CPU; the environment variable MINRNN_SIMD may ask for a lower one).
const char* simd_level();

// ---- the linear scan h_t = a_t * h_{t-1} + b_t ----
enum class ScanMode : int { Sequential = 0, Parallel = 1, Auto = 2 };

// The mode Auto resolves to for this shape and the current thread count.
ScanMode scan_choose(int64_t B, int64_t T, int64_t C);

// a, b, h: (B, T, C); h0: (B, C) or nullptr for zeros. Writes h.
template <class F>
void scan_forward(const F* a, const F* b, const F* h0, F* h,
                  int64_t B, int64_t T, int64_t C, ScanMode mode);

// Reverse scan: g_t = dh_t + a_{t+1} g_{t+1}; da_t = g_t h_{t-1}; db_t = g_t;
// dh0 = a_0 g_0. h is the forward output. dh0 may be nullptr.
template <class F>
void scan_backward(const F* a, const F* h0, const F* h, const F* dh,
                   F* da, F* db, F* dh0,
                   int64_t B, int64_t T, int64_t C, ScanMode mode);

// ---- MinGRU / MinLSTM (Feng et al. 2024) ----
// Candidate activation h~ = act(.): G is the paper's g(x) = x+0.5 (x>=0), sigmoid(x) (x<0).
enum class Candidate : int { G = 0, Identity = 1, Tanh = 2 };

// Layer forward. x (B,T,D); w (G*H, D); bias (G*H) or nullptr; h0 (B,H) or nullptr.
// Writes y (B,T,H) and the projections proj (B,T,G*H) = x w^T (without bias), which
// backward needs (nullptr at inference: a workspace of the calling thread is used).
// G = 2 for MinGRU (z, h~), 3 for MinLSTM (f, i, h~).
template <class F>
void mingru_forward(const F* x, const F* w, const F* bias, const F* h0,
                    F* proj, F* y, int64_t B, int64_t T, int64_t D, int64_t H,
                    Candidate cand, ScanMode mode);
template <class F>
void minlstm_forward(const F* x, const F* w, const F* bias, const F* h0,
                     F* proj, F* y, int64_t B, int64_t T, int64_t D, int64_t H,
                     Candidate cand, ScanMode mode);

// The recurrent part alone, given the projections proj = x w^T (B,T,G*H) without bias:
// gates, candidate and scan in one fused pass, writing y (B,T,H).
template <class F>
void mingru_scan(const F* proj, const F* bias, const F* h0, F* y, int64_t B, int64_t T,
                 int64_t H, Candidate cand, ScanMode mode);
template <class F>
void minlstm_scan(const F* proj, const F* bias, const F* h0, F* y, int64_t B, int64_t T,
                  int64_t H, Candidate cand, ScanMode mode);

// Layer backward. dy (B,T,H); dhn (B,H) or nullptr. dproj (B,T,G*H) is a workspace
// (nullptr: one of the calling thread). Writes dx (B,T,D), dw (G*H,D), dbias (G*H, may be nullptr), dh0
// (B,H, may be nullptr). Gradients overwrite, they do not accumulate.
template <class F>
void mingru_backward(const F* x, const F* w, const F* bias, const F* h0,
                     const F* proj, const F* y, const F* dy, const F* dhn,
                     F* dproj, F* dx, F* dw, F* dbias, F* dh0,
                     int64_t B, int64_t T, int64_t D, int64_t H,
                     Candidate cand, ScanMode mode);
template <class F>
void minlstm_backward(const F* x, const F* w, const F* bias, const F* h0,
                      const F* proj, const F* y, const F* dy, const F* dhn,
                      F* dproj, F* dx, F* dw, F* dbias, F* dh0,
                      int64_t B, int64_t T, int64_t D, int64_t H,
                      Candidate cand, ScanMode mode);

// ---- Classic cells: RNN, LSTM, GRU (both reset conventions), MGU ----
// One layer in one direction. Gate blocks of weight_ih (G*H, D) and weight_hh (G*H, H) in
// PyTorch's order: RNN -; LSTM i, f, g, o; GRU r, z, n; MGU f, n.
enum class Cell : int { RNNTanh = 0, RNNReLU = 1, LSTM = 2, GRU = 3, GRUResetBefore = 4, MGU = 5 };
int cell_gates(Cell cell);   // G
int cell_store(Cell cell);   // S: values per step and channel that forward keeps for backward

// x (B,T,D); b_ih, b_hh (G*H) or nullptr; h0, c0 (B,H) or nullptr (c0: LSTM only).
// Writes y (B,T,H) in time order (also when reverse: the walk then goes from t = T-1),
// hn and cn (B,H; either may be nullptr; cn LSTM only), and xp (B,T,G*H) = x w_ih^T + b_ih
// (nullptr: a workspace of the calling thread). store: (B,T,S*H) to train, nullptr at
// inference.
template <class F>
void recurrent_forward(Cell cell, const F* x, const F* w_ih, const F* w_hh, const F* b_ih,
                       const F* b_hh, const F* h0, const F* c0, F* y, F* hn, F* cn, F* xp,
                       F* store, int64_t B, int64_t T, int64_t D, int64_t H, bool reverse);

// Backward through time of the forward above (same x, weights, h0, c0, store, y).
// dy (B,T,H); dhn, dcn (B,H) or nullptr. Writes dx (B,T,D), dw_ih, dw_hh, db_ih, db_hh
// (db_* may be nullptr), dh0 and dc0 (B,H; may be nullptr). Gradients overwrite.
template <class F>
void recurrent_backward(Cell cell, const F* x, const F* w_ih, const F* w_hh, const F* h0,
                        const F* c0, const F* store, const F* y, const F* dy, const F* dhn,
                        const F* dcn, F* dx, F* dw_ih, F* dw_hh, F* db_ih, F* db_hh, F* dh0,
                        F* dc0, int64_t B, int64_t T, int64_t D, int64_t H, bool reverse);

// ---- Linear: y = x w^T + b over M rows ----
// x (M, K), w (N, K), bias (N) or nullptr, y (M, N).
template <class F>
void linear_forward(const F* x, const F* w, const F* bias, F* y, int64_t M, int64_t K, int64_t N);
// dy (M, N) -> dx (M, K), dw (N, K), dbias (N); each may be nullptr to skip it. x is
// read only for dw and w only for dx (either may be nullptr otherwise).
template <class F>
void linear_backward(const F* x, const F* w, const F* dy, F* dx, F* dw, F* dbias, int64_t M,
                     int64_t K, int64_t N);

// ---- Embedding: out[n] = table[ids[n]] ----
// ids (N) in [0, V) (else std::out_of_range), table (V, E), out (N, E).
template <class F>
void embedding_forward(const int64_t* ids, const F* table, F* out, int64_t N, int64_t V, int64_t E);
// dtable (V, E) = sum of dout's rows by id (overwrites).
template <class F>
void embedding_backward(const int64_t* ids, const F* dout, F* dtable, int64_t N, int64_t V, int64_t E);

// ---- Losses ----
// Softmax cross-entropy from logits (N, V): row_loss[n] = logsumexp(x_n) - x_n[target_n]
// (0 where target_n == ignore_index); row_max[n] = max(x_n) and log_sum[n] =
// log sum exp(x_n - max) are kept for the backward (either may be nullptr if none follows;
// logits, targets and row_loss may not). If dlogits is not null it also receives the
// gradient of the mean loss (the backward below with scale = 1 / count), in the same
// pass. Returns the mean over the counted rows (0 if none) and stores their
// number in *count (may be nullptr). float uses the gates' vectorised exp (activations.h);
// targets outside [0, V) throw std::out_of_range.
template <class F>
double cross_entropy_forward(const F* logits, const int64_t* targets, F* row_loss, F* row_max,
                             F* log_sum, F* dlogits, int64_t N, int64_t V, int64_t ignore_index,
                             int64_t* count);
// dlogits = scale * (softmax(x_n) - onehot(target_n)), zero rows where ignored; for the
// mean loss, scale = dloss / count.
template <class F>
void cross_entropy_backward(const F* logits, const int64_t* targets, const F* row_max,
                            const F* log_sum, F* dlogits, int64_t N, int64_t V,
                            int64_t ignore_index, double scale);
// Mean squared error over n elements, and its gradient 2 * scale * (pred - target).
template <class F>
double mse_forward(const F* pred, const F* target, int64_t n);
template <class F>
void mse_backward(const F* pred, const F* target, F* dpred, int64_t n, double scale);

// A memory stream for measuring bandwidth: out = a * b + b over n elements, threaded.
template <class F>
void stream_mul_add(const F* a, const F* b, F* out, int64_t n);

}  // namespace minrnn
