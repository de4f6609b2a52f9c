// SPDX-License-Identifier: Apache-2.0
/// @file
/// Baseline, the floor: `std::promise` / `std::future`. The standard future has no
/// continuations, so this adapter emulates them the only way the standard library allows
/// without a thread per continuation: `then(f, fn)` is `std::async(std::launch::deferred, ...)`,
/// a deferred state whose function calls `f.get()` and then `fn`. The continuation therefore
/// runs lazily, in `get()`, on the thread that waits, not on the fulfilling thread, and a chain
/// of N `then`s is N nested deferred calls (N stack frames) at `get()`. `when_all` is a deferred
/// state that gets every input in order. Say so when reading its numbers: it measures the
/// standard shared state plus a deferred state per step, not an eager continuation.
///
/// Progress: blocking (libstdc++'s shared state waits on a futex).
/// Memory ordering: libstdc++'s own; nothing here.
/// When to use: one value handed to one waiter, with no composition. When not to use:
/// callback chains and fan-in (no `then`, no `when_all`).
/// Reference: ISO C++ [futures]; N3857 (the `then` proposal the standard never adopted).
#pragma once

#include "harness/core/progress.hpp"

#include <future>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

namespace cpb::patterns::future_promise {

struct StdFuture {
  static constexpr std::string_view kName = "std_future";
  static constexpr Progress kProgress = Progress::kBlocking;
  static constexpr bool kBaseline = true;

  template <class T>
  using promise = std::promise<T>;
  template <class T>
  using future = std::future<T>;

  /// Emulated: a deferred state that runs `fn(f.get())` when its own get() is called.
  template <class T, class F>
  static auto then(future<T>&& f, F fn) {
    return std::async(std::launch::deferred,
                      [f = std::move(f), fn = std::move(fn)]() mutable { return fn(f.get()); });
  }
  /// Emulated: a deferred state that gets every input in order.
  template <class T>
  static future<std::vector<T>> when_all(std::vector<future<T>> in) {
    return std::async(std::launch::deferred, [in = std::move(in)]() mutable {
      std::vector<T> out;
      out.reserve(in.size());
      for (auto& f : in) out.push_back(f.get());
      return out;
    });
  }
};

}  // namespace cpb::patterns::future_promise
