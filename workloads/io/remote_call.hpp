// SPDX-License-Identifier: Apache-2.0
/// @file
/// A simulated remote call (a database query, an API call): a delay drawn from an exponential
/// or a Pareto distribution with a given mean, seeded, so every family can model an I/O-bound
/// step with a realistic tail. `next_us()` draws; `call()` draws and blocks that long (a sleep:
/// no CPU, like a thread waiting on a socket). Each draw is capped at 100 × the mean so one
/// draw cannot stall a run. Not thread-safe: one RemoteCall per thread (seed each differently).
#pragma once

#include <cstdint>
#include <random>
#include <string_view>

namespace cpb::workloads::io {

enum class Delay : std::uint8_t { kExponential, kPareto };

class RemoteCall {
 public:
  /// `mean_us` > 0; for kPareto `alpha` > 1 (the shape; smaller is a heavier tail). Throws
  /// std::invalid_argument otherwise.
  RemoteCall(Delay kind, double mean_us, std::uint64_t seed, double alpha = 1.5);
  /// The next delay in µs (>= 0).
  double next_us();
  /// Blocks the calling thread for the next delay; returns it in µs.
  double call();
  [[nodiscard]] double mean_us() const { return mean_us_; }

 private:
  Delay kind_;
  double mean_us_;
  double alpha_;
  std::mt19937_64 rng_;
};

/// Parses "exponential" or "pareto"; throws std::invalid_argument otherwise.
Delay parse_delay(std::string_view name);

}  // namespace cpb::workloads::io
