// SPDX-License-Identifier: Apache-2.0
#include "harness/cli/commands.hpp"
#include "reports/history.hpp"
#include "reports/html.hpp"
#include "reports/schema.hpp"

#include <fmt/format.h>

#include <cstdio>
#include <filesystem>
#include <unistd.h>

namespace cpb::cli {

nlohmann::json run_document(const RunOptions& o, const std::vector<bench::Case>& cases) {
  nlohmann::json doc;
  doc["context"] = reports::machine_context();
  doc["cpbench"] = reports::build_info();
  doc["cpbench"]["families"] = bench::families_block(cases);
  doc["cpbench"]["options"] = {{"repetitions", o.suite.repetitions},
                               {"min_time_s", o.suite.run.min_time_s},
                               {"warmup_s", o.suite.run.warmup_s},
                               {"timeout_s", o.suite.run.timeout_s},
                               {"pin", o.suite.run.pin},
                               {"quick", o.suite.quick},
                               {"seed", o.suite.seed},
                               {"isolate", o.suite.isolate},
                               {"calibrate", o.suite.calibrate}};
  return doc;
}

int run(const RunOptions& o) {
  const auto cases = bench::plan(Registry::instance(), o.selection);
  reports::check_writable(o.out);
  if (!o.html.empty()) reports::check_writable(o.html);
  if (!o.history.empty()) reports::prepare_history(o.history);
  reports::ResultFile file(o.out, run_document(o, cases));

  auto suite = o.suite;
  suite.progress = isatty(STDERR_FILENO) != 0;
  const int failed = bench::run_suite(cases, suite, file);

  print_table(file.doc());
  std::printf("\nresults: %s\n", o.out.c_str());
  if (!o.html.empty()) {
    reports::write_atomically(o.html, reports::render_html(file.doc()));
    std::printf("report:  %s\n", o.html.c_str());
  }
  if (!o.history.empty()) {
    std::printf("history: %s\n", reports::append_history(o.history, file.doc()).c_str());
  }
  if (failed > 0) {
    std::fprintf(stderr, "cpbench: %d benchmark run(s) failed; see error_message in %s\n", failed,
                 o.out.c_str());
    return 1;
  }
  return 0;
}

namespace {

/// `cpbench report DIR`: the trends across the runs of a --history folder.
int report_history(const ReportOptions& o) {
  reports::check_writable(o.html);
  const auto runs = reports::read_history(o.input);
  reports::CompareOptions options;
  const auto t = reports::trends(runs, options);
  const auto& sum = t["summary"];
  std::printf(
      "%d runs, %d benchmarks: %d significant slowdowns (%d beyond %.0f%%), %d speed-ups, "
      "%d new failures\n",
      sum["runs"].get<int>(), sum["benchmarks"].get<int>(), sum["slower"].get<int>(),
      sum["regressions"].get<int>(), 100 * options.thresholds.fallback, sum["faster"].get<int>(),
      sum["failed"].get<int>());
  for (const auto& s : t["series"]) {
    for (const auto& c : s["changes"]) {
      const auto& run = t["runs"][c["run"].get<std::size_t>()];
      std::printf("  run %zu (%s): %s %s%s\n", c["run"].get<std::size_t>(),
                  run["file"].get<std::string>().c_str(), s["name"].get<std::string>().c_str(),
                  c["verdict"].get<std::string>().c_str(),
                  c["change"].is_number()
                      ? fmt::format(" {:+.1f}%", 100 * c["change"].get<double>()).c_str()
                      : "");
    }
  }
  reports::write_atomically(o.html, reports::render_trend_html(t));
  std::printf("report: %s\n", o.html.c_str());
  return 0;
}

}  // namespace

int report(const ReportOptions& o) {
  if (std::filesystem::is_directory(o.input)) return report_history(o);
  auto doc = reports::read_result_file(o.input);
  reports::check_writable(o.html);
  reports::write_atomically(o.html, reports::render_html(doc));
  std::printf("report: %s\n", o.html.c_str());
  return 0;
}

}  // namespace cpb::cli
