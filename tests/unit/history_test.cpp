// SPDX-License-Identifier: Apache-2.0
// Run history: the folder `run --history` fills, and the trends `report FOLDER` draws from it.
#include "reports/history.hpp"

#include "harness/core/errors.hpp"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <unistd.h>
#include <vector>

namespace {

namespace fs = std::filesystem;
using nlohmann::json;

/// A result file: five repetitions per name at the given throughputs, and the run's commit.
json run(const std::string& commit, const std::vector<std::pair<std::string, double>>& rates) {
  json doc = {{"benchmarks", json::array()},
              {"cpbench", {{"schema_version", 1}, {"git_commit", commit}}}};
  for (const auto& [name, rate] : rates) {
    for (int i = 0; i < 5; ++i) {
      const double r = rate * (1 + 0.01 * i);
      doc["benchmarks"].push_back({{"name", name},
                                   {"run_name", name},
                                   {"run_type", "iteration"},
                                   {"repetition_index", i},
                                   {"items_per_second", r},
                                   {"real_time", 1e9 / r},
                                   {"time_unit", "ns"}});
    }
  }
  return doc;
}

fs::path fresh_dir(const std::string& name) {
  const fs::path dir = fs::temp_directory_path() / (name + "." + std::to_string(getpid()));
  fs::remove_all(dir);
  return dir;
}

TEST(History, AppendsInOrderAndNeverOverwrites) {
  const fs::path dir = fresh_dir("cpb_history");
  cpb::reports::prepare_history(dir.string());
  ASSERT_TRUE(fs::is_directory(dir));
  std::vector<std::string> written;
  for (int i = 0; i < 3; ++i) {
    written.push_back(cpb::reports::append_history(
        dir.string(), run("c" + std::to_string(i), {{"f/a/s/threads:1", 100.0 + i}})));
  }
  const auto runs = cpb::reports::read_history(dir.string());
  ASSERT_EQ(runs.size(), 3U);  // three files, even when written within one millisecond
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(runs[i].first, written[i]);
    EXPECT_EQ(runs[i].second["cpbench"]["git_commit"], "c" + std::to_string(i));
  }
  fs::remove_all(dir);
}

TEST(History, BadFoldersAreUsageErrors) {
  const fs::path dir = fresh_dir("cpb_history_bad");
  EXPECT_THROW(cpb::reports::read_history(dir.string()), cpb::UsageError);  // missing
  fs::create_directories(dir);
  EXPECT_THROW(cpb::reports::read_history(dir.string()), cpb::UsageError);  // empty
  std::ofstream(dir / "a.json") << "{\"benchmarks\": [";
  EXPECT_THROW(cpb::reports::read_history(dir.string()), cpb::UsageError);  // malformed
  EXPECT_THROW(cpb::reports::prepare_history((dir / "a.json").string()), cpb::UsageError);
  fs::remove_all(dir);
}

TEST(History, TrendsMarkOnlyTheSignificantChanges) {
  std::vector<std::pair<std::string, json>> runs = {
      {"1.json", run("c1", {{"f/steady/s/threads:1", 100}, {"f/drop/s/threads:1", 100}})},
      {"2.json", run("c2", {{"f/steady/s/threads:1", 100}, {"f/drop/s/threads:1", 100}})},
      {"3.json", run("c3", {{"f/steady/s/threads:1", 100}, {"f/drop/s/threads:1", 50}})},
      {"4.json", run("c4", {{"f/steady/s/threads:1", 100}, {"f/late/s/threads:1", 7}})},
  };
  const json t = cpb::reports::trends(runs, {});
  EXPECT_EQ(t["summary"]["runs"], 4);
  EXPECT_EQ(t["summary"]["benchmarks"], 3);
  EXPECT_EQ(t["summary"]["slower"], 1);
  EXPECT_EQ(t["summary"]["regressions"], 1);
  EXPECT_EQ(t["summary"]["faster"], 0);
  for (const auto& s : t["series"]) {
    const std::string name = s["name"];
    if (name == "f/drop/s/threads:1") {
      ASSERT_EQ(s["points"].size(), 3U);  // not in run 3
      EXPECT_DOUBLE_EQ(s["points"][2]["median"].get<double>(), 51.0);
      ASSERT_EQ(s["changes"].size(), 1U);
      EXPECT_EQ(s["changes"][0]["run"], 2);
      EXPECT_EQ(s["changes"][0]["verdict"], "slower");
      EXPECT_NEAR(s["changes"][0]["change"].get<double>(), -0.5, 1e-9);
    } else if (name == "f/late/s/threads:1") {
      ASSERT_EQ(s["points"].size(), 1U);  // a benchmark that first ran in the last run
      EXPECT_EQ(s["points"][0]["run"], 3);
      EXPECT_TRUE(s["changes"].empty());
    } else {
      EXPECT_EQ(name, "f/steady/s/threads:1");
      EXPECT_EQ(s["points"].size(), 4U);
      EXPECT_TRUE(s["changes"].empty());
    }
  }
  const std::string html = cpb::reports::render_trend_html(t);
  EXPECT_NE(html.find("f/drop/s/threads:1</td>"), std::string::npos);  // the static table
  EXPECT_EQ(html.find("/*CPB_DATA*/"), std::string::npos);
}

}  // namespace
