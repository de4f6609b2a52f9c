// SPDX-License-Identifier: Apache-2.0
/// @file
/// Dissemination barrier: in round r (r = 0 … ⌈log₂ P⌉ − 1) the arrival in slot i signals slot
/// (i + 2^r) mod P and waits for the signal of slot (i − 2^r) mod P. After the last round every
/// arrival knows, transitively, that all P arrived. There is no last arriver and no broadcast:
/// each wait is on a flag that one other thread writes, in a cache line of its own.
///
/// `arrive_and_wait()` takes no thread id, so an arrival's slot comes from one shared ticket
/// counter (slot = ticket mod P, episode = ticket / P): the P tickets of an episode are taken
/// before any thread can leave it, so the slots of an episode are a permutation of 0 … P−1. That
/// leaves one shared fetch_add per arrival (what the textbook version, with static ids, avoids);
/// the rounds still replace the centralized release. Flags hold episode numbers (+1) and only
/// grow (a CAS raise), so an early signal from the next episode, which implies that everyone
/// arrived at this one, satisfies a late waiter instead of being overwritten. A waiter spins
/// briefly, then polls between yields, then sleeps on its flag (futex); a signaller makes the
/// wake-up syscall only when someone sleeps.
///
/// Progress: blocking.
/// Memory ordering: the signal is a release CAS (seq_cst) on the partner's flag, paired with the
/// partner's acquire load; by transitivity over the rounds every arrival's writes happen-before
/// every thread's return. The ticket is relaxed (it only picks a slot). Sleeping is a Dekker
/// pair, seq_cst on both sides, over `sleepers_` and the flag.
/// When to use: many threads, where a centralized counter and broadcast serialize.
/// When not to use: a handful of threads: ⌈log₂ P⌉ dependent rounds of cross-core signals cost
/// more than one counter line.
/// Reference: Hensgen, Finkel & Manber, "Two algorithms for barrier synchronization", IJPP
/// 17(1), 1988; Mellor-Crummey & Scott, ACM TOCS 1991, §3.3.
#pragma once

#include "harness/core/progress.hpp"
#include "harness/core/sync.hpp"
#include "patterns/mutex/futex.hpp"

#include <atomic>
#include <climits>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string_view>

namespace cpb::patterns::barrier {

template <class S = sync::Real>
class DisseminationBarrier {
 public:
  static constexpr std::string_view kName = "dissemination_barrier";
  static constexpr Progress kProgress = Progress::kBlocking;

  explicit DisseminationBarrier(std::ptrdiff_t parties)
      : parties_(static_cast<std::uint64_t>(parties)),
        rounds_(rounds_for(parties_)),
        flags_(new Flag[parties_ * rounds_]) {}
  DisseminationBarrier(const DisseminationBarrier&) = delete;
  DisseminationBarrier& operator=(const DisseminationBarrier&) = delete;

  void arrive_and_wait() {
    // Relaxed: the ticket only picks a slot; the flags synchronize.
    const std::uint64_t ticket = ticket_.fetch_add(1, std::memory_order_relaxed);
    const std::uint64_t slot = ticket % parties_;
    // What a flag holds once signalled in this episode (episode numbers start at 1).
    const auto mark = static_cast<std::uint32_t>(ticket / parties_ + 1);
    std::uint64_t distance = 1;
    for (std::uint64_t r = 0; r < rounds_; ++r, distance *= 2) {
      signal(flag((slot + distance) % parties_, r), mark);
      wait_for(flag(slot, r), mark);
    }
  }

 private:
  using Word = typename S::template atomic<std::uint32_t>;
  struct alignas(64) Flag {
    Word word{0};
  };

  static std::uint64_t rounds_for(std::uint64_t parties) {
    std::uint64_t r = 0;
    while ((std::uint64_t{1} << r) < parties) ++r;
    return r;
  }

  Word& flag(std::uint64_t slot, std::uint64_t round) {
    return flags_[slot * rounds_ + round].word;
  }

  /// True when `value` is `mark` or a later episode's mark (wrap-around safe).
  static bool reached(std::uint32_t value, std::uint32_t mark) {
    return static_cast<std::int32_t>(value - mark) >= 0;
  }

  void signal(Word& f, std::uint32_t mark) {
    // Relaxed: the CAS below is what publishes.
    std::uint32_t v = f.load(std::memory_order_relaxed);
    // seq_cst: release pairs with the partner's acquire load of the flag (our writes, and what
    // we learned in earlier rounds, reach it), and it is the first half of the Dekker pair.
    while (!reached(v, mark) && !f.compare_exchange_weak(v, mark, std::memory_order_seq_cst,
                                                         std::memory_order_relaxed)) {
    }
    // seq_cst: the second half of the Dekker pair with wait_for().
    if (sleepers_.load(std::memory_order_seq_cst) != 0) mutex::futex_wake<S>(f, INT_MAX);
  }

  void wait_for(Word& f, std::uint32_t mark) {
    for (int i = 0; i < mutex::spin_bound<S>(kSpins); ++i) {
      // Acquire pairs with the partner's release CAS in signal().
      if (reached(f.load(std::memory_order_acquire), mark)) return;
      S::pause();
    }
    // Then poll between yields: on a loaded machine the partner may not be running yet, and a
    // runnable waiter gets the CPU back sooner than a sleeping one is woken.
    for (int i = 0; i < mutex::spin_bound<S>(kYields); ++i) {
      S::yield();
      // Acquire pairs with the partner's release CAS in signal().
      if (reached(f.load(std::memory_order_acquire), mark)) return;
    }
    for (;;) {
      // seq_cst: the Dekker pair with signal().
      sleepers_.fetch_add(1, std::memory_order_seq_cst);
      const std::uint32_t v = f.load(std::memory_order_seq_cst);
      if (!reached(v, mark)) mutex::futex_wait<S>(f, v);
      // Relaxed: a count only; a stale non-zero costs one needless wake-up.
      sleepers_.fetch_sub(1, std::memory_order_relaxed);
      // Acquire pairs with the partner's release CAS in signal().
      if (reached(f.load(std::memory_order_acquire), mark)) return;
    }
  }

  static constexpr int kSpins = 32;   ///< pause polls before yielding (about 1 µs)
  static constexpr int kYields = 32;  ///< yield polls before sleeping
  const std::uint64_t parties_;
  const std::uint64_t rounds_;
  std::unique_ptr<Flag[]> flags_;
  alignas(64) typename S::template atomic<std::uint64_t> ticket_{0};
  alignas(64) typename S::template atomic<std::uint32_t> sleepers_{0};
};

}  // namespace cpb::patterns::barrier
