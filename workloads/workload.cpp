// SPDX-License-Identifier: Apache-2.0
#include "workloads/workload.hpp"

#include <algorithm>
#include <array>
#include <chrono>
#include <thread>

namespace cpb::workloads {
namespace {

double measure_spin_rate() {
  using Clock = std::chrono::steady_clock;
  constexpr std::uint64_t kIters = 1 << 20;
  spin_iterations(kIters);  // warm up
  std::array<double, 5> rates{};
  for (auto& r : rates) {
    const auto t0 = Clock::now();
    spin_iterations(kIters);
    const auto ns = std::chrono::duration<double, std::nano>(Clock::now() - t0).count();
    r = static_cast<double>(kIters) / std::max(ns, 1.0);
  }
  // The fastest run is the one least disturbed by preemption.
  return *std::max_element(rates.begin(), rates.end());
}

}  // namespace

double spin_rate() {
  static const double rate = measure_spin_rate();
  return rate;
}

std::uint64_t fib(int n) { return n < 2 ? static_cast<std::uint64_t>(n) : fib(n - 1) + fib(n - 2); }

void block_us(std::int64_t us) { std::this_thread::sleep_for(std::chrono::microseconds(us)); }

const std::vector<WorkloadInfo>& catalogue() {
  static const std::vector<WorkloadInfo> list = {
      {"cpu.spin", "cpu", "calibrated busy work with no memory traffic", "grain_ns"},
      {"cpu.fib", "cpu", "recursive Fibonacci, call-heavy compute", "n"},
      {"contention", "contention", "critical section of cs_ns, then outside_ns of work",
       "cs_ns, outside_ns"},
      {"io.block", "io", "blocking sleep standing for a device or network call", "block_us"},
  };
  return list;
}

}  // namespace cpb::workloads
