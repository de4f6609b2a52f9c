// SPDX-License-Identifier: Apache-2.0
#include "harness/bench/plan.hpp"
#include "harness/cli/commands.hpp"
#include "harness/core/errors.hpp"
#include "harness/stress/litmus.hpp"
#include "reports/schema.hpp"

#include <fmt/format.h>

#include <cstdio>

namespace cpb::cli {
namespace {

/// Prints one result: a line when it passed, the whole report (seed, replay hint, history) when
/// it did not. Returns whether it passed.
bool report_result(const stress::CheckResult& r) {
  if (r.passed()) {
    std::printf("PASS  %-48s %10llu samples  %8.0f ms  seed %#llx\n", r.name.c_str(),
                static_cast<unsigned long long>(r.samples), r.elapsed_ms,
                static_cast<unsigned long long>(r.seed));
  } else {
    std::printf("%s\n", stress::format(r).c_str());
  }
  std::fflush(stdout);
  return r.passed();
}

}  // namespace

int check(const CheckOptions& o) {
  if (o.mode != "stress") {
    throw UsageError(fmt::format("--mode: unknown mode '{}' (known: stress)", o.mode));
  }
  const auto impls = bench::select_impls(Registry::instance(), o.family, o.impl);
  reports::check_writable(o.out);

  nlohmann::json doc;
  doc["context"] = reports::machine_context();
  doc["cpbench"] = reports::build_info();
  doc["cpbench"]["options"] = {{"command", "check"},
                               {"mode", o.mode},
                               {"seed", o.config.seed},
                               {"budget_ms", o.config.budget.count()}};
  reports::ResultFile file(o.out, std::move(doc));

  int failed = 0;
  int ran = 0;
  const auto record = [&](stress::CheckResult r) {
    ++ran;
    if (!report_result(r)) ++failed;
    file.add_check(r);
  };
  for (const ImplInfo* impl : impls) {
    for (const auto& c : impl->checks) {
      if (!c.stress) continue;
      auto r = c.stress(o.config);
      r.name = fmt::format("{}/{}/{}", impl->family, impl->name, c.name);
      record(std::move(r));
    }
  }
  if (o.litmus) {
    for (const auto& t : stress::litmus::suite()) {
      stress::OutcomeOptions opt;
      opt.seed = o.config.seed;
      opt.budget = o.config.budget;
      record(t.run(opt));
    }
  }
  if (ran == 0) {
    throw UsageError(
        "the selected implementations have no checks (add --litmus for the litmus suite)");
  }
  std::printf("\n%d checks, %d failed; results: %s\n", ran, failed, o.out.c_str());
  return failed > 0 ? 1 : 0;
}

}  // namespace cpb::cli
