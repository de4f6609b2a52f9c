// SPDX-License-Identifier: Apache-2.0
/// @file
/// What a stress check produces: outcome grades, the verdict, the histogram and the JSON form
/// that lands in a report's `checks` block; plus seeds, the time budget and a small PRNG.
///
/// One `CheckResult` type serves every kind of stress check (outcome tables, linearizability,
/// mutual exclusion), so the CLI and the report writer handle them alike.
#pragma once

#include <nlohmann/json_fwd.hpp>

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace cpb::stress {

/// How an outcome table grades one observed result tuple (jcstress's `Expect`).
enum class Grade {
  kAcceptable,   ///< allowed and unremarkable
  kInteresting,  ///< allowed, but worth highlighting (a reordering, a race the model permits)
  kForbidden,    ///< must never be observed: observing it fails the check
};

/// "ACCEPTABLE", "ACCEPTABLE_INTERESTING" or "FORBIDDEN".
std::string_view to_string(Grade g);

enum class Verdict {
  kPass,   ///< ran to its budget and saw nothing wrong
  kFail,   ///< the object under test misbehaved: a forbidden or unnamed outcome, a bad history
  kError,  ///< the check itself could not run: an actor threw or hung, the search gave up
  /// Not run: this machine lacks what it needs (a binary, a capability); `failure` is
  /// "skipped: <what is missing>". Neither a pass nor a failure.
  kSkipped,
};

/// "pass", "fail", "error" or "skipped".
std::string_view to_string(Verdict v);

/// One row of an outcome histogram.
struct HistogramRow {
  std::string outcome;  ///< the result tuple, jcstress style: "1, 0"
  std::uint64_t count = 0;
  Grade grade = Grade::kAcceptable;
  bool named = true;  ///< false when the table does not name this outcome (a failure)
  std::string description;
};

/// The result of one stress check.
struct CheckResult {
  std::string name;
  std::string kind;  ///< "outcome", "linearizability" or "mutual_exclusion"
  std::string mode = "stress";
  std::uint64_t seed = 0;
  std::int64_t budget_ms = 0;
  double elapsed_ms = 0;
  std::uint64_t samples = 0;  ///< states run (outcome) or operations checked (histories)
  std::vector<HistogramRow> histogram;
  /// Kind-specific numbers: strides, windows, search nodes ...
  std::vector<std::pair<std::string, std::int64_t>> stats;
  Verdict verdict = Verdict::kPass;
  std::string failure;  ///< one line; empty on pass
  std::string details;  ///< multi-line: the failing history as a table, the partial order found

  [[nodiscard]] bool passed() const { return verdict == Verdict::kPass; }
  /// Total count of observed outcomes with grade `g`.
  [[nodiscard]] std::uint64_t count(Grade g) const;
  /// Count of one outcome ("1, 0"); 0 when it was not observed.
  [[nodiscard]] std::uint64_t count(std::string_view outcome) const;
  /// A stat by name; 0 when absent.
  [[nodiscard]] std::int64_t stat(std::string_view key) const;
};

/// The `checks` block entry: name, kind, mode, seed, budget_ms, elapsed_ms, samples, histogram
/// rows {outcome, count, grade, named, description}, stats, verdict, failure, details.
void to_json(nlohmann::json& j, const CheckResult& r);

/// A human-readable report: a summary line, the histogram as a jcstress-like table (outcome,
/// samples, frequency, expectation, description), the failure and its details.
std::string format(const CheckResult& r);

/// How to replay a run: `CPB_STRESS_SEED=0x... (cpbench check --seed 0x...)`.
std::string replay_hint(std::uint64_t seed);

/// `requested` when non-zero; else `CPB_STRESS_SEED` from the environment (decimal or 0x hex)
/// when set; else a fresh random seed. Never returns 0.
std::uint64_t resolve_seed(std::uint64_t requested = 0);

/// `CPB_STRESS_MS` from the environment when set, else `fallback`.
std::chrono::milliseconds default_budget(
    std::chrono::milliseconds fallback = std::chrono::milliseconds(200));

/// splitmix64's finaliser: a bijective 64-bit mix.
constexpr std::uint64_t mix64(std::uint64_t x) {
  x += 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30U)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27U)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31U);
}

/// A small, fast, seedable PRNG (splitmix64). Deterministic: the same seed gives the same
/// sequence, which is what replays rely on.
class Rng {
 public:
  explicit Rng(std::uint64_t seed) : s_(seed) {}
  std::uint64_t next() {
    s_ += 0x9e3779b97f4a7c15ULL;
    return mix64(s_);
  }
  /// Uniform in [0, n); n > 0.
  std::uint64_t below(std::uint64_t n) { return next() % n; }
  /// True with probability num/den.
  bool chance(std::uint64_t num, std::uint64_t den) { return below(den) < num; }

 private:
  std::uint64_t s_;
};

}  // namespace cpb::stress
