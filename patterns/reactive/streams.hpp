// SPDX-License-Identifier: Apache-2.0
/// @file
/// Reactive Streams, in C++: `Subscriber<T>` (onSubscribe, onNext, onError, onComplete),
/// `Subscription` (request(n) credits, cancel) and `Publisher<T>`, with the rules that matter
/// here (Reactive Streams 1.0.4 for the JVM): a publisher signals at most as many onNext as were
/// requested (§1.1), onComplete or onError at most once and nothing after (§1.7), request(0)
/// is an error (§3.9), the total demand saturates at 2^63 - 1, "unbounded" (§3.17).
#pragma once

#include <cstdint>
#include <limits>
#include <string_view>

namespace cpb::patterns::reactive {

/// request(kUnboundedDemand) or any total reaching it: no more backpressure (§3.17).
inline constexpr std::uint64_t kUnboundedDemand =
    static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max());

/// a + b, saturating at kUnboundedDemand.
constexpr std::uint64_t add_demand(std::uint64_t a, std::uint64_t b) {
  return (a >= kUnboundedDemand || b >= kUnboundedDemand - a) ? kUnboundedDemand : a + b;
}

class Subscription {
 public:
  virtual ~Subscription() = default;
  /// Adds `n` credits: the publisher may signal `n` more onNext. Any thread; n = 0 fails the
  /// stream.
  virtual void request(std::uint64_t n) = 0;
  /// Asks the publisher to stop; signals may still arrive for a while, then none.
  virtual void cancel() = 0;
};

template <class T>
class Subscriber {
 public:
  virtual ~Subscriber() = default;
  virtual void on_subscribe(Subscription& s) = 0;
  virtual void on_next(T v) = 0;
  virtual void on_error(std::string_view what) = 0;
  virtual void on_complete() = 0;
};

template <class T>
class Publisher {
 public:
  virtual ~Publisher() = default;
  /// Subscribes `s` (which must outlive the subscription); the operators here are unicast:
  /// one subscriber each.
  virtual void subscribe(Subscriber<T>& s) = 0;
};

}  // namespace cpb::patterns::reactive
