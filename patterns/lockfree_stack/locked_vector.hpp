// SPDX-License-Identifier: Apache-2.0
/// @file
/// Baseline (the reference): a `std::vector` guarded by a `std::mutex`. Push and pop are a
/// `push_back` / `pop_back` under the lock; the vector's storage is reused, so the steady state
/// allocates nothing.
///
/// Progress: blocking (waiters sleep in the kernel after glibc's short spin).
/// When to use: the default. It is hard to beat at low thread counts, and a descheduled lock
/// holder is the only thing a lock-free stack protects against.
#pragma once

#include "harness/core/progress.hpp"

#include <cstdint>
#include <mutex>
#include <optional>
#include <string_view>
#include <vector>

namespace cpb::patterns::lockfree_stack {

class LockedVector {
 public:
  static constexpr std::string_view kName = "locked_vector";
  static constexpr Progress kProgress = Progress::kBlocking;
  static constexpr bool kBaseline = true;

  void push(std::uint64_t v) {
    std::lock_guard lock(m_);
    v_.push_back(v);
  }

  std::optional<std::uint64_t> try_pop() {
    std::lock_guard lock(m_);
    if (v_.empty()) return std::nullopt;
    const std::uint64_t v = v_.back();
    v_.pop_back();
    return v;
  }

 private:
  std::mutex m_;
  std::vector<std::uint64_t> v_;
};

}  // namespace cpb::patterns::lockfree_stack
