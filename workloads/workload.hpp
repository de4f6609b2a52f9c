// SPDX-License-Identifier: Apache-2.0
/// @file
/// Workloads: the work a scenario puts inside and between its operations.
///   cpu.spin    calibrated busy work of N ns, no memory traffic (a compute-bound task body)
///   cpu.fib     recursive Fibonacci (a call-heavy compute-bound body)
///   contention  a critical section of `cs_ns` and `outside_ns` of work between sections
///   io.block    a blocking wait of N µs standing for a device or network call (sleeps; no CPU)
///   mixed       a task of N µs, `blocked_pct` % of it blocked and the rest busy work
///   skewed      task costs drawn from a Pareto distribution (a few tasks carry most of the work)
/// Real I/O lives in workloads/io: the loopback TCP load generator (loadgen.hpp), file reads and
/// writes (file_io.hpp) and the simulated remote call (remote_call.hpp).
#pragma once

#include <cstddef>
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

/// A task of about `total_us` µs: `blocked_pct` % of it blocked (`block_us`), the rest busy
/// work (`spin_ns`), busy first. 0 is pure CPU, 100 pure blocking.
void mixed_us(std::int64_t total_us, std::int64_t blocked_pct);

/// `n` task costs in ns from a Pareto distribution of shape `alpha` (> 1; smaller is more
/// skewed: at 1.1 the largest 1 % of tasks carry about half of the work), seeded. Each cost is
/// capped at 1000 × the mean, so one draw cannot stall a run, and the list is then scaled so
/// its mean is `mean_ns` exactly: every shape has the same total work. Throws
/// std::invalid_argument for alpha <= 1, mean_ns <= 0 or n == 0.
std::vector<std::int64_t> pareto_costs_ns(std::size_t n, std::int64_t mean_ns, double alpha,
                                          std::uint64_t seed);

/// One entry of `cpbench list workloads`.
struct WorkloadInfo {
  std::string name;
  std::string kind;  ///< cpu, contention or io
  std::string description;
  std::string params;
};

const std::vector<WorkloadInfo>& catalogue();

}  // namespace cpb::workloads
