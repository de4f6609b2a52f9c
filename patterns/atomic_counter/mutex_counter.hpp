// SPDX-License-Identifier: Apache-2.0
/// @file
/// A plain integer guarded by a mutex (`S::mutex`, `std::mutex` in real runs): the floor every
/// other counter is measured against, and what code without atomics writes.
///
/// Progress: blocking (waiters sleep in the kernel).
/// Memory ordering: the mutex's (unlock releases, lock acquires); the value is a `cell`, so the
/// model checker reports any access outside the lock as a data race.
/// When to use: when the counter is updated together with other data under the same lock.
/// When not to use: a standalone counter: an atomic is cheaper and never sleeps.
#pragma once

#include "harness/core/progress.hpp"
#include "harness/core/sync.hpp"

#include <cstdint>
#include <mutex>
#include <string_view>

namespace cpb::patterns::atomic_counter {

template <class S = sync::Real>
class MutexCounter {
 public:
  static constexpr std::string_view kName = "mutex_counter";
  static constexpr Progress kProgress = Progress::kBlocking;

  MutexCounter() = default;
  MutexCounter(const MutexCounter&) = delete;
  MutexCounter& operator=(const MutexCounter&) = delete;

  /// Adds `d`; returns the value before.
  std::int64_t fetch_add(std::int64_t d) {
    std::lock_guard<typename S::mutex> guard(m_);
    const std::int64_t v = v_.load();
    v_.store(v + d);
    return v;
  }
  void add(std::int64_t d) { (void)fetch_add(d); }
  std::int64_t load() {
    std::lock_guard<typename S::mutex> guard(m_);
    return v_.load();
  }

 protected:  // protected so a test can derive a seeded-bug twin
  typename S::mutex m_;
  typename S::template cell<std::int64_t> v_{0};
};

}  // namespace cpb::patterns::atomic_counter
