// SPDX-License-Identifier: Apache-2.0
/// @file
/// Run history: `cpbench run --history DIR` keeps a copy of each result file in DIR, and
/// `cpbench report DIR` shows each benchmark's primary figure across those runs, with the
/// significant changes between consecutive runs (the Mann-Whitney test of `compare`) marked.
#pragma once

#include "reports/compare.hpp"

#include <nlohmann/json.hpp>

#include <string>
#include <utility>
#include <vector>

namespace cpb::reports {

/// Creates `dir` when it is missing and checks that it can take a file. Throws UsageError (one
/// line) when it cannot: a file of that name, no permission. Call before running anything.
void prepare_history(const std::string& dir);

/// Writes `doc` into `dir` as <UTC date and time>-<commit>.json (never over an earlier run), and
/// returns the file's path.
std::string append_history(const std::string& dir, const nlohmann::json& doc);

/// The result files of a history folder, oldest first (by name: they begin with their date).
/// Throws UsageError naming the folder when it holds none, or naming a file that is malformed.
std::vector<std::pair<std::string, nlohmann::json>> read_history(const std::string& dir);

/// The trends of `runs` (oldest first): `runs` (file, date, commit), `series` (per benchmark
/// name: its figure at each run and the verdict against the run before) and `summary`. See
/// reports/SCHEMA.md, "The trend file".
nlohmann::json trends(const std::vector<std::pair<std::string, nlohmann::json>>& runs,
                      const CompareOptions& options);

/// One self-contained HTML page: the significant changes as a static table, and a chart per
/// family of each benchmark's figure relative to its first run.
std::string render_trend_html(const nlohmann::json& trends);

}  // namespace cpb::reports
