// SPDX-License-Identifier: Apache-2.0
/// @file
/// Baseline: oneTBB's `tbb::combinable`: one element per thread (found through TBB's
/// thread-id hash table on every `local()`), summed by `combine_each`. Each element is written
/// by its own thread only, so an increment is a relaxed load and store (no locked
/// instruction); that is the design's point.
///
/// `combinable` is built for "combine after the parallel phase": oneTBB documents
/// `combine`/`combine_each` as serial, and creating a thread's element (its first `local()`)
/// grows a `concurrent_vector` that `combine_each` must not walk at the same time. So this
/// adapter takes an exclusive lock around each thread's first `local()` (once per thread and
/// counter) and a shared lock around `load()`; the steady-state increment takes no lock.
/// The elements hold a relaxed atomic rather than a plain integer, because `load()` reads them
/// while their threads write them.
///
/// Not run under ThreadSanitizer: it allocates through libtbb (`cache_aligned_allocator`),
/// which is not instrumented. It runs under every other preset.
///
/// Progress: blocking (a thread's first increment and reads take a lock); later increments
/// are wait-free.
/// When to use: per-thread partial sums combined at the end of a parallel phase.
#pragma once

#include "harness/core/progress.hpp"

#include <oneapi/tbb/combinable.h>

#include <atomic>
#include <cstdint>
#include <mutex>
#include <shared_mutex>
#include <string_view>

namespace cpb::patterns::atomic_counter {

class TbbCombinable {
 public:
  static constexpr std::string_view kName = "tbb_combinable";
  static constexpr Progress kProgress = Progress::kBlocking;
  static constexpr bool kBaseline = true;

  TbbCombinable() = default;
  TbbCombinable(const TbbCombinable&) = delete;
  TbbCombinable& operator=(const TbbCombinable&) = delete;

  void add(std::int64_t d) {
    Local& l = local();
    // Relaxed, and not an RMW: only this thread writes its element; load() reads it.
    l.v.store(l.v.load(std::memory_order_relaxed) + d, std::memory_order_relaxed);
  }

  std::int64_t load() {
    std::shared_lock guard(m_);
    std::int64_t sum = 0;
    // Relaxed: the counter publishes nothing; each element is monotonic.
    c_.combine_each([&](const Local& l) { sum += l.v.load(std::memory_order_relaxed); });
    return sum;
  }

 private:
  struct Local {
    std::atomic<std::int64_t> v{0};
    Local() = default;
    // combinable requires copyable elements.
    Local(const Local& o) : v(o.v.load(std::memory_order_relaxed)) {}
    Local& operator=(const Local& o) {
      v.store(o.v.load(std::memory_order_relaxed), std::memory_order_relaxed);
      return *this;
    }
  };

  Local& local() {
    // The id of the last counter this thread registered with: a thread's first local() on a
    // counter creates its element, which must not overlap a combine_each (see the file
    // comment). Ids, not addresses: a new counter may reuse a dead one's address.
    thread_local std::uint64_t registered = 0;
    if (registered != id_) {
      std::unique_lock guard(m_);
      (void)c_.local();
      registered = id_;
    }
    return c_.local();
  }

  static std::uint64_t next_id() {
    static std::atomic<std::uint64_t> next{0};
    // Relaxed: only hands out distinct ids.
    return next.fetch_add(1, std::memory_order_relaxed) + 1;
  }

  const std::uint64_t id_ = next_id();
  std::shared_mutex m_;
  tbb::combinable<Local> c_;
};

}  // namespace cpb::patterns::atomic_counter
