// SPDX-License-Identifier: Apache-2.0
// `cpbench compare`: the U test, thresholds, and the verdicts on planted changes.
#include "reports/compare.hpp"

#include "harness/core/errors.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <string>
#include <vector>

namespace {

using cpb::reports::compare;
using cpb::reports::CompareOptions;
using cpb::reports::mann_whitney_p;
using nlohmann::json;

TEST(MannWhitney, ExactWithoutTies) {
  // Complete separation: U = 0 has probability 1 / C(n1 + n2, n1), doubled for two sides.
  const std::vector<double> a = {1, 2, 3, 4, 5};
  const std::vector<double> b = {6, 7, 8, 9, 10};
  EXPECT_NEAR(mann_whitney_p(a, b), 2.0 / 252, 1e-12);
  EXPECT_NEAR(mann_whitney_p(b, a), 2.0 / 252, 1e-12);
  EXPECT_NEAR(mann_whitney_p(std::vector<double>{1, 2, 3}, std::vector<double>{4, 5, 6}), 0.1,
              1e-12);
  // U = 1 of 3 x 3: P(U <= 1) = 2/20, two-sided 0.2.
  EXPECT_NEAR(mann_whitney_p(std::vector<double>{1, 2, 4}, std::vector<double>{3, 5, 6}), 0.2,
              1e-12);
  // Interleaved samples are as alike as they can be.
  EXPECT_NEAR(mann_whitney_p(std::vector<double>{1, 4, 5, 8}, std::vector<double>{2, 3, 6, 7}), 1.0,
              1e-12);
}

TEST(MannWhitney, NormalApproximationWithTies) {
  // a = {1, 2, 2}, b = {2, 3, 4}: ranks 1, 3, 3 | 3, 5, 6; R1 = 7, U1 = 1; ties: one group of 3.
  // var = 9/12 * (7 - 24/30) = 4.65; z = (|1 - 4.5| - 0.5) / sqrt(4.65).
  const double z = 3.0 / std::sqrt(4.65);
  EXPECT_NEAR(mann_whitney_p(std::vector<double>{1, 2, 2}, std::vector<double>{2, 3, 4}),
              std::erfc(z / std::sqrt(2.0)), 1e-12);
  EXPECT_EQ(mann_whitney_p(std::vector<double>{5, 5}, std::vector<double>{5, 5, 5}), 1.0);
  EXPECT_EQ(mann_whitney_p(std::vector<double>{}, std::vector<double>{1}), 1.0);
}

TEST(Thresholds, TheLongestMatchingNameWins) {
  cpb::reports::Thresholds t{0.05, {{"mutex", 0.10}, {"mutex/ticket_lock/", 0.20}, {"mute", 0.9}}};
  EXPECT_DOUBLE_EQ(t.for_name("mutex/std_mutex/contended/threads:2"), 0.10);
  EXPECT_DOUBLE_EQ(t.for_name("mutex/ticket_lock/contended/threads:2"), 0.20);
  EXPECT_DOUBLE_EQ(t.for_name("mutexes/x"), 0.05);  // "mute" and "mutex" end inside a word
  EXPECT_DOUBLE_EQ(t.for_name("mutex"), 0.10);
  EXPECT_DOUBLE_EQ(t.for_name("BM_Other"), 0.05);
}

TEST(Thresholds, PercentagesParseOrFailWithOneLine) {
  EXPECT_DOUBLE_EQ(cpb::reports::parse_percent("--threshold", "5%"), 0.05);
  EXPECT_DOUBLE_EQ(cpb::reports::parse_percent("--threshold", "12.5"), 0.125);
  EXPECT_THROW(cpb::reports::parse_percent("--threshold", "-1%"), cpb::UsageError);
  EXPECT_THROW(cpb::reports::parse_percent("--threshold", "five"), cpb::UsageError);
  EXPECT_THROW(cpb::reports::parse_percent("--threshold", "%"), cpb::UsageError);
  EXPECT_THROW(cpb::reports::read_thresholds("/nonexistent.json", 0.05), cpb::UsageError);
}

/// A cpbench-like file: `reps` iteration entries per name with the given throughputs.
json file(const std::vector<std::pair<std::string, std::vector<double>>>& cases) {
  json doc = {{"benchmarks", json::array()}, {"cpbench", {{"schema_version", 1}}}};
  for (const auto& [name, rates] : cases) {
    for (std::size_t i = 0; i < rates.size(); ++i) {
      doc["benchmarks"].push_back({{"name", name},
                                   {"run_name", name},
                                   {"run_type", "iteration"},
                                   {"repetition_index", i},
                                   {"items_per_second", rates[i]},
                                   {"real_time", 1e9 / rates[i]},
                                   {"time_unit", "ns"}});
    }
  }
  return doc;
}

const json* row(const json& c, const std::string& name) {
  for (const auto& r : c["comparisons"]) {
    if (r["name"] == name) return &r;
  }
  return nullptr;
}

TEST(Compare, APlantedSlowdownIsARegressionAndNoiseIsNot) {
  const json base = file({{"f/slowed/s/threads:1", {100, 101, 102, 99, 100}},
                          {"f/same/s/threads:1", {100, 101, 102, 99, 100}},
                          {"f/gone/s/threads:1", {1, 2}}});
  const json next = file({{"f/slowed/s/threads:1", {50, 51, 49, 50, 52}},
                          {"f/same/s/threads:1", {101, 100, 99, 102, 100}},
                          {"f/added/s/threads:1", {1, 2}}});
  const json c = compare(base, next, CompareOptions{});
  const json* slowed = row(c, "f/slowed/s/threads:1");
  ASSERT_NE(slowed, nullptr);
  EXPECT_EQ((*slowed)["verdict"], "slower");
  EXPECT_TRUE((*slowed)["regression"].get<bool>());
  EXPECT_NEAR((*slowed)["change"].get<double>(), -0.5, 1e-9);
  EXPECT_EQ((*row(c, "f/same/s/threads:1"))["verdict"], "unchanged");
  EXPECT_EQ((*row(c, "f/gone/s/threads:1"))["verdict"], "only_base");
  EXPECT_EQ((*row(c, "f/added/s/threads:1"))["verdict"], "only_new");
  EXPECT_EQ(c["summary"]["regressions"], 1);

  // The same slowdown under a family threshold above it is reported, not a regression.
  CompareOptions lenient;
  lenient.thresholds.by_name = {{"f", 0.6}};
  const json d = compare(base, next, lenient);
  EXPECT_EQ((*row(d, "f/slowed/s/threads:1"))["verdict"], "slower");
  EXPECT_EQ(d["summary"]["regressions"], 0);
}

TEST(Compare, TooFewRepetitionsAreUntestedNotFailed) {
  const json base = file({{"f/a/s", {100, 101, 102}}});
  const json next = file({{"f/a/s", {10, 11, 12}}});
  const json c = compare(base, next, CompareOptions{});
  EXPECT_EQ(c["comparisons"][0]["verdict"], "untested");  // 3 vs 3 cannot reach p < 0.05
  EXPECT_EQ(c["summary"]["regressions"], 0);
}

TEST(Compare, ACaseThatNowFailsIsARegression) {
  const json base = file({{"f/a/s", {100, 101, 102, 103}}});
  json next = base;
  next["benchmarks"][1] = {{"name", "f/a/s"},
                           {"run_name", "f/a/s"},
                           {"run_type", "iteration"},
                           {"error_occurred", true},
                           {"error_message", "crashed: killed by signal 11 (SIGSEGV)"}};
  const json c = compare(base, next, CompareOptions{});
  EXPECT_EQ(c["comparisons"][0]["verdict"], "failed");
  EXPECT_EQ(c["comparisons"][0]["new"]["error_message"], "crashed: killed by signal 11 (SIGSEGV)");
  EXPECT_EQ(c["summary"]["regressions"], 1);
}

TEST(Compare, GoogleBenchmarkTimesCountLowerAsFaster) {
  // Google Benchmark's own layout: no items_per_second, real_time in microseconds.
  const auto gb = [](std::vector<double> us) {
    json doc = {{"context", {{"library_build_type", "release"}}}, {"benchmarks", json::array()}};
    for (double t : us) {
      doc["benchmarks"].push_back({{"name", "BM_Sort/1024"},
                                   {"run_name", "BM_Sort/1024"},
                                   {"run_type", "iteration"},
                                   {"real_time", t},
                                   {"cpu_time", t},
                                   {"time_unit", "us"}});
    }
    doc["benchmarks"].push_back({{"name", "BM_Sort/1024_mean"},
                                 {"run_name", "BM_Sort/1024"},
                                 {"run_type", "aggregate"},
                                 {"aggregate_name", "mean"},
                                 {"real_time", 1.0},
                                 {"time_unit", "us"}});
    return doc;
  };
  const json c = compare(gb({10, 10.1, 10.2, 9.9, 10}), gb({20, 20.2, 19.8, 20.1, 20}), {});
  ASSERT_EQ(c["comparisons"].size(), 1U);  // aggregates are not a second benchmark
  const json& r = c["comparisons"][0];
  EXPECT_EQ(r["metric"], "real_time_ns");
  EXPECT_EQ(r["verdict"], "slower");
  EXPECT_NEAR(r["change"].get<double>(), -0.5, 1e-9);
  EXPECT_DOUBLE_EQ(r["base"]["median"].get<double>(), 10'000);
  EXPECT_EQ(c["base"]["format"], "google-benchmark");
}

TEST(Compare, AnyFigureCanBeTheMetric) {
  json base = file({{"f/a/s", {100, 100, 100, 100, 100}}});
  json next = base;
  for (std::size_t i = 0; i < 5; ++i) {
    base["benchmarks"][i]["latency_ns"] = {{"p99", 100.0 + static_cast<double>(i)}};
    next["benchmarks"][i]["latency_ns"] = {{"p99", 300.0 + static_cast<double>(i)}};
  }
  CompareOptions o;
  o.metric = "latency_ns.p99";
  const json c = compare(base, next, o);
  const json& r = c["comparisons"][0];
  EXPECT_EQ(r["metric"], "latency_ns.p99");
  EXPECT_FALSE(r["higher_is_better"].get<bool>());  // a longer tail is worse
  EXPECT_EQ(r["verdict"], "slower");
  EXPECT_TRUE(r["regression"].get<bool>());
  o.metric = "nosuch";
  EXPECT_EQ(compare(base, next, o)["comparisons"][0]["verdict"], "incomparable");
}

TEST(Compare, TheHtmlViewIsStaticAndEscaped) {
  const json base = file({{"f/<b>/s", {100, 101, 102, 99, 100}}});
  const json next = file({{"f/<b>/s", {50, 51, 49, 50, 52}}});
  const std::string html = cpb::reports::render_compare_html(compare(base, next, {}));
  EXPECT_NE(html.find("f/&lt;b&gt;/s"), std::string::npos);
  EXPECT_EQ(html.find("f/<b>/s"), std::string::npos);
  EXPECT_NE(html.find("REGRESSION"), std::string::npos);
  EXPECT_NE(html.find("<b>1 regression(s)</b>"), std::string::npos);
}

}  // namespace
