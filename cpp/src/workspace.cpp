#include "workspace.h"

#include <memory>
#include <stdexcept>

#include "minrnn/minrnn.h"

namespace minrnn {
namespace {
constexpr int kSlots = 5;
struct Slots {
  std::unique_ptr<char[]> buf[kSlots];
  size_t size[kSlots] = {};
};
thread_local Slots slots;
}  // namespace

namespace detail {
void* workspace(int slot, size_t bytes) {
  if (slot < 0 || slot >= kSlots) throw std::logic_error("workspace slot out of range");
  if (bytes > slots.size[slot]) {
    slots.buf[slot].reset();  // free first: the old and new buffers need not coexist
    slots.size[slot] = 0;
    slots.buf[slot].reset(new char[bytes]);
    slots.size[slot] = bytes;
  }
  return slots.buf[slot].get();
}
}  // namespace detail

void release_workspace() {
  for (int i = 0; i < kSlots; ++i) slots.buf[i].reset(), slots.size[i] = 0;
}

}  // namespace minrnn
