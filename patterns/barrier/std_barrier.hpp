// SPDX-License-Identifier: Apache-2.0
/// @file
/// Baseline: `std::barrier<>` (libstdc++ 12: a tree barrier of atomic counters, its waiters
/// spin, then sleep through `atomic::wait` on the phase word).
///
/// Progress: blocking.
#pragma once

#include "harness/core/progress.hpp"

#include <barrier>
#include <cstddef>
#include <string_view>

namespace cpb::patterns::barrier {

class StdBarrier {
 public:
  static constexpr std::string_view kName = "std_barrier";
  static constexpr Progress kProgress = Progress::kBlocking;
  static constexpr bool kBaseline = true;

  explicit StdBarrier(std::ptrdiff_t parties) : b_(parties) {}

  void arrive_and_wait() { b_.arrive_and_wait(); }

 private:
  std::barrier<> b_;
};

}  // namespace cpb::patterns::barrier
