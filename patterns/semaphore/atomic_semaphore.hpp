// SPDX-License-Identifier: Apache-2.0
/// @file
/// Counting semaphore on one atomic word: `acquire` decrements the count with a CAS when it is
/// positive; when it is zero the thread spins briefly, then polls between yields, then sleeps on
/// the count word (futex). (The yield phase keeps hand-offs fast on a loaded machine, where a
/// futex wake-up took 90-250 µs in the calibration probe: `semaphore/*/handoff` went from
/// 0.31× `std_counting_semaphore` to 26×, see README.)
/// `release(n)` adds `n` and makes the wake-up syscall only when a thread may be asleep.
///
/// Progress: blocking (acquire waits for a permit); `try_acquire` and `release` are lock-free.
/// Memory ordering: the acquire CAS that takes a permit pairs with the fetch_add in `release`
/// (seq_cst, so release semantics). Sleeping is a Dekker pair, seq_cst on both sides: a sleeper
/// increments `sleepers_` and then re-reads the count; `release` adds to the count and then
/// reads `sleepers_`. One sees the other, so no sleeper misses a permit.
/// When to use: a fast general-purpose semaphore; permits handed between running threads never
/// enter the kernel. When not to use: when FIFO order of waiters matters (a spinning newcomer
/// can take a permit before a sleeper wakes).
/// Reference: the futex semaphore pattern of U. Drepper, "Futexes Are Tricky", 2011; libstdc++'s
/// `__atomic_semaphore` (bits/semaphore_base.h) follows the same plan with atomic::wait.
#pragma once

#include "harness/core/progress.hpp"
#include "harness/core/sync.hpp"
#include "patterns/mutex/futex.hpp"

#include <atomic>
#include <climits>
#include <cstddef>
#include <cstdint>
#include <string_view>

namespace cpb::patterns::semaphore {

template <class S = sync::Real>
class AtomicSemaphore {
 public:
  static constexpr std::string_view kName = "atomic_semaphore";
  static constexpr Progress kProgress = Progress::kBlocking;

  explicit AtomicSemaphore(std::ptrdiff_t initial) : count_(static_cast<std::uint32_t>(initial)) {}
  AtomicSemaphore(const AtomicSemaphore&) = delete;
  AtomicSemaphore& operator=(const AtomicSemaphore&) = delete;

  void acquire() {
    if (try_acquire()) return;
    // Spin first: a permit released by a running thread arrives sooner than a futex wake-up.
    // Then poll between yields: on a loaded machine the releaser may not be running yet, and a
    // runnable waiter gets the CPU back sooner than a sleeping one is woken.
    for (int i = 0; i < mutex::spin_bound<S>(kSpins); ++i) {
      S::pause();
      if (try_acquire()) return;
    }
    for (int i = 0; i < mutex::spin_bound<S>(kYields); ++i) {
      S::yield();
      if (try_acquire()) return;
    }
    for (;;) {
      // seq_cst: the Dekker pair with release() (see the file comment).
      sleepers_.fetch_add(1, std::memory_order_seq_cst);
      if (count_.load(std::memory_order_seq_cst) == 0) mutex::futex_wait<S>(count_, 0);
      // Relaxed: a count only; a stale non-zero costs release() one needless wake-up.
      sleepers_.fetch_sub(1, std::memory_order_relaxed);
      if (try_acquire()) return;
    }
  }

  bool try_acquire() {
    // Relaxed: the CAS below acquires.
    std::uint32_t c = count_.load(std::memory_order_relaxed);
    while (c != 0) {
      // Acquire pairs with the fetch_add in release(): the releaser's writes are seen.
      if (count_.compare_exchange_weak(c, c - 1, std::memory_order_acquire,
                                       std::memory_order_relaxed)) {
        return true;
      }
    }
    return false;
  }

  void release(std::ptrdiff_t n = 1) {
    // seq_cst: the release edge to the acquirer's CAS, and the first half of the Dekker pair.
    count_.fetch_add(static_cast<std::uint32_t>(n), std::memory_order_seq_cst);
    // seq_cst: the second half of the Dekker pair.
    if (sleepers_.load(std::memory_order_seq_cst) != 0) {
      mutex::futex_wake<S>(count_, n >= INT_MAX ? INT_MAX : static_cast<int>(n));
    }
  }

 private:
  static constexpr int kSpins = 100;  ///< pause polls before yielding (about 2 µs)
  static constexpr int kYields = 8;   ///< yield polls before sleeping
  alignas(64) typename S::template atomic<std::uint32_t> count_;
  typename S::template atomic<std::uint32_t> sleepers_{0};
};

}  // namespace cpb::patterns::semaphore
