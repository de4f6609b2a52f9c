// SPDX-License-Identifier: Apache-2.0
#include "harness/bench/plan.hpp"
#include "harness/check/audit.hpp"
#include "harness/cli/commands.hpp"
#include "harness/core/errors.hpp"
#include "harness/core/sync.hpp"
#include "harness/stress/litmus.hpp"
#include "reports/html.hpp"
#include "reports/schema.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cstdio>
#include <functional>
#include <regex>
#include <set>

namespace cpb::cli {
namespace {

/// Prints one result: a line when it passed, the whole report (seed, replay hint, history) when
/// it did not, and "SKIP" with the reason when it could not run here. Returns whether it
/// passed or was skipped (a skip is neither a pass nor a failure: the summary counts it apart).
bool report_result(const stress::CheckResult& r) {
  if (r.verdict == stress::Verdict::kSkipped) {
    std::printf("SKIP  %-6s %-48s %s\n", r.mode.c_str(), r.name.c_str(), r.failure.c_str());
    std::fflush(stdout);
    return true;
  }
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

/// A shell word: quoted when it holds anything but letters, digits and `/._:=-`.
std::string shell_word(std::string_view s) {
  if (!s.empty() && std::all_of(s.begin(), s.end(), [](char c) {
        return std::isalnum(static_cast<unsigned char>(c)) != 0 ||
               std::string_view("/._:=-").find(c) != std::string_view::npos;
      })) {
    return std::string(s);
  }
  std::string out = "'";
  for (const char c : s) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

/// `--audit-orders`: audits every selected implementation that has model checks; prints a block
/// per implementation and keeps the rows in the result file's `cpbench.audit`.
int audit(const CheckOptions& o, const std::vector<const ImplInfo*>& impls,
          const std::function<bool(const Check&)>& selected, reports::ResultFile& file) {
  CheckConfig cfg = o.config;
  if (cfg.budget.count() == 0) cfg.budget = std::chrono::milliseconds(1000);
  nlohmann::json all = nlohmann::json::array();
  std::size_t counts[3] = {0, 0, 0};  // needed, stronger, relaxed
  for (const ImplInfo* impl : impls) {
    std::vector<check::AuditCheck> checks;
    for (const auto& c : impl->checks) {
      if (c.model && selected(c)) checks.push_back({c.name, c.model});
    }
    if (checks.empty()) continue;
    if (const auto why = impl->why_unavailable(); !why.empty()) {
      std::printf("SKIP  %s/%s: unavailable here: %s\n", impl->family.c_str(), impl->name.c_str(),
                  why.c_str());
      continue;
    }
    std::printf("AUDIT %s/%s: %zu model checks, tier %s, %.1f s per check and weaker order\n",
                impl->family.c_str(), impl->name.c_str(), checks.size(), cfg.tier.c_str(),
                static_cast<double>(cfg.budget.count()) / 1000.0);
    std::fflush(stdout);
    const auto print = [&](const check::AuditRow& row) {
      std::printf("  %-30s %-8s %-8s %s\n", std::string(row.verdict()).c_str(),
                  std::string(to_string(row.site.op)).c_str(),
                  std::string(check::order_name(row.site.op, row.site.order)).c_str(),
                  check::site_name(row.site).c_str());
      for (const check::AuditTrial& t : row.trials) {
        const std::string order(check::order_name(row.site.op, t.order));
        // The command that runs this trial's check with the weakening.
        const std::string command = fmt::format(
            "cpbench check --mode model --family {} --impl {} --check {} --tier {} --weaken {}",
            shell_word(impl->family), shell_word(impl->name), shell_word(t.check), cfg.tier,
            shell_word(check::weaken_arg(row.site, t.order)));
        if (t.caught && t.replay.empty()) {  // a crash: no replay string, the search repeats
          std::printf("      %s: %s in %s; the same search reproduces it: %s --budget %g%s\n",
                      order.c_str(), t.kind.c_str(), t.check.c_str(), command.c_str(),
                      static_cast<double>(cfg.budget.count()) / 1000.0,
                      cfg.seed != 0 ? fmt::format(" --seed {:#x}", cfg.seed).c_str() : "");
        } else if (t.caught) {
          std::printf("      %s: %s in %s; replay: %s --replay %s\n", order.c_str(), t.kind.c_str(),
                      t.check.c_str(), command.c_str(), shell_word(t.replay).c_str());
        } else {
          std::printf("      %s: passes, %llu executions%s\n", order.c_str(),
                      static_cast<unsigned long long>(t.executions),
                      t.exhausted ? " (every bounded DFS search ran to its end)" : "");
        }
      }
      std::fflush(stdout);
      ++counts[row.trials.empty() ? 2 : row.needed() ? 0 : 1];
    };
    check::AuditResult result;
    try {
      result = check::audit_orders(checks, cfg, print);
    } catch (const std::runtime_error& e) {
      std::printf("FAIL  %s/%s: %s\n", impl->family.c_str(), impl->name.c_str(), e.what());
      all.push_back({{"family", impl->family}, {"impl", impl->name}, {"error", e.what()}});
      file.set("audit", all);
      return 1;
    }
    if (result.rows.empty()) std::printf("  no atomic operation or fence: nothing to audit\n");
    if (result.implicit > 0) {
      std::printf(
          "  (%llu operations written without an order, such as `x = a` or `++a`, run at "
          "the policy's operator and are not audited: write .load()/.store() to audit "
          "them)\n",
          static_cast<unsigned long long>(result.implicit));
    }
    nlohmann::json rows = nlohmann::json::array();
    for (const auto& row : result.rows) rows.push_back(row);
    all.push_back({{"family", impl->family},
                   {"impl", impl->name},
                   {"tier", cfg.tier},
                   {"budget_ms", cfg.budget.count()},
                   {"implicit", result.implicit},
                   {"rows", std::move(rows)}});
    file.set("audit", all);
  }
  if (all.empty())
    throw UsageError("--audit-orders: the selected implementations have no model checks");
  std::printf("\naudit: %zu needed, %zu stronger than the checks need, %zu relaxed; results: %s\n",
              counts[0], counts[1], counts[2], o.out.c_str());
  return 0;
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
  if (o.audit_orders || !o.weaken.empty()) {
    const char* what = o.audit_orders ? "--audit-orders" : "--weaken";
    if (o.mode == "stress")
      throw UsageError(fmt::format("{}: needs the model checker, not --mode stress", what));
    if (sync::kTsan)
      throw UsageError(fmt::format("{}: the model checker is not available in a TSan build", what));
    if (o.litmus) throw UsageError(fmt::format("{}: cannot be combined with --litmus", what));
  }
  if (o.audit_orders && (!o.weaken.empty() || !o.config.replay.empty())) {
    throw UsageError("--audit-orders: cannot be combined with --weaken or --replay");
  }
  std::vector<check::Weakening> weaken;
  for (const auto& w : o.weaken) weaken.push_back(check::parse_weakening(w));
  const check::AuditScope weakened(std::move(weaken));
  const bool stress = o.mode != "model" && !o.audit_orders && o.weaken.empty();
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
  doc["cpbench"]["options"] = {{"command", "check"},
                               {"mode", o.mode},
                               {"strategy", o.config.strategy},
                               {"tier", o.config.tier},
                               {"seed", o.config.seed},
                               {"budget_ms", o.config.budget.count()},
                               {"audit_orders", o.audit_orders},
                               {"weaken", o.weaken}};
  reports::ResultFile file(o.out, std::move(doc));

  if (o.audit_orders) return audit(o, impls, selected, file);

  int failed = 0;
  int skipped_checks = 0;  // a check that could not run here (verdict "skipped")
  int ran = 0;
  const auto record = [&](stress::CheckResult r) {
    ++ran;
    if (!report_result(r)) ++failed;
    if (r.verdict == stress::Verdict::kSkipped) ++skipped_checks;
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
  if (skipped_checks > 0) std::printf(", %d skipped", skipped_checks);
  if (!skipped.empty()) std::printf(", %zu implementation(s) skipped", skipped.size());
  std::printf("; results: %s\n", o.out.c_str());
  if (!o.html.empty()) {
    reports::write_atomically(o.html, reports::render_html(file.doc()));
    std::printf("report: %s\n", o.html.c_str());
  }
  return failed > 0 ? 1 : 0;
}

}  // namespace cpb::cli
