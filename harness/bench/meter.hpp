// SPDX-License-Identifier: Apache-2.0
/// @file
/// The per-thread instrument a scenario's timed loop reports through: operation counts, a sampled
/// latency histogram and the thread's active span. One `Meter` per benchmark thread, cache-line
/// aligned, touched only by its thread while a run is in progress.
#pragma once

#include "harness/bench/histogram.hpp"

#include <benchmark/benchmark.h>

#include <chrono>
#include <cstdint>

namespace cpb::bench {

using Clock = std::chrono::steady_clock;

inline std::uint64_t now_ns() {
  return static_cast<std::uint64_t>(
      std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now().time_since_epoch())
          .count());
}

class alignas(128) Meter {
 public:
  /// Latency of one call in `sample_every` is timed; 1 times every call.
  void configure(std::uint32_t sample_every) { sample_every_ = sample_every ? sample_every : 1; }

  /// Starts a trial: clears what the previous trial left and stamps the start.
  void begin() {
    ops_ = 0;
    hist_.clear();
    countdown_ = sample_every_;
    start_ns_ = last_ns_ = now_ns();
  }

  /// Ends a trial. Call after any completion work that belongs to the measured region.
  void end() { end_ns_ = now_ns(); }

  /// Runs one operation `f`, which counts as `items` items, and samples its latency.
  template <class F>
  void op(F&& f, std::uint64_t items = 1) {
    ops_ += items;
    if (--countdown_ != 0) {
      f();
      return;
    }
    countdown_ = sample_every_;
    const std::uint64_t t0 = now_ns();
    f();
    last_ns_ = now_ns();
    hist_.add(last_ns_ - t0);
  }

  /// The common timed loop: one `op(f, items)` per benchmark iteration, bracketed by begin/end.
  template <class F>
  void loop(benchmark::State& state, F&& f, std::uint64_t items = 1) {
    begin();
    for (auto _ : state) op(f, items);
    end();
  }

  [[nodiscard]] std::uint64_t ops() const { return ops_; }
  [[nodiscard]] const Histogram& histogram() const { return hist_; }
  [[nodiscard]] std::uint64_t start_ns() const { return start_ns_; }
  [[nodiscard]] std::uint64_t end_ns() const { return end_ns_; }
  /// The end of the last sampled operation: where this thread's own work stopped, which is
  /// earlier than `end_ns` when it waited at the final barrier for slower threads.
  [[nodiscard]] std::uint64_t last_ns() const { return last_ns_; }

 private:
  std::uint64_t ops_ = 0;
  std::uint32_t sample_every_ = 64;
  std::uint32_t countdown_ = 64;
  std::uint64_t start_ns_ = 0;
  std::uint64_t end_ns_ = 0;
  std::uint64_t last_ns_ = 0;
  Histogram hist_;
};

}  // namespace cpb::bench
