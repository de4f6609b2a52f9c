// SPDX-License-Identifier: Apache-2.0
/// @file
/// The cpbench commands. Each returns the process exit code: 0 success, 1 a failure in what ran,
/// 2 bad input (thrown as UsageError and reported by main as one line).
#pragma once

#include "harness/bench/plan.hpp"
#include "harness/bench/suite.hpp"

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace cpb::cli {

struct ListOptions {
  std::string what = "impls";  ///< families, impls, scenarios or workloads
  bool json = false;
};
int list(const ListOptions& o);

struct RunOptions {
  bench::Selection selection;
  bench::SuiteOptions suite;
  std::string out = "cpbench_results.json";
  std::string html;
  std::string history;  ///< also keep a copy of the result file in this folder
};
int run(const RunOptions& o);
/// The result file's blocks before any result: context, build, families, options.
nlohmann::json run_document(const RunOptions& o, const std::vector<bench::Case>& cases);

/// `cpbench advise`: a workload's shape, what matters, and how to run the candidates.
struct AdviseOptions {
  std::string workload;      ///< counter, lock, read_mostly, tasks, requests, transactions
  std::string file;          ///< the same keys as JSON: {"workload": "counter", "threads": [1, 2]}
  std::string threads;       ///< thread counts, e.g. 1,2,4
  std::int64_t cpu_ns = -1;  ///< CPU work per operation or task (ns)
  std::int64_t think_ns = -1;     ///< work outside the critical section (lock)
  std::int64_t block_us = -1;     ///< blocking per task (tasks)
  std::int64_t read_pct = -1;     ///< reads among operations (counter, read_mostly)
  std::int64_t connections = -1;  ///< concurrent connections (requests)
  std::int64_t rate = -1;         ///< arrival rate in requests/s (requests: open loop)
  std::int64_t accounts = -1;     ///< records (transactions)
  std::int64_t hot_pct = -1;      ///< operations on the hot records (transactions)
  std::string goal = "throughput";
  bool dry_run = false;
  RunOptions run;  ///< --quick, --repetitions, --min-time, --out, --html
};
int advise(AdviseOptions o);

/// An integer figure of a workload: its key in a workload file (the flag is `--` and the key
/// with '-' for '_'), where it goes, and its help text.
struct AdviseFigure {
  std::string_view name;
  std::int64_t AdviseOptions::*field;
  std::string_view help;
};
const std::vector<AdviseFigure>& advise_figures();

struct ReportOptions {
  std::string input;  ///< a result file, or a --history folder
  std::string html;
};
int report(const ReportOptions& o);

struct CheckOptions {
  std::string mode = "all";  ///< stress, model or all
  std::string family = ".*";
  std::string impl = ".*";
  std::string check = ".*";         ///< regex matched against the whole check name ("pause")
  bool litmus = false;              ///< also run the litmus suite (MP, SB, LB, IRIW, 2+2W, CoRR)
  bool audit_orders = false;        ///< the memory-order audit of the selected model checks
  std::vector<std::string> weaken;  ///< FILE:LINE:COLUMN=ORDER: run model checks so weakened
  CheckConfig config;
  std::string out = "cpbench_checks.json";
  std::string html;  ///< also render an HTML report here
};
/// Runs the registered checks of the selected implementations; 1 when any fails.
int check(const CheckOptions& o);

struct CompareOptions {
  std::string base;
  std::string next;
  std::string threshold = "5%";
  std::string threshold_file;  ///< JSON: {name, family or prefix: percentage}
  std::string alpha = "0.05";
  std::string filter;  ///< regex searched in benchmark names
  std::string metric;  ///< the figure to compare ("latency_ns.p99"); default throughput
  bool all = false;    ///< print every row, not only the changes
  std::string json;    ///< also write the comparison as JSON here
  std::string html;    ///< also write the HTML diff view here
};
/// Compares two result files; 1 when a benchmark regressed beyond its threshold or now fails.
int compare(const CompareOptions& o);

/// Installs the counting allocator's reader (harness/cli/counting_new.cpp), so results carry
/// allocations per item; a no-op in sanitizer builds.
void install_alloc_counting();

/// The number `text` spells out whole ("0.5", "1e-3"), or nothing.
std::optional<double> parse_double(const std::string& text);

/// "1,2,4" -> {1, 2, 4}. Throws UsageError naming `flag` unless every item is an integer in
/// [min, max].
std::vector<std::int64_t> parse_int_list(const std::string& flag, const std::string& text,
                                         std::int64_t min, std::int64_t max);

/// The table printed at the end of a run: one row per case (its median over repetitions).
void print_table(const nlohmann::json& doc);

}  // namespace cpb::cli
