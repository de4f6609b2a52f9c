// SPDX-License-Identifier: Apache-2.0
// Two deliberately broken locks, linked into a cpbench of their own (cpb_add_plugin): one
// crashes the process, one never returns. The run must record both failures, keep what the
// healthy implementations measured, and exit 1.
#include <chrono>
#include <cstdlib>
#include <string_view>
#include <thread>

#include "harness/core/registry.hpp"
#include "patterns/mutex/mutex.hpp"

namespace cpb::testing {

struct CrashingLock {
  static constexpr std::string_view kName = "crashing_lock";
  static constexpr Progress kProgress = Progress::kBlocking;
  void lock() { std::abort(); }
  bool try_lock() { return false; }
  void unlock() {}
};

struct HangingLock {
  static constexpr std::string_view kName = "hanging_lock";
  static constexpr Progress kProgress = Progress::kBlocking;
  void lock() {
    for (;;) std::this_thread::sleep_for(std::chrono::seconds(1));
  }
  bool try_lock() { return false; }
  void unlock() {}
};

}  // namespace cpb::testing

CPB_REGISTER_IMPL(mutex, cpb::testing::CrashingLock);
CPB_REGISTER_IMPL(mutex, cpb::testing::HangingLock);
