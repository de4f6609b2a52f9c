// SPDX-License-Identifier: Apache-2.0
#include "harness/cli/commands.hpp"
#include "harness/core/errors.hpp"

#include <fmt/format.h>

#include <charconv>
#include <cstdio>
#include <exception>
#include <string>

namespace cpb::cli {

std::optional<double> parse_double(const std::string& text) {
  std::size_t used = 0;
  double v = 0;
  try {
    v = std::stod(text, &used);
  } catch (const std::exception&) {
    return std::nullopt;
  }
  if (used != text.size()) return std::nullopt;
  return v;
}

std::vector<std::int64_t> parse_int_list(const std::string& flag, const std::string& text,
                                         std::int64_t min, std::int64_t max) {
  std::vector<std::int64_t> out;
  std::size_t pos = 0;
  while (pos <= text.size()) {
    const std::size_t comma = std::min(text.find(',', pos), text.size());
    const std::string item = text.substr(pos, comma - pos);
    std::int64_t v = 0;
    const auto [end, ec] = std::from_chars(item.data(), item.data() + item.size(), v);
    if (item.empty() || ec != std::errc() || end != item.data() + item.size()) {
      throw UsageError(fmt::format("{}: '{}' is not an integer", flag, item));
    }
    if (v < min || v > max) {
      throw UsageError(
          fmt::format("{}: {} is out of range (allowed: {} to {})", flag, v, min, max));
    }
    out.push_back(v);
    pos = comma + 1;
  }
  return out;
}

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
