// The classic cells (RNN, LSTM, GRU both ways, MGU): their gates read h_{t-1} through
// W_hh, so time is walked step by step. Each step is one recurrent GEMM (two for the
// cells whose candidate reads a gated state: GRU with the reset before the product, and
// MGU) and elementwise passes over (B, H), written here as plain *_forward / *_backward
// functions over the rows of one step (llm.c style), compiled per instruction set and
// reached through classic_step_forward / classic_step_backward (kernels.h). recurrent.cpp
// walks time and owns the GEMMs. Rows of batch b sit at base + b * ld.
#pragma once
#include <cstdint>

#include "isa.h"
#include "minrnn/minrnn.h"

namespace minrnn::detail {

template <class F>
struct StepForward {
  int64_t B, H;
  int64_t c0, c1;              // the channels [c0, c1) this call computes (all: 0, H)
  const F* xp;                 // x_t W_ih^T + b_ih, (B, G*H) rows
  int64_t ldx;
  const F* hp;                 // h_{t-1} W_hh^T (two-stage cells: the candidate block is W_hn u)
  int64_t ldp;
  const F* bhh;                // b_hh (G*H), zeros when the layer has no bias
  const F* h_prev;             // h_{t-1} rows
  int64_t ldh;
  const F* c_prev;             // LSTM c_{t-1}, (B, H) contiguous
  F* h;                        // h_t rows (output)
  int64_t ldo;
  F* c;                        // LSTM c_t, (B, H) contiguous
  F* u;                        // two-stage cells: the gated state r*h or f*h, (B, H)
  F* store;                    // what backward needs, (B, S*H) rows (a scratch row at inference)
  int64_t lds;
};

template <class F>
struct StepBackward {
  int64_t B, H;
  int64_t c0, c1;              // the channels [c0, c1) this call computes (all: 0, H)
  const F* dy;                 // dL/dy_t rows
  int64_t ldy;
  const F* carry;              // dL/dh_t from the later steps, (B, H)
  const F* carry_c;            // LSTM dL/dc_t from the later steps, (B, H)
  const F* store;              // rows saved by forward at this step
  int64_t lds;
  const F* h;                  // h_t rows
  int64_t ldo;
  const F* h_prev;             // h_{t-1} rows
  int64_t ldh;
  const F* c_prev;             // LSTM c_{t-1} rows
  int64_t ldc;
  const F* du;                 // two-stage cells, stage b: (dL/dn_pre) W_hn, (B, H)
  F* dxp;                      // dL/d(x_t W_ih^T + b_ih), (B, G*H) rows
  F* dhp;                      // dL/d(h W_hh^T + b_hh); the same array as dxp except for GRU
  int64_t ldg;
  F* dh_prev;                  // the part of dL/dh_{t-1} not through W_hh, (B, H)
  F* dc_prev;                  // LSTM dL/dc_{t-1}, (B, H)
};

}  // namespace minrnn::detail

namespace minrnn::MINRNN_ISA {
using detail::StepBackward;
using detail::StepForward;
// Elman: h = act(pre). Stores nothing (the derivative comes from h).
template <class F> void rnn_forward(const StepForward<F>& s, bool relu);
template <class F> void rnn_backward(const StepBackward<F>& s, bool relu);
// LSTM, gates i, f, g, o. Stores i, f, g, o, c (S = 5).
template <class F> void lstm_forward(const StepForward<F>& s);
template <class F> void lstm_backward(const StepBackward<F>& s);
// GRU, reset after the product (PyTorch). Stores r, z, n, W_hn h + b_hn (S = 4).
template <class F> void gru_forward(const StepForward<F>& s);
template <class F> void gru_backward(const StepBackward<F>& s);
// GRU, reset before the product (Cho 2014): stage a makes r, z and u = r*h from the gates
// block of hp; stage b (after hp's candidate block = u W_hn^T) makes n and h. S = 3: r, z, n.
// Backward stage a needs no du and leaves dL/dn_pre for the du GEMM; stage b finishes.
template <class F> void gru_rb_gates_forward(const StepForward<F>& s);
template <class F> void gru_rb_forward(const StepForward<F>& s);
template <class F> void gru_rb_backward_a(const StepBackward<F>& s);
template <class F> void gru_rb_backward_b(const StepBackward<F>& s);
// MGU: stage a makes f and u = f*h, stage b n and h. S = 2: f, n.
template <class F> void mgu_gates_forward(const StepForward<F>& s);
template <class F> void mgu_forward(const StepForward<F>& s);
template <class F> void mgu_backward_a(const StepBackward<F>& s);
template <class F> void mgu_backward_b(const StepBackward<F>& s);
}  // namespace minrnn::MINRNN_ISA
