// SPDX-License-Identifier: Apache-2.0
#include "reports/compare.hpp"

#include "harness/core/errors.hpp"
#include "reports/html.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstring>
#include <fstream>
#include <map>
#include <numeric>
#include <optional>
#include <sstream>

namespace cpb::reports {

using nlohmann::json;

namespace {

/// Average ranks (1-based) of `a` then `b` pooled, and the tie term Σ(t³ − t) over tied groups.
std::pair<double, double> rank_sum_of_a(std::span<const double> a, std::span<const double> b) {
  std::vector<std::pair<double, bool>> all;  // value, from a
  for (double x : a) all.emplace_back(x, true);
  for (double x : b) all.emplace_back(x, false);
  std::sort(all.begin(), all.end(), [](const auto& l, const auto& r) { return l.first < r.first; });
  double rank_sum = 0;
  double ties = 0;
  for (std::size_t i = 0; i < all.size();) {
    std::size_t j = i;
    while (j < all.size() && all[j].first == all[i].first) ++j;
    const double t = static_cast<double>(j - i);
    const double avg = (static_cast<double>(i + 1) + static_cast<double>(j)) / 2;
    for (std::size_t k = i; k < j; ++k) {
      if (all[k].second) rank_sum += avg;
    }
    ties += t * t * t - t;
    i = j;
  }
  return {rank_sum, ties};
}

/// P(U <= u) for samples of sizes n1 and n2 without ties: the number of orderings of n1 a's
/// and n2 b's with at most u (b before a) pairs, over all C(n1+n2, n1) orderings.
double exact_cdf(std::size_t n1, std::size_t n2, std::size_t u) {
  // f[j][v]: orderings of i a's and j b's with U = v, built up over i.
  const std::size_t umax = n1 * n2;
  std::vector<std::vector<double>> f(n2 + 1, std::vector<double>(umax + 1, 0));
  for (std::size_t j = 0; j <= n2; ++j) f[j][0] = 1;  // i = 0: U = 0
  for (std::size_t i = 1; i <= n1; ++i) {
    // Adding an a last (after all j b's) adds j to U; f_i[j][v] = f_{i-1}[j][v-j] + f_i[j-1][v].
    std::vector<std::vector<double>> g(n2 + 1, std::vector<double>(umax + 1, 0));
    for (std::size_t j = 0; j <= n2; ++j) {
      for (std::size_t v = 0; v <= umax; ++v) {
        double c = v >= j ? f[j][v - j] : 0;
        if (j > 0) c += g[j - 1][v];
        g[j][v] = c;
      }
    }
    f = std::move(g);
  }
  const double total = std::accumulate(f[n2].begin(), f[n2].end(), 0.0);
  double below = 0;
  for (std::size_t v = 0; v <= std::min(u, umax); ++v) below += f[n2][v];
  return below / total;
}

/// The smallest two-sided p-value that samples of these sizes can reach (no ties).
double smallest_p(std::size_t n1, std::size_t n2) {
  if (n1 == 0 || n2 == 0) return 1;
  if (n1 * n2 > 400) return 0;
  return std::min(1.0, 2 * exact_cdf(n1, n2, 0));
}

}  // namespace

double mann_whitney_p(std::span<const double> a, std::span<const double> b) {
  const std::size_t n1 = a.size();
  const std::size_t n2 = b.size();
  if (n1 == 0 || n2 == 0) return 1;
  const auto [r1, ties] = rank_sum_of_a(a, b);
  const double u1 = r1 - static_cast<double>(n1 * (n1 + 1)) / 2;
  const double mean = static_cast<double>(n1 * n2) / 2;
  if (ties == 0 && n1 * n2 <= 400) {
    const double u = std::min(u1, static_cast<double>(n1 * n2) - u1);
    return std::min(1.0, 2 * exact_cdf(n1, n2, static_cast<std::size_t>(u)));
  }
  const double n = static_cast<double>(n1 + n2);
  const double var = static_cast<double>(n1 * n2) / 12 * ((n + 1) - ties / (n * (n - 1)));
  if (var <= 0) return 1;
  const double z = (std::abs(u1 - mean) - 0.5) / std::sqrt(var);
  return std::min(1.0, std::erfc(std::max(z, 0.0) / std::sqrt(2.0)));
}

double Thresholds::for_name(const std::string& name) const {
  double best = fallback;
  std::size_t best_len = 0;
  bool found = false;
  for (const auto& [key, value] : by_name) {
    const bool prefix = name.size() > key.size() && name.compare(0, key.size(), key) == 0 &&
                        (key.back() == '/' || name[key.size()] == '/');
    if ((key == name || prefix) && (!found || key.size() > best_len)) {
      best = value;
      best_len = key.size();
      found = true;
    }
  }
  return best;
}

double parse_percent(const std::string& what, const std::string& text) {
  std::string t = text;
  if (!t.empty() && t.back() == '%') t.pop_back();
  double v = 0;
  std::size_t used = 0;
  try {
    v = std::stod(t, &used);
  } catch (const std::exception&) {
    used = 0;
  }
  if (t.empty() || used != t.size() || !(v >= 0) || v > 1000) {
    throw UsageError(fmt::format("{}: '{}' is not a percentage from 0% to 1000%", what, text));
  }
  return v / 100;
}

Thresholds read_thresholds(const std::string& path, double fallback) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw UsageError(fmt::format("cannot read '{}': {}", path, std::strerror(errno)));
  std::stringstream ss;
  ss << in.rdbuf();
  json doc;
  try {
    doc = json::parse(ss.str());
  } catch (const json::exception& e) {
    throw UsageError(fmt::format("'{}' is not valid JSON: {}", path, e.what()));
  }
  if (!doc.is_object()) {
    throw UsageError(fmt::format("'{}': expected an object of name: percentage", path));
  }
  Thresholds t;
  t.fallback = fallback;
  for (const auto& [key, value] : doc.items()) {
    const std::string what = fmt::format("'{}': threshold of '{}'", path, key);
    if (key.empty()) throw UsageError(fmt::format("'{}': an empty name", path));
    if (value.is_number()) {
      t.by_name.emplace_back(key, parse_percent(what, fmt::format("{}", value.get<double>())));
    } else if (value.is_string()) {
      t.by_name.emplace_back(key, parse_percent(what, value.get<std::string>()));
    } else {
      throw UsageError(fmt::format("{}: expected a percentage such as \"10%\"", what));
    }
  }
  return t;
}

namespace {

/// Throughput and fairness grow when things get better; times, latencies and costs shrink.
bool higher_is_better(const std::string& metric) {
  return metric == "items_per_second" || metric == "fairness" ||
         metric.find("per_second") != std::string::npos;
}

/// What one file holds for one benchmark name.
struct Samples {
  std::vector<double> rate;    ///< items_per_second of each successful repetition
  std::vector<double> time;    ///< real_time in ns of each successful repetition
  std::vector<double> chosen;  ///< the figure `--metric` names, where it asked for one
  std::size_t ok = 0;
  std::size_t errors = 0;
  std::string error;       ///< the first error message
  bool aggregate = false;  ///< only an aggregate (median or mean) was there
};

std::optional<double> to_ns(const json& e) {
  const auto it = e.find("real_time");
  if (it == e.end() || !it->is_number()) return std::nullopt;
  const std::string unit = e.value("time_unit", "ns");
  double scale = 1;
  if (unit == "us") {
    scale = 1e3;
  } else if (unit == "ms") {
    scale = 1e6;
  } else if (unit == "s") {
    scale = 1e9;
  } else if (unit != "ns") {
    return std::nullopt;
  }
  return it->get<double>() * scale;
}

void add_sample(Samples& s, const json& e, const std::optional<json::json_pointer>& metric) {
  if (e.value("error_occurred", false)) {
    if (s.errors++ == 0) s.error = e.value("error_message", "");
    return;
  }
  ++s.ok;
  if (const auto it = e.find("items_per_second"); it != e.end() && it->is_number()) {
    s.rate.push_back(it->get<double>());
  }
  if (const auto ns = to_ns(e)) s.time.push_back(*ns);
  if (metric && e.contains(*metric) && e[*metric].is_number()) {
    s.chosen.push_back(e[*metric].get<double>());
  }
}

/// name -> samples, in the file's order.
std::vector<std::pair<std::string, Samples>> collect(
    const json& doc, const std::optional<json::json_pointer>& metric) {
  std::vector<std::pair<std::string, Samples>> out;
  std::map<std::string, std::size_t> index;
  std::map<std::string, const json*> median;  // aggregates, for names with no iteration entry
  std::map<std::string, const json*> mean;
  const auto slot = [&](const std::string& name) -> Samples& {
    const auto [it, fresh] = index.emplace(name, out.size());
    if (fresh) out.emplace_back(name, Samples{});
    return out[it->second].second;
  };
  for (const auto& e : doc["benchmarks"]) {
    const std::string name = e.contains("run_name") && e["run_name"].is_string()
                                 ? e["run_name"].get<std::string>()
                                 : e["name"].get<std::string>();
    const std::string type = e.contains("run_type") && e["run_type"].is_string()
                                 ? e["run_type"].get<std::string>()
                                 : "iteration";
    if (type == "iteration") {
      add_sample(slot(name), e, metric);
    } else if (type == "aggregate") {
      const std::string agg = e.value("aggregate_name", "");
      if (agg == "median") median.emplace(name, &e);
      if (agg == "mean") mean.emplace(name, &e);
    }
  }
  // `--benchmark_report_aggregates_only`: one figure (the median, or the mean) and no test.
  for (const auto* m : {&median, &mean}) {
    for (const auto& [name, e] : *m) {
      if (index.contains(name)) continue;
      Samples& s = slot(name);
      add_sample(s, *e, metric);
      s.aggregate = true;
    }
  }
  return out;
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  const std::size_t n = v.size();
  return n % 2 == 1 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

json side(const Samples& s, const std::vector<double>& values) {
  json j = {{"n", values.size()}, {"errors", s.errors}};
  if (!values.empty()) {
    j["median"] = median(values);
    j["min"] = *std::min_element(values.begin(), values.end());
    j["max"] = *std::max_element(values.begin(), values.end());
    j["values"] = values;
  }
  if (s.errors > 0) j["error_message"] = s.error;
  return j;
}

json describe(const json& doc) {
  json d = json::object();
  const json& ctx = doc.contains("context") ? doc["context"] : json::object();
  const json& cpb = doc.contains("cpbench") ? doc["cpbench"] : json::object();
  for (const char* k : {"date", "host_name", "num_cpus", "library_build_type"}) {
    if (ctx.contains(k)) d[k] = ctx[k];
  }
  for (const char* k : {"git_commit", "preset", "sanitizers"}) {
    if (cpb.contains(k)) d[k] = cpb[k];
  }
  d["format"] = doc.contains("cpbench") ? "cpbench" : "google-benchmark";
  return d;
}

}  // namespace

json compare(const json& base, const json& next, const CompareOptions& o) {
  std::optional<json::json_pointer> metric;
  if (!o.metric.empty()) {
    std::string ptr = "/" + o.metric;
    std::replace(ptr.begin(), ptr.end(), '.', '/');
    metric = json::json_pointer(ptr);
  }
  const auto a = collect(base, metric);
  const auto b = collect(next, metric);
  std::map<std::string, const Samples*> in_b;
  for (const auto& [name, s] : b) in_b.emplace(name, &s);
  std::map<std::string, bool> in_a;
  for (const auto& [name, s] : a) in_a.emplace(name, true);

  json rows = json::array();
  std::map<std::string, int> counts;
  int regressions = 0;
  const auto emit = [&](json row) {
    ++counts[row["verdict"].get<std::string>()];
    if (row["regression"].get<bool>()) ++regressions;
    rows.push_back(std::move(row));
  };
  const Samples none;
  for (const auto& [name, sa] : a) {
    const auto it = in_b.find(name);
    const Samples& sb = it == in_b.end() ? none : *it->second;
    json row = {{"name", name},
                {"family", name.substr(0, name.find('/'))},
                {"threshold", o.thresholds.for_name(name)},
                {"regression", false}};
    if (it == in_b.end()) {
      row["verdict"] = "only_base";
      emit(std::move(row));
      continue;
    }
    // A case that ran before and now fails (crash, timeout, failed verification) regresses.
    if (sb.errors > 0 && sa.errors == 0) {
      row["verdict"] = "failed";
      row["regression"] = true;
      row["base"] = side(sa, metric ? sa.chosen : sa.rate.empty() ? sa.time : sa.rate);
      row["new"] = side(sb, {});
      emit(std::move(row));
      continue;
    }
    // The figure both files have for every successful repetition: the one --metric names, else
    // throughput, else time.
    const auto all = [](const Samples& x, const std::vector<double>& v) {
      return x.ok > 0 && v.size() == x.ok;
    };
    const bool chosen = metric.has_value();
    const bool rate = !chosen && all(sa, sa.rate) && all(sb, sb.rate);
    const bool time = !chosen && all(sa, sa.time) && all(sb, sb.time);
    if (chosen ? !(all(sa, sa.chosen) && all(sb, sb.chosen)) : !rate && !time) {
      row["verdict"] = "incomparable";
      row["base"] = side(sa, {});
      row["new"] = side(sb, {});
      emit(std::move(row));
      continue;
    }
    const auto& va = chosen ? sa.chosen : rate ? sa.rate : sa.time;
    const auto& vb = chosen ? sb.chosen : rate ? sb.rate : sb.time;
    const bool higher = chosen ? higher_is_better(o.metric) : rate;
    row["metric"] = chosen ? o.metric : rate ? "items_per_second" : "real_time_ns";
    row["higher_is_better"] = higher;
    row["base"] = side(sa, va);
    row["new"] = side(sb, vb);
    const double ma = median(va);
    const double mb = median(vb);
    // Positive: better. Higher-is-better figures divide new by old; the others, old by new.
    const double num = higher ? mb : ma;
    const double den = higher ? ma : mb;
    std::optional<double> change;
    if (den > 0) change = num / den - 1;
    row["change"] = change ? json(*change) : json(nullptr);
    const bool testable =
        !sa.aggregate && !sb.aggregate && smallest_p(va.size(), vb.size()) <= o.alpha;
    if (!testable) {
      row["p_value"] = nullptr;
      row["verdict"] = "untested";
    } else {
      const double p = mann_whitney_p(va, vb);
      row["p_value"] = p;
      if (p >= o.alpha || !change || *change == 0) {
        row["verdict"] = "unchanged";
      } else {
        row["verdict"] = *change > 0 ? "faster" : "slower";
        row["regression"] = *change < 0 && -*change > row["threshold"].get<double>();
      }
    }
    emit(std::move(row));
  }
  for (const auto& [name, sb] : b) {
    if (in_a.contains(name)) continue;
    emit({{"name", name},
          {"family", name.substr(0, name.find('/'))},
          {"threshold", o.thresholds.for_name(name)},
          {"verdict", "only_new"},
          {"regression", false}});
  }
  json summary = {{"regressions", regressions}};
  for (const char* v : {"faster", "slower", "unchanged", "untested", "failed", "incomparable",
                        "only_base", "only_new"}) {
    summary[v] = counts[v];
  }
  return {{"base", describe(base)},
          {"new", describe(next)},
          {"options",
           {{"alpha", o.alpha},
            {"threshold", o.thresholds.fallback},
            {"metric", o.metric.empty() ? "items_per_second, else real_time" : o.metric}}},
          {"comparisons", std::move(rows)},
          {"summary", std::move(summary)}};
}

std::string format_figure(const json& side, const std::string& metric) {
  if (!side.contains("median")) return "-";
  const double x = side["median"].get<double>();
  if (metric == "items_per_second") {
    if (x >= 1e9) return fmt::format("{:.3g}G/s", x / 1e9);
    if (x >= 1e6) return fmt::format("{:.3g}M/s", x / 1e6);
    if (x >= 1e3) return fmt::format("{:.3g}k/s", x / 1e3);
    return fmt::format("{:.3g}/s", x);
  }
  if (metric == "real_time_ns") {
    if (x >= 1e9) return fmt::format("{:.3g} s", x / 1e9);
    if (x >= 1e6) return fmt::format("{:.3g} ms", x / 1e6);
    if (x >= 1e3) return fmt::format("{:.3g} us", x / 1e3);
    return fmt::format("{:.3g} ns", x);
  }
  return fmt::format("{:.4g}", x);
}

std::string render_compare_html(const json& c) {
  const json& s = c["summary"];
  std::string rows;
  for (const auto& r : c["comparisons"]) {
    const std::string verdict = r["verdict"].get<std::string>();
    const std::string metric = r.value("metric", "");
    const std::string cls = r["regression"].get<bool>() ? "regression" : verdict;
    std::string change = "-";
    std::string bar;
    if (r.contains("change") && r["change"].is_number()) {
      const double ch = r["change"].get<double>();
      change = fmt::format("{:+.1f}%", ch * 100);
      bar = fmt::format("<span class=\"bar {}\" style=\"width:{:.0f}px\"></span>",
                        ch >= 0 ? "up" : "down", std::min(std::abs(ch), 1.0) * 120);
    }
    const std::string p = r.contains("p_value") && r["p_value"].is_number()
                              ? fmt::format("{:.4f}", r["p_value"].get<double>())
                              : "-";
    const auto n = [](const json& row, const char* k) {
      return row.contains(k) ? fmt::format(" <small>({})</small>", row[k]["n"].get<int>())
                             : std::string();
    };
    rows += fmt::format(
        "<tr class=\"{}\"><td class=\"name\">{}</td><td>{}{}</td><td>{}{}</td><td "
        "class=\"num\">{}</td><td>{}</td><td class=\"num\">{}</td><td class=\"num\">{:.0f}%</td>"
        "<td>{}</td></tr>\n",
        html_escape(cls), html_escape(r["name"].get<std::string>()),
        r.contains("base") ? format_figure(r["base"], metric) : "-", n(r, "base"),
        r.contains("new") ? format_figure(r["new"], metric) : "-", n(r, "new"), change, bar, p,
        r["threshold"].get<double>() * 100,
        html_escape(r["regression"].get<bool>() ? "REGRESSION (" + verdict + ")" : verdict));
  }
  const auto who = [](const json& d) {
    std::string out;
    for (const auto& [k, v] : d.items()) {
      out += fmt::format("<dt>{}</dt><dd>{}</dd>", html_escape(k),
                         html_escape(v.is_string() ? v.get<std::string>() : v.dump()));
    }
    return out;
  };
  return fmt::format(
      R"(<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>cpbench compare</title>
<style>
body {{ font: 14px/1.4 system-ui, sans-serif; margin: 1.5em; color: #222; }}
table {{ border-collapse: collapse; }}
td, th {{ padding: 2px 8px; border-bottom: 1px solid #ddd; text-align: left; }}
td.num {{ text-align: right; font-variant-numeric: tabular-nums; }}
td.name {{ font-family: monospace; }}
tr.regression td {{ background: #f8d0d0; font-weight: bold; }}
tr.failed td {{ background: #f8d0d0; }}
tr.slower td {{ background: #fbeaea; }}
tr.faster td {{ background: #e3f4e3; }}
tr.untested td, tr.only_base td, tr.only_new td, tr.incomparable td {{ color: #777; }}
.bar {{ display: inline-block; height: 10px; }}
.bar.up {{ background: #3a3; }} .bar.down {{ background: #c33; }}
dl.who {{ display: grid; grid-template-columns: max-content auto; gap: 0 1em; }}
dt {{ font-weight: bold; }} dd {{ margin: 0; }}
.cols {{ display: flex; gap: 4em; }}
</style></head><body>
<h1>cpbench compare</h1>
<p class="summary"><b>{} regression(s)</b> beyond the threshold (default {:.0f}%, significance
&alpha; = {}): {} faster, {} slower, {} unchanged, {} untested (too few repetitions), {} failed,
{} only in base, {} only in new.</p>
<div class="cols"><div><h2>Base</h2><dl class="who">{}</dl></div>
<div><h2>New</h2><dl class="who">{}</dl></div></div>
<h2>Benchmarks</h2>
<p>Change: of the median, positive when the new file is faster (higher throughput, or less
time per iteration). p: two-sided Mann-Whitney U test over the repetitions.</p>
<table><thead><tr><th>benchmark</th><th>base (n)</th><th>new (n)</th><th>change</th><th></th>
<th>p</th><th>threshold</th><th>verdict</th></tr></thead>
<tbody>
{}</tbody></table>
</body></html>
)",
      s["regressions"].get<int>(), c["options"]["threshold"].get<double>() * 100,
      c["options"]["alpha"].get<double>(), s["faster"].get<int>(), s["slower"].get<int>(),
      s["unchanged"].get<int>(), s["untested"].get<int>(), s["failed"].get<int>(),
      s["only_base"].get<int>(), s["only_new"].get<int>(), who(c["base"]), who(c["new"]), rows);
}

}  // namespace cpb::reports
