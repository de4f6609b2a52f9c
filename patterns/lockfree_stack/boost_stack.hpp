// SPDX-License-Identifier: Apache-2.0
/// @file
/// Baseline: `boost::lockfree::stack<std::uint64_t>` (Boost 1.74), a Treiber stack whose nodes
/// come from a lock-free freelist and whose head is a tagged pointer (a pointer plus an ABA
/// counter in one CAS word). Nodes are never returned to the system while the stack lives, so
/// no hazard pointers are needed; the price is that memory only grows.
///
/// Progress: lock-free (a push that must allocate a node calls the system allocator).
#pragma once

#include "harness/core/progress.hpp"

#include <boost/lockfree/stack.hpp>

#include <cstdint>
#include <optional>
#include <string_view>

namespace cpb::patterns::lockfree_stack {

class BoostStack {
 public:
  static constexpr std::string_view kName = "boost_stack";
  static constexpr Progress kProgress = Progress::kLockFree;
  static constexpr bool kBaseline = true;

  void push(std::uint64_t v) {
    // push() fails only when a node cannot be allocated (never for the default allocator,
    // which throws instead).
    while (!s_.push(v)) {
    }
  }

  std::optional<std::uint64_t> try_pop() {
    std::uint64_t v = 0;
    if (s_.pop(v)) return v;
    return std::nullopt;
  }

 private:
  static constexpr std::size_t kInitialNodes = 1024;
  boost::lockfree::stack<std::uint64_t> s_{kInitialNodes};
};

}  // namespace cpb::patterns::lockfree_stack
