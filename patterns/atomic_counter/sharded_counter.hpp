// SPDX-License-Identifier: Apache-2.0
/// @file
/// Sharded counter: kShards atomic words, each on its own pair of cache lines; a thread adds
/// to the shard of its thread slot (round-robin thread numbers, patterns/rw_lock/thread_slot.hpp,
/// so up to kShards threads never share one), and a read sums every shard. Increments stay in
/// the adding core's cache; a read costs kShards loads, some of them misses.
///
/// Progress: wait-free (`add`: one RMW; `load`: kShards loads).
/// Consistency: `add` has no return value (there is no global "value before"). `load` is
///   - quiescently consistent: with no add in flight it returns the exact sum;
///   - bounded: it returns a value between the count when it started and the count when it
///     ended, because each shard only grows while it is summed (for non-negative deltas);
///   - linearizable when every delta is +1: the total then passes through every integer
///     between those two bounds, so the returned value was the count at some instant inside
///     the call. With larger deltas it is not: after `add(2)` then `add(1)` the count goes
///     0, 2, 3, but a read that sums the first shard before the `add(2)` and the second after
///     the `add(1)` returns 1, a value the counter never had (atomic_counter.model.cpp shows
///     the checker finding it).
/// A thread sharing a shard (more threads than shards) still adds with an RMW, so sharing is
/// correct, just slower.
/// Memory ordering: relaxed everywhere: the counter publishes nothing, and each shard's
/// modification order keeps every shard monotonic for every reader.
/// When to use: statistics bumped on hot paths by many threads and read rarely. When not to
/// use: when callers need fetch_add's result or frequent exact reads.
/// Reference: Herlihy & Shavit, The Art of Multiprocessor Programming, ch. 12 (counting);
/// the Linux kernel's percpu_counter; folly's ThreadCachedInt.
#pragma once

#include "harness/core/progress.hpp"
#include "harness/core/sync.hpp"
#include "patterns/rw_lock/thread_slot.hpp"

#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <string_view>
#include <type_traits>

namespace cpb::patterns::atomic_counter {

template <class S = sync::Real>
class ShardedCounter {
 public:
  static constexpr std::string_view kName = "sharded_counter";
  static constexpr Progress kProgress = Progress::kWaitFree;
  /// Shards. The model-checked twin has 4 (its tests run at most 3 logical threads, and every
  /// shard is a scheduling point of each read).
  static constexpr std::size_t kShards = std::is_same_v<S, sync::Real> ? 16 : 4;

  ShardedCounter() = default;
  ShardedCounter(const ShardedCounter&) = delete;
  ShardedCounter& operator=(const ShardedCounter&) = delete;

  void add(std::int64_t d) {
    // Relaxed: see the file comment.
    my_shard().v.fetch_add(d, std::memory_order_relaxed);
  }

  std::int64_t load() {
    std::int64_t sum = 0;
    // Relaxed: see the file comment.
    for (const auto& s : shards_) sum += s.v.load(std::memory_order_relaxed);
    return sum;
  }

 protected:  // protected so a test can derive a seeded-bug twin
  /// Two cache lines per shard: the adjacent-line prefetcher pulls lines in pairs.
  struct alignas(128) Shard {
    typename S::template atomic<std::int64_t> v{0};
  };

  Shard& my_shard() { return shards_[rw_lock::ThreadSlot<S>::index() % kShards]; }

  std::array<Shard, kShards> shards_{};
};

}  // namespace cpb::patterns::atomic_counter
