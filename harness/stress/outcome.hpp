// SPDX-License-Identifier: Apache-2.0
/// @file
/// The outcome stress runner (jcstress style).
///
/// An outcome test names a `State` (default-constructed fresh for every trial), two or more
/// actors that run concurrently on one state, each recording what it observes into its own
/// slots of a small result tuple, an optional arbiter that runs after every actor has finished
/// with that state, and a table grading each result tuple ACCEPTABLE, ACCEPTABLE_INTERESTING or
/// FORBIDDEN. The runner allocates a stride of states, starts one thread per actor once (pinned
/// where the machine allows), and runs every actor over the whole stride, all actors in
/// lock-step: they synchronise only at stride boundaries. It builds the histogram of result
/// tuples and fails on any forbidden outcome or any outcome the table does not name.
///
/// ```cpp
/// struct Sb { std::atomic<int> x{0}, y{0}; };
/// OutcomeTest<Sb, 2> t{"sb", "store buffering",
///   {{"t1", [](Sb& s, Outcome<2>& r) { s.x.store(1); r[0] = s.y.load(); }},
///    {"t2", [](Sb& s, Outcome<2>& r) { s.y.store(1); r[1] = s.x.load(); }}},
///   {},  // no arbiter
///   {{{0, 0}, Grade::kForbidden, "SC forbids both loads missing both stores"}, ...}};
/// CheckResult r = run_outcome(t);
/// ```
#pragma once

#include "harness/stress/engine.hpp"
#include "harness/stress/result.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

namespace cpb::stress {

/// A result tuple: what the actors (and the arbiter) observed on one state. Each actor writes
/// only its own slots; two actors writing one slot would race.
template <std::size_t N>
using Outcome = std::array<std::int64_t, N>;

/// "1, 0": how an outcome is printed and keyed in reports.
template <std::size_t N>
std::string outcome_id(const Outcome<N>& o) {
  return fmt::format("{}", fmt::join(o, ", "));
}

template <std::size_t N>
struct OutcomeRow {
  Outcome<N> outcome;
  Grade grade = Grade::kAcceptable;
  std::string description;
};

template <class State, std::size_t N>
struct OutcomeTest {
  using Fn = std::function<void(State&, Outcome<N>&)>;
  struct Actor {
    std::string name;
    Fn fn;
  };

  std::string name;
  std::string description;
  std::vector<Actor> actors;  ///< each runs on its own thread, once per state
  Fn arbiter;                 ///< optional: runs after all actors finished with the state
  std::vector<OutcomeRow<N>> table;
};

/// How to run an outcome test.
struct OutcomeOptions {
  std::uint64_t seed = 0;              ///< 0: CPB_STRESS_SEED, else random (see resolve_seed)
  std::chrono::milliseconds budget{};  ///< 0: default_budget() (CPB_STRESS_MS, else 200 ms)
  /// With `until_interesting`, keep running past `budget` (up to this long) until at least one
  /// ACCEPTABLE_INTERESTING outcome has been seen. 0: no extension.
  std::chrono::milliseconds max_budget{};
  bool until_interesting = false;
  std::size_t stride = 512;  ///< states per stride
  std::uint64_t max_strides = 0;
  std::chrono::milliseconds grace{std::chrono::milliseconds(2000)};  ///< watchdog slack
  bool pin = true;
  /// Line the actors up on a common timebase (ticks()): within a stride, every actor starts
  /// state i at t0 + i * period + its offset, so the actors touch the same state at nearly
  /// the same moment (litmus7's "timebase" mode). The period adapts to the actors' speed; the
  /// per-stride offsets come from the seed. Off: actors run freely through the stride after
  /// a seeded start delay (jcstress's lock-step), which collides far less often.
  bool timebase = true;
};

/// The per-actor start offsets (in ticks, within [0, 160)) of stride `stride` on the timebase:
/// a pure function of (seed, stride), so a seed replays the same stride schedule.
inline std::vector<std::uint64_t> timebase_offsets(std::uint64_t seed, std::uint64_t stride,
                                                   std::size_t actors) {
  constexpr std::uint64_t kJitter = 160;
  Rng rng(mix64(seed ^ mix64(stride)));
  std::vector<std::uint64_t> o(actors);
  for (auto& x : o) x = rng.below(kJitter);
  return o;
}

namespace detail {

template <class State, std::size_t N>
struct OutcomeRun {
  OutcomeRun(OutcomeTest<State, N> t, std::size_t n, bool until)
      : test(std::move(t)),
        stride(n),
        until_interesting(until),
        states(std::make_unique<State[]>(n)),
        results(n) {}

  const OutcomeTest<State, N> test;  // a copy: a hung actor's thread may outlive the caller's
  const std::size_t stride;
  const bool until_interesting;
  std::unique_ptr<State[]> states;
  std::vector<Outcome<N>> results;
  std::vector<std::pair<Outcome<N>, std::uint64_t>> histogram;  // touched by end_stride only
  bool interesting_seen = false;

  // The timebase schedule. Written by begin_stride, read by the actors after the stride
  // barrier releases them; `late` is written by each actor and read by begin_stride after the
  // next barrier. The barrier orders all of it.
  static constexpr std::uint64_t kMinPeriod = 64;
  static constexpr std::uint64_t kMaxPeriod = 1U << 20U;
  static constexpr std::uint64_t kLead = 20'000;  // ticks from release to state 0
  bool timebase = true;
  std::uint64_t seed = 1;
  std::uint64_t t0 = 0;
  std::uint64_t period = 256;
  std::uint64_t late_total = 0;
  std::vector<std::uint64_t> offsets = std::vector<std::uint64_t>(test.actors.size(), 0);
  struct alignas(64) PerActor {
    std::uint64_t late = 0;           // states this actor reached after their start time
    std::vector<std::uint64_t> work;  // ticks each state took this actor, this stride
  };
  std::vector<PerActor> per_actor = std::vector<PerActor>(test.actors.size());

  void run_actor(std::size_t a) {
    const auto& fn = test.actors[a].fn;
    if (!timebase) {
      for (std::size_t i = 0; i < stride; ++i) fn(states[i], results[i]);
      return;
    }
    PerActor& me = per_actor[a];
    me.work.resize(stride);
    const std::uint64_t start = t0 + offsets[a];
    std::uint64_t n_late = 0;
    for (std::size_t i = 0; i < stride; ++i) {
      const std::uint64_t target = start + i * period;
      std::uint64_t now = ticks();
      if (now >= target) {
        ++n_late;
      } else {
        while ((now = ticks()) < target) {
        }
      }
      fn(states[i], results[i]);
      me.work[i] = ticks() - now;
    }
    me.late = n_late;
  }

  void begin_stride(std::uint64_t s) {
    if (!timebase) return;
    if (s > 0) {
      // The period follows the slowest actor's typical (75th percentile) time per state, so
      // a preempted stride does not slow every later one down.
      std::uint64_t slowest = 0;
      for (auto& pa : per_actor) {
        late_total += pa.late;
        pa.late = 0;
        if (pa.work.empty()) continue;
        const auto q = pa.work.begin() + static_cast<std::ptrdiff_t>(pa.work.size() * 3 / 4);
        std::nth_element(pa.work.begin(), q, pa.work.end());
        slowest = std::max(slowest, *q);
      }
      period = std::clamp(slowest + slowest / 2 + 128, kMinPeriod, kMaxPeriod);
    }
    offsets = timebase_offsets(seed, s, offsets.size());
    t0 = ticks() + kLead;
  }

  bool end_stride() {
    for (std::size_t i = 0; i < stride; ++i) {
      if (test.arbiter) test.arbiter(states[i], results[i]);
      tally(results[i]);
      std::destroy_at(&states[i]);
      std::construct_at(&states[i]);
      results[i] = Outcome<N>{};
    }
    return !until_interesting || interesting_seen;
  }

  void tally(const Outcome<N>& o) {
    for (auto& [k, c] : histogram) {
      if (k == o) {
        ++c;
        return;
      }
    }
    histogram.emplace_back(o, 1);
    for (const auto& row : test.table) {
      if (row.outcome == o && row.grade == Grade::kInteresting) interesting_seen = true;
    }
  }
};

}  // namespace detail

/// Runs `test` and grades what it saw. Never throws for a misbehaving test: a forbidden or
/// unnamed outcome gives Verdict::kFail, a throwing or hung actor Verdict::kError, each with
/// the seed in the failure message. Throws std::invalid_argument for a malformed test (no
/// actors, an outcome named twice).
template <class State, std::size_t N>
CheckResult run_outcome(const OutcomeTest<State, N>& test, const OutcomeOptions& options = {}) {
  if (test.actors.empty())
    throw std::invalid_argument(test.name + ": an outcome test needs actors");
  for (std::size_t i = 0; i < test.table.size(); ++i) {
    for (std::size_t j = i + 1; j < test.table.size(); ++j) {
      if (test.table[i].outcome == test.table[j].outcome) {
        throw std::invalid_argument(fmt::format("{}: outcome [{}] is named twice", test.name,
                                                outcome_id(test.table[i].outcome)));
      }
    }
  }
  CheckResult result;
  result.name = test.name;
  result.kind = "outcome";
  result.seed = resolve_seed(options.seed);
  const auto budget = options.budget.count() > 0 ? options.budget : default_budget();
  result.budget_ms = budget.count();

  const std::size_t stride = std::max<std::size_t>(1, options.stride);
  auto run =
      std::make_shared<detail::OutcomeRun<State, N>>(test, stride, options.until_interesting);
  auto hooks = std::make_shared<EngineHooks>();
  hooks->run_actor = [run](std::size_t a, std::uint64_t) { run->run_actor(a); };
  hooks->end_stride = [run](std::uint64_t) { return run->end_stride(); };
  hooks->begin_stride = [run](std::uint64_t s) { run->begin_stride(s); };
  run->timebase = options.timebase;
  run->seed = result.seed;

  EngineOptions eo;
  for (const auto& a : test.actors) eo.actor_names.push_back(a.name);
  eo.seed = result.seed;
  eo.min_time = budget;
  eo.max_time = options.until_interesting ? std::max(budget, options.max_budget) : budget;
  eo.max_strides = options.max_strides;
  eo.grace = options.grace;
  eo.pin = options.pin;
  eo.jitter = !options.timebase;  // the timebase schedule has its own seeded offsets
  const EngineReport report = run_strides(eo, hooks);

  result.elapsed_ms = report.elapsed_ms;
  result.samples = report.strides * stride;
  result.stats = {{"strides", static_cast<std::int64_t>(report.strides)},
                  {"stride", static_cast<std::int64_t>(stride)},
                  {"actors", static_cast<std::int64_t>(test.actors.size())}};
  if (options.timebase && report.ok()) {
    result.stats.emplace_back("period_ticks", static_cast<std::int64_t>(run->period));
    result.stats.emplace_back("late_states", static_cast<std::int64_t>(run->late_total));
  }
  if (!report.ok()) {
    // The histogram may still be written by a hung thread's end_stride: leave it unread.
    result.verdict = Verdict::kError;
    result.failure = fmt::format("{}: {}; seed {:#x}, replay with {}", test.name, report.describe(),
                                 result.seed, replay_hint(result.seed));
    return result;
  }

  if (result.samples == 0) {  // cannot happen (the engine runs at least one stride): guard
    result.verdict = Verdict::kError;
    result.failure = fmt::format("{}: no state was run; seed {:#x}", test.name, result.seed);
    return result;
  }
  for (const auto& row : test.table) {
    std::uint64_t c = 0;
    for (const auto& [k, n] : run->histogram) {
      if (k == row.outcome) c = n;
    }
    result.histogram.push_back({outcome_id(row.outcome), c, row.grade, true, row.description});
  }
  for (const auto& [k, n] : run->histogram) {
    bool named = false;
    for (const auto& row : test.table) named = named || row.outcome == k;
    if (!named) {
      result.histogram.push_back(
          {outcome_id(k), n, Grade::kForbidden, false, "not in the outcome table"});
    }
  }
  std::string bad;
  for (const auto& row : result.histogram) {
    if (row.count == 0 || (row.named && row.grade != Grade::kForbidden)) continue;
    if (!bad.empty()) bad += "; ";
    bad += fmt::format("{} outcome [{}] seen {} times ({})", row.named ? "forbidden" : "unnamed",
                       row.outcome, row.count, row.description);
  }
  if (!bad.empty()) {
    result.verdict = Verdict::kFail;
    result.failure = fmt::format("{}: {}; seed {:#x}, replay with {}", test.name, bad, result.seed,
                                 replay_hint(result.seed));
  }
  return result;
}

}  // namespace cpb::stress
