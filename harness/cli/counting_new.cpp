// SPDX-License-Identifier: Apache-2.0
/// @file
/// The counting allocator of the cpbench executable: the global operator new and delete,
/// replaced to count allocations and bytes per thread, so a result can say what each case
/// allocates per item (harness/bench/cost.hpp). Each thread counts in its own slot with plain
/// relaxed stores (one writer per slot, no read-modify-write on a shared line), so counting costs
/// a few ns per allocation and no contention. Sanitizer builds keep their runtime's operator new.
#include "harness/bench/cost.hpp"

#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <new>

// GCC names the sanitizers with macros, clang with __has_feature.
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define CPB_SANITIZED 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer)
#define CPB_SANITIZED 1
#endif
#endif

namespace cpb::cli {

#ifdef CPB_SANITIZED

void install_alloc_counting() {}

#else

namespace {

struct alignas(64) Slot {
  std::atomic<std::uint64_t> allocs{0};
  std::atomic<std::uint64_t> bytes{0};
};
constexpr std::size_t kSlots = 1024;
Slot g_slots[kSlots];  // one per thread, kept after the thread exits
Slot g_shared;         // threads beyond kSlots share this one (with fetch_add)
std::atomic<std::size_t> g_next{0};
thread_local Slot* t_slot = nullptr;  // trivially initialised: taking it does not allocate

void count(std::size_t n) {
  if (t_slot == nullptr) {
    const std::size_t i = g_next.fetch_add(1, std::memory_order_relaxed);
    t_slot = i < kSlots ? &g_slots[i] : &g_shared;
  }
  if (t_slot == &g_shared) {
    g_shared.allocs.fetch_add(1, std::memory_order_relaxed);
    g_shared.bytes.fetch_add(n, std::memory_order_relaxed);
    return;
  }
  // Relaxed: this thread is the slot's only writer; readers want a total, not an ordering.
  t_slot->allocs.store(t_slot->allocs.load(std::memory_order_relaxed) + 1,
                       std::memory_order_relaxed);
  t_slot->bytes.store(t_slot->bytes.load(std::memory_order_relaxed) + n, std::memory_order_relaxed);
}

bench::AllocCounts read() {
  bench::AllocCounts c;
  const std::size_t used = std::min(g_next.load(std::memory_order_relaxed), kSlots);
  for (std::size_t i = 0; i < used; ++i) {
    c.allocs += g_slots[i].allocs.load(std::memory_order_relaxed);  // totals only (see count)
    c.bytes += g_slots[i].bytes.load(std::memory_order_relaxed);
  }
  c.allocs += g_shared.allocs.load(std::memory_order_relaxed);
  c.bytes += g_shared.bytes.load(std::memory_order_relaxed);
  return c;
}

void* allocate(std::size_t n, std::size_t align, bool nothrow) {
  count(n);
  if (n == 0) n = 1;
  for (;;) {
    void* p = align <= alignof(std::max_align_t)
                  ? std::malloc(n)
                  : std::aligned_alloc(align, (n + align - 1) / align * align);
    if (p != nullptr) return p;
    const std::new_handler h = std::get_new_handler();
    if (h == nullptr) {
      if (nothrow) return nullptr;
      throw std::bad_alloc();
    }
    h();
  }
}

}  // namespace

void install_alloc_counting() { bench::set_alloc_reader(&read); }

#endif

}  // namespace cpb::cli

#ifndef CPB_SANITIZED

using cpb::cli::allocate;
constexpr std::size_t kPlain = alignof(std::max_align_t);

void* operator new(std::size_t n) { return allocate(n, kPlain, false); }
void* operator new[](std::size_t n) { return allocate(n, kPlain, false); }
void* operator new(std::size_t n, const std::nothrow_t&) noexcept {
  return allocate(n, kPlain, true);
}
void* operator new[](std::size_t n, const std::nothrow_t&) noexcept {
  return allocate(n, kPlain, true);
}
void* operator new(std::size_t n, std::align_val_t a) {
  return allocate(n, static_cast<std::size_t>(a), false);
}
void* operator new[](std::size_t n, std::align_val_t a) {
  return allocate(n, static_cast<std::size_t>(a), false);
}
void* operator new(std::size_t n, std::align_val_t a, const std::nothrow_t&) noexcept {
  return allocate(n, static_cast<std::size_t>(a), true);
}
void* operator new[](std::size_t n, std::align_val_t a, const std::nothrow_t&) noexcept {
  return allocate(n, static_cast<std::size_t>(a), true);
}
void operator delete(void* p) noexcept { std::free(p); }
void operator delete[](void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }
void operator delete[](void* p, std::size_t) noexcept { std::free(p); }
void operator delete(void* p, const std::nothrow_t&) noexcept { std::free(p); }
void operator delete[](void* p, const std::nothrow_t&) noexcept { std::free(p); }
void operator delete(void* p, std::align_val_t) noexcept { std::free(p); }
void operator delete[](void* p, std::align_val_t) noexcept { std::free(p); }
void operator delete(void* p, std::size_t, std::align_val_t) noexcept { std::free(p); }
void operator delete[](void* p, std::size_t, std::align_val_t) noexcept { std::free(p); }
void operator delete(void* p, std::align_val_t, const std::nothrow_t&) noexcept { std::free(p); }
void operator delete[](void* p, std::align_val_t, const std::nothrow_t&) noexcept { std::free(p); }

#endif
