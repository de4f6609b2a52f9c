// SPDX-License-Identifier: Apache-2.0
/// @file
/// The `future_promise` family: a promise fulfilled on one thread, its future waited on or
/// composed (`then`, `when_all`) on another. The concept, the fixtures, the scenarios (create,
/// fulfil and get; a chain of N continuations; fan-in of N futures through `when_all`) and the
/// model checks (a continuation attached while the value arrives runs exactly once; racing
/// setters fulfil exactly once).
///
/// Every scenario runs two threads: the consumer (thread 0) makes the promises, hands them to
/// the fulfiller (thread 1) and attaches / waits, while the fulfiller sets the values, so
/// attaching races with fulfilling and every value crosses threads. The values are known
/// functions of the round; the consumer checks each result and verify() reports any mismatch.
#pragma once

#include "harness/check/explore.hpp"
#include "harness/check/registered.hpp"
#include "harness/check/sync.hpp"
#include "harness/core/progress.hpp"
#include "harness/core/registry.hpp"
#include "harness/core/sync.hpp"

#include <benchmark/benchmark.h>
#include <fmt/format.h>

#include <atomic>
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <exception>
#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace cpb::patterns::future_promise {

/// The value type of the scenarios and checks.
using Item = std::uint64_t;

/// A continuation the scenarios chain: adds one.
struct Inc {
  Item operator()(Item v) const { return v + 1; }
};

/// A future/promise library, adapted: `typename F::template promise<T>` (default
/// constructible, move-only) with `get_future()`, `set_value(T)` and
/// `set_exception(std::exception_ptr)` (a second fulfilment throws); `typename F::template
/// future<T>` with `get()` (waits, returns the value or throws the carried exception);
/// `F::then(future<T>&&, fn)` -> `future<fn(T)>` (an error skips fn and passes on);
/// `F::when_all(std::vector<future<T>>)` -> `future<std::vector<T>>` (values in input order).
/// An adapter may emulate `then` / `when_all` where its library lacks them (std_future.hpp).
template <class F>
concept FutureLibrary = std::default_initializable<typename F::template promise<Item>> &&
    requires(typename F::template promise<Item>& p, typename F::template future<Item>& f,
             std::vector<typename F::template future<Item>>& v, std::exception_ptr e) {
  { p.get_future() } -> std::same_as<typename F::template future<Item>>;
  p.set_value(Item{});
  p.set_exception(e);
  { f.get() } -> std::convertible_to<Item>;
  { F::then(std::move(f), Inc{}) } -> std::same_as<typename F::template future<Item>>;
  { F::when_all(std::move(v)).get() } -> std::convertible_to<std::vector<Item>>;
  { F::kName } -> std::convertible_to<std::string_view>;
  { F::kProgress } -> std::convertible_to<Progress>;
};

namespace detail {

/// A sequence number one thread posts and the other awaits (spins briefly, then sleeps in
/// atomic::wait). Used by the fixtures only, the same for every implementation.
class Handoff {
 public:
  void post(std::uint64_t seq) {
    // Release: pairs with await()'s acquire: what the poster did before is visible after.
    seq_.store(seq, std::memory_order_release);
    seq_.notify_one();
  }
  void await(std::uint64_t seq) {
    sync::Backoff<> backoff;
    for (int i = 0; i < 64; ++i) {
      // Acquire: pairs with post()'s release.
      if (seq_.load(std::memory_order_acquire) >= seq) return;
      backoff();
    }
    for (;;) {
      // Acquire: pairs with post()'s release.
      const std::uint64_t now = seq_.load(std::memory_order_acquire);
      if (now >= seq) return;
      seq_.wait(now, std::memory_order_acquire);  // acquire: as above
    }
  }

 private:
  alignas(64) std::atomic<std::uint64_t> seq_{0};
};

inline Item value_of(std::uint64_t round, std::size_t k) { return round * 1'000'003 + k; }

/// The skeleton of the scenarios: each iteration the consumer prepares a round of `n`
/// promises (`prepare`), posts them, consumes (`consume`, which returns false on a wrong
/// result); the fulfiller awaits the round and sets value_of(round, k) on promise k, then posts
/// that it is done with the promises (the consumer waits for that before reusing them).
template <FutureLibrary F>
class Rounds : public Fixture {
 public:
  using Promise = typename F::template promise<Item>;
  using FutureT = typename F::template future<Item>;

  explicit Rounds(std::size_t n) : n_(n), promises_(n) {}

  void run(benchmark::State& state, bench::Meter& meter) override {
    if (state.thread_index() == 0) {
      meter.begin();
      for (auto _ : state) {
        const std::uint64_t round = ++consumer_round_;
        done_.await(round - 1);  // the fulfiller is done with the previous promises
        meter.op([&] { one_round(round); }, items());
      }
      meter.end();
    } else {
      meter.begin();  // counts nothing: the consumer counts
      for (auto _ : state) {
        const std::uint64_t round = ++fulfiller_round_;
        ready_.await(round);
        for (std::size_t k = 0; k < n_; ++k) promises_[k].set_value(value_of(round, k));
        done_.post(round);
      }
      meter.end();
    }
  }

  std::string verify() override {
    if (consumer_round_ == 0) return "no round ran";
    if (wrong_ > 0)
      return fmt::format("{} of {} rounds got a wrong result: {}", wrong_, consumer_round_,
                         first_wrong_);
    return {};
  }

 protected:
  virtual std::uint64_t items() const { return n_; }
  /// Runs one round from the consumer's side; returns what is wrong, or an empty string.
  virtual std::string consume(std::uint64_t round, std::vector<FutureT>& futures) = 0;

  const std::size_t n_;

 private:
  void one_round(std::uint64_t round) {
    std::vector<FutureT> futures;
    futures.reserve(n_);
    for (std::size_t k = 0; k < n_; ++k) {
      promises_[k] = Promise();
      futures.push_back(promises_[k].get_future());
    }
    ready_.post(round);
    std::string wrong = consume(round, futures);
    if (!wrong.empty() && wrong_++ == 0) first_wrong_ = std::move(wrong);
  }

  std::vector<Promise> promises_;  // the consumer fills them, the fulfiller sets them
  Handoff ready_;                  // consumer -> fulfiller: round r's promises are there
  Handoff done_;                   // fulfiller -> consumer: round r's promises are set
  alignas(64) std::uint64_t consumer_round_ = 0;
  std::uint64_t wrong_ = 0;
  std::string first_wrong_;
  alignas(64) std::uint64_t fulfiller_round_ = 0;
};

/// create_fulfil_get: `batch` promises per round, each future got by the consumer.
template <FutureLibrary F>
class FulfilGet final : public Rounds<F> {
 public:
  using Rounds<F>::Rounds;

 private:
  std::string consume(std::uint64_t round,
                      std::vector<typename Rounds<F>::FutureT>& futures) override {
    for (std::size_t k = 0; k < futures.size(); ++k) {
      const Item v = futures[k].get();
      if (v != value_of(round, k)) {
        return fmt::format("future {} of round {} gave {}, expected {}", k, round, v,
                           value_of(round, k));
      }
    }
    return {};
  }
};

/// then_chain: one promise per round; the consumer attaches `depth` continuations (each adds
/// one) while the fulfiller sets the value, then gets the end of the chain.
template <FutureLibrary F>
class Chain final : public Rounds<F> {
 public:
  explicit Chain(std::size_t depth) : Rounds<F>(1), depth_(depth) {}

 private:
  std::uint64_t items() const override { return depth_; }
  std::string consume(std::uint64_t round,
                      std::vector<typename Rounds<F>::FutureT>& futures) override {
    auto f = std::move(futures[0]);
    for (std::size_t d = 0; d < depth_; ++d) f = F::then(std::move(f), Inc{});
    const Item v = f.get();
    if (v != value_of(round, 0) + depth_) {
      return fmt::format("a chain of {} gave {}, expected {}", depth_, v,
                         value_of(round, 0) + depth_);
    }
    return {};
  }
  const std::size_t depth_;
};

/// fan_in: `futures` promises per round (the fan-out), joined by when_all (the fan-in) while
/// the fulfiller sets them; the consumer checks every value in order.
template <FutureLibrary F>
class FanIn final : public Rounds<F> {
 public:
  using Rounds<F>::Rounds;

 private:
  std::string consume(std::uint64_t round,
                      std::vector<typename Rounds<F>::FutureT>& futures) override {
    const std::size_t n = futures.size();
    const std::vector<Item> all = F::when_all(std::move(futures)).get();
    if (all.size() != n) return fmt::format("when_all of {} gave {} values", n, all.size());
    for (std::size_t k = 0; k < n; ++k) {
      if (all[k] != value_of(round, k)) {
        return fmt::format("when_all value {} of round {} is {}, expected {}", k, round, all[k],
                           value_of(round, k));
      }
    }
    return {};
  }
};

// -- model checks ---------------------------------------------------------------------------------

/// A continuation attached on one thread while the value is set on another runs exactly once,
/// and the chained future holds value + 1. The seeded twin (future_promise.model.cpp: the
/// attach that tests "ready" and stores its flag apart) loses it.
template <FutureLibrary M>
check::TestCase attach_race_model(std::string name) {
  using S = check::Sync;
  struct State {
    typename M::template promise<Item> p;
    typename M::template future<Item> f = p.get_future();
    typename M::template future<Item> chained;  // thread 0's
    S::atomic<int> ran{0};
  };
  return check::make_test<State>(std::move(name),
                                 {[](State& s) {
                                    s.chained = M::then(std::move(s.f), [&s](Item v) {
                                      s.ran.fetch_add(1);
                                      return v + 1;
                                    });
                                  },
                                  [](State& s) { s.p.set_value(41); }},
                                 [](State& s) {
                                   CPB_CHECK_ASSERT(s.ran.load() == 1);
                                   CPB_CHECK_ASSERT(s.chained.get() == 42);
                                 });
}

/// Two threads set the same promise while a third waits in get(): exactly one set succeeds,
/// the other gets the "already satisfied" error, and the waiter gets the winner's value (no
/// lost wake-up).
template <FutureLibrary M>
check::TestCase racing_setters_model(std::string name) {
  using S = check::Sync;
  struct State {
    typename M::template promise<Item> p;
    typename M::template future<Item> f = p.get_future();
    S::atomic<int> won{0};  // bit k: setter k succeeded
    S::atomic<int> refused{0};
    S::cell<Item> got{0};  // the waiter's
  };
  const auto setter = [](Item v) {
    return [v](State& s) {
      try {
        s.p.set_value(v);
        s.won.fetch_or(static_cast<int>(v));
      } catch (const std::logic_error&) {
        s.refused.fetch_add(1);
      }
    };
  };
  return check::make_test<State>(std::move(name),
                                 {setter(1), setter(2), [](State& s) { s.got.store(s.f.get()); }},
                                 [](State& s) {
                                   const int won = s.won.load();
                                   CPB_CHECK_ASSERT(won == 1 || won == 2);
                                   CPB_CHECK_ASSERT(s.refused.load() == 1);
                                   CPB_CHECK_ASSERT(s.got.load() == static_cast<Item>(won));
                                 });
}

}  // namespace detail

template <FutureLibrary F>
struct Family {
  static constexpr std::string_view kName = "future_promise";
  static constexpr std::string_view kDescription =
      "futures and promises: fulfil on one thread, get / chain continuations / when_all on "
      "another";
  /// boost::future with continuations: the composable baseline the aim is against
  /// (own chain >= boost::future); std_future is the floor.
  static constexpr std::string_view kReference = "boost_future";

  static std::vector<Scenario> scenarios() {
    const auto two = ThreadAxis::fixed({2});
    return {
        {"create_fulfil_get",
         "each round the consumer thread makes `batch` promises, hands them to the fulfiller "
         "thread, which sets them, and gets every future; one item = one promise created, "
         "fulfilled across threads and got",
         {{"batch", "promises per round", {64}, {}, 1, 1 << 20}},
         two,
         64,
         [](const Point& p) -> std::unique_ptr<Fixture> {
           return std::make_unique<detail::FulfilGet<F>>(static_cast<std::size_t>(p.get("batch")));
         }},
        {"then_chain",
         "each round the consumer attaches a chain of `depth` continuations (each adds 1) to "
         "one future while the fulfiller thread sets it, then gets the chain's end; one item "
         "= one continuation",
         {{"depth", "continuations per chain", {16, 256}, {16}, 1, 4096}},
         two,
         16,
         [](const Point& p) -> std::unique_ptr<Fixture> {
           return std::make_unique<detail::Chain<F>>(static_cast<std::size_t>(p.get("depth")));
         }},
        {"fan_in",
         "each round the consumer makes `futures` promises (the fan-out), joins their futures "
         "with when_all while the fulfiller thread sets them, and checks every value in "
         "order; one item = one future joined",
         {{"futures", "futures joined per round", {16, 256}, {16}, 1, 1 << 20}},
         two,
         16,
         [](const Point& p) -> std::unique_ptr<Fixture> {
           return std::make_unique<detail::FanIn<F>>(static_cast<std::size_t>(p.get("futures")));
         }},
    };
  }

  static std::vector<Check> checks() {
    if constexpr (sync::sync_templated<F>) {
      using M = sync::rebind_t<F, check::Sync>;
      return {{"model_attach_race",
               "model check: a continuation attached on one thread while set_value runs on "
               "another runs exactly once, and its future holds value + 1",
               {},
               check::model_mode([] {
                 return detail::attach_race_model<M>(
                     fmt::format("future_promise/{}/model_attach_race", F::kName));
               })},
              {"model_racing_setters",
               "model check: two threads set one promise while a third waits in get(): one "
               "set wins, the other is refused with an error, the waiter gets the winner's "
               "value",
               {},
               check::model_mode([] {
                 return detail::racing_setters_model<M>(
                     fmt::format("future_promise/{}/model_racing_setters", F::kName));
               })}};
    } else {
      return {};
    }
  }
};

}  // namespace cpb::patterns::future_promise
