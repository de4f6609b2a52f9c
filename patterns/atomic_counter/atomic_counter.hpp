// SPDX-License-Identifier: Apache-2.0
/// @file
/// The `atomic_counter` family: counters that many threads increment and some read. The
/// concept, the specifications its checks use, the scenario and the checks.
#pragma once

#include "harness/check/registered.hpp"
#include "harness/check/sync.hpp"
#include "harness/core/progress.hpp"
#include "harness/core/registry.hpp"
#include "harness/core/sync.hpp"
#include "harness/stress/history.hpp"
#include "harness/stress/linearizability.hpp"
#include "harness/stress/specs.hpp"

#include <benchmark/benchmark.h>
#include <fmt/format.h>

#include <algorithm>
#include <atomic>
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace cpb::patterns::atomic_counter {

/// A shared counter: `add(d)` adds `d`; `load()` returns the count. Implementations say in
/// their header how `load` relates to concurrent adds (linearizable, or only bounded and
/// quiescently consistent).
template <class C>
concept Counter = std::default_initializable<C> && requires(C& c, std::int64_t d) {
  { c.add(d) } -> std::same_as<void>;
  { c.load() } -> std::same_as<std::int64_t>;
  { C::kName } -> std::convertible_to<std::string_view>;
  { C::kProgress } -> std::convertible_to<Progress>;
};

/// A counter whose `fetch_add(d)` also returns the count before the add.
template <class C>
concept FetchAddable = Counter<C> && requires(C& c, std::int64_t d) {
  { c.fetch_add(d) } -> std::same_as<std::int64_t>;
};

/// A counter with `add(delta)` (no result) and `load()`: the specification for counters
/// without fetch_add. Record kAdd with arg = delta; kLoad with value = what it read.
struct AddLoadSpec {
  enum Kind : std::uint32_t { kAdd, kLoad };
  using State = std::int64_t;

  [[nodiscard]] State init() const { return 0; }
  bool step(State& s, const stress::Op& op) const {
    if (op.kind == kAdd) {
      s += op.arg;
      return true;
    }
    return op.kind == kLoad && op.value == s;
  }
  [[nodiscard]] std::size_t hash(const State& s) const { return std::hash<State>{}(s); }
  [[nodiscard]] std::string describe(const stress::Op& op) const {
    return op.kind == kAdd ? fmt::format("add({})", op.arg) : fmt::format("load() -> {}", op.value);
  }
  [[nodiscard]] std::string describe_state(const State& s) const {
    return fmt::format("counter {}", s);
  }
};

/// Checks the property every counter here has, linearizable or not, for adds of non-negative
/// deltas: each load returns a value between the sum of the adds that responded before it was
/// invoked and the sum of the adds invoked before it responded. With no add in flight the two
/// bounds meet, so this includes quiescent consistency (an exact count at quiescent points).
/// `history` holds AddLoadSpec ops (or CounterSpec ops: the kinds have the same numbers).
inline stress::CheckResult check_bounded_loads(const stress::History& history, std::uint64_t seed) {
  stress::CheckResult r;
  r.name = "bounded";
  r.kind = "bounded";
  r.seed = seed;
  r.samples = history.size();
  // Adds sorted by response and by invoke, with prefix sums of their deltas.
  using Edge = std::pair<std::uint64_t, std::int64_t>;
  std::vector<Edge> by_response;
  std::vector<Edge> by_invoke;
  for (const auto& op : history) {
    if (op.kind != AddLoadSpec::kAdd) continue;
    by_response.emplace_back(op.response, op.arg);
    by_invoke.emplace_back(op.invoke, op.arg);
  }
  std::sort(by_response.begin(), by_response.end());
  std::sort(by_invoke.begin(), by_invoke.end());
  const auto prefix = [](const std::vector<Edge>& v) {
    std::vector<std::int64_t> p(v.size() + 1, 0);
    for (std::size_t i = 0; i < v.size(); ++i) p[i + 1] = p[i] + v[i].second;
    return p;
  };
  const auto sum_response = prefix(by_response);
  const auto sum_invoke = prefix(by_invoke);
  // The sum of the deltas of the edges (sorted) with time < t.
  const auto before = [](const std::vector<Edge>& v, const std::vector<std::int64_t>& p,
                         std::uint64_t t) {
    const auto it = std::lower_bound(v.begin(), v.end(), Edge{t, INT64_MIN});
    return p[static_cast<std::size_t>(it - v.begin())];
  };
  std::int64_t loads = 0;
  std::int64_t exact = 0;
  std::int64_t bad = 0;
  for (const auto& op : history) {
    if (op.kind != AddLoadSpec::kLoad) continue;
    ++loads;
    const std::int64_t lo = before(by_response, sum_response, op.invoke);
    const std::int64_t hi = before(by_invoke, sum_invoke, op.response);
    if (lo == hi) ++exact;
    if (op.value < lo || op.value > hi) {
      if (bad++ == 0) {
        r.failure = fmt::format(
            "thread {}'s load [{},{}] returned {}, outside [{}, {}]: the adds completed before "
            "it sum to {}, those begun before it ended to {}; seed {:#x}, replay with {}",
            op.thread, op.invoke, op.response, op.value, lo, hi, lo, hi, seed,
            stress::replay_hint(seed));
      }
    }
  }
  r.stats = {{"loads", loads}, {"exact_loads", exact}, {"bad_loads", bad}};
  if (bad != 0) r.verdict = stress::Verdict::kFail;
  if (loads == 0) {
    r.verdict = stress::Verdict::kError;
    r.failure = "no load was recorded";
  }
  return r;
}

namespace detail {

/// Every thread loops on `add(1)` and, every `read_every` increments, a `load()`, checking
/// that its loads never go backwards and include its own increments. Verification: the final
/// count equals the increments made, and no load failed its check.
template <Counter C>
class Increments final : public Fixture {
 public:
  explicit Increments(std::int64_t read_every) : read_every_(read_every) {}

  void run(benchmark::State& state, bench::Meter& meter) override {
    std::int64_t mine = 0;
    std::int64_t last = 0;
    std::int64_t until_read = read_every_;
    std::uint64_t bad = 0;
    meter.begin();
    for (auto _ : state) {
      meter.op([&] {
        counter_.add(1);
        ++mine;
        if (--until_read == 0) {
          until_read = read_every_;
          const std::int64_t v = counter_.load();
          if (v < last || v < mine) ++bad;
          last = v;
        }
      });
    }
    meter.end();
    // Relaxed: counts only, read after the benchmark threads joined.
    made_.fetch_add(mine, std::memory_order_relaxed);
    bad_.fetch_add(bad, std::memory_order_relaxed);
  }

  std::string verify() override {
    // Relaxed: verify() runs after the benchmark threads joined (the join orders their adds).
    if (const auto bad = bad_.load(std::memory_order_relaxed); bad != 0) {
      return fmt::format("{} loads went backwards or missed the reader's own increments", bad);
    }
    const auto made = made_.load(std::memory_order_relaxed);
    if (const auto v = counter_.load(); v != made) {
      return fmt::format("the counter reads {} after {} increments (lost updates)", v, made);
    }
    return {};
  }

 private:
  C counter_;
  std::int64_t read_every_;
  std::atomic<std::int64_t> made_{0};
  std::atomic<std::uint64_t> bad_{0};
};

// -- model checks -----------------------------------------------------------------------------

/// Two adders (add(1), and add(2) or fetch_add(2)) and a reader: the reader sees a count in
/// [0, 3], fetch_add returns 0 or 1, and the final count is 3 (no lost update).
template <Counter M>
check::TestCase increments_model(std::string name) {
  struct State {
    M counter;
  };
  return check::make_test<State>(std::move(name),
                                 {[](State& s) { s.counter.add(1); },
                                  [](State& s) {
                                    if constexpr (FetchAddable<M>) {
                                      const auto before = s.counter.fetch_add(2);
                                      CPB_CHECK_ASSERT(before == 0 || before == 1);
                                    } else {
                                      s.counter.add(2);
                                    }
                                  },
                                  [](State& s) {
                                    const auto v = s.counter.load();
                                    CPB_CHECK_ASSERT(v >= 0 && v <= 3);
                                  }},
                                 [](State& s) { CPB_CHECK_ASSERT(s.counter.load() == 3); });
}

// -- stress checks ----------------------------------------------------------------------------

inline stress::RecordOptions record_options(const CheckConfig& c) {
  stress::RecordOptions o;
  o.threads = 4;
  o.operations = 20'000;
  o.ops_per_round = 8;
  o.seed = c.seed;
  if (c.budget.count() > 0) o.time_cap = c.budget;
  return o;
}

/// Linearizability. A FetchAddable counter: fetch_add(1..3) and loads against CounterSpec. A
/// counter without fetch_add: add(1) and loads against AddLoadSpec (unit deltas: see
/// sharded_counter.hpp for why that is linearizable and larger deltas are not).
template <Counter C>
stress::CheckResult linearizable_stress(const CheckConfig& c) {
  auto counter = std::make_shared<C>();  // shared: a hung thread is detached
  if constexpr (FetchAddable<C>) {
    return stress::run_linearizability(
        "linearizable", stress::CounterSpec{}, record_options(c),
        [counter](std::size_t, stress::Rng& rng, stress::Recorder& r) {
          if (rng.chance(2, 3)) {
            const auto d = static_cast<std::int64_t>(1 + rng.below(3));
            r.call(stress::CounterSpec::kFetchAdd, d,
                   [&] { return stress::Ret::of(counter->fetch_add(d)); });
          } else {
            r.call(stress::CounterSpec::kLoad, 0, [&] { return stress::Ret::of(counter->load()); });
          }
        });
  } else {
    return stress::run_linearizability(
        "linearizable", AddLoadSpec{}, record_options(c),
        [counter](std::size_t, stress::Rng& rng, stress::Recorder& r) {
          if (rng.chance(2, 3)) {
            r.call(AddLoadSpec::kAdd, 1, [&] {
              counter->add(1);
              return stress::Ret::yes();
            });
          } else {
            r.call(AddLoadSpec::kLoad, 0, [&] { return stress::Ret::of(counter->load()); });
          }
        });
  }
}

/// Bounded loads and quiescent consistency (check_bounded_loads), with deltas 1..5.
template <Counter C>
stress::CheckResult bounded_stress(const CheckConfig& c) {
  auto counter = std::make_shared<C>();  // shared: a hung thread is detached
  const auto rec = stress::record(
      record_options(c), [counter](std::size_t, stress::Rng& rng, stress::Recorder& r) {
        if (rng.chance(2, 3)) {
          const auto d = static_cast<std::int64_t>(1 + rng.below(5));
          r.call(AddLoadSpec::kAdd, d, [&] {
            counter->add(d);
            return stress::Ret::yes();
          });
        } else {
          r.call(AddLoadSpec::kLoad, 0, [&] { return stress::Ret::of(counter->load()); });
        }
      });
  if (!rec.engine.ok()) {
    stress::CheckResult bad;
    bad.name = "bounded";
    bad.kind = "bounded";
    bad.seed = rec.seed;
    bad.verdict = stress::Verdict::kError;
    bad.failure = rec.engine.describe();
    return bad;
  }
  auto r = check_bounded_loads(rec.history, rec.seed);
  r.elapsed_ms += rec.elapsed_ms;
  return r;
}

}  // namespace detail

template <Counter C>
struct Family {
  static constexpr std::string_view kName = "atomic_counter";
  static constexpr std::string_view kDescription =
      "shared counters under contention (fetch_add, CAS loop, shards, mutex)";
  static constexpr std::string_view kReference = "tbb_combinable";

  static std::vector<Scenario> scenarios() {
    return {
        {"increments",
         "every thread loops on add(1), and every read_every increments reads the count (a "
         "load that must not go backwards); no work between operations",
         {{"read_every", "increments between two reads by a thread", {16, 1024}, {1024}}},
         ThreadAxis::runners({1, 2, 4}, {1, 2}),
         64,
         [](const Point& p) -> std::unique_ptr<Fixture> {
           return std::make_unique<detail::Increments<C>>(p.get("read_every"));
         }},
    };
  }

  static std::vector<Check> checks() {
    std::vector<Check> checks{
        {"linearizable",
         FetchAddable<C>
             ? "4 threads fetch_add(1..3) and load; the history must be linearizable"
             : "4 threads add(1) and load; the history must be linearizable (unit deltas)",
         [](const CheckConfig& c) { return detail::linearizable_stress<C>(c); },
         {}},
        {"bounded",
         "4 threads add(1..5) and load; each load must lie between the adds completed before it "
         "and the adds begun before it ended (exact when none overlaps: quiescent consistency)",
         [](const CheckConfig& c) { return detail::bounded_stress<C>(c); },
         {}},
    };
    if constexpr (sync::sync_templated<C>) {
      checks[0].model = check::model_mode([] {
        return detail::increments_model<sync::rebind_t<C, check::Sync>>(
            fmt::format("atomic_counter/{}/increments", C::kName));
      });
    }
    return checks;
  }
};

}  // namespace cpb::patterns::atomic_counter
