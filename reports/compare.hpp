// SPDX-License-Identifier: Apache-2.0
/// @file
/// `cpbench compare`: two result files (cpbench's, or any Google Benchmark JSON), benchmark by
/// benchmark: the change in the primary figure, a Mann-Whitney U test over the repetitions, and
/// a verdict, with a threshold per benchmark or family beyond which a slowdown is a regression.
#pragma once

#include <nlohmann/json.hpp>

#include <span>
#include <string>
#include <utility>
#include <vector>

namespace cpb::reports {

/// The two-sided p-value of the Mann-Whitney U test that `a` and `b` come from one distribution:
/// exact (the distribution of U counted over all orderings) when there are no ties and
/// |a|·|b| <= 400, else the normal approximation with the tie and continuity corrections, as
/// scipy.stats.mannwhitneyu computes it. 1 when either sample is empty or all values are equal.
double mann_whitney_p(std::span<const double> a, std::span<const double> b);

/// Thresholds: the largest slowdown, as a fraction (0.05 = 5%), that is not a regression.
struct Thresholds {
  double fallback = 0.05;
  /// Keys are benchmark names, families, or name prefixes ending in '/'. The longest key that
  /// matches a name wins: equal to it, or a prefix of it that ends at a '/'.
  std::vector<std::pair<std::string, double>> by_name;
  [[nodiscard]] double for_name(const std::string& name) const;
};

/// "5%" or "5" -> 0.05. Throws UsageError naming `what` unless it is a number in [0, 1000].
double parse_percent(const std::string& what, const std::string& text);

/// Reads a threshold file: a JSON object mapping benchmark names, families or prefixes to a
/// percentage ("10%" or 10). Throws UsageError (one line) when it is missing or malformed.
Thresholds read_thresholds(const std::string& path, double fallback);

struct CompareOptions {
  Thresholds thresholds;
  double alpha = 0.05;  ///< significance level of the U test
  /// The figure to compare, a field of the entries with dots for nesting ("latency_ns.p99",
  /// "allocs_per_item"); empty: items_per_second, else real_time.
  std::string metric;
};

/// Compares two result documents (as read by read_result_file). The result is a JSON document
/// (see reports/SCHEMA.md, "The comparison file"): `comparisons`, one per benchmark name in
/// either file, and `summary` with the counts per verdict and `regressions`.
nlohmann::json compare(const nlohmann::json& base, const nlohmann::json& next,
                       const CompareOptions& options);

/// A side's median as text: "1.23M/s" for items_per_second, "4.56 us" for real_time_ns, else
/// four significant digits.
std::string format_figure(const nlohmann::json& side, const std::string& metric);

/// Renders a comparison as one self-contained HTML page (static: it needs no JavaScript).
std::string render_compare_html(const nlohmann::json& comparison);

}  // namespace cpb::reports
