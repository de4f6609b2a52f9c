// SPDX-License-Identifier: Apache-2.0
/// @file
/// Workloads: the work a scenario puts inside and between its operations.
///   cpu.spin    calibrated busy work of N ns, no memory traffic (a compute-bound task body)
///   cpu.fib     recursive Fibonacci (a call-heavy compute-bound body)
///   contention  a critical section of `cs_ns` and `outside_ns` of work between sections
///   io.block    a blocking wait of N µs standing for a device or network call (sleeps; no CPU)
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace cpb::workloads {

/// Loop iterations of `spin_iterations` per nanosecond on this machine, measured once per
/// process (the first call takes about 20 ms).
double spin_rate();

/// Runs `n` iterations of a dependent arithmetic chain the compiler cannot remove.
inline void spin_iterations(std::uint64_t n) {
  std::uint64_t x = n;
  for (std::uint64_t i = 0; i < n; ++i) {
    x = x * 6364136223846793005ULL + 1442695040888963407ULL;
    asm volatile("" : "+r"(x));
  }
}

/// Busy work of about `ns` nanoseconds.
inline void spin_ns(std::int64_t ns) {
  if (ns <= 0) return;
  spin_iterations(static_cast<std::uint64_t>(static_cast<double>(ns) * spin_rate()));
}

/// fib(n), computed by plain recursion.
std::uint64_t fib(int n);

/// Blocks the calling thread for `us` microseconds without using the CPU.
void block_us(std::int64_t us);

/// One entry of `cpbench list workloads`.
struct WorkloadInfo {
  std::string name;
  std::string kind;  ///< cpu, contention or io
  std::string description;
  std::string params;
};

const std::vector<WorkloadInfo>& catalogue();

}  // namespace cpb::workloads
