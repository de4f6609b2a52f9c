// SPDX-License-Identifier: Apache-2.0
#include "harness/cli/commands.hpp"
#include "reports/html.hpp"
#include "reports/schema.hpp"

#include <fmt/format.h>

#include <cstdio>
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
  if (failed > 0) {
    std::fprintf(stderr, "cpbench: %d benchmark run(s) failed; see error_message in %s\n", failed,
                 o.out.c_str());
    return 1;
  }
  return 0;
}

int report(const ReportOptions& o) {
  auto doc = reports::read_result_file(o.input);
  reports::check_writable(o.html);
  reports::write_atomically(o.html, reports::render_html(doc));
  std::printf("report: %s\n", o.html.c_str());
  return 0;
}

}  // namespace cpb::cli
