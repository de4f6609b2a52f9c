// SPDX-License-Identifier: Apache-2.0
/// @file
/// `cpbench`: list, run, advise, check, report and compare. Exit codes: 0 success, 1 a failure in
/// what ran, 2 bad input.

#include "harness/cli/commands.hpp"
#include "harness/core/errors.hpp"
#include "reports/build_info.hpp"

#include <CLI/CLI.hpp>
#include <benchmark/benchmark.h>
#include <fmt/format.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <limits>

namespace {

using cpb::UsageError;
namespace cli = cpb::cli;

constexpr int kBadInput = 2;

int fail(const std::string& message) {
  std::fprintf(stderr, "cpbench: error: %s\n", message.c_str());
  return kBadInput;
}

std::string one_line(std::string s) {
  for (auto& ch : s) {
    if (ch == '\n') ch = ' ';
  }
  while (!s.empty() && s.back() == ' ') s.pop_back();
  return s;
}

}  // namespace

int main(int argc, char** argv) {
  cli::install_alloc_counting();
  int gb_argc = 1;
  benchmark::Initialize(&gb_argc, argv);

  CLI::App app{"cpbench: benchmark and check concurrency-pattern implementations", "cpbench"};
  app.set_version_flag("--version", fmt::format("cpbench {} ({})", cpb::reports::kVersion,
                                                cpb::reports::kGitCommit));
  app.require_subcommand(1);

  cli::ListOptions list;
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
    void add(CLI::App* cmd, cli::RunOptions& run) {
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

  cli::RunOptions run;
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
  run_flags.add(run_cmd, run);

  const CLI::Validator non_negative(
      [](std::string& v) {
        return !v.empty() && v[0] == '-' ? "'" + v + "' is negative" : std::string();
      },
      "N >= 0");
  cli::AdviseOptions advise;
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
  advise_cmd->add_option("--cpu-ns", advise.cpu_ns, "CPU work per operation or task, in ns")
      ->check(non_negative);
  advise_cmd->add_option("--think-ns", advise.think_ns, "Work outside the lock, in ns (lock)")
      ->check(non_negative);
  advise_cmd->add_option("--block-us", advise.block_us, "Blocking per task, in us (tasks)")
      ->check(non_negative);
  advise_cmd
      ->add_option("--read-pct", advise.read_pct,
                   "Reads among the operations, in % (counter, read_mostly)")
      ->check(non_negative);
  advise_cmd->add_option("--connections", advise.connections, "Concurrent connections (requests)")
      ->check(non_negative);
  advise_cmd
      ->add_option("--rate", advise.rate,
                   "Arrival rate in requests/s: an open-loop load (requests)")
      ->check(non_negative);
  advise_cmd->add_option("--accounts", advise.accounts, "Records (transactions)")
      ->check(non_negative);
  advise_cmd
      ->add_option("--hot-pct", advise.hot_pct,
                   "Operations on the hot records, in % (transactions)")
      ->check(non_negative);
  advise_cmd->add_flag("--dry-run", advise.dry_run,
                       "Print the candidates and the plan, with a time estimate; run nothing");
  advise_flags.add(advise_cmd, advise.run);

  cli::CheckOptions check;
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
                        "Model checker memory model: sc (the default) or tso (x86 store buffers)");
  check_cmd->add_option("--replay", check.config.replay,
                        "Replay a model-checker failure (the string it printed); needs --mode "
                        "model and one selected check");
  check_cmd->add_option("--family", check.family, "Regex matched against family names");
  check_cmd->add_option("--impl", check.impl, "Regex matched against implementation names");
  check_cmd->add_flag("--litmus", check.litmus,
                      "Also run the litmus suite (MP, SB, LB, IRIW, 2+2W, CoRR over std::atomic)");
  check_cmd->add_option("--seed", check_seed,
                        "Seed that replays a failure's schedule (printed with every failure)");
  check_cmd->add_option("--budget", budget, "Seconds per check (default: each check's own)");
  check_cmd->add_option("--out", check.out, "Result file (default cpbench_checks.json)");
  check_cmd->add_option("--html", check.html, "Also write an HTML report here");

  cli::ReportOptions report;
  auto* report_cmd = app.add_subcommand("report", "Render a result file as HTML");
  report_cmd->add_option("input", report.input, "Result file (JSON)")->required();
  report_cmd->add_option("--html", report.html, "HTML file to write")->required();

  cli::CompareOptions compare;
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

  const auto is_command = [&](const std::string& name) {
    const auto subs = app.get_subcommands({});
    return std::any_of(subs.begin(), subs.end(),
                       [&](const CLI::App* s) { return s->get_name() == name; });
  };
  if (argc > 1 && argv[1][0] != '-' && !is_command(argv[1])) {
    return fail(fmt::format(
        "unknown command '{}' (known: list, run, advise, check, report, compare)", argv[1]));
  }
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    return fail(one_line(e.what()));
  }

  try {
    for (const auto& p : cpb::Registry::instance().problems()) return fail(p);
    const auto parse_seconds = [](const std::string& flag, const std::string& text) {
      const auto v = cli::parse_double(text);
      if (!v || !(*v > 0) || *v > 86400) {
        throw UsageError(fmt::format("{}: '{}' is not a positive number of seconds", flag, text));
      }
      return *v;
    };
    const auto apply = [&](const MeasureFlags& f, cli::RunOptions& r) {
      if (!f.repetitions.empty()) {
        r.suite.repetitions =
            static_cast<int>(cli::parse_int_list("--repetitions", f.repetitions, 1, 1000)[0]);
      }
      if (!f.min_time.empty()) r.suite.run.min_time_s = parse_seconds("--min-time", f.min_time);
      if (!f.timeout.empty()) r.suite.run.timeout_s = parse_seconds("--timeout", f.timeout);
      if (r.suite.quick)
        r.suite.run.warmup_s = std::min(r.suite.run.warmup_s, r.suite.run.min_time_s);
      r.suite.run.pin = !f.no_pin;
      r.suite.calibrate = !f.no_calibration;
      r.suite.isolate = !f.in_process;
    };
    if (*list_cmd) return cli::list(list);
    if (*report_cmd) return cli::report(report);
    if (*compare_cmd) return cli::compare(compare);
    if (*advise_cmd) {
      apply(advise_flags, advise.run);
      return cli::advise(advise);
    }
    if (*check_cmd) {
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
      return cli::check(check);
    }

    auto& sel = run.selection;
    if (!threads.empty()) {
      std::vector<int> t;
      for (auto v : cli::parse_int_list("--threads", threads, 1, 1024))
        t.push_back(static_cast<int>(v));
      sel.threads = t;
    }
    for (const auto& p : params) {
      const auto eq = p.find('=');
      if (eq == std::string::npos || eq == 0) {
        throw UsageError(fmt::format("--param: '{}' is not of the form name=v1,v2", p));
      }
      sel.params.emplace_back(p.substr(0, eq),
                              cli::parse_int_list("--param " + p.substr(0, eq), p.substr(eq + 1), 0,
                                                  std::numeric_limits<std::int64_t>::max()));
    }
    sel.quick = run.suite.quick;
    apply(run_flags, run);
    return cli::run(run);
  } catch (const UsageError& e) {
    return fail(one_line(e.what()));
  } catch (const std::exception& e) {
    std::fprintf(stderr, "cpbench: %s\n", e.what());
    return 1;
  }
}
