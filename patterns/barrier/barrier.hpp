// SPDX-License-Identifier: Apache-2.0
/// @file
/// The `barrier` family: reusable barriers for a fixed party count. The concept, its scenario,
/// fixture and checks.
#pragma once

#include "harness/check/registered.hpp"
#include "harness/check/sync.hpp"
#include "harness/core/progress.hpp"
#include "harness/core/registry.hpp"
#include "harness/core/sync.hpp"
#include "harness/stress/history.hpp"
#include "workloads/workload.hpp"

#include <benchmark/benchmark.h>
#include <fmt/format.h>

#include <array>
#include <atomic>
#include <chrono>
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace cpb::patterns::barrier {

/// A reusable barrier, as `std::barrier` without a completion function: `B b(n)` is for `n`
/// parties; `arrive_and_wait()` returns once all `n` have arrived in the current episode, and
/// the barrier is then ready for the next one. Everything a thread did before arriving
/// happens-before everything any thread does after that episode's `arrive_and_wait` returns.
template <class B>
concept Barrier = std::constructible_from<B, std::ptrdiff_t> && requires(B& b) {
  { b.arrive_and_wait() } -> std::same_as<void>;
  { B::kName } -> std::convertible_to<std::string_view>;
  { B::kProgress } -> std::convertible_to<Progress>;
};

namespace detail {

/// One thread's episode counter, alone in its cache line.
struct alignas(64) Counter {
  std::atomic<std::uint64_t> value{0};
};

/// Per-thread episode counters: a thread sets its counter to k before it arrives at episode k;
/// after the barrier it must see every counter at k or more. Relaxed accesses suffice: the
/// barrier orders each store before the loads after it, and coherence then forbids an older
/// value, so a barrier without that ordering is what shows.
class EpisodeLedger {
 public:
  explicit EpisodeLedger(std::size_t threads) : counters_(threads) {}

  /// The episode `thread` arrives at next.
  [[nodiscard]] std::uint64_t next(std::size_t thread) const {
    // Relaxed: only this thread writes its counter.
    return counters_[thread].value.load(std::memory_order_relaxed) + 1;
  }

  /// Called just before arriving at episode `k` (= next(thread)).
  void arrive(std::size_t thread, std::uint64_t k) {
    // Relaxed: the barrier publishes the store (see the class comment).
    counters_[thread].value.store(k, std::memory_order_relaxed);
  }

  /// Called after the barrier returned for episode `k`: how many threads had not arrived.
  [[nodiscard]] std::uint64_t missing(std::uint64_t k) const {
    std::uint64_t n = 0;
    // Relaxed: see the class comment.
    for (const auto& c : counters_) n += c.value.load(std::memory_order_relaxed) < k ? 1 : 0;
    return n;
  }

  /// After all threads stopped: empty when they all ran the same number of episodes.
  [[nodiscard]] std::string uneven() const {
    const auto first = counters_.front().value.load(std::memory_order_relaxed);
    for (std::size_t t = 0; t < counters_.size(); ++t) {
      const auto v = counters_[t].value.load(std::memory_order_relaxed);
      if (v != first) return fmt::format("thread {} ran {} episodes, thread 0 ran {}", t, v, first);
    }
    return {};
  }

 private:
  std::vector<Counter> counters_;
};

/// Each benchmark thread runs episodes: work, arrive, wait, then check that every thread had
/// arrived. In episode k thread k mod T is the straggler: it does `skew_ns` of work before
/// arriving and the others arrive at once, so the others wait (and may go to sleep) and the
/// barrier's wake-up path is measured. One item is one arrival (episodes/s = items/s ÷ T).
template <Barrier B>
class Episodes final : public Fixture {
 public:
  Episodes(int threads, std::int64_t skew_ns)
      : threads_(static_cast<std::uint64_t>(threads)),
        skew_ns_(skew_ns),
        barrier_(threads),
        ledger_(static_cast<std::size_t>(threads)) {}

  void run(benchmark::State& state, bench::Meter& meter) override {
    const auto me = static_cast<std::size_t>(state.thread_index());
    std::uint64_t early = 0;
    meter.begin();
    for (auto _ : state) {
      meter.op([&] {
        const std::uint64_t k = ledger_.next(me);
        if (skew_ns_ > 0 && k % threads_ == me) workloads::spin_ns(skew_ns_);
        ledger_.arrive(me, k);
        barrier_.arrive_and_wait();
        early += ledger_.missing(k);
      });
    }
    meter.end();
    early_.fetch_add(early, std::memory_order_relaxed);  // read after the threads joined
  }

  std::string verify() override {
    if (const auto early = early_.load(std::memory_order_relaxed); early != 0) {
      return fmt::format("{} times a thread left an episode before every thread had arrived at it",
                         early);
    }
    return ledger_.uneven();
  }

 private:
  std::uint64_t threads_;
  std::int64_t skew_ns_;
  B barrier_;
  EpisodeLedger ledger_;
  std::atomic<std::uint64_t> early_{0};
};

// -- model test (the implementation rebound to check::Sync) ---------------------------------

using CS = check::Sync;

/// Three threads, two episodes. Each thread writes its own race-checked cell for an episode
/// before arriving and reads everyone's cells for that episode after the barrier: a barrier
/// that lets a thread through early fails the assertion, one that does not order the arrivals'
/// writes before the departures' reads shows as a data race, and a lost wake-up as a deadlock.
inline constexpr int kModelThreads = 3;
inline constexpr int kModelEpisodes = 2;

/// The state of one execution of `episodes_model`. (At namespace scope: GCC 12 crashes on a
/// local class whose member initializer names a local constant.)
template <Barrier M>
struct EpisodesState {
  M barrier{kModelThreads};
  std::array<std::array<CS::cell<int>, kModelEpisodes>, kModelThreads> arrived;
};

template <Barrier M>
check::TestCase episodes_model(std::string name) {
  using State = EpisodesState<M>;
  std::vector<std::function<void(State&)>> threads;
  for (std::size_t t = 0; t < kModelThreads; ++t) {
    threads.emplace_back([t](State& s) {
      for (std::size_t e = 0; e < kModelEpisodes; ++e) {
        s.arrived[t][e].store(1);
        s.barrier.arrive_and_wait();
        for (std::size_t j = 0; j < kModelThreads; ++j) {
          CPB_CHECK_ASSERT(s.arrived[j][e].load() == 1);
        }
      }
    });
  }
  return check::make_test<State>(std::move(name), std::move(threads));
}

}  // namespace detail

template <Barrier B>
struct Family {
  static constexpr std::string_view kName = "barrier";
  static constexpr std::string_view kDescription = "reusable barriers for a fixed party count";
  static constexpr std::string_view kReference = "std_barrier";

  static std::vector<Scenario> scenarios() {
    return {
        {"episodes",
         "every thread loops: (the episode's straggler works skew_ns), arrive_and_wait, check "
         "that all arrived; items are arrivals, episodes/s = items/s / threads",
         {{"skew_ns",
           "work the episode's straggler does before arriving, in ns",
           {0, 1000, 10000},
           {1000}}},
         ThreadAxis::runners({2, 4}, {2, 4}),
         64,
         [](const Point& p) -> std::unique_ptr<Fixture> {
           return std::make_unique<detail::Episodes<B>>(p.threads, p.get("skew_ns"));
         }},
    };
  }

  static std::vector<Check> checks() {
    std::vector<Check> checks = {
        {"episodes",
         "4 threads run episodes (some with a random straggler); after each, every thread must "
         "see that all had arrived, and no thread may hang",
         [](const CheckConfig& c) { return stress_episodes(c); },
         {}}};
    if constexpr (sync::sync_templated<B>) {
      checks[0].model = check::model_mode([] {
        return detail::episodes_model<sync::rebind_t<B, check::Sync>>(
            fmt::format("barrier/{}/episodes", B::kName));
      });
    }
    return checks;
  }

 private:
  static stress::CheckResult stress_episodes(const CheckConfig& c) {
    constexpr std::size_t kThreads = 4;
    struct Shared {
      explicit Shared(std::size_t threads)
          : barrier(static_cast<std::ptrdiff_t>(threads)), ledger(threads) {}
      B barrier;
      detail::EpisodeLedger ledger;
      std::atomic<std::uint64_t> early{0};
    };
    // Shared: a hung thread may outlive this call.
    auto s = std::make_shared<Shared>(kThreads);
    stress::RecordOptions o;
    o.threads = kThreads;
    o.operations = 40'000;
    o.seed = c.seed;
    // The episodes take well under a second; a thread that has not returned by the cap (5 s
    // unless the caller gives a budget) is reported as hung instead of being waited on for long.
    o.time_cap = c.budget.count() > 0 ? c.budget : std::chrono::milliseconds(5000);
    o.grace = std::chrono::milliseconds(3000);
    auto rec = stress::record(o, [s](std::size_t t, stress::Rng& rng, stress::Recorder&) {
      // A random straggler: a short spin, or now and then a yield, before arriving.
      if (rng.chance(1, 8)) {
        for (int i = 0; i < 64; ++i) sync::Real::pause();
      } else if (rng.chance(1, 32)) {
        sync::Real::yield();
      }
      const std::uint64_t k = s->ledger.next(t);
      s->ledger.arrive(t, k);
      s->barrier.arrive_and_wait();
      if (const auto missing = s->ledger.missing(k); missing != 0) {
        s->early.fetch_add(missing, std::memory_order_relaxed);
      }
    });
    stress::CheckResult r;
    r.name = fmt::format("barrier/{}/episodes", B::kName);
    r.kind = "invariant";
    r.seed = rec.seed;
    r.elapsed_ms = rec.elapsed_ms;
    r.stats = {{"rounds", static_cast<std::int64_t>(rec.rounds)}};
    if (!rec.engine.ok()) {
      r.verdict = stress::Verdict::kError;
      r.failure = rec.engine.describe() + " (a thread never left the barrier: a lost wake-up?)";
    } else {
      r.samples = rec.rounds * o.ops_per_round;
      if (const auto early = s->early.load(); early != 0) {
        r.verdict = stress::Verdict::kFail;
        r.failure = fmt::format(
            "{} times a thread left an episode before every thread had arrived at it", early);
      } else if (auto uneven = s->ledger.uneven(); !uneven.empty()) {
        r.verdict = stress::Verdict::kFail;
        r.failure = std::move(uneven);
      }
    }
    if (!r.passed()) r.details = stress::replay_hint(rec.seed);
    return r;
  }
};

}  // namespace cpb::patterns::barrier
