// SPDX-License-Identifier: Apache-2.0
/// @file
/// Baseline, the floor: `std::async(std::launch::async, a)` for a fork, `future::get` for the
/// join, and no pool at all: every fork starts a thread (about 29 µs with its join on the CI
/// machine class, performance-anchors §2.1).
///
/// A thread per fork explodes: fib(30) would start 1.3 million threads. So this runtime forks
/// only in the top `D` levels of the recursion, `D = bit_width(workers) - 1` (1 worker: none,
/// 2 or 3: 1 level, 4: 2 levels), and runs every deeper `invoke` sequentially (`a()` then
/// `b()`): at most 2^D <= workers threads run, counting the caller. That cut-off is what makes
/// it finish; it also makes it coarse-grained, so `kCutoff` is true and the one-task-per-call
/// `fib` scenario leaves it out. The depth travels in a `thread_local` counter: a thread started
/// for a fork inherits its parent's depth + 1.
///
/// Progress: blocking (`get` sleeps in the future).
/// Memory ordering: `future::get` synchronizes with the end of the async thread.
/// When to use: a handful of coarse, independent pieces of work, once; never per fine task.
/// Reference: ISO C++ [futures.async].
#pragma once

#include "harness/core/progress.hpp"

#include <bit>
#include <cstddef>
#include <exception>
#include <future>
#include <stdexcept>
#include <string_view>

namespace cpb::patterns::fork_join {

class StdAsync {
 public:
  static constexpr std::string_view kName = "std_async";
  static constexpr Progress kProgress = Progress::kBlocking;
  static constexpr bool kBaseline = true;
  static constexpr bool kCutoff = true;

  /// Forks in the top bit_width(workers) - 1 levels; `workers` >= 1.
  explicit StdAsync(std::size_t workers)
      : levels_(workers != 0 ? static_cast<int>(std::bit_width(workers)) - 1
                             : throw std::invalid_argument("workers must be >= 1")) {}

  /// The number of recursion levels that fork.
  [[nodiscard]] int levels() const { return levels_; }

  template <class F>
  void run(F&& root) {
    const int outer = depth();
    depth() = 0;
    try {
      root();
    } catch (...) {
      depth() = outer;
      throw;
    }
    depth() = outer;
  }

  template <class A, class B>
  void invoke(A&& a, B&& b) {
    const int d = depth();
    if (d >= levels_) {
      a();
      b();
      return;
    }
    std::future<void> fa = std::async(std::launch::async, [&a, d] {
      depth() = d + 1;
      a();
    });
    depth() = d + 1;
    std::exception_ptr eb;
    try {
      b();
    } catch (...) {
      eb = std::current_exception();
    }
    depth() = d;
    fa.get();  // rethrows a's exception
    if (eb) std::rethrow_exception(eb);
  }

 private:
  static int& depth() {
    static thread_local int d = 0;
    return d;
  }

  int levels_;
};

}  // namespace cpb::patterns::fork_join
