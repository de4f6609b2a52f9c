// SPDX-License-Identifier: Apache-2.0
#include "harness/cli/args.hpp"

#include "harness/core/errors.hpp"
#include "reports/build_info.hpp"

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <chrono>
#include <cstdlib>
#include <exception>
#include <limits>
#include <ostream>

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

double parse_seconds(const std::string& flag, const std::string& text) {
  const auto v = parse_double(text);
  if (!v || !(*v > 0) || *v > 86400) {
    throw UsageError(fmt::format("{}: '{}' is not a positive number of seconds", flag, text));
  }
  return *v;
}

/// --threads and --param of `run`.
void parse_selection(const std::string& threads, const std::vector<std::string>& params,
                     RunOptions& run) {
  auto& sel = run.selection;
  if (!threads.empty()) {
    std::vector<int> t;
    for (auto v : parse_int_list("--threads", threads, 1, 1024)) t.push_back(static_cast<int>(v));
    sel.threads = t;
  }
  for (const auto& p : params) {
    const auto eq = p.find('=');
    if (eq == std::string::npos || eq == 0) {
      throw UsageError(fmt::format("--param: '{}' is not of the form name=v1,v2", p));
    }
    sel.params.emplace_back(p.substr(0, eq),
                            parse_int_list("--param " + p.substr(0, eq), p.substr(eq + 1), 0,
                                           std::numeric_limits<std::int64_t>::max()));
  }
  sel.quick = run.suite.quick;
}

}  // namespace

const std::vector<AdviseFigure>& advise_figures() {
  static const std::vector<AdviseFigure> f = {
      {"cpu_ns", &AdviseOptions::cpu_ns, "CPU work per operation or task, in ns"},
      {"think_ns", &AdviseOptions::think_ns, "Work outside the lock, in ns (lock)"},
      {"block_us", &AdviseOptions::block_us, "Blocking per task, in us (tasks)"},
      {"read_pct", &AdviseOptions::read_pct,
       "Reads among the operations, in % (counter, read_mostly)"},
      {"connections", &AdviseOptions::connections, "Concurrent connections (requests)"},
      {"rate", &AdviseOptions::rate, "Arrival rate in requests/s: an open-loop load (requests)"},
      {"accounts", &AdviseOptions::accounts, "Records (transactions)"},
      {"hot_pct", &AdviseOptions::hot_pct, "Operations on the hot records, in % (transactions)"}};
  return f;
}

std::string one_line(std::string s) {
  for (auto& ch : s) {
    if (ch == '\n') ch = ' ';
  }
  while (!s.empty() && s.back() == ' ') s.pop_back();
  return s;
}

Invocation parse_args(int argc, const char* const* argv, std::ostream& out, std::ostream& err) {
  Invocation inv;
  CLI::App app{"cpbench: benchmark and check concurrency-pattern implementations", "cpbench"};
  app.set_version_flag("--version", fmt::format("cpbench {} ({})", cpb::reports::kVersion,
                                                cpb::reports::kGitCommit));
  app.require_subcommand(1);

  auto& list = inv.list;
  auto* list_cmd =
      app.add_subcommand("list", "List families, implementations, scenarios or workloads");
  list_cmd->add_option("what", list.what,
                       "families | impls | scenarios | workloads (default impls)");
  list_cmd->add_flag("--json", list.json, "Print JSON instead of a table");

  /// The flags `run` and `advise` share: how long and how often to measure, where to write.
  struct MeasureFlags {
    std::string min_time;
    std::string repetitions;
    std::string timeout;
    bool no_pin = false;
    bool no_calibration = false;
    bool in_process = false;
    void add(CLI::App* cmd, RunOptions& run) {
      cmd->add_option("--repetitions", repetitions, "Repetitions of each benchmark (default 1)");
      cmd->add_option("--min-time", min_time, "Minimum seconds per measured trial (default 0.1)");
      cmd->add_option("--timeout", timeout,
                      "Seconds before the watchdog kills a benchmark (default 60)");
      cmd->add_flag("--quick", run.suite.quick, "Fewer parameter values and thread counts");
      cmd->add_option("--seed", run.suite.seed, "Seed of the interleaving order (default 1)");
      cmd->add_flag("--no-pin", no_pin, "Do not pin benchmark threads to CPUs");
      cmd->add_flag("--no-calibration", no_calibration, "Skip the calibration probe");
      cmd->add_flag("--in-process", in_process,
                    "Run benchmarks in this process (no crash isolation or watchdog)");
      cmd->add_option("--out", run.out, "Result file (default cpbench_results.json)");
      cmd->add_option("--html", run.html, "Also write an HTML report here");
    }
  };

  auto& run = inv.run;
  std::string threads;
  std::vector<std::string> params;
  MeasureFlags run_flags;
  auto* run_cmd = app.add_subcommand("run", "Run benchmarks and write a JSON result file");
  run_cmd->add_option("--family", run.selection.family, "Regex matched against family names");
  run_cmd->add_option("--impl", run.selection.impl, "Regex matched against implementation names");
  run_cmd->add_option("--scenario", run.selection.scenario, "Regex matched against scenario names");
  run_cmd->add_option("--filter", run.selection.filter,
                      "Regex searched in full benchmark names (family/impl/scenario/...)");
  run_cmd->add_option("--threads", threads,
                      "Thread counts, e.g. 1,2,4 (for scenarios whose "
                      "thread count is an axis)");
  run_cmd->add_option("--param", params, "Override a parameter axis: name=v1,v2 (repeatable)");
  run_cmd->add_option("--history", run.history,
                      "Also keep a copy of the result file in this folder (created if missing);\n"
                      "`cpbench report FOLDER` plots the trends across the runs");
  run_flags.add(run_cmd, run);

  const CLI::Validator non_negative(
      [](std::string& v) {
        return !v.empty() && v[0] == '-' ? "'" + v + "' is negative" : std::string();
      },
      "N >= 0");
  auto& advise = inv.advise;
  MeasureFlags advise_flags;
  auto* advise_cmd = app.add_subcommand(
      "advise", "Run the candidate patterns on your workload's shape and rank them with reasons");
  advise_cmd->add_option("--workload", advise.workload,
                         "counter, lock, read_mostly, tasks, requests or transactions");
  advise_cmd->add_option("--workload-file", advise.file,
                         "The workload as JSON, keys as the flags: {\"workload\": \"counter\", "
                         "\"threads\": [1, 2], \"read_pct\": 10}");
  advise_cmd->add_option("--goal", advise.goal,
                         "What matters: throughput (default), p99, fairness or memory");
  advise_cmd->add_option("--threads", advise.threads, "Thread counts, e.g. 1,2,4");
  for (const auto& f : advise_figures()) {
    std::string flag = "--" + std::string(f.name);
    std::replace(flag.begin(), flag.end(), '_', '-');
    advise_cmd->add_option(flag, advise.*f.field, std::string(f.help))->check(non_negative);
  }
  advise_cmd->add_flag("--dry-run", advise.dry_run,
                       "Print the candidates and the plan, with a time estimate; run nothing");
  advise_flags.add(advise_cmd, advise.run);

  auto& check = inv.check;
  std::string check_seed;
  std::string budget;
  auto* check_cmd = app.add_subcommand(
      "check", "Run the registered checks of the selected implementations; exit 1 on any failure");
  check_cmd->add_option("--mode", check.mode,
                        "stress (real threads), model (the model checker) or all (the default: "
                        "both, or stress only in a TSan build)");
  check_cmd->add_option("--strategy", check.config.strategy,
                        "Model checker search: random, pct, dfs or all (the default)");
  check_cmd->add_option("--tier", check.config.tier,
                        "Model checker memory model: sc (the default), tso (x86 store buffers) or "
                        "c11 (the C++ memory model, RC11)");
  check_cmd->add_option("--replay", check.config.replay,
                        "Replay a model-checker failure (the string it printed); needs --mode "
                        "model and one selected check");
  check_cmd->add_option("--family", check.family, "Regex matched against family names");
  check_cmd->add_option("--impl", check.impl, "Regex matched against implementation names");
  check_cmd->add_option("--check", check.check,
                        "Regex matched against check names (`cpbench list impls --json` lists "
                        "them), e.g. pause");
  check_cmd->add_flag("--litmus", check.litmus,
                      "Also run the litmus suite (MP, SB, LB, IRIW, 2+2W, CoRR over std::atomic)");
  check_cmd->add_option("--seed", check_seed,
                        "Seed that replays a failure's schedule (printed with every failure)");
  check_cmd->add_option("--budget", budget,
                        "Seconds per check (default: each check's own; with --audit-orders, 1 s "
                        "per check and weaker order)");
  check_cmd->add_flag("--audit-orders", check.audit_orders,
                      "Memory-order audit: weaken each atomic operation and fence of the selected "
                      "model checks one step at a time, and report which orders a check needs");
  check_cmd->add_option("--weaken", check.weaken,
                        "FILE:LINE:COLUMN=ORDER: run the model checks with that operation weakened "
                        "(as the audit printed it, to replay its failure); repeatable");
  check_cmd->add_option("--out", check.out, "Result file (default cpbench_checks.json)");
  check_cmd->add_option("--html", check.html, "Also write an HTML report here");

  auto& report = inv.report;
  auto* report_cmd = app.add_subcommand("report", "Render a result file as HTML");
  report_cmd
      ->add_option("input", report.input,
                   "Result file (JSON), or a --history folder: then the trends across its runs")
      ->required();
  report_cmd->add_option("--html", report.html, "HTML file to write")->required();

  auto& compare = inv.compare;
  auto* compare_cmd = app.add_subcommand(
      "compare",
      "Compare two result files (cpbench or Google Benchmark JSON); exit 1 on a regression");
  compare_cmd->add_option("base", compare.base, "The result file to compare against")->required();
  compare_cmd->add_option("new", compare.next, "The result file to judge")->required();
  compare_cmd->add_option("--threshold", compare.threshold,
                          "Largest slowdown that is not a regression, e.g. 5% (the default)");
  compare_cmd->add_option("--threshold-file", compare.threshold_file,
                          "JSON object of benchmark name, family or name prefix: percentage; "
                          "the longest match wins over --threshold");
  compare_cmd->add_option("--alpha", compare.alpha,
                          "Significance level of the Mann-Whitney U test (default 0.05)");
  compare_cmd->add_option("--filter", compare.filter,
                          "Regex searched in benchmark names: compare only those");
  compare_cmd->add_option("--metric", compare.metric,
                          "The figure to compare, dots for nesting: latency_ns.p99, "
                          "allocs_per_item, cpu_utilization ... (default items_per_second, "
                          "else real_time)");
  compare_cmd->add_flag("--all", compare.all,
                        "Print every benchmark, not only the significant changes and failures");
  compare_cmd->add_option("--json", compare.json, "Also write the comparison as JSON here");
  compare_cmd->add_option("--html", compare.html, "Also write the HTML diff view here");

  const auto subs = app.get_subcommands({});
  if (argc > 1 && argv[1][0] != '-' &&
      std::none_of(subs.begin(), subs.end(),
                   [&](const CLI::App* s) { return s->get_name() == argv[1]; })) {
    throw UsageError(fmt::format(
        "unknown command '{}' (known: list, run, advise, check, report, compare)", argv[1]));
  }
  try {
    app.parse(argc, argv);
  } catch (const CLI::Success& e) {  // --help, --version
    inv.exit_code = app.exit(e, out, err);
    return inv;
  } catch (const CLI::ParseError& e) {
    throw UsageError(one_line(e.what()));
  }

  const auto apply = [&](const MeasureFlags& f, RunOptions& r) {
    if (!f.repetitions.empty()) {
      r.suite.repetitions =
          static_cast<int>(parse_int_list("--repetitions", f.repetitions, 1, 1000)[0]);
    }
    if (!f.min_time.empty()) r.suite.run.min_time_s = parse_seconds("--min-time", f.min_time);
    if (!f.timeout.empty()) r.suite.run.timeout_s = parse_seconds("--timeout", f.timeout);
    if (r.suite.quick)
      r.suite.run.warmup_s = std::min(r.suite.run.warmup_s, r.suite.run.min_time_s);
    r.suite.run.pin = !f.no_pin;
    r.suite.calibrate = !f.no_calibration;
    r.suite.isolate = !f.in_process;
  };
  if (*list_cmd) {
    inv.command = Command::kList;
  } else if (*report_cmd) {
    inv.command = Command::kReport;
  } else if (*compare_cmd) {
    inv.command = Command::kCompare;
  } else if (*advise_cmd) {
    inv.command = Command::kAdvise;
    apply(advise_flags, advise.run);
  } else if (*check_cmd) {
    inv.command = Command::kCheck;
    if (!check_seed.empty()) {
      char* end = nullptr;
      errno = 0;
      const unsigned long long v = std::strtoull(check_seed.c_str(), &end, 0);
      if (errno != 0 || end == check_seed.c_str() || *end != '\0' || check_seed[0] == '-') {
        throw UsageError(fmt::format("--seed: '{}' is not a non-negative integer", check_seed));
      }
      check.config.seed = v;
    }
    if (!budget.empty()) {
      check.config.budget = std::chrono::milliseconds(
          static_cast<std::int64_t>(parse_seconds("--budget", budget) * 1000));
    }
  } else if (*run_cmd) {
    inv.command = Command::kRun;
    parse_selection(threads, params, run);
    apply(run_flags, run);
  }
  return inv;
}

}  // namespace cpb::cli
