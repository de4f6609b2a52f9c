// SPDX-License-Identifier: Apache-2.0
/// @file
/// `cpbench advise`: ranks the implementations that ran one workload, point by point (scenario,
/// parameters, threads), by what the user said matters, with the reasons: the margin and its
/// significance over the repetitions, the tail latency, a fairness warning where the winner
/// starves threads, the CPU it burns, and how each scales.
#pragma once

#include <nlohmann/json.hpp>

#include <string>

namespace cpb::reports {

/// What matters to the user: `throughput` (items_per_second, higher), `p99`
/// (latency_ns.p99, lower), `fairness` (Jain's index, higher) or `memory` (rss_growth_kb,
/// lower). Throws UsageError for any other name.
struct Goal {
  std::string name;
  std::string pointer;  ///< JSON pointer of the figure in a result entry
  bool higher_is_better;
  static Goal parse(const std::string& name);
};

/// The `advice` block of a finalized result document: `goal`, `points` (each with its
/// `ranking` and `reasons`), and `overall` (`winner`, `wins`, `scaling`, `summary`).
/// reports/SCHEMA.md documents it.
nlohmann::json advise(const nlohmann::json& doc, const Goal& goal);

/// The advice block as static HTML, for the top of the report.
std::string render_advice_html(const nlohmann::json& advice);

}  // namespace cpb::reports
