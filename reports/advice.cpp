// SPDX-License-Identifier: Apache-2.0
#include "reports/advice.hpp"

#include "harness/core/errors.hpp"
#include "reports/compare.hpp"
#include "reports/html.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <optional>
#include <vector>

namespace cpb::reports {

using nlohmann::json;

Goal Goal::parse(const std::string& name) {
  if (name == "throughput") return {name, "/items_per_second", true};
  if (name == "p99") return {name, "/latency_ns/p99", false};
  if (name == "fairness") return {name, "/fairness", true};
  if (name == "memory") return {name, "/rss_growth_kb", false};
  throw UsageError(
      fmt::format("--goal: unknown goal '{}' (known: throughput, p99, fairness, memory)", name));
}

namespace {

/// One implementation at one point.
struct Candidate {
  std::string impl;  ///< family/impl
  const json* primary = nullptr;
  std::vector<double> samples;  ///< the goal's figure in each successful repetition
};

std::optional<double> number(const json& e, const std::string& pointer) {
  const json::json_pointer p(pointer);
  if (!e.contains(p) || !e[p].is_number()) return std::nullopt;
  return e[p].get<double>();
}

std::string point_key(const json& e) {
  return fmt::format("{}|{}|{}", e.value("scenario", ""), e.value("params", json::object()).dump(),
                     e.value("threads", 0));
}

std::string params_text(const json& e) {
  std::string out;
  const json params = e.value("params", json::object());
  for (const auto& [k, v] : params.items()) {
    out += fmt::format(" {}:{}", k, v.dump());
  }
  return out;
}

std::string fmt_value(const Goal& g, double v) {
  if (g.name == "throughput") {
    if (v >= 1e6) return fmt::format("{:.3g}M items/s", v / 1e6);
    if (v >= 1e3) return fmt::format("{:.3g}k items/s", v / 1e3);
    return fmt::format("{:.3g} items/s", v);
  }
  if (g.name == "p99") return fmt::format("p99 {:.0f} ns", v);
  if (g.name == "fairness") return fmt::format("fairness {:.3f}", v);
  return fmt::format("{:.0f} KiB", v);
}

/// The Mann-Whitney p-value of the winner against the runner-up, when both have the 4 or more
/// repetitions a test at 0.05 needs.
std::optional<double> margin_p(const std::vector<Candidate>& ranked) {
  if (ranked.size() < 2 || ranked[0].samples.size() < 4 || ranked[1].samples.size() < 4) {
    return std::nullopt;
  }
  return mann_whitney_p(ranked[0].samples, ranked[1].samples);
}

std::vector<std::string> reasons_for(const Goal& g, const std::vector<Candidate>& ranked,
                                     std::optional<double> p) {
  std::vector<std::string> out;
  const Candidate& w = ranked[0];
  const double wv = *number(*w.primary, g.pointer);
  if (ranked.size() < 2) {
    out.push_back(fmt::format("{} is the only candidate that ran here", w.impl));
    return out;
  }
  const Candidate& r = ranked[1];
  const double rv = *number(*r.primary, g.pointer);
  const double ratio = g.higher_is_better ? (rv > 0 ? wv / rv : 0) : (wv > 0 ? rv / wv : 0);
  std::string margin = ratio > 0 ? fmt::format("{:.2f}x better than", ratio) : "ahead of";
  if (!p) {
    out.push_back(fmt::format(
        "{} {} {} on {}, median of {} and {} repetitions: too few for a significance test "
        "(run --repetitions 5)",
        w.impl, margin, r.impl, g.name, w.samples.size(), r.samples.size()));
  } else if (*p < 0.05) {
    out.push_back(fmt::format("{} {} {} on {}: significant (Mann-Whitney p = {:.3f})", w.impl,
                              margin, r.impl, g.name, *p));
  } else {
    out.push_back(fmt::format("{} {} {} on {}, but not significant (p = {:.2f}): a tie", w.impl,
                              margin, r.impl, g.name, *p));
  }
  if (g.name != "p99") {
    const auto wp = number(*w.primary, "/latency_ns/p99");
    const auto rp = number(*r.primary, "/latency_ns/p99");
    if (wp && rp && *wp > 0 && *rp > 0 && (*wp > 1.5 * *rp || *rp > 1.5 * *wp)) {
      out.push_back(fmt::format("tail: p99 {:.0f} ns for {} against {:.0f} ns for {}", *wp, w.impl,
                                *rp, r.impl));
    }
  }
  const auto wf = number(*w.primary, "/fairness");
  if (wf && *wf < 0.8) {
    double best = *wf;
    std::string fairest;
    for (const auto& c : ranked) {
      const auto f = number(*c.primary, "/fairness");
      if (f && *f > best + 0.1) {
        best = *f;
        fairest = c.impl;
      }
    }
    if (!fairest.empty()) {
      out.push_back(fmt::format(
          "warning: {} wins with fairness {:.2f} (Jain's index): some threads starve while "
          "others run; {} keeps {:.2f}",
          w.impl, *wf, fairest, best));
    }
  }
  const auto wu = number(*w.primary, "/cpu_utilization");
  const auto ru = number(*r.primary, "/cpu_utilization");
  if (wu && ru && *wu > 0 && *ru > 0 && (*wu > 1.5 * *ru || *ru > 1.5 * *wu)) {
    out.push_back(
        fmt::format("cost: {} keeps {:.2f} CPUs busy, {} {:.2f}", w.impl, *wu, r.impl, *ru));
  }
  return out;
}

}  // namespace

json advise(const json& doc, const Goal& g) {
  // Successful repetitions per case, and the primary entry of each case, grouped by point.
  std::map<std::string, std::vector<double>> samples;  // run_name -> figures
  for (const auto& e : doc["benchmarks"]) {
    if (e.value("run_type", "") != "iteration" || e.value("error_occurred", false)) continue;
    if (const auto v = number(e, g.pointer)) samples[e.value("run_name", "")].push_back(*v);
  }
  std::vector<std::string> order;
  std::map<std::string, std::vector<Candidate>> points;
  for (const auto& e : doc["benchmarks"]) {
    if (!e.value("primary", false) || !number(e, g.pointer)) continue;
    const std::string key = point_key(e);
    if (!points.contains(key)) order.push_back(key);
    points[key].push_back(
        {e.value("family", "") + "/" + e.value("impl", ""), &e, samples[e.value("run_name", "")]});
  }

  json out_points = json::array();
  std::vector<std::string> point_lines;
  std::map<std::string, int> wins;
  std::map<std::string, double> score;  // sum of log(value / best) per implementation
  for (const auto& key : order) {
    auto& c = points[key];
    std::stable_sort(c.begin(), c.end(), [&](const Candidate& a, const Candidate& b) {
      const double x = *number(*a.primary, g.pointer);
      const double y = *number(*b.primary, g.pointer);
      return g.higher_is_better ? x > y : x < y;
    });
    const double best = *number(*c[0].primary, g.pointer);
    json ranking = json::array();
    for (const auto& cand : c) {
      const json& e = *cand.primary;
      const double v = *number(e, g.pointer);
      json r = {{"impl", cand.impl},
                {"baseline", e.value("baseline", false)},
                {"value", v},
                {"repetitions", cand.samples.size()},
                {"text", fmt_value(g, v)},
                {"name", e.value("run_name", "")}};
      for (const char* k : {"items_per_second", "fairness", "cpu_utilization", "allocs_per_item",
                            "rss_growth_kb"}) {
        if (e.contains(k) && e[k].is_number()) r[k] = e[k];
      }
      if (const auto p99 = number(e, "/latency_ns/p99")) r["p99_ns"] = *p99;
      ranking.push_back(std::move(r));
      if (best > 0 && v > 0) {
        score[cand.impl] += std::log(g.higher_is_better ? v / best : best / v);
      }
    }
    ++wins[c[0].impl];
    const json& first = *c[0].primary;
    const std::optional<double> p = margin_p(c);
    const std::string verdict = c.size() < 2 ? "the only candidate"
                                : !p         ? "untested: too few repetitions"
                                : *p < 0.05  ? "significant"
                                             : "a tie with " + c[1].impl;
    point_lines.push_back(fmt::format("{} at {} thread(s){}: {} ({})", first.value("scenario", ""),
                                      first.value("threads", 0), params_text(first), c[0].impl,
                                      verdict));
    out_points.push_back({{"scenario", first.value("scenario", "")},
                          {"params", first.value("params", json::object())},
                          {"threads", first.value("threads", 0)},
                          {"winner", c[0].impl},
                          {"verdict", verdict},
                          {"ranking", std::move(ranking)},
                          {"reasons", reasons_for(g, c, p)}});
  }

  // Scaling: each implementation's speed-up from its fewest to its most threads.
  json scaling = json::object();
  std::map<std::string, std::pair<int, double>> most;  // impl -> threads, speed-up
  for (const auto& e : doc["benchmarks"]) {
    if (!e.value("primary", false) || !e.contains("scaling")) continue;
    const std::string impl = e.value("family", "") + "/" + e.value("impl", "");
    const int t = e.value("threads", 0);
    auto& m = most[impl];
    if (t > m.first) m = {t, e["scaling"]["speedup"].get<double>()};
  }
  for (const auto& [impl, m] : most) {
    scaling[impl] = {{"threads", m.first}, {"speedup", m.second}};
  }

  std::string winner;
  for (const auto& [impl, n] : wins) {
    if (winner.empty() || n > wins[winner] || (n == wins[winner] && score[impl] > score[winner])) {
      winner = impl;
    }
  }
  const std::size_t n_points = out_points.size();
  std::string summary = winner.empty()
                            ? "nothing ran successfully: no advice"
                            : fmt::format("{} is best on {} at {} of {} points on this machine",
                                          winner, g.name, wins[winner], n_points);
  if (!winner.empty() && scaling.contains(winner)) {
    summary += fmt::format("; it scales {:.2f}x from its fewest threads to {}",
                           scaling[winner]["speedup"].get<double>(),
                           scaling[winner]["threads"].get<int>());
  }
  std::string per_point;
  for (const auto& l : point_lines) per_point += "\n  " + l;
  if (n_points > 1) summary += "; per point:" + per_point;
  return {{"goal", g.name},
          {"metric", g.pointer},
          {"higher_is_better", g.higher_is_better},
          {"points", std::move(out_points)},
          {"overall",
           {{"winner", winner}, {"wins", wins}, {"scaling", scaling}, {"summary", summary}}}};
}

std::string render_advice_html(const json& a) {
  // `at`, not `[]`: the block may come from a file, and a missing key must throw, not crash.
  std::string out = fmt::format(
      "<section id=\"advice\"><h2>Advice: {} workload, ranked by {}</h2>\n<p><b>{}</b></p>\n",
      html_escape(a.value("workload", "")), html_escape(a.at("goal").get<std::string>()),
      html_escape(a.at("overall").at("summary").get<std::string>()));
  for (const auto& p : a.at("points")) {
    out += fmt::format("<h3>{} at {} thread(s){}</h3>\n<ol>\n",
                       html_escape(p.at("scenario").get<std::string>()), p.at("threads").get<int>(),
                       html_escape(params_text(p)));
    for (const auto& r : p.at("ranking")) {
      out += fmt::format("<li>{} &mdash; {}{}</li>\n", html_escape(r.at("impl").get<std::string>()),
                         html_escape(r.at("text").get<std::string>()),
                         r.at("baseline").get<bool>() ? " (baseline)" : "");
    }
    out += "</ol>\n<ul class=\"reasons\">\n";
    for (const auto& why : p.at("reasons")) {
      out += "<li>" + html_escape(why.get<std::string>()) + "</li>\n";
    }
    out += "</ul>\n";
  }
  return out + "</section>\n";
}

}  // namespace cpb::reports
