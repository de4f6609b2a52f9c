// SPDX-License-Identifier: Apache-2.0
#include "reports/compare.hpp"

#include "harness/cli/commands.hpp"
#include "harness/core/errors.hpp"
#include "reports/schema.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cstdio>
#include <regex>

namespace cpb::cli {
namespace {

/// Drops the comparisons whose name the regex does not find, and recounts the summary.
void keep_matching(nlohmann::json& c, const std::string& filter) {
  std::regex re;
  try {
    re = std::regex(filter, std::regex::ECMAScript);
  } catch (const std::regex_error& e) {
    throw UsageError(
        fmt::format("--filter: '{}' is not a valid regular expression ({})", filter, e.what()));
  }
  nlohmann::json kept = nlohmann::json::array();
  auto& summary = c["summary"];
  for (auto& [k, v] : summary.items()) v = 0;
  for (auto& r : c["comparisons"]) {
    if (!std::regex_search(r["name"].get<std::string>(), re)) continue;
    summary[r["verdict"].get<std::string>()] =
        summary[r["verdict"].get<std::string>()].get<int>() + 1;
    if (r["regression"].get<bool>()) summary["regressions"] = summary["regressions"].get<int>() + 1;
    kept.push_back(std::move(r));
  }
  if (kept.empty()) throw UsageError(fmt::format("--filter '{}' matches no benchmark", filter));
  c["comparisons"] = std::move(kept);
}

void print(const nlohmann::json& c, bool all) {
  std::size_t width = 9;
  std::vector<const nlohmann::json*> rows;
  for (const auto& r : c["comparisons"]) {
    const std::string v = r["verdict"].get<std::string>();
    if (!all && (v == "unchanged" || v == "untested" || v == "only_base" || v == "only_new")) {
      continue;
    }
    rows.push_back(&r);
    width = std::max(width, r["name"].get<std::string>().size());
  }
  if (!rows.empty()) {
    std::printf("%-*s %12s %12s %9s %8s  %s\n", static_cast<int>(width), "benchmark", "base", "new",
                "change", "p", "verdict");
  }
  for (const auto* r : rows) {
    const std::string metric = r->value("metric", "");
    const std::string base =
        r->contains("base") ? reports::format_figure((*r)["base"], metric) : "-";
    const std::string next = r->contains("new") ? reports::format_figure((*r)["new"], metric) : "-";
    const std::string change = r->contains("change") && (*r)["change"].is_number()
                                   ? fmt::format("{:+.1f}%", (*r)["change"].get<double>() * 100)
                                   : "-";
    const std::string p = r->contains("p_value") && (*r)["p_value"].is_number()
                              ? fmt::format("{:.4f}", (*r)["p_value"].get<double>())
                              : "-";
    std::string verdict = (*r)["verdict"].get<std::string>();
    if ((*r)["regression"].get<bool>()) {
      verdict = fmt::format("REGRESSION ({}, threshold {:.0f}%)", verdict,
                            (*r)["threshold"].get<double>() * 100);
    }
    if (r->contains("new") && (*r)["new"].contains("error_message")) {
      verdict += ": " + (*r)["new"]["error_message"].get<std::string>();
    }
    std::printf("%-*s %12s %12s %9s %8s  %s\n", static_cast<int>(width),
                (*r)["name"].get<std::string>().c_str(), base.c_str(), next.c_str(), change.c_str(),
                p.c_str(), verdict.c_str());
  }
  const auto& s = c["summary"];
  std::printf(
      "\n%d faster, %d slower, %d unchanged, %d untested, %d failed, %d only in base, %d only "
      "in new; %d regression(s) beyond the threshold\n",
      s["faster"].get<int>(), s["slower"].get<int>(), s["unchanged"].get<int>(),
      s["untested"].get<int>(), s["failed"].get<int>(), s["only_base"].get<int>(),
      s["only_new"].get<int>(), s["regressions"].get<int>());
  if (s["untested"].get<int>() > 0) {
    std::printf(
        "note: %d benchmark(s) had too few repetitions for the U test to reach p < %g (it needs "
        "4 or more on each side at 0.05: run with --repetitions 5); their change is shown but "
        "cannot fail the comparison\n",
        s["untested"].get<int>(), c["options"]["alpha"].get<double>());
  }
}

void warn_if_not_performance_numbers(const nlohmann::json& d, const std::string& which) {
  if (!d.value("sanitizers", std::string()).empty()) {
    std::fprintf(
        stderr, "cpbench: warning: %s comes from a sanitizer build (%s): not performance numbers\n",
        which.c_str(), d["sanitizers"].get<std::string>().c_str());
  } else if (d.value("format", std::string()) == "cpbench" &&
             d.value("library_build_type", std::string()) == "debug") {
    // (In Google Benchmark's own files the field describes the library, not the benchmarks.)
    std::fprintf(stderr, "cpbench: warning: %s comes from a debug build: not performance numbers\n",
                 which.c_str());
  }
}

}  // namespace

int compare(const CompareOptions& o) {
  reports::CompareOptions opts;
  const double fallback = reports::parse_percent("--threshold", o.threshold);
  opts.thresholds = o.threshold_file.empty() ? reports::Thresholds{fallback, {}}
                                             : reports::read_thresholds(o.threshold_file, fallback);
  const auto alpha = parse_double(o.alpha);
  if (!alpha || !(*alpha > 0) || !(*alpha < 1)) {
    throw UsageError(fmt::format("--alpha: '{}' is not a number between 0 and 1", o.alpha));
  }
  opts.alpha = *alpha;
  opts.metric = o.metric;
  if (!o.json.empty()) reports::check_writable(o.json);
  if (!o.html.empty()) reports::check_writable(o.html);
  const auto base = reports::read_result_file(o.base);
  const auto next = reports::read_result_file(o.next);

  auto c = reports::compare(base, next, opts);
  c["base"]["path"] = o.base;
  c["new"]["path"] = o.next;
  if (!o.filter.empty()) keep_matching(c, o.filter);
  const auto& sum = c["summary"];
  if (!o.metric.empty() && sum["incomparable"].get<int>() > 0 &&
      sum["incomparable"].get<int>() + sum["only_base"].get<int>() + sum["only_new"].get<int>() ==
          static_cast<int>(c["comparisons"].size())) {
    throw UsageError(fmt::format("--metric '{}': no benchmark has it in both files", o.metric));
  }
  warn_if_not_performance_numbers(c["base"], "BASE");
  warn_if_not_performance_numbers(c["new"], "NEW");

  print(c, o.all);
  if (!o.json.empty()) {
    reports::write_atomically(o.json, c.dump(2));
    std::printf("comparison: %s\n", o.json.c_str());
  }
  if (!o.html.empty()) {
    reports::write_atomically(o.html, reports::render_compare_html(c));
    std::printf("report:     %s\n", o.html.c_str());
  }
  return c["summary"]["regressions"].get<int>() > 0 ? 1 : 0;
}

}  // namespace cpb::cli
