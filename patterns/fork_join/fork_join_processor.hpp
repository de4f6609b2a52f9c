// SPDX-License-Identifier: Apache-2.0
/// @file
/// `ForkJoinProcessor`: seed 002's form of fork-join. It processes N items with bounded
/// parallelism and reports progress: `process(n, fn, on_progress)` calls `fn(i)` once for every
/// `i` in `[0, n)` on at most `parallelism` threads, and calls `on_progress(done)` after each
/// chunk of items with the number of items done so far. The items are split by divide and
/// conquer on a fork-join runtime `R` (any of this family: `R rt(parallelism)` bounds the
/// threads), down to `chunk` items per leaf task.
///
/// Progress reports are serialized (one mutex, taken once per chunk) and strictly increasing,
/// and the last one reports `n`: the callback need not be thread-safe, and a progress bar that
/// reaches 100 % means that every item has been processed. If `fn` throws, the chunks already
/// started finish, and `process` rethrows (the progress then stops short of `n`).
///
/// Progress: blocking (the progress mutex, and the runtime's joins).
/// Memory ordering: the mutex orders the progress count and the callback's calls; the
/// runtime's join orders every item's effects before `process` returns.
/// When to use: a batch of independent items whose cost varies (work stealing balances them)
/// where a caller wants to watch progress. For a handful of coarse items a thread per item is
/// as good; for uniform cheap items a static split (`parallel_for`) is cheaper.
/// Reference: seed 002's `ForkJoinProcessor`; Java's `ForkJoinPool` + `RecursiveAction`.
#pragma once

#include <cstddef>
#include <cstdint>
#include <mutex>
#include <stdexcept>
#include <utility>

namespace cpb::patterns::fork_join {

template <class R>
class ForkJoinProcessor {
 public:
  /// A processor on `parallelism` threads (>= 1) with `chunk` items (>= 1) per leaf task.
  /// Throws std::invalid_argument when either is 0.
  explicit ForkJoinProcessor(std::size_t parallelism, std::size_t chunk = 1)
      : chunk_(chunk != 0 ? chunk : throw std::invalid_argument("chunk must be at least 1")),
        runtime_(parallelism) {}

  /// Calls `fn(i)` once for each `i` in `[0, n)`, and `on_progress(done)` (serialized, strictly
  /// increasing, the last with `done == n`) after each chunk. Returns when all are done;
  /// rethrows an exception of `fn` after the chunks in flight have finished.
  template <class Fn, class OnProgress>
  void process(std::size_t n, Fn&& fn, OnProgress&& on_progress) {
    std::uint64_t done = 0;  // guarded by m
    std::mutex m;
    const auto report = [&](std::size_t k) {
      std::lock_guard lk(m);
      done += k;
      on_progress(done);
    };
    if (n == 0) return;
    runtime_.run([&] { split(0, n, fn, report); });
  }

  R& runtime() { return runtime_; }

 private:
  template <class Fn, class Report>
  void split(std::size_t lo, std::size_t hi, Fn& fn, const Report& report) {
    if (hi - lo <= chunk_) {
      for (std::size_t i = lo; i < hi; ++i) fn(i);
      report(hi - lo);
      return;
    }
    const std::size_t mid = lo + (hi - lo) / 2;
    runtime_.invoke([&] { split(lo, mid, fn, report); }, [&] { split(mid, hi, fn, report); });
  }

  const std::size_t chunk_;
  R runtime_;
};

}  // namespace cpb::patterns::fork_join
