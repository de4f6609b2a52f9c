// SPDX-License-Identifier: Apache-2.0
/// @file
/// The `reactive` family (seed 001's observer, with Reactive Streams backpressure): an
/// asynchronous boundary between a producer thread that cannot be slowed down and a slower
/// subscriber thread. The concept, the scenario (a fast producer against a slow subscriber, one
/// per overflow policy, reporting delivered, dropped and the peak held), and the checks (the
/// subscriber never gets more onNext than it requested; exactly one terminal signal and nothing
/// after; model checks of the credit hand-off and of completion).
#pragma once

#include "harness/check/explore.hpp"
#include "harness/check/registered.hpp"
#include "harness/check/sync.hpp"
#include "harness/core/progress.hpp"
#include "harness/core/registry.hpp"
#include "harness/core/sync.hpp"
#include "harness/stress/result.hpp"
#include "patterns/reactive/boundary.hpp"
#include "patterns/reactive/overflow.hpp"
#include "patterns/reactive/streams.hpp"
#include "workloads/workload.hpp"

#include <benchmark/benchmark.h>
#include <fmt/format.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

namespace cpb::patterns::reactive {

/// An asynchronous boundary for `std::uint64_t` items. `B b(capacity, policy)` (capacity 0
/// throws std::invalid_argument). The producer thread calls `offer(v)` (never blocks) and then
/// `complete()`; the subscriber thread calls `drain(s)`, which signals `s.on_subscribe`, the
/// items, and one of on_complete / on_error, then returns (or returns once `s` cancelled).
/// `stats()` after both are done. `kBackpressure`: onNext never exceeds the subscriber's
/// requests (false for the floor, which ignores them).
template <class B>
concept Boundary = std::constructible_from<B, std::size_t, Overflow> &&
    requires(B& b, const B& cb, std::uint64_t v, Subscriber<std::uint64_t>& s) {
  { b.offer(v) } -> std::same_as<Offered>;
  { b.complete() } -> std::same_as<void>;
  { b.drain(s) } -> std::same_as<void>;
  { cb.stats() } -> std::same_as<BoundaryStats>;
  { B::kName } -> std::convertible_to<std::string_view>;
  { B::kProgress } -> std::convertible_to<Progress>;
  { B::kBackpressure } -> std::convertible_to<bool>;
};

namespace detail {

/// A slow subscriber: requests `batch` on subscribe and `batch / 2` more after every `batch / 2`
/// items (RxJava's observeOn replenishing), spends `work_ns` per item, and checks the protocol:
/// each onNext within the credits granted so far, items in increasing order, one terminal
/// signal and nothing after it.
class SlowSubscriber final : public Subscriber<std::uint64_t> {
 public:
  SlowSubscriber(std::uint64_t batch, std::int64_t work_ns)
      : batch_(std::max<std::uint64_t>(batch, 2)), work_ns_(work_ns) {}

  void on_subscribe(Subscription& s) override {
    s_ = &s;
    granted_ = batch_;
    s.request(batch_);
  }
  void on_next(std::uint64_t v) override {
    if (terminals_ > 0) ++after_terminal_;
    if (++received_ > granted_) ++over_;
    if (v <= last_) ++out_of_order_;
    last_ = v;
    if (work_ns_ > 0) workloads::spin_ns(work_ns_);
    if (received_ % (batch_ / 2) == 0) {
      granted_ += batch_ / 2;
      s_->request(batch_ / 2);
    }
  }
  void on_error(std::string_view /*what*/) override {
    ++terminals_;
    ++errors_;
  }
  void on_complete() override { ++terminals_; }

  /// What is wrong with the signals seen, given whether the stream enforces backpressure.
  [[nodiscard]] std::string wrong(bool backpressure) const {
    if (backpressure && over_ > 0) {
      return fmt::format("{} onNext beyond the {} credits granted", over_, granted_);
    }
    if (terminals_ != 1) return fmt::format("{} terminal signals (want exactly 1)", terminals_);
    if (after_terminal_ > 0)
      return fmt::format("{} onNext after the terminal signal", after_terminal_);
    if (out_of_order_ > 0) return fmt::format("{} items out of order or repeated", out_of_order_);
    return {};
  }
  [[nodiscard]] std::uint64_t received() const { return received_; }
  [[nodiscard]] std::uint64_t errors() const { return errors_; }

 private:
  const std::uint64_t batch_;
  const std::int64_t work_ns_;
  Subscription* s_ = nullptr;
  std::uint64_t granted_ = 0;
  std::uint64_t received_ = 0;
  std::uint64_t last_ = 0;
  std::uint64_t over_ = 0;
  std::uint64_t out_of_order_ = 0;
  std::uint64_t terminals_ = 0;
  std::uint64_t after_terminal_ = 0;
  std::uint64_t errors_ = 0;
};

/// One stream through a new boundary: the calling thread offers items 1..items back to back
/// (a hot source), then completes; a subscriber thread drains with a SlowSubscriber. Returns
/// what went wrong (empty if nothing) and fills `stats`.
template <Boundary B>
std::string one_stream(std::size_t capacity, Overflow policy, std::uint64_t items,
                       std::uint64_t batch, std::int64_t work_ns, std::int64_t gap_every,
                       BoundaryStats& stats, std::uint64_t& errors) {
  B b(capacity, policy);
  SlowSubscriber sub(batch, work_ns);
  std::thread t([&] { b.drain(sub); });
  std::uint64_t failed = 0;
  for (std::uint64_t v = 1; v <= items; ++v) {
    switch (b.offer(v)) {
      case Offered::kFailed:
        ++failed;
        break;
      case Offered::kAccepted:
      case Offered::kEvicted:
      case Offered::kDropped:
      case Offered::kTerminated:
        break;
    }
    if (gap_every > 0 && v % static_cast<std::uint64_t>(gap_every) == 0) std::this_thread::yield();
  }
  b.complete();
  t.join();
  stats = b.stats();
  errors = sub.errors();
  if (auto w = sub.wrong(B::kBackpressure); !w.empty()) return w;
  if (stats.offered != items) return fmt::format("{} offers counted of {}", stats.offered, items);
  if (stats.delivered != sub.received()) {
    return fmt::format("{} delivered counted, {} received", stats.delivered, sub.received());
  }
  // Every offer: delivered, dropped (incl. evicted and discarded at failure) or refused.
  if (stats.delivered + stats.dropped + stats.refused != stats.offered) {
    return fmt::format("offered {} != delivered {} + dropped {} + refused {}", stats.offered,
                       stats.delivered, stats.dropped, stats.refused);
  }
  if (!B::kBackpressure && stats.delivered != items) {
    return fmt::format("the floor delivered {} of {}", stats.delivered, items);
  }
  if (B::kBackpressure && policy != Overflow::kError && stats.peak_items > capacity) {
    return fmt::format("{} items queued in a boundary of {}", stats.peak_items, capacity);
  }
  if (failed > 0 && policy != Overflow::kBuffer && policy != Overflow::kError) {
    return fmt::format("policy {} failed the stream", to_string(policy));
  }
  if ((errors > 0) != (failed > 0)) return "onError without a failed offer, or the reverse";
  return {};
}

/// A fast producer against a slow subscriber. One iteration = one operation = one stream of
/// `items` offers, timed from the boundary's construction to the subscriber's terminal signal;
/// one item = one offer (so items/s is how fast a stream is absorbed, whatever is lost). Counters
/// (per stream): delivered, dropped (dropped, evicted, or discarded when the stream failed),
/// failed_streams (share of streams that ended in onError), and peak_items / peak_bytes (the most
/// the boundary held at once, the largest over streams).
template <Boundary B>
class FastSlow final : public Fixture {
 public:
  FastSlow(Overflow policy, const Point& p)
      : policy_(policy),
        capacity_(static_cast<std::size_t>(p.get("capacity"))),
        items_(static_cast<std::uint64_t>(p.get("items"))),
        batch_(static_cast<std::uint64_t>(p.get("batch"))),
        work_ns_(p.get("work_ns")) {}

  void run(benchmark::State& state, bench::Meter& meter) override {
    std::uint64_t streams = 0;
    std::uint64_t delivered = 0;
    std::uint64_t dropped = 0;
    std::uint64_t failed = 0;
    std::uint64_t peak_items = 0;
    meter.begin();
    for (auto _ : state) {
      BoundaryStats s;
      std::uint64_t errors = 0;
      std::string w;
      meter.op(
          [&] { w = one_stream<B>(capacity_, policy_, items_, batch_, work_ns_, 0, s, errors); },
          items_);
      if (!w.empty() && wrong_.empty()) wrong_ = w;
      ++streams;
      delivered += s.delivered;
      dropped += s.dropped;
      failed += errors > 0 ? 1 : 0;
      peak_items = std::max(peak_items, s.peak_items);
    }
    meter.end();
    const double n = static_cast<double>(std::max<std::uint64_t>(streams, 1));
    state.counters["delivered"] = static_cast<double>(delivered) / n;
    state.counters["dropped"] = static_cast<double>(dropped) / n;
    state.counters["failed_streams"] = static_cast<double>(failed) / n;
    state.counters["peak_items"] = static_cast<double>(peak_items);
    state.counters["peak_bytes"] = static_cast<double>(peak_items * sizeof(std::uint64_t));
    streams_ += streams;
  }

  std::string verify() override {
    if (streams_ == 0) return "no stream ran";
    return wrong_;
  }

 private:
  const Overflow policy_;
  const std::size_t capacity_;
  const std::uint64_t items_;
  const std::uint64_t batch_;
  const std::int64_t work_ns_;
  std::uint64_t streams_ = 0;
  std::string wrong_;
};

// -- stress checks ------------------------------------------------------------------------------

/// Streams with random capacity, batch, work and producer pacing, under `policy`, until the
/// budget is spent: every stream's signals obey the protocol (SlowSubscriber::wrong) and its
/// accounting adds up (one_stream).
template <Boundary B>
stress::CheckResult protocol(const CheckConfig& cfg, Overflow policy) {
  stress::CheckResult r;
  r.name = fmt::format("reactive/{}/protocol_{}", B::kName, to_string(policy));
  r.kind = "protocol";
  r.seed = stress::resolve_seed(cfg.seed);
  const auto budget = cfg.budget.count() > 0 ? cfg.budget : std::chrono::milliseconds(150);
  r.budget_ms = budget.count();
  stress::Rng rng(r.seed);
  const auto start = std::chrono::steady_clock::now();
  std::uint64_t streams = 0;
  std::uint64_t delivered = 0;
  do {
    const std::size_t cap = 1 + rng.below(16);
    const std::uint64_t batch = 2 + rng.below(16);
    const std::int64_t work = rng.chance(1, 2) ? 0 : static_cast<std::int64_t>(rng.below(2000));
    const std::int64_t gap = static_cast<std::int64_t>(rng.below(8));
    BoundaryStats s;
    std::uint64_t errors = 0;
    const std::string w = one_stream<B>(cap, policy, 200, batch, work, gap, s, errors);
    if (!w.empty()) {
      r.verdict = stress::Verdict::kFail;
      r.failure = fmt::format(
          "{}: stream {} (capacity {}, batch {}, work {} ns, yield every {}): {}; seed {:#x}, "
          "replay with {}",
          r.name, streams, cap, batch, work, gap, w, r.seed, stress::replay_hint(r.seed));
      return r;
    }
    ++streams;
    delivered += s.delivered;
  } while (std::chrono::steady_clock::now() - start < budget);
  r.elapsed_ms =
      std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
  r.samples = streams;
  r.stats = {{"streams", static_cast<std::int64_t>(streams)},
             {"delivered", static_cast<std::int64_t>(delivered)}};
  return r;
}

// -- model checks -------------------------------------------------------------------------------

/// The model's subscriber: counts credits granted (before each request, so a check in onNext
/// can compare) and asserts each onNext is within them and before any terminal signal.
template <class S>
struct ModelSubscriber final : Subscriber<std::uint64_t> {
  typename S::template atomic<std::uint64_t> granted{0};
  typename S::template atomic<Subscription*> sub{nullptr};
  typename S::template atomic<std::uint64_t> received{0};  // written by the drainer
  std::uint64_t initial = 1;
  std::uint64_t terminals = 0;  // the drainer's
  void on_subscribe(Subscription& s) override {
    granted.fetch_add(initial);
    s.request(initial);
    sub.store(&s);
  }
  void on_next(std::uint64_t /*v*/) override {
    CPB_CHECK_ASSERT(terminals == 0);
    CPB_CHECK_ASSERT(received.fetch_add(1) + 1 <= granted.load());
  }
  void on_error(std::string_view /*what*/) override { ++terminals; }
  void on_complete() override { ++terminals; }
};

/// The credit hand-off: the boundary (capacity 4, drop newest) holds 1, 2, 3 and is complete
/// before the threads start; the drainer's subscriber requests 1 on subscribe; another thread
/// requests 1 more, racing the onNext signals, waits until 2 items arrived, then cancels.
/// onNext never exceeds the 2 credits (a third onNext, before the cancel lands, is an
/// over-delivery).
template <class M, class S = check::Sync>
check::TestCase credit_model(std::string name) {
  struct State {
    M b{4, Overflow::kDropNewest};
    ModelSubscriber<S> s;
    State() {
      for (std::uint64_t v = 1; v <= 3; ++v) b.offer(v);
      b.complete();
    }
  };
  return check::make_test<State>(std::move(name),
                                 {[](State& st) { st.b.drain(st.s); },
                                  [](State& st) {
                                    Subscription* sub = nullptr;
                                    while ((sub = st.s.sub.load()) == nullptr) S::yield();
                                    st.s.granted.fetch_add(1);
                                    sub->request(1);
                                    while (st.s.received.load() < 2) S::yield();
                                    sub->cancel();
                                  }},
                                 [](State& st) { CPB_CHECK_ASSERT(st.s.received.load() <= 2); });
}

/// Completion: the producer offers 1 and 2, then completes; the subscriber requests 1 on
/// subscribe and another thread requests 1. Both items arrive, then onComplete exactly once.
template <class M, class S = check::Sync>
check::TestCase complete_model(std::string name) {
  struct State {
    M b{2, Overflow::kBuffer};
    ModelSubscriber<S> s;
  };
  return check::make_test<State>(std::move(name),
                                 {[](State& st) {
                                    CPB_CHECK_ASSERT(st.b.offer(1) == Offered::kAccepted);
                                    CPB_CHECK_ASSERT(st.b.offer(2) == Offered::kAccepted);
                                    st.b.complete();
                                  },
                                  [](State& st) { st.b.drain(st.s); },
                                  [](State& st) {
                                    Subscription* sub = nullptr;
                                    while ((sub = st.s.sub.load()) == nullptr) S::yield();
                                    st.s.granted.fetch_add(1);
                                    sub->request(1);
                                  }},
                                 [](State& st) {
                                   CPB_CHECK_ASSERT(st.s.received.load() == 2);
                                   CPB_CHECK_ASSERT(st.s.terminals == 1);
                                 });
}

}  // namespace detail

template <Boundary B>
struct Family {
  static constexpr std::string_view kName = "reactive";
  static constexpr std::string_view kDescription =
      "asynchronous boundaries with Reactive Streams backpressure (request(n) credits) and an "
      "overflow policy, against an observer with no backpressure";
  /// The observer with no backpressure: the floor the issue names. There is no library
  /// baseline (CAF 0.17's streams are not one: README).
  static constexpr std::string_view kReference = "unbounded_observer";

  static std::vector<Scenario> scenarios() {
    std::vector<Scenario> out;
    for (const Overflow policy : kOverflows) {
      out.push_back(
          {fmt::format("fast_slow_{}", to_string(policy)),
           fmt::format("overflow policy {} (the floor ignores it): one producer offers `items` "
                       "back to back, a subscriber thread requests `batch` at a time and spends "
                       "work_ns per item; one operation = one stream, one item = one offer; "
                       "counters delivered, dropped, failed_streams (per stream), peak_items, "
                       "peak_bytes",
                       to_string(policy)),
           {{"items", "offers per stream", {10'000}, {2'000}, 1, 10'000'000},
            {"capacity", "boundary capacity in items", {256}, {}, 1, 1 << 24},
            {"batch", "subscriber's request size", {64}, {}, 2, 1 << 20},
            {"work_ns", "subscriber's work per item, ns", {200}, {}, 0, 1'000'000}},
           ThreadAxis::fixed({1}),
           1,
           [policy](const Point& pt) -> std::unique_ptr<Fixture> {
             return std::make_unique<detail::FastSlow<B>>(policy, pt);
           }});
    }
    return out;
  }

  static std::vector<Check> checks() {
    std::vector<Check> out;
    for (const Overflow policy : kOverflows) {
      out.push_back({fmt::format("protocol_{}", to_string(policy)),
                     fmt::format("policy {}: random streams; onNext within the credits "
                                 "(backpressure), one terminal signal, nothing after, every "
                                 "offer accounted for",
                                 to_string(policy)),
                     [policy](const CheckConfig& c) { return detail::protocol<B>(c, policy); },
                     {}});
    }
    if constexpr (sync::sync_templated<B>) {
      using M = sync::rebind_t<B, check::Sync>;
      out.push_back({"model_credit",
                     "model check: request(1) from another thread races the onNext signals; "
                     "onNext never exceeds the credits",
                     {},
                     check::model_mode([] {
                       return detail::credit_model<M>(
                           fmt::format("reactive/{}/model_credit", B::kName));
                     })});
      out.push_back({"model_complete",
                     "model check: two items, a request from another thread, complete: both "
                     "arrive, then onComplete exactly once",
                     {},
                     check::model_mode([] {
                       return detail::complete_model<M>(
                           fmt::format("reactive/{}/model_complete", B::kName));
                     })});
    }
    return out;
  }
};

}  // namespace cpb::patterns::reactive
