// SPDX-License-Identifier: Apache-2.0
#include "harness/cli/commands.hpp"
#include "harness/core/errors.hpp"

#include <fmt/format.h>

#include <charconv>
#include <cstdio>
#include <exception>
#include <string>

namespace cpb::cli {

namespace {

std::string rate(double x) {
  if (x >= 1e9) return fmt::format("{:.2f}G", x / 1e9);
  if (x >= 1e6) return fmt::format("{:.2f}M", x / 1e6);
  if (x >= 1e3) return fmt::format("{:.2f}k", x / 1e3);
  return fmt::format("{:.1f}", x);
}

}  // namespace

void print_table(const nlohmann::json& doc) {
  std::size_t width = 9;
  std::vector<const nlohmann::json*> rows;
  for (const auto& e : doc["benchmarks"]) {
    // The primary entry of each case (finalize marks it), and every failed repetition.
    if (!e.value("primary", false) && !e.value("error_occurred", false)) continue;
    rows.push_back(&e);
    width = std::max(width, e.value("run_name", "").size());
  }
  std::printf("%-*s %12s %10s %10s %8s %10s\n", static_cast<int>(width), "benchmark", "items/s",
              "p50 ns", "p99 ns", "fairness", "vs ref");
  for (const auto* e : rows) {
    const std::string name = e->value("run_name", "");
    if (e->value("error_occurred", false)) {
      std::printf("%-*s  ERROR: %s\n", static_cast<int>(width), name.c_str(),
                  e->value("error_message", "").c_str());
      continue;
    }
    const auto& lat = (*e)["latency_ns"];
    const auto num = [](const nlohmann::json& j, const char* k) {
      return j.contains(k) && j[k].is_number() ? fmt::format("{:.0f}", j[k].get<double>()) : "-";
    };
    const std::string fair = (*e).contains("fairness") && (*e)["fairness"].is_number()
                                 ? fmt::format("{:.3f}", (*e)["fairness"].get<double>())
                                 : "-";
    const std::string ref =
        e->contains("vs_reference")
            ? fmt::format("{:.2f}x", (*e)["vs_reference"]["throughput_ratio"].get<double>())
            : "-";
    std::printf("%-*s %12s %10s %10s %8s %10s\n", static_cast<int>(width), name.c_str(),
                rate(e->value("items_per_second", 0.0)).c_str(), num(lat, "p50").c_str(),
                num(lat, "p99").c_str(), fair.c_str(), ref.c_str());
  }
}

}  // namespace cpb::cli
