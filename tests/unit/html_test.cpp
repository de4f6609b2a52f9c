// SPDX-License-Identifier: Apache-2.0
#include "reports/html.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace cpb::reports {
namespace {

using nlohmann::json;

std::size_t count(std::string_view s, std::string_view what) {
  std::size_t n = 0;
  for (auto at = s.find(what); at != std::string_view::npos; at = s.find(what, at + 1)) ++n;
  return n;
}

const std::string kHostile = "</script><script>alert(1)</script>";

json hostile_doc() {
  json doc;
  doc["context"] = {{"host_name", kHostile}};
  doc["cpbench"] = {{"schema_version", 1}, {"git_commit", "/*CPB_DATA*/ & <!-- -->"}};
  doc["benchmarks"] = json::array({{{"name", "fake/alpha/" + kHostile},
                                    {"run_type", "iteration"},
                                    {"error_occurred", true},
                                    {"error_message", kHostile}}});
  doc["checks"] = json::array();
  return doc;
}

TEST(Html, EmbedsChartJs) {
  ASSERT_GT(kChartJs.size(), 10'000U);
  const std::string html = render_html(json{{"benchmarks", json::array()}});
  EXPECT_NE(html.find("Chart"), std::string::npos);
  EXPECT_EQ(html.find("/*CPB_CHARTJS*/"), std::string::npos);
  EXPECT_EQ(html.find("/*CPB_DATA*/"), std::string::npos);
  // The library is there verbatim, up to its first script-closing sequence if any.
  const auto head = kChartJs.substr(0, std::min<std::size_t>(kChartJs.find("</"), 2000));
  EXPECT_NE(html.find(head), std::string::npos);
  EXPECT_GT(html.size(), kChartJs.size());
  EXPECT_EQ(html.rfind("<!DOCTYPE html>", 0), 0U);
}

TEST(Html, DataCannotCloseItsScriptElement) {
  const json doc = hostile_doc();
  const std::string html = render_html(doc);
  // The only closing tags are the template's own; Chart.js and the data add none.
  EXPECT_EQ(count(html, "</script"), count(kReportTemplate, "</script"));
  EXPECT_EQ(html.find("<script>alert"), std::string::npos);
  EXPECT_EQ(html.find("<!--"), std::string::npos);

  // The data element holds the document as JSON that parses back unchanged.
  const std::string open = R"(<script type="application/json" id="cpb-data">)";
  const auto begin = html.find(open);
  ASSERT_NE(begin, std::string::npos);
  const auto from = begin + open.size();
  const auto end = html.find("</script>", from);
  ASSERT_NE(end, std::string::npos);
  const std::string data = html.substr(from, end - from);
  EXPECT_EQ(data.find('<'), std::string::npos);
  EXPECT_EQ(data.find('>'), std::string::npos);
  EXPECT_EQ(data.find('&'), std::string::npos);
  EXPECT_EQ(json::parse(data), doc);
}

/// The primary entry of a case, as finalize leaves it: a median with the repetitions' range.
json primary(const std::string& impl, bool baseline, int threads, double ips, double lo, double hi,
             std::optional<double> fairness = std::nullopt) {
  json e = {
      {"name", "fake/" + impl + "/count/size:1/threads:" + std::to_string(threads) + "_median"},
      {"run_name", "fake/" + impl + "/count/size:1/threads:" + std::to_string(threads)},
      {"run_type", "aggregate"},
      {"aggregate_name", "median"},
      {"primary", true},
      {"family", "fake"},
      {"impl", impl},
      {"baseline", baseline},
      {"scenario", "count"},
      {"params", {{"size", 1}}},
      {"threads", threads},
      {"items_per_second", ips},
      {"items_per_second_min", lo},
      {"items_per_second_max", hi}};
  if (fairness) e["fairness"] = *fairness;
  return e;
}

/// Own alpha against baseline beta at 2 threads (alpha 3x, ranges apart) and at 4 threads on a
/// 2-CPU machine (beta ahead, ranges overlapping, alpha unfair).
json two_point_doc() {
  json doc;
  doc["context"] = {{"num_cpus", 2}};
  doc["cpbench"] = {{"schema_version", 1}};
  doc["benchmarks"] = json::array({primary("alpha", false, 2, 300, 290, 310, 0.99),
                                   primary("beta", true, 2, 100, 90, 110, 0.98),
                                   primary("alpha", false, 4, 100, 80, 130, 0.98),
                                   primary("beta", true, 4, 120, 100, 140, 0.5)});
  doc["checks"] = json::array();
  return doc;
}

/// The page without its scripts: what a preview with JavaScript off shows.
std::string static_part(const std::string& html) {
  std::string out;
  std::size_t from = 0;
  for (auto at = html.find("<script", from); at != std::string::npos;
       at = html.find("<script", from)) {
    out += html.substr(from, at - from);
    from = html.find("</script>", at);
    if (from == std::string::npos) return out;
    from += 9;
  }
  return out + html.substr(from);
}

TEST(Html, SummaryIsStaticWithWinnerMarginAndSignificance) {
  const std::string page = static_part(render_html(two_point_doc()));
  // 2 threads: alpha wins by 3x, its slowest repetition beat beta's fastest.
  EXPECT_NE(page.find("<b>alpha</b>"), std::string::npos);
  EXPECT_NE(page.find(">3.00x<"), std::string::npos);
  EXPECT_NE(page.find(">yes<"), std::string::npos);
  EXPECT_NE(page.find(">alpha 3.00x beta<"), std::string::npos);
  // 4 threads: beta, a baseline, wins by 1.2x; the ranges overlap; 4 threads on 2 CPUs.
  EXPECT_NE(page.find("<b>beta</b> <i>(baseline)</i>"), std::string::npos);
  EXPECT_NE(page.find(">1.20x<"), std::string::npos);
  EXPECT_NE(page.find(">no (overlap)<"), std::string::npos);
  EXPECT_NE(page.find("&gt; 2 CPUs"), std::string::npos);
  // beta wins while starving threads (fairness 0.5 against alpha's 0.98).
  EXPECT_NE(page.find("unfair 0.50"), std::string::npos);
  // The roll-up: own beats baseline at one point of two; median ratio (3 + 0.833) / 2.
  EXPECT_NE(page.find("at 1 of 2 points"), std::string::npos);
  EXPECT_NE(page.find(">1.92x<"), std::string::npos);
  // The meta line: two cases, no failures, no calibration.
  EXPECT_NE(page.find("4 cases"), std::string::npos);
  EXPECT_NE(page.find("Not calibrated"), std::string::npos);
}

TEST(Html, SummaryRowsCarryWhatTheFiltersRead) {
  const std::string s = render_summary_html(two_point_doc());
  EXPECT_NE(s.find(R"(data-family="fake" data-scenario="count" data-impls=" alpha beta ")"),
            std::string::npos);
  EXPECT_NE(s.find("class=\"sortable\""), std::string::npos);
}

TEST(Html, OneRepetitionHasNoSignificance) {
  json doc = two_point_doc();
  for (auto& e : doc["benchmarks"]) {
    e.erase("items_per_second_min");
    e.erase("items_per_second_max");
  }
  const std::string s = render_summary_html(doc);
  EXPECT_NE(s.find(">one repetition<"), std::string::npos);
  EXPECT_EQ(s.find(">yes<"), std::string::npos);
}

TEST(Html, MetaShowsTheDriftAlways) {
  json doc = two_point_doc();
  doc["cpbench"]["calibration"] = {{"start", {{"atomic_rtt_ns", 100.0}}},
                                   {"end", {{"atomic_rtt_ns", 110.0}}},
                                   {"drift_ratio", 1.1},
                                   {"drifted", false}};
  const std::string meta = render_meta_html(doc);
  EXPECT_NE(meta.find("100 ns at the start and 110 ns at the end, drift 1.10x."),
            std::string::npos);
  EXPECT_EQ(meta.find("changed under the run"), std::string::npos);
  doc["cpbench"]["calibration"]["drifted"] = true;
  EXPECT_NE(render_meta_html(doc).find("changed under the run"), std::string::npos);
}

TEST(Html, SummaryEscapesNames) {
  json doc = two_point_doc();
  doc["benchmarks"][0]["impl"] = kHostile;
  doc["benchmarks"][0]["family"] = "<b>\"";
  const std::string s = render_summary_html(doc);
  EXPECT_EQ(s.find("<script"), std::string::npos);
  EXPECT_EQ(s.find("<b>\""), std::string::npos);
  EXPECT_NE(s.find("&lt;b&gt;&quot;"), std::string::npos);
}

TEST(Html, MalformedFilesRenderWithoutThrowing) {
  // Hand-edited files: every field of the wrong type, in turn.
  std::vector<json> docs = {json::array(), json(nullptr), json{{"benchmarks", 3}},
                            json{{"benchmarks", json::array({1, "x", nullptr})}},
                            json{{"cpbench", "x"}, {"context", 7}, {"benchmarks", json::array()}}};
  const json good = primary("alpha", false, 2, 300, 290, 310, 0.9);
  for (const char* key :
       {"family", "impl", "scenario", "params", "threads", "items_per_second",
        "items_per_second_min", "items_per_second_max", "fairness", "baseline", "primary"}) {
    for (const json& bad : {json("x"), json(nullptr), json::array({1}), json::object(), json(-1)}) {
      json e = good;
      e[key] = bad;
      docs.push_back(
          {{"context", {{"num_cpus", "two"}}},
           {"cpbench", {{"calibration", {{"start", {{"cpus", 5}}}, {"drift_ratio", "x"}}}}},
           {"benchmarks", json::array({e, good, primary("beta", true, 2, 0, 0, 0)})}});
    }
  }
  for (const auto& doc : docs) {
    EXPECT_NO_THROW((void)render_summary_html(doc)) << doc.dump();
    EXPECT_NO_THROW((void)render_meta_html(doc)) << doc.dump();
    EXPECT_NO_THROW((void)render_html(doc)) << doc.dump();
  }
}

TEST(Html, PageKeepsPrimariesAndFailuresWithWhatItShowsOfTheRest) {
  // One case with three repetitions (per-thread items 1:1, 1:3, 2:2 at rising throughput) and
  // its aggregates, and a failed run of another.
  json doc = two_point_doc();
  json& b = doc["benchmarks"];
  b.erase(b.begin() + 1, b.end());
  const std::string run = b[0]["run_name"];
  const std::vector<json> per_thread = {{1, 1}, {1, 3}, {2, 2}};
  for (int i = 0; i < 3; ++i) {
    b.push_back({{"name", run},
                 {"run_name", run},
                 {"run_type", "iteration"},
                 {"error_occurred", false},
                 {"items_per_second", 100 * (i + 1)},
                 {"per_thread_items", per_thread[i]}});
  }
  for (const auto& [agg, v] : {std::pair{"stddev", 20.0}, std::pair{"cv", 0.1}}) {
    b.push_back({{"name", run + "_" + agg},
                 {"run_name", run},
                 {"run_type", "aggregate"},
                 {"aggregate_name", agg},
                 {"items_per_second", v}});
  }
  b.push_back({{"name", "fake/beta/count/size:1/threads:2"},
               {"run_type", "iteration"},
               {"error_occurred", true},
               {"error_message", "crashed"}});
  const json page = page_data(doc);
  ASSERT_EQ(page["benchmarks"].size(), 2U);
  const json& p = page["benchmarks"][0];
  EXPECT_EQ(p["name"], b[0]["name"]);
  EXPECT_EQ(p["page"]["per_thread_items"], json({1, 3}));  // the median repetition's
  EXPECT_EQ(p["page"]["items_per_second_stddev"], 20.0);
  EXPECT_EQ(p["page"]["items_per_second_cv"], 0.1);
  EXPECT_EQ(page["benchmarks"][1]["error_message"], "crashed");
  EXPECT_EQ(page["context"], doc["context"]);
  EXPECT_EQ(page["cpbench"], doc["cpbench"]);
  // The page embeds that (no '<', '>' or '&' to escape in it), once.
  const std::string html = render_html(doc);
  EXPECT_NE(html.find(page.dump()), std::string::npos);
  EXPECT_EQ(count(html, R"("per_thread_items":[1,3])"), 1U);
  EXPECT_EQ(html.find(R"("per_thread_items":[2,2])"), std::string::npos);
}

TEST(Html, InvalidUtf8DoesNotThrow) {
  json doc = {{"benchmarks", json::array()}, {"context", {{"host_name", "bad \xff byte"}}}};
  EXPECT_NO_THROW((void)render_html(doc));
}

}  // namespace
}  // namespace cpb::reports
