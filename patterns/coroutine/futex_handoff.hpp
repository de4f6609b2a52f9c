// SPDX-License-Identifier: Apache-2.0
/// @file
/// The reference a coroutine switch is measured against: two threads that hand a turn back and
/// forth through a futex (the calibration probe's `futex_handoff_ns` method: store the turn,
/// FUTEX_WAKE the peer, FUTEX_WAIT until the turn comes back). Only the `ping_pong` scenario
/// applies: it is a thread hand-off, not a coroutine runtime. One exchange is two hand-offs;
/// the partner thread is started per call (its start is amortised over the rounds).
///
/// Progress: blocking.
/// Memory ordering: seq_cst turn word (the futex word); the count is handed over with it.
/// When to use: this is what a blocking hand-off between threads costs (a kernel wake-up and a
/// context switch per hand-off), the figure a coroutine switch replaces. When not to use: as a
/// channel between threads in production (use a condition variable or a semaphore).
/// Reference: Drepper, "Futexes Are Tricky" (2011); futex(2).
#pragma once

#include "harness/core/progress.hpp"

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <linux/futex.h>
#include <string_view>
#include <sys/syscall.h>
#include <thread>
#include <unistd.h>

namespace cpb::patterns::coroutine {

class FutexHandoff {
 public:
  static constexpr std::string_view kName = "futex_handoff";
  static constexpr Progress kProgress = Progress::kBlocking;
  static constexpr bool kBaseline = true;
  static constexpr bool kMultiWorker = false;

  explicit FutexHandoff(std::size_t /*workers*/) {}

  std::uint64_t ping_pong(std::uint64_t rounds) {
    std::atomic<std::uint32_t> turn{0};  // 2r+1: the partner's turn in round r; 2r+2: ours
    std::uint64_t count = 0;             // handed over with the turn
    std::thread partner([&] {
      for (std::uint32_t r = 0; r < rounds; ++r) {
        wait_for(turn, 2 * r + 1);
        ++count;
        turn.store(2 * r + 2);
        wake(turn);
      }
    });
    for (std::uint32_t r = 0; r < rounds; ++r) {
      turn.store(2 * r + 1);
      wake(turn);
      wait_for(turn, 2 * r + 2);
      ++count;
    }
    partner.join();
    return count;
  }

 private:
  static long futex(std::atomic<std::uint32_t>& a, int op, std::uint32_t val) {
    return syscall(SYS_futex, reinterpret_cast<std::uint32_t*>(&a), op, val, nullptr, nullptr, 0);
  }
  static void wake(std::atomic<std::uint32_t>& a) { futex(a, FUTEX_WAKE_PRIVATE, 1); }
  static void wait_for(std::atomic<std::uint32_t>& a, std::uint32_t want) {
    for (std::uint32_t now = a.load(); now != want; now = a.load()) {
      futex(a, FUTEX_WAIT_PRIVATE, now);
    }
  }
};

}  // namespace cpb::patterns::coroutine
