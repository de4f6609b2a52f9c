// SPDX-License-Identifier: Apache-2.0
#include "harness/bench/plan.hpp"
#include "harness/cli/commands.hpp"
#include "harness/core/errors.hpp"
#include "harness/core/sync.hpp"
#include "harness/stress/litmus.hpp"
#include "reports/html.hpp"
#include "reports/schema.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cstdio>
#include <regex>
#include <set>

namespace cpb::cli {
namespace {

/// Prints one result: a line when it passed, the whole report (seed, replay hint, history) when
/// it did not. Returns whether it passed.
bool report_result(const stress::CheckResult& r) {
  if (r.passed()) {
    std::printf("PASS  %-6s %-48s %10llu samples  %8.0f ms  seed %#llx\n", r.mode.c_str(),
                r.name.c_str(), static_cast<unsigned long long>(r.samples), r.elapsed_ms,
                static_cast<unsigned long long>(r.seed));
  } else {
    std::printf("%s\n", stress::format(r).c_str());
  }
  std::fflush(stdout);
  return r.passed();
}

}  // namespace

int check(const CheckOptions& o) {
  if (o.mode != "stress" && o.mode != "model" && o.mode != "all") {
    throw UsageError(fmt::format("--mode: unknown mode '{}' (known: stress, model, all)", o.mode));
  }
  if (o.mode == "model" && sync::kTsan) {
    throw UsageError(
        "--mode: the model checker is not available in a TSan build (use --mode stress)");
  }
  const bool stress = o.mode != "model";
  // `all` means every mode this build has; a TSan build has no model checker.
  const bool model = o.mode == "model" || (o.mode == "all" && !sync::kTsan);
  const auto& strategy = o.config.strategy;
  if (strategy != "random" && strategy != "pct" && strategy != "dfs" && strategy != "all") {
    throw UsageError(
        fmt::format("--strategy: unknown strategy '{}' (known: random, pct, dfs, all)", strategy));
  }
  if (o.config.tier != "sc" && o.config.tier != "tso" && o.config.tier != "c11") {
    throw UsageError(fmt::format("--tier: unknown tier '{}' (known: sc, tso, c11)", o.config.tier));
  }
  const auto impls = bench::select_impls(Registry::instance(), o.family, o.impl);
  const auto check_re = bench::compile_regex("check", o.check);
  const auto selected = [&](const Check& c) { return std::regex_match(c.name, check_re); };
  std::set<std::string> known;
  for (const ImplInfo* impl : impls) {
    for (const auto& c : impl->checks) known.insert(c.name);
  }
  if (!known.empty() && std::none_of(known.begin(), known.end(), [&](const std::string& n) {
        return std::regex_match(n, check_re);
      })) {
    std::string names;
    for (const auto& n : known) names += (names.empty() ? "" : ", ") + n;
    throw UsageError(
        fmt::format("--check '{}' matches no check of the selected implementations (known: {})",
                    o.check, names));
  }
  if (!o.config.replay.empty()) {
    std::size_t n = 0;
    for (const ImplInfo* impl : impls) {
      for (const auto& c : impl->checks) n += c.model && selected(c) ? 1 : 0;
    }
    if (o.mode != "model" || n != 1) {
      throw UsageError(fmt::format(
          "--replay: needs --mode model and exactly one model check selected ({} selected; "
          "narrow it with --family, --impl and --check)",
          n));
    }
  }
  reports::check_writable(o.out);
  if (!o.html.empty()) reports::check_writable(o.html);

  nlohmann::json doc;
  doc["context"] = reports::machine_context();
  doc["cpbench"] = reports::build_info();
  doc["benchmarks"] = nlohmann::json::array();  // a result file, so `cpbench report` reads it
  doc["cpbench"]["options"] = {
      {"command", "check"},    {"mode", o.mode},        {"strategy", o.config.strategy},
      {"tier", o.config.tier}, {"seed", o.config.seed}, {"budget_ms", o.config.budget.count()}};
  reports::ResultFile file(o.out, std::move(doc));

  int failed = 0;
  int ran = 0;
  const auto record = [&](stress::CheckResult r) {
    ++ran;
    if (!report_result(r)) ++failed;
    file.add_check(r);
  };
  nlohmann::json skipped = nlohmann::json::array();
  for (const ImplInfo* impl : impls) {
    const bool any = std::any_of(impl->checks.begin(), impl->checks.end(), selected);
    if (const auto why = impl->why_unavailable(); !why.empty() && any) {
      std::printf("SKIP  %s/%s: unavailable here: %s\n", impl->family.c_str(), impl->name.c_str(),
                  why.c_str());
      skipped.push_back({{"family", impl->family}, {"impl", impl->name}, {"reason", why}});
      continue;
    }
    for (const auto& c : impl->checks) {
      if (!selected(c)) continue;
      const auto name = fmt::format("{}/{}/{}", impl->family, impl->name, c.name);
      if (stress && c.stress) {
        auto r = c.stress(o.config);
        r.name = name;
        record(std::move(r));
      }
      if (model && c.model) {
        auto r = c.model(o.config);
        r.name = name;
        record(std::move(r));
      }
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
  if (!skipped.empty()) file.set("skipped", skipped);
  if (ran == 0 && skipped.empty()) {
    throw UsageError(
        "the selected implementations have no checks (add --litmus for the litmus suite)");
  }
  std::printf("\n%d checks, %d failed", ran, failed);
  if (!skipped.empty()) std::printf(", %zu implementation(s) skipped", skipped.size());
  std::printf("; results: %s\n", o.out.c_str());
  if (!o.html.empty()) {
    reports::write_atomically(o.html, reports::render_html(file.doc()));
    std::printf("report: %s\n", o.html.c_str());
  }
  return failed > 0 ? 1 : 0;
}

}  // namespace cpb::cli
