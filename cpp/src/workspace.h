// Large per-call workspaces, kept per thread between calls: a fresh allocation of
// hundreds of MB costs a page fault and a zeroed page per 4 KiB on every call (a fifth of
// a GRU's forward+backward time at B=64, T=256, H=512). The memory is held until the
// thread ends or release_workspace() is called on it. Slots are independent buffers.
#pragma once
#include <cstddef>
#include <cstdint>

namespace minrnn::detail {

// The slots. Forward's gate projections and backward's gate gradients share one slot: a
// training step never needs both at once (backward reads the store instead), and keeping
// them apart held one more (B, T, G*H) buffer alive, 100 MB for a GRU at B=64, T=256, H=512.
enum Slot : int {
  kGates = 0,         // forward: x W_ih^T + b (classic) or x W^T (min cells); backward: dL/d gates
  kGatesHidden = 1,   // GRU backward: the gradients of h W_hh^T, apart from those of x W_ih^T
  kPrevStates = 2,    // backward: h_{t-1} of every step
  kGatedStates = 3,   // backward: r * h_{t-1} (GRU, reset before) or f * h_{t-1} (MGU)
  kPackedWeights = 4, // forward, in a team: W_hh's rows, grouped by the thread that owns them
  kStep = 5           // Recurrent::step: the layers' inputs, outputs and new states
};

// A buffer of at least `bytes` for slot `slot` of this thread; its contents are whatever
// the last user left there.
void* workspace(int slot, size_t bytes);

template <class F>
F* workspace(int slot, int64_t n) {
  return static_cast<F*>(workspace(slot, static_cast<size_t>(n > 0 ? n : 0) * sizeof(F)));
}

}  // namespace minrnn::detail
