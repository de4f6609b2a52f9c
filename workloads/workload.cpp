// SPDX-License-Identifier: Apache-2.0
#include "workloads/workload.hpp"

#include <algorithm>
#include <array>
#include <chrono>
#include <cmath>
#include <limits>
#include <random>
#include <stdexcept>
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

void mixed_us(std::int64_t total_us, std::int64_t blocked_pct) {
  const std::int64_t blocked = total_us * std::clamp<std::int64_t>(blocked_pct, 0, 100) / 100;
  spin_ns((total_us - blocked) * 1000);
  if (blocked > 0) block_us(blocked);
}

std::vector<std::int64_t> pareto_costs_ns(std::size_t n, std::int64_t mean_ns, double alpha,
                                          std::uint64_t seed) {
  if (n == 0 || mean_ns <= 0 || !(alpha > 1)) {
    throw std::invalid_argument("pareto_costs_ns: needs n > 0, mean_ns > 0 and alpha > 1");
  }
  // Inverse transform: x = x_m / U^(1/alpha) has a Pareto(x_m, alpha) law, mean x_m·α/(α−1).
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<double> uniform(std::numeric_limits<double>::min(), 1.0);
  const double mean = static_cast<double>(mean_ns);
  const double scale = mean * (alpha - 1) / alpha;
  std::vector<double> raw(n);
  double sum = 0;
  for (double& x : raw) {
    x = std::min(scale / std::pow(uniform(rng), 1 / alpha), 1000 * mean);
    sum += x;
  }
  const double k = mean * static_cast<double>(n) / sum;
  std::vector<std::int64_t> costs(n);
  for (std::size_t i = 0; i < n; ++i) {
    costs[i] = std::max<std::int64_t>(1, std::llround(raw[i] * k));
  }
  return costs;
}

const std::vector<WorkloadInfo>& catalogue() {
  static const std::vector<WorkloadInfo> list = {
      {"cpu.spin", "cpu", "calibrated busy work with no memory traffic", "grain_ns"},
      {"cpu.fib", "cpu", "recursive Fibonacci, call-heavy compute", "n"},
      {"contention", "contention", "critical section of cs_ns, then outside_ns of work",
       "cs_ns, outside_ns"},
      {"io.block", "io", "blocking sleep standing for a device or network call", "block_us"},
      {"mixed", "cpu+io", "a task of total_us, blocked_pct % of it blocked, the rest busy",
       "total_us, blocked_pct"},
      {"skewed", "cpu", "busy work with Pareto-distributed costs (shape alpha, fixed mean)",
       "alpha_x10, mean_ns"},
      {"io.tcp_load", "io",
       "loopback TCP load generator (workloads/io/loadgen.hpp): N connections, closed or open "
       "loop at a fixed rate, latency from each request's intended send time",
       "connections, rate_rps"},
      {"io.file", "io",
       "file writes and reads in blocks, through the page cache or O_DIRECT where the file "
       "system allows (workloads/io/file_io.hpp)",
       "bytes, block"},
      {"io.remote_call", "io",
       "a simulated remote call: a seeded delay from an exponential or Pareto distribution "
       "(workloads/io/remote_call.hpp)",
       "mean_us, alpha"},
  };
  return list;
}

}  // namespace cpb::workloads
