// SPDX-License-Identifier: Apache-2.0
#include "reports/html.hpp"

#include "reports/advice.hpp"
#include "reports/page.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <map>
#include <optional>
#include <vector>

namespace cpb::reports {
namespace {

using nlohmann::json;

// Readers that never throw: a result file may be edited by hand, so every field may be absent
// or of another type, and the report shows what it can.

const json* field(const json& j, const char* key) {
  if (!j.is_object()) return nullptr;
  const auto it = j.find(key);
  return it == j.end() ? nullptr : &*it;
}

const json& object_or_empty(const json& j, const char* key) {
  static const json empty = json::object();
  const json* f = field(j, key);
  return f != nullptr && f->is_object() ? *f : empty;
}

std::optional<double> number(const json& j, const char* key) {
  const json* f = field(j, key);
  if (f == nullptr || !f->is_number()) return std::nullopt;
  const double v = f->get<double>();
  if (!std::isfinite(v)) return std::nullopt;
  return v;
}

std::string text(const json& j, const char* key) {
  const json* f = field(j, key);
  return f != nullptr && f->is_string() ? f->get<std::string>() : std::string();
}

bool is_true(const json& j, const char* key) {
  const json* f = field(j, key);
  return f != nullptr && f->is_boolean() && f->get<bool>();
}

std::size_t array_size(const json& j, const char* key) {
  const json* f = field(j, key);
  return f != nullptr && f->is_array() ? f->size() : 0;
}

/// Invalid UTF-8 (a damaged file) becomes U+FFFD rather than an exception.
std::string dump(const json& v) { return v.dump(-1, ' ', false, json::error_handler_t::replace); }

std::string params_text(const json& e) {
  std::string out;
  for (const auto& [k, v] : object_or_empty(e, "params").items()) {
    if (!out.empty()) out += ' ';
    out += k + ':' + (v.is_string() ? v.get<std::string>() : dump(v));
  }
  return out;
}

std::string rate_text(double x) {
  if (x >= 1e9) return fmt::format("{:.2f} G/s", x / 1e9);
  if (x >= 1e6) return fmt::format("{:.2f} M/s", x / 1e6);
  if (x >= 1e3) return fmt::format("{:.2f} k/s", x / 1e3);
  return fmt::format("{:.1f} /s", x);
}

/// The CPUs the benchmark threads could use: the affinity mask the calibration recorded, else
/// the machine's count.
std::optional<double> cpus_available(const json& doc) {
  const json& start =
      object_or_empty(object_or_empty(object_or_empty(doc, "cpbench"), "calibration"), "start");
  if (const std::size_t n = array_size(start, "cpus"); n > 0) return static_cast<double>(n);
  return number(object_or_empty(doc, "context"), "num_cpus");
}

/// The primary entries that can be ranked: a family, an implementation and a throughput.
std::vector<const json*> rankable_primaries(const json& doc) {
  std::vector<const json*> out;
  const json* benchmarks = field(doc, "benchmarks");
  if (benchmarks == nullptr || !benchmarks->is_array()) return out;
  for (const auto& e : *benchmarks) {
    if (!is_true(e, "primary") || text(e, "family").empty() || text(e, "impl").empty() ||
        !number(e, "items_per_second") || !number(e, "threads")) {
      continue;
    }
    out.push_back(&e);
  }
  return out;
}

/// One point of the matrix: family × scenario × parameters × threads, and the primary entries
/// that ran it, fastest first.
struct Point {
  std::string family, scenario, params;
  double threads = 0;
  std::vector<const json*> rows;
};

std::vector<Point> points_of(const std::vector<const json*>& primaries) {
  std::vector<Point> points;
  std::map<std::string, std::size_t> index;
  for (const json* e : primaries) {
    Point p{text(*e, "family"), text(*e, "scenario"), params_text(*e), *number(*e, "threads"), {}};
    const std::string key =
        fmt::format("{}\n{}\n{}\n{}", p.family, p.scenario, p.params, p.threads);
    const auto [it, fresh] = index.try_emplace(key, points.size());
    if (fresh) points.push_back(std::move(p));
    points[it->second].rows.push_back(e);
  }
  // Each case group in the order it first appears (the registry's), thread counts ascending.
  std::map<std::string, std::size_t> group_order;
  for (const auto& p : points) {
    group_order.try_emplace(p.family + '\n' + p.scenario + '\n' + p.params, group_order.size());
  }
  std::stable_sort(points.begin(), points.end(), [&](const Point& a, const Point& b) {
    const auto ga = group_order.at(a.family + '\n' + a.scenario + '\n' + a.params);
    const auto gb = group_order.at(b.family + '\n' + b.scenario + '\n' + b.params);
    return ga != gb ? ga < gb : a.threads < b.threads;
  });
  for (auto& p : points) {
    std::stable_sort(p.rows.begin(), p.rows.end(), [](const json* a, const json* b) {
      return *number(*a, "items_per_second") > *number(*b, "items_per_second");
    });
  }
  return points;
}

const json* first_where(const Point& p, bool baseline) {
  for (const json* e : p.rows) {
    if (is_true(*e, "baseline") == baseline) return e;
  }
  return nullptr;
}

std::string ratio_text(double r) { return fmt::format("{:.2f}x", r); }

/// Per family: at how many points the best own implementation beats the best baseline.
std::string rollup_html(const std::vector<Point>& points) {
  struct Tally {
    int points = 0, wins = 0;
    std::vector<double> ratios;
  };
  std::vector<std::pair<std::string, Tally>> families;
  for (const auto& p : points) {
    const json* own = first_where(p, false);
    const json* base = first_where(p, true);
    if (own == nullptr || base == nullptr) continue;
    auto it = std::find_if(families.begin(), families.end(),
                           [&](const auto& f) { return f.first == p.family; });
    if (it == families.end()) it = families.insert(families.end(), {p.family, Tally{}});
    const double o = *number(*own, "items_per_second");
    const double b = *number(*base, "items_per_second");
    ++it->second.points;
    if (o > b) ++it->second.wins;
    if (b > 0) it->second.ratios.push_back(o / b);
  }
  if (families.empty()) return "";
  std::string out =
      "<table id=\"rollup\" class=\"sortable\"><thead><tr><th class=\"l\">family</th>"
      "<th class=\"l\" title=\"points (scenario × parameters × threads) where both an own "
      "implementation and a baseline ran\">best own beats best baseline</th>"
      "<th title=\"best own over best baseline, items per second\">median ratio</th>"
      "<th>lowest</th><th>highest</th></tr></thead><tbody>\n";
  for (auto& [family, t] : families) {
    std::sort(t.ratios.begin(), t.ratios.end());
    const std::size_t n = t.ratios.size();
    const auto cell = [](std::optional<double> r) {
      return r ? fmt::format("<td data-v=\"{}\">{}</td>", *r, ratio_text(*r)) : "<td>-</td>";
    };
    std::optional<double> med, lo, hi;
    if (n > 0) {
      med = n % 2 == 1 ? t.ratios[n / 2] : (t.ratios[n / 2 - 1] + t.ratios[n / 2]) / 2;
      lo = t.ratios.front();
      hi = t.ratios.back();
    }
    out += fmt::format(
        "<tr data-family=\"{0}\"><td class=\"l\">{0}</td><td class=\"l {1}\" data-v=\"{2}\">at {3} "
        "of {4} points</td>{5}{6}{7}</tr>\n",
        html_escape(family), t.wins * 2 >= t.points ? "good" : "bad",
        static_cast<double>(t.wins) / t.points, t.wins, t.points, cell(med), cell(lo), cell(hi));
  }
  return out + "</tbody></table>\n";
}

std::string point_row(const Point& p, std::optional<double> cpus) {
  const json& best = *p.rows.front();
  const json* second = p.rows.size() > 1 ? p.rows[1] : nullptr;
  const double best_ips = *number(best, "items_per_second");
  std::string impls = " ";
  for (const json* e : p.rows) impls += text(*e, "impl") + ' ';

  std::string threads = fmt::format("{}", p.threads);
  if (cpus && p.threads > *cpus) {
    threads += fmt::format(
        " <span class=\"bad\" title=\"more threads than CPUs: they take turns, and a thread "
        "preempted while it holds something makes the others wait\">&gt; {} CPUs</span>",
        *cpus);
  }
  std::string winner = "<b>" + html_escape(text(best, "impl")) + "</b>";
  if (is_true(best, "baseline")) winner += " <i>(baseline)</i>";
  // A winner that starves threads: low Jain index where another implementation shares fairly.
  const auto fair = number(best, "fairness");
  double fairest = 0;
  for (const json* e : p.rows) fairest = std::max(fairest, number(*e, "fairness").value_or(0));
  if (fair && *fair < 0.8 && fairest > *fair + 0.1) {
    winner += fmt::format(
        " <span class=\"bad\" title=\"Jain's fairness index {:.3f} against {:.3f} for the fairest: "
        "some threads wait while others run\">unfair {:.2f}</span>",
        *fair, fairest, *fair);
  }

  std::string margin = "<td>-</td>", sig = "<td class=\"l\">-</td>", runner = "-";
  if (second != nullptr) {
    runner = html_escape(text(*second, "impl")) +
             (is_true(*second, "baseline") ? " <i>(baseline)</i>" : "");
    const double s = *number(*second, "items_per_second");
    if (s > 0)
      margin = fmt::format("<td data-v=\"{}\">{}</td>", best_ips / s, ratio_text(best_ips / s));
    const auto lo = number(best, "items_per_second_min");
    const auto hi = number(*second, "items_per_second_max");
    if (lo && hi) {
      sig = *lo > *hi ? "<td class=\"l good\">yes</td>" : "<td class=\"l\">no (overlap)</td>";
    } else {
      sig =
          "<td class=\"l\" title=\"one successful repetition: no range to compare\">one "
          "repetition</td>";
    }
  }
  std::string vs = "<td class=\"l\">-</td>";
  const json* own = first_where(p, false);
  const json* base = first_where(p, true);
  if (own != nullptr && base != nullptr && *number(*base, "items_per_second") > 0) {
    const double r = *number(*own, "items_per_second") / *number(*base, "items_per_second");
    vs = fmt::format("<td class=\"l {}\" data-v=\"{}\">{} {} {}</td>", r > 1 ? "good" : "bad", r,
                     html_escape(text(*own, "impl")), ratio_text(r),
                     html_escape(text(*base, "impl")));
  } else if (base == nullptr) {
    vs = "<td class=\"l meta\">no baseline</td>";
  }
  return fmt::format(
      "<tr data-family=\"{0}\" data-scenario=\"{1}\" data-impls=\"{2}\"><td class=\"l\">{0}</td>"
      "<td class=\"l\">{1}</td><td class=\"l\">{3}</td><td data-v=\"{4}\">{5}</td><td "
      "class=\"l\">{6}</td><td data-v=\"{7}\">{8}</td><td class=\"l\">{9}</td>{10}{11}{12}</tr>\n",
      html_escape(p.family), html_escape(p.scenario), html_escape(impls), html_escape(p.params),
      p.threads, threads, winner, best_ips, rate_text(best_ips), runner, margin, sig, vs);
}

}  // namespace

json page_data(const json& doc) {
  const json* benchmarks = field(doc, "benchmarks");
  if (benchmarks == nullptr || !benchmarks->is_array()) return doc;
  // Per case: its successful repetitions, and its stddev and cv aggregates.
  std::map<std::string, std::vector<const json*>> reps;
  std::map<std::string, const json*> stddev, cv;
  for (const auto& e : *benchmarks) {
    const std::string run = text(e, "run_name");
    if (run.empty()) continue;
    if (text(e, "run_type") == "aggregate") {
      const std::string agg = text(e, "aggregate_name");
      if (agg == "stddev") stddev[run] = &e;
      if (agg == "cv") cv[run] = &e;
    } else if (!is_true(e, "error_occurred") && number(e, "items_per_second") &&
               array_size(e, "per_thread_items") > 0) {
      reps[run].push_back(&e);
    }
  }
  json kept = json::array();
  for (const auto& e : *benchmarks) {
    if (!is_true(e, "primary")) {
      if (is_true(e, "error_occurred")) kept.push_back(e);
      continue;
    }
    json entry = e;
    json page = json::object();
    const std::string run = text(e, "run_name");
    if (const auto it = stddev.find(run); it != stddev.end()) {
      if (const auto v = number(*it->second, "items_per_second"))
        page["items_per_second_stddev"] = *v;
    }
    if (const auto it = cv.find(run); it != cv.end()) {
      if (const auto v = number(*it->second, "items_per_second")) page["items_per_second_cv"] = *v;
    }
    if (auto it = reps.find(run); it != reps.end() && field(e, "per_thread_items") == nullptr) {
      // The per-thread items of the median repetition (the lower one of an even count).
      auto& rs = it->second;
      std::stable_sort(rs.begin(), rs.end(), [](const json* a, const json* b) {
        return *number(*a, "items_per_second") < *number(*b, "items_per_second");
      });
      page["per_thread_items"] = rs[(rs.size() - 1) / 2]->at("per_thread_items");
    }
    if (!page.empty()) entry["page"] = std::move(page);
    kept.push_back(std::move(entry));
  }
  json out = json::object();
  for (const auto& [k, v] : doc.items()) {
    if (k != "benchmarks") out[k] = v;
  }
  out["benchmarks"] = std::move(kept);
  return out;
}

std::string html_escape(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (char c : s) {
    switch (c) {
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '&':
        out += "&amp;";
        break;
      case '"':
        out += "&quot;";
        break;
      default:
        out += c;
    }
  }
  return out;
}

std::string render_meta_html(const json& doc) {
  const json& cp = object_or_empty(doc, "cpbench");
  const json& ctx = object_or_empty(doc, "context");
  const auto or_q = [](std::string s) { return s.empty() ? std::string("?") : s; };
  std::string out =
      fmt::format("cpbench {} (commit {}), {}, preset {}", html_escape(or_q(text(cp, "version"))),
                  html_escape(or_q(text(cp, "git_commit"))), html_escape(text(cp, "compiler")),
                  html_escape(or_q(text(cp, "preset"))));
  if (const auto host = text(ctx, "host_name"); !host.empty()) out += ", " + html_escape(host);
  if (const auto n = number(ctx, "num_cpus")) out += fmt::format(", {} CPUs", *n);
  if (const auto date = text(ctx, "date"); !date.empty()) out += ", " + html_escape(date);
  std::size_t cases = 0, failed = 0;
  if (const json* b = field(doc, "benchmarks"); b != nullptr && b->is_array()) {
    for (const auto& e : *b) {
      cases += is_true(e, "primary") ? 1 : 0;
      failed += is_true(e, "error_occurred") ? 1 : 0;
    }
  }
  out += fmt::format(". {} cases, <span class=\"{}\">{} failed runs</span>", cases,
                     failed > 0 ? "bad" : "good", failed);
  if (const json* checks = field(doc, "checks");
      checks != nullptr && checks->is_array() && !checks->empty()) {
    std::size_t bad = 0;
    for (const auto& c : *checks) bad += text(c, "verdict") == "pass" ? 0 : 1;
    out += fmt::format(", {} checks (<span class=\"{}\">{} failed</span>)", checks->size(),
                       bad > 0 ? "bad" : "good", bad);
  }
  out += '.';
  if (const auto san = text(cp, "sanitizers"); !san.empty()) {
    out += fmt::format(
        " <span class=\"bad\">A {} sanitizer build: these are not performance "
        "numbers.</span>",
        html_escape(san));
  }
  // The drift figure, always: whether the machine's primitives held still during the run.
  const json& cal = object_or_empty(cp, "calibration");
  const auto a = number(object_or_empty(cal, "start"), "atomic_rtt_ns");
  const auto b = number(object_or_empty(cal, "end"), "atomic_rtt_ns");
  if (const auto drift = number(cal, "drift_ratio"); drift && a && b) {
    out += fmt::format(
        "<br>Calibration: the core-to-core round trip took {:.0f} ns at the start and {:.0f} ns at "
        "the end, drift {:.2f}x{}",
        *a, *b, *drift,
        is_true(cal, "drifted")
            ? ": <span class=\"bad\">the machine changed under the run; compare ratios, not "
              "absolute numbers</span>."
            : ".");
  } else if (field(cp, "calibration") == nullptr && field(doc, "benchmarks") != nullptr &&
             cases > 0) {
    out += "<br>Not calibrated (<code>--no-calibration</code>): no drift figure.";
  }
  return out;
}

std::string render_summary_html(const json& doc) {
  const auto points = points_of(rankable_primaries(doc));
  if (points.empty()) {
    return "<p class=\"meta\">No measured cases in this file.</p>\n";
  }
  const auto cpus = cpus_available(doc);
  std::string out = rollup_html(points);
  out +=
      "<div class=\"scroll\"><table id=\"summary-table\" class=\"sortable\"><thead><tr>"
      "<th class=\"l\">family</th><th class=\"l\">scenario</th><th class=\"l\">params</th>"
      "<th>threads</th><th class=\"l\">best</th><th>items/s</th><th class=\"l\">runner-up</th>"
      "<th title=\"best over runner-up, items per second (medians)\">margin</th>"
      "<th class=\"l\" title=\"yes when the slowest repetition of the best beat the fastest of "
      "the runner-up\">significant</th>"
      "<th class=\"l\" title=\"the best own implementation against the best baseline at this "
      "point\">own vs baseline</th></tr></thead><tbody>\n";
  for (const auto& p : points) out += point_row(p, cpus);
  return out + "</tbody></table></div>\n";
}

std::string render_html(const nlohmann::json& doc) {
  std::string html(kReportTemplate);
  // Chart.js first: it comes before every other marker, and contains none. Then the data, which
  // comes after the static blocks: they may hold any text of the file (a host name of
  // "/*CPB_DATA*/"), the data holds no '<' and so no static block's marker.
  embed_chartjs(html);
  replace_once(html, "/*CPB_DATA*/", script_safe_json(page_data(doc)));
  // Static, so a preview without JavaScript shows the answer.
  std::string advice;
  if (doc.contains("advice")) {
    try {
      advice = render_advice_html(doc["advice"]);
    } catch (const nlohmann::json::exception&) {  // a file edited by hand, or damaged
      advice = "<p class=\"err\">This file's advice block is malformed; it is not shown.</p>";
    }
  }
  std::string meta, summary;
  try {
    meta = render_meta_html(doc);
    summary = render_summary_html(doc);
  } catch (const nlohmann::json::exception&) {  // not expected: the readers above check types
    summary = "<p class=\"err\">This file's benchmarks are malformed; no summary.</p>";
  }
  replace_once(html, "<!--CPB_TOC_ADVICE-->",
               advice.empty() ? "" : "<a href=\"#advice\">Advice</a>");
  replace_once(html, "<!--CPB_ADVICE-->", advice);
  replace_once(html, "<!--CPB_META-->", meta);
  replace_once(html, "<!--CPB_SUMMARY-->", summary);
  return html;
}

}  // namespace cpb::reports
