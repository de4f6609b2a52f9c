// SPDX-License-Identifier: Apache-2.0
#include "harness/stress/result.hpp"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cstdlib>
#include <random>

namespace cpb::stress {

std::string_view to_string(Grade g) {
  switch (g) {
    case Grade::kAcceptable:
      return "ACCEPTABLE";
    case Grade::kInteresting:
      return "ACCEPTABLE_INTERESTING";
    case Grade::kForbidden:
      return "FORBIDDEN";
  }
  return "UNKNOWN";
}

std::string_view to_string(Verdict v) {
  switch (v) {
    case Verdict::kPass:
      return "pass";
    case Verdict::kFail:
      return "fail";
    case Verdict::kError:
      return "error";
    case Verdict::kSkipped:
      return "skipped";
  }
  return "unknown";
}

std::uint64_t CheckResult::count(Grade g) const {
  std::uint64_t n = 0;
  for (const auto& row : histogram) {
    if (row.named && row.grade == g) n += row.count;
  }
  return n;
}

std::uint64_t CheckResult::count(std::string_view outcome) const {
  for (const auto& row : histogram) {
    if (row.outcome == outcome) return row.count;
  }
  return 0;
}

std::int64_t CheckResult::stat(std::string_view key) const {
  for (const auto& [k, v] : stats) {
    if (k == key) return v;
  }
  return 0;
}

void to_json(nlohmann::json& j, const CheckResult& r) {
  nlohmann::json rows = nlohmann::json::array();
  for (const auto& row : r.histogram) {
    rows.push_back({{"outcome", row.outcome},
                    {"count", row.count},
                    {"grade", std::string(row.named ? to_string(row.grade) : "UNNAMED")},
                    {"named", row.named},
                    {"description", row.description}});
  }
  nlohmann::json stats = nlohmann::json::object();
  for (const auto& [k, v] : r.stats) stats[k] = v;
  j = nlohmann::json{{"name", r.name},
                     {"kind", r.kind},
                     {"mode", r.mode},
                     {"seed", r.seed},
                     {"seed_hex", fmt::format("{:#x}", r.seed)},
                     {"budget_ms", r.budget_ms},
                     {"elapsed_ms", r.elapsed_ms},
                     {"samples", r.samples},
                     {"histogram", std::move(rows)},
                     {"stats", std::move(stats)},
                     {"verdict", std::string(to_string(r.verdict))},
                     {"failure", r.failure},
                     {"details", r.details}};
}

std::string replay_hint(std::uint64_t seed) {
  return fmt::format("CPB_STRESS_SEED={0:#x} (cpbench check --mode stress --seed {0:#x})", seed);
}

std::string format(const CheckResult& r) {
  std::string out =
      fmt::format("[{}] {} ({}, {}): {} samples in {:.0f} ms, seed {:#x}\n", to_string(r.verdict),
                  r.name, r.kind, r.mode, r.samples, r.elapsed_ms, r.seed);
  if (!r.histogram.empty()) {
    std::uint64_t total = 0;
    std::size_t width = 7;
    for (const auto& row : r.histogram) {
      total += row.count;
      width = std::max(width, row.outcome.size());
    }
    out += fmt::format("  {:>{}}  {:>12}  {:>7}  {:>22}  {}\n", "RESULT", width, "SAMPLES", "FREQ",
                       "EXPECT", "DESCRIPTION");
    for (const auto& row : r.histogram) {
      const double freq =
          total == 0 ? 0.0 : 100.0 * static_cast<double>(row.count) / static_cast<double>(total);
      out += fmt::format("  {:>{}}  {:>12}  {:>6.2f}%  {:>22}  {}\n", row.outcome, width, row.count,
                         freq, row.named ? to_string(row.grade) : "UNNAMED", row.description);
    }
  }
  if (!r.stats.empty()) {
    out += " ";
    for (const auto& [k, v] : r.stats) out += fmt::format(" {}={}", k, v);
    out += "\n";
  }
  if (!r.failure.empty()) out += fmt::format("  FAILURE: {}\n", r.failure);
  if (!r.details.empty()) out += r.details + (r.details.back() == '\n' ? "" : "\n");
  return out;
}

std::uint64_t resolve_seed(std::uint64_t requested) {
  if (requested != 0) return requested;
  if (const char* env = std::getenv("CPB_STRESS_SEED"); env != nullptr && *env != '\0') {
    const std::uint64_t s = std::strtoull(env, nullptr, 0);
    if (s != 0) return s;
  }
  std::random_device rd;
  std::uint64_t s = 0;
  while (s == 0) s = (static_cast<std::uint64_t>(rd()) << 32U) ^ rd();
  return s;
}

std::chrono::milliseconds default_budget(std::chrono::milliseconds fallback) {
  if (const char* env = std::getenv("CPB_STRESS_MS"); env != nullptr && *env != '\0') {
    const long v = std::strtol(env, nullptr, 10);
    if (v > 0) return std::chrono::milliseconds(v);
  }
  return fallback;
}

}  // namespace cpb::stress
