// SPDX-License-Identifier: Apache-2.0
/// @file
/// The `singleton` family: thread-safe lazy initialization. The concept, the payload the
/// scenarios construct, the scenarios and the checks.
///
/// A singleton is a global, and a global is constructed once per process: no benchmark could
/// race on its first access twice. So an implementation here is an *object that holds one
/// lazily constructed instance* (`L holder; holder.get()`), and the first-access scenario
/// builds a fresh holder every round. A true global is then `static L holder;` plus a free
/// `instance()` that returns `holder.get()`.
#pragma once

#include "harness/check/registered.hpp"
#include "harness/check/sync.hpp"
#include "harness/core/progress.hpp"
#include "harness/core/registry.hpp"
#include "harness/core/sync.hpp"
#include "harness/stress/engine.hpp"
#include "workloads/workload.hpp"

#include <benchmark/benchmark.h>
#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <chrono>
#include <concepts>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <type_traits>
#include <vector>

namespace cpb::patterns::singleton {

/// A holder of one lazily constructed `value_type`: `get()` constructs it (default
/// constructor) on the first call from any thread, exactly once however many threads race,
/// and returns a reference to it; the construction happens before every return of `get()`.
template <class L>
concept Singleton = std::default_initializable<L> && requires(L& l) {
  typename L::value_type;
  { l.get() } -> std::same_as<typename L::value_type&>;
  { L::kName } -> std::convertible_to<std::string_view>;
  { L::kProgress } -> std::convertible_to<Progress>;
};

namespace detail {
/// Constructions of `Widget` so far, process-wide (fixtures and checks take differences).
inline std::atomic<std::uint64_t> constructions{0};
/// Busy work in each `Widget<Real>` constructor, in ns: the first-access scenario's `init_ns`.
inline std::atomic<std::int64_t> init_ns{0};
}  // namespace detail

/// The payload every scenario and check constructs: two plain fields set by the constructor.
/// Its fields are `S::cell`s, so under the model checker a read that is not ordered after the
/// construction is reported as a data race (Widget<check::Sync>, see the rebind below).
template <class S = sync::Real>
struct Widget {
  static constexpr std::uint64_t kA = 0x5eed;
  static constexpr std::uint64_t kB = 42;

  Widget() : a(kA), b(kB) {
    // Relaxed: a count, read after the threads joined.
    detail::constructions.fetch_add(1, std::memory_order_relaxed);
    if constexpr (std::is_same_v<S, sync::Real>) {
      // Relaxed: a setting written before the threads started.
      workloads::spin_ns(detail::init_ns.load(std::memory_order_relaxed));
    }
  }
  Widget(const Widget&) = delete;
  Widget& operator=(const Widget&) = delete;

  [[nodiscard]] bool intact() const { return a.load() == kA && b.load() == kB; }

  typename S::template cell<std::uint64_t> a;
  typename S::template cell<std::uint64_t> b;
};

}  // namespace cpb::patterns::singleton

namespace cpb::sync {
/// `rebind_t<Dclp<Widget<Real>, Real>, S>` is `Dclp<Widget<S>, S>`: the payload's fields are
/// rebound with the implementation, so the model checker race-checks them.
template <template <class, class> class Tpl, class S>
struct rebind<Tpl<patterns::singleton::Widget<Real>, Real>, S> {
  using type = Tpl<patterns::singleton::Widget<S>, S>;
};
}  // namespace cpb::sync

namespace cpb::patterns::singleton {
namespace detail {

inline int cpus() { return static_cast<int>(std::max(1U, std::thread::hardware_concurrency())); }

/// Steady state: the instance exists (built in the fixture's constructor); every thread calls
/// `get()` in a loop and reads a field. Verification: one construction, and every read saw
/// the constructed value.
template <Singleton L>
class SteadyState final : public Fixture {
 public:
  SteadyState() : base_(constructions.load(std::memory_order_relaxed)) { (void)holder_.get(); }

  void run(benchmark::State& state, bench::Meter& meter) override {
    std::uint64_t sum = 0;
    meter.loop(state, [&] { sum += holder_.get().a.load(); });
    // Relaxed: counts only, read after the benchmark threads joined.
    sum_.fetch_add(sum, std::memory_order_relaxed);
    ops_.fetch_add(meter.ops(), std::memory_order_relaxed);
  }

  std::string verify() override {
    // Relaxed: verify() runs after the benchmark threads joined (the join orders their adds).
    const auto made = constructions.load(std::memory_order_relaxed) - base_;
    if (made != 1) return fmt::format("{} constructions instead of 1", made);
    const auto ops = ops_.load(std::memory_order_relaxed);
    if (sum_.load(std::memory_order_relaxed) != ops * L::value_type::kA) {
      return "a get() returned an object whose field did not hold the constructed value";
    }
    return {};
  }

 private:
  L holder_;
  std::uint64_t base_;
  std::atomic<std::uint64_t> sum_{0};
  std::atomic<std::uint64_t> ops_{0};
};

/// First-access race: every round, the threads meet at a barrier whose last arriver replaces
/// the holder with a fresh one; all threads then call `get()` at once, and one of them
/// constructs (for `init_ns` of busy work) while the others wait. One operation = one thread's
/// first `get()` of a round, timed on every call (the latency percentiles are the time to
/// first access; throughput includes the barrier, the same for every implementation).
/// Verification: exactly one construction per round, and every thread saw the fields.
template <Singleton L>
class FirstAccess final : public Fixture {
 public:
  FirstAccess(int threads, std::int64_t init)
      : barrier_(static_cast<std::size_t>(threads), threads > cpus() ? 64 : 2048) {
    // Relaxed: set before the benchmark threads start (thread creation orders it).
    detail::init_ns.store(init, std::memory_order_relaxed);
  }
  // Relaxed: the benchmark threads have joined.
  ~FirstAccess() override { detail::init_ns.store(0, std::memory_order_relaxed); }
  FirstAccess(const FirstAccess&) = delete;
  FirstAccess& operator=(const FirstAccess&) = delete;

  void run(benchmark::State& state, bench::Meter& meter) override {
    std::uint64_t bad = 0;
    meter.begin();
    for (auto _ : state) {
      barrier_.arrive_and_wait([this] { fresh(); }, abort_);
      meter.op([&] {
        if (!holder_->get().intact()) ++bad;
      });
    }
    meter.end();
    // Relaxed: a count, read after the benchmark threads joined.
    bad_.fetch_add(bad, std::memory_order_relaxed);
  }

  std::string verify() override {
    // Relaxed: verify() runs after the benchmark threads joined.
    const auto made = constructions.load(std::memory_order_relaxed) - base_;
    if (made != rounds_) {
      return fmt::format("{} constructions in {} rounds: a round constructed twice or not at all",
                         made, rounds_);
    }
    if (const auto bad = bad_.load(std::memory_order_relaxed); bad != 0) {
      return fmt::format("{} first accesses saw fields that did not hold the constructed values",
                         bad);
    }
    return {};
  }

 private:
  /// The barrier's completion, run by the last arriver while the others wait.
  void fresh() {
    if (!holder_) base_ = constructions.load(std::memory_order_relaxed);
    holder_.emplace();
    ++rounds_;
  }

  stress::SpinBarrier barrier_;
  std::atomic<bool> abort_{false};
  std::optional<L> holder_;
  std::uint64_t base_ = 0;
  std::uint64_t rounds_ = 0;
  std::atomic<std::uint64_t> bad_{0};
};

/// Model check: three logical threads call `get()` on a fresh holder and read the fields;
/// every thread must get the same object with the constructed values (a read not ordered
/// after the construction is a data race on the cells), and it must be built once.
template <Singleton M>
check::TestCase exactly_once_model(std::string name) {
  struct State {
    M holder;
    // Relaxed: the checker runs every logical thread on this OS thread.
    std::uint64_t base = constructions.load(std::memory_order_relaxed);
    std::array<const void*, 3> seen{};
  };
  const auto body = [](std::size_t i) {
    return [i](State& s) {
      auto& w = s.holder.get();
      // A scheduling point that is not quiet on abort. When the checker abandons an execution
      // at thread 0's join, thread 0 unwinds first and destroys the State; a thread suspended
      // in the mutex unlock at the end of get() resumes and would run on into the reads below.
      // It unwinds here instead (a harness limitation, see the README).
      check::Sync::yield();
      CPB_CHECK_ASSERT(w.a.load() == M::value_type::kA);
      CPB_CHECK_ASSERT(w.b.load() == M::value_type::kB);
      s.seen[i] = &w;
    };
  };
  return check::make_test<State>(std::move(name), {body(0), body(1), body(2)}, [](State& s) {
    // Relaxed: one OS thread (see State::base).
    CPB_CHECK_ASSERT(constructions.load(std::memory_order_relaxed) - s.base == 1);
    CPB_CHECK_ASSERT(s.seen[0] == s.seen[1] && s.seen[1] == s.seen[2]);
  });
}

/// Stress: rounds of 4 threads released together on a fresh holder; each round must construct
/// once, and every thread must get the same, intact object.
template <Singleton L>
struct ExactlyOnceRun {
  static constexpr std::size_t kThreads = 4;
  stress::SpinBarrier barrier{kThreads, 64};
  std::atomic<bool> abort{false};
  std::atomic<bool> stop{false};
  std::optional<L> holder;
  std::array<const void*, kThreads> seen{};
  std::uint64_t base = 0;
  std::uint64_t rounds = 0;
  std::uint64_t failures = 0;
  std::string first_failure;
};

template <Singleton L>
stress::CheckResult exactly_once_stress(const CheckConfig& c) {
  constexpr std::size_t kThreads = ExactlyOnceRun<L>::kThreads;
  const auto budget = c.budget.count() > 0 ? c.budget : stress::default_budget();
  auto sh = std::make_shared<ExactlyOnceRun<L>>();
  const auto deadline = std::chrono::steady_clock::now() + budget;
  const auto t0 = std::chrono::steady_clock::now();
  // The completion of each barrier: checks the round that just ended, starts the next.
  const auto between_rounds = [sh, deadline] {
    if (sh->holder) {
      const auto made = constructions.load(std::memory_order_relaxed) - sh->base;
      const bool same = std::all_of(sh->seen.begin(), sh->seen.end(),
                                    [&](const void* p) { return p == sh->seen[0]; });
      if (made != 1 || !same || sh->seen[0] == nullptr) {
        if (sh->failures++ == 0) {
          sh->first_failure = fmt::format("round {}: {} constructions, threads {} the same object",
                                          sh->rounds, made, same ? "got" : "did not get");
        }
      }
    }
    sh->seen.fill(nullptr);
    sh->holder.emplace();
    // Relaxed: in the barrier's completion; the barrier orders the round's constructions.
    sh->base = constructions.load(std::memory_order_relaxed);
    ++sh->rounds;
    // At least kMinRounds whatever the budget (a loaded machine may spend it starting the
    // threads), at most 200,000.
    constexpr std::uint64_t kMinRounds = 100;
    if ((sh->rounds > kMinRounds && std::chrono::steady_clock::now() >= deadline) ||
        sh->rounds > 200'000) {
      sh->stop.store(true, std::memory_order_relaxed);  // read after the barrier's release
    }
  };
  std::vector<std::thread> threads;
  for (std::size_t t = 0; t < kThreads; ++t) {
    threads.emplace_back([sh, t, between_rounds] {
      for (;;) {
        sh->barrier.arrive_and_wait(between_rounds, sh->abort);
        // Relaxed: written in the completion, which the barrier's release/acquire orders.
        if (sh->stop.load(std::memory_order_relaxed)) return;
        auto& w = sh->holder->get();
        sh->seen[t] = w.intact() ? &w : nullptr;
      }
    });
  }
  for (auto& t : threads) t.join();
  stress::CheckResult r;
  r.name = "exactly_once";
  r.kind = "exactly_once";
  r.seed = c.seed;
  r.budget_ms = budget.count();
  r.samples = sh->rounds - 1;
  r.elapsed_ms =
      std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
  r.stats = {{"rounds", static_cast<std::int64_t>(sh->rounds - 1)},
             {"failed_rounds", static_cast<std::int64_t>(sh->failures)}};
  if (sh->failures != 0) {
    r.verdict = stress::Verdict::kFail;
    r.failure = fmt::format("{} of {} rounds failed; first: {}", sh->failures, sh->rounds - 1,
                            sh->first_failure);
  }
  return r;
}

}  // namespace detail

template <Singleton L>
struct Family {
  static constexpr std::string_view kName = "singleton";
  static constexpr std::string_view kDescription =
      "thread-safe lazy initialization (one object, constructed exactly once)";
  static constexpr std::string_view kReference = "std_call_once";

  static std::vector<Scenario> scenarios() {
    return {
        {"steady_state",
         "the instance exists; every thread calls get() in a loop and reads a field (the cost "
         "of each access after the first)",
         {},
         ThreadAxis::runners({1, 2, 4}, {1, 2}),
         64,
         [](const Point&) -> std::unique_ptr<Fixture> {
           return std::make_unique<detail::SteadyState<L>>();
         }},
        {"first_access",
         "each round the threads meet at a barrier on a fresh instance and call get() at once; "
         "one constructs (init_ns of work), the others wait; latency = time to first access",
         {{"init_ns", "busy work in the constructor, in ns", {0, 2000}, {2000}}},
         ThreadAxis::runners({1, 2, 4}, {2}),
         1,
         [](const Point& p) -> std::unique_ptr<Fixture> {
           return std::make_unique<detail::FirstAccess<L>>(p.threads, p.get("init_ns"));
         }},
    };
  }

  static std::vector<Check> checks() {
    std::vector<Check> checks{
        {"exactly_once",
         "rounds of 4 threads call get() together on a fresh instance; each round must "
         "construct once and hand every thread the same, intact object",
         [](const CheckConfig& c) { return detail::exactly_once_stress<L>(c); },
         {}},
    };
    if constexpr (sync::sync_templated<L>) {
      checks[0].model = check::model_mode([] {
        return detail::exactly_once_model<sync::rebind_t<L, check::Sync>>(
            fmt::format("singleton/{}/exactly_once", L::kName));
      });
    }
    return checks;
  }
};

}  // namespace cpb::patterns::singleton
