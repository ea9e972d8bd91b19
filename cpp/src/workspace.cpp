#include "workspace.h"

#include <cstdlib>
#include <new>
#include <stdexcept>

#include "minrnn/minrnn.h"
#ifdef __linux__
#include <sys/mman.h>
#endif

namespace minrnn {
namespace {
constexpr int kSlots = 6;
// Workspaces are whole, aligned 2 MiB pages that the kernel may back with huge pages. A
// weight matrix streamed from L2 every step then sits in physically contiguous memory
// and fills the cache's sets evenly: with 4 KiB pages scattered at random, some sets get
// more lines than they have ways, and those lines come from L3 at every step (a GRU at
// B=1, H=256 ran 10% faster from a huge page on one thread).
constexpr size_t kPage = size_t(2) << 20;

struct Buffer {
  void* p = nullptr;
  size_t size = 0;
  void reset() { std::free(p), p = nullptr, size = 0; }
  ~Buffer() { reset(); }
};
thread_local Buffer slots[kSlots];

// At least `bytes` in whole pages; `size` becomes the bytes allocated.
void* allocate(size_t bytes, size_t& size) {
  size = (bytes + kPage - 1) / kPage * kPage;
  if (size < bytes) throw std::bad_alloc();  // the rounding overflowed
  void* p = std::aligned_alloc(kPage, size);
  if (!p) throw std::bad_alloc();
#if defined(__linux__) && defined(MADV_HUGEPAGE)
  madvise(p, size, MADV_HUGEPAGE);  // a hint: where refused, the pages stay 4 KiB
#endif
  return p;
}
}  // namespace

namespace detail {
void* workspace(int slot, size_t bytes) {
  if (slot < 0 || slot >= kSlots) throw std::logic_error("workspace slot out of range");
  Buffer& b = slots[slot];
  if (bytes > b.size || !b.p) {
    b.reset();  // free first: the old and new buffers need not coexist
    b.p = allocate(bytes > 0 ? bytes : 1, b.size);
  }
  return b.p;
}
}  // namespace detail

void release_workspace() {
  for (auto& b : slots) b.reset();
}

}  // namespace minrnn
