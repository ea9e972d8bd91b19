// Large per-call workspaces, kept per thread between calls: a fresh allocation of
// hundreds of MB costs a page fault and a zeroed page per 4 KiB on every call (a fifth of
// a GRU's forward+backward time at B=64, T=256, H=512). The memory is held until the
// thread ends or release_workspace() is called on it. Slots are independent buffers.
#pragma once
#include <cstddef>
#include <cstdint>

namespace minrnn::detail {

// A buffer of at least `bytes` for slot `slot` (0..7) of this thread; its contents are
// whatever the last user left there.
void* workspace(int slot, size_t bytes);

template <class F>
F* workspace(int slot, int64_t n) {
  return static_cast<F*>(workspace(slot, static_cast<size_t>(n > 0 ? n : 0) * sizeof(F)));
}

}  // namespace minrnn::detail
