// SPDX-License-Identifier: Apache-2.0
/// @file
/// The model checker's entry point: `cpb::check::explore(config, test)`.
///
/// ```cpp
/// using S = cpb::check::Sync;
/// struct Mp { S::atomic<int> flag{0}; S::cell<int> data{0}; };
/// auto test = cpb::check::make_test<Mp>("mp",
///     {[](Mp& s) { s.data.store(1); s.flag.store(1, std::memory_order_release); },
///      [](Mp& s) { if (s.flag.load(std::memory_order_acquire)) CPB_CHECK_ASSERT(s.data.load() ==
///      1); }});
/// auto r = cpb::check::explore({.strategy = cpb::check::Strategy::kDfs}, test);
/// EXPECT_TRUE(r.ok()) << r.report();
/// ```
#pragma once

#include "harness/check/model.hpp"
#include "harness/check/sync.hpp"

#include <nlohmann/json_fwd.hpp>

#include <array>
#include <cstdint>
#include <functional>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

namespace cpb::check {

/// While alive, a failure or an abandoned execution does not unwind the current logical thread
/// by throwing: hold one while destroying checked objects whose destructors synchronize (a
/// pool joining its workers), since a throw out of a destructor terminates. `make_test`
/// destroys its State under one.
using NoThrow = detail::Engine::NoThrow;

/// A checked program: `body` runs as logical thread 0 of each execution, creates the other
/// threads with `Sync::thread`, joins them and checks the outcome. `name` binds replay strings
/// to the test.
struct TestCase {
  std::string name;
  std::function<void()> body;
};

/// A test from a state type and thread bodies: each execution default-constructs a `State`
/// (the set-up), runs one logical thread per body, joins them, then runs `check` (if any).
template <class State>
TestCase make_test(std::string name, std::vector<std::function<void(State&)>> threads,
                   std::function<void(State&)> check = nullptr) {
  return TestCase{std::move(name), [threads = std::move(threads), check = std::move(check)] {
                    std::optional<State> state(std::in_place);
                    State& s = *state;
                    std::vector<Thread> ts;
                    ts.reserve(threads.size());
                    for (const auto& f : threads) ts.emplace_back([&s, &f] { f(s); });
                    for (Thread& t : ts) t.join();
                    if (check) check(s);
                    // Destroyed under NoThrow: a failure in its destructor (a use after free
                    // while freeing what is left) is reported, not a std::terminate.
                    const NoThrow no_throw;
                    state.reset();
                  }};
}

/// A malformed replay string, one made for another test, or one the test no longer follows.
class ReplayError : public std::invalid_argument {
 public:
  using std::invalid_argument::invalid_argument;
};

/// A failure found by `explore`.
struct Failure {
  FailureKind kind = FailureKind::kNone;
  std::string message;
  std::uint64_t execution = 0;     ///< index of the failing execution in the search
  std::string replay;              ///< reproduces the failing execution (Config::replay)
  std::vector<std::string> trace;  ///< one line per event
  bool deterministic = true;       ///< the replay reproduced the same trace
};

/// The outcome of `explore`.
struct Result {
  std::string test;
  Strategy strategy = Strategy::kRandom;
  Tier tier = Tier::kSc;
  std::uint64_t seed = 0;
  bool replayed = false;         ///< ran Config::replay instead of searching
  std::uint64_t executions = 0;  ///< complete executions run
  std::uint64_t pruned = 0;      ///< DFS: executions abandoned as redundant (sleep sets)
  std::uint64_t max_steps = 0;   ///< longest execution, in scheduling points
  unsigned max_threads = 0;
  double seconds = 0;
  bool exhausted = false;                ///< DFS: the whole tree within the bound was explored
  int bound = -1;                        ///< DFS: the preemption bound reached
  std::vector<std::uint64_t> per_bound;  ///< DFS: executions at each bound
  unsigned pct_depth = 0;                ///< PCT: the bug depth d that pct_per_run is for
  double pct_per_run = 0;                ///< PCT: probability bound 1/(n*k^(d-1)) per run
  double pct_confidence = 0;             ///< PCT: 1 - (1 - p)^executions
  std::optional<Failure> failure;

  [[nodiscard]] bool ok() const { return !failure.has_value(); }
  /// `CPB CHECK FAIL <kind> test=<name> strategy=<s> seed=<hex> execution=<n>` or an OK line.
  [[nodiscard]] std::string summary() const;
  /// Summary, message, replay string and trace.
  [[nodiscard]] std::string report() const;
};

/// Explores the executions of `test` under `config`. Throws ReplayError for a bad
/// Config::replay and std::invalid_argument for an invalid configuration.
Result explore(const Config& config, const TestCase& test);

/// The replay string of a decision list for a test.
std::string encode_replay(std::string_view test_name, const std::vector<std::uint16_t>& decisions);
/// Decodes a replay string; throws ReplayError (malformed, corrupted, other test).
std::vector<std::uint16_t> decode_replay(std::string_view test_name, std::string_view replay);

/// The `checks` entry of a result in cpbench's JSON report.
void to_json(nlohmann::json& j, const Result& r);

}  // namespace cpb::check
