// SPDX-License-Identifier: Apache-2.0
/// @file
/// Baseline: `boost::promise` / `boost::future` (Boost.Thread, protocol version 4) with its
/// own continuations: `then(boost::launch::sync, fn)` (the continuation runs on the thread that
/// fulfils, or on the attaching thread when the value is there, as the own future does; the
/// default policy of a promise's future would start a thread per continuation) and
/// `boost::when_all`, whose future of futures this adapter unwraps with one more `sync`
/// continuation into a future of values. `BoostPromise` only converts a `std::exception_ptr`
/// for `set_exception`.
///
/// Progress: blocking (each shared state has a mutex and a condition variable).
/// Memory ordering: Boost's own; nothing here.
/// When to use: composable futures where Boost is already a dependency. When not to use: hot
/// paths (a mutex per state, a heap state per continuation plus its callback bookkeeping).
/// Reference: Boost.Thread documentation, "Futures", "future<>::then", "when_all" (1.74).
#pragma once

#ifndef BOOST_THREAD_VERSION
#define BOOST_THREAD_VERSION 4
#endif
#ifndef BOOST_THREAD_PROVIDES_FUTURE_CONTINUATION
#define BOOST_THREAD_PROVIDES_FUTURE_CONTINUATION
#endif
#ifndef BOOST_THREAD_PROVIDES_FUTURE_WHEN_ALL_WHEN_ANY
#define BOOST_THREAD_PROVIDES_FUTURE_WHEN_ALL_WHEN_ANY
#endif
#include "harness/core/progress.hpp"

#include <boost/thread/future.hpp>

#include <exception>
#include <string_view>
#include <utility>
#include <vector>

namespace cpb::patterns::future_promise {

/// `boost::promise<T>` taking a `std::exception_ptr`: Boost's own `set_exception(E)` would
/// wrap the pointer itself as the exception object, so it is rethrown and captured with
/// `boost::current_exception()` (which keeps the standard exception types).
template <class T>
class BoostPromise : public boost::promise<T> {
 public:
  using boost::promise<T>::set_exception;
  void set_exception(std::exception_ptr e) {
    try {
      std::rethrow_exception(std::move(e));
    } catch (...) {
      boost::promise<T>::set_exception(boost::current_exception());
    }
  }
};

struct BoostFuture {
  static constexpr std::string_view kName = "boost_future";
  static constexpr Progress kProgress = Progress::kBlocking;
  static constexpr bool kBaseline = true;

  template <class T>
  using promise = BoostPromise<T>;
  template <class T>
  using future = boost::future<T>;

  template <class T, class F>
  static auto then(future<T>&& f, F fn) {
    return f.then(boost::launch::sync,
                  [fn = std::move(fn)](future<T> ready) mutable { return fn(ready.get()); });
  }
  template <class T>
  static future<std::vector<T>> when_all(std::vector<future<T>> in) {
    return boost::when_all(in.begin(), in.end())
        .then(boost::launch::sync, [](future<std::vector<future<T>>> all) {
          std::vector<future<T>> done = all.get();
          std::vector<T> out;
          out.reserve(done.size());
          for (auto& f : done) out.push_back(f.get());
          return out;
        });
  }
};

}  // namespace cpb::patterns::future_promise
