// SPDX-License-Identifier: Apache-2.0
#include "harness/stress/mutual_exclusion.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <vector>

namespace cpb::stress {

CheckResult check_mutual_exclusion(const History& holds, const std::string& name,
                                   std::uint64_t seed) {
  const auto t0 = std::chrono::steady_clock::now();
  CheckResult r;
  r.name = name;
  r.kind = "mutual_exclusion";
  r.seed = seed;
  r.samples = holds.size();
  History sorted = holds;
  std::sort(sorted.begin(), sorted.end(),
            [](const Op& a, const Op& b) { return a.invoke < b.invoke; });
  std::size_t overlaps = 0;
  std::size_t first = 0;  // the first overlapping pair: sorted[first_prev] and sorted[first]
  std::size_t first_prev = 0;
  std::size_t holder = 0;  // the hold with the latest release so far
  for (std::size_t i = 1; i < sorted.size(); ++i) {
    if (sorted[i].invoke < sorted[holder].response) {
      if (overlaps++ == 0) {
        first = i;
        first_prev = holder;
      }
    }
    if (sorted[i].response > sorted[holder].response) holder = i;
  }
  r.stats = {{"holds", static_cast<std::int64_t>(sorted.size())},
             {"overlaps", static_cast<std::int64_t>(overlaps)}};
  if (overlaps > 0) {
    const Op& a = sorted[first_prev];
    const Op& b = sorted[first];
    r.verdict = Verdict::kFail;
    r.failure = fmt::format(
        "{}: mutual exclusion violated {} times; first: thread {} held the lock over tickets "
        "[{},{}] while thread {} acquired it at {}",
        name, overlaps, a.thread, a.invoke, a.response, b.thread, b.invoke);
    if (seed != 0)
      r.failure += fmt::format("; seed {:#x}, replay with {}", seed, replay_hint(seed));
    const std::size_t lo = first_prev >= 4 ? first_prev - 4 : 0;
    const std::size_t hi = std::min(sorted.size(), first + 5);
    const std::span<const Op> around(sorted.data() + lo, hi - lo);
    const std::vector<std::size_t> hot{first_prev - lo, first - lo};
    r.details = "Holds around the first overlap (one column per thread, [acquired,released]):\n" +
                format_history(
                    around, [](const Op&) { return std::string("holds"); }, hot);
  }
  r.elapsed_ms =
      std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
  return r;
}

}  // namespace cpb::stress
