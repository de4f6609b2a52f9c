// SPDX-License-Identifier: Apache-2.0
// `cpbench advise`: the ranking and its reasons, on a made-up result file.
#include "reports/advice.hpp"

#include "harness/core/errors.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace {

using cpb::reports::advise;
using cpb::reports::Goal;
using nlohmann::json;

/// Five repetitions and a primary entry per implementation, at one point (2 threads).
json result(const std::vector<std::tuple<std::string, double, double>>& impls) {
  json doc = {{"benchmarks", json::array()}};
  for (const auto& [impl, ips, fairness] : impls) {
    const std::string name = "lock/" + impl + "/contended/threads:2";
    json base = {{"family", "lock"},
                 {"impl", impl},
                 {"scenario", "contended"},
                 {"params", json::object()},
                 {"threads", 2},
                 {"run_name", name},
                 {"fairness", fairness},
                 {"baseline", impl == "std_mutex"}};
    for (int i = 0; i < 5; ++i) {
      json e = base;
      e["run_type"] = "iteration";
      e["items_per_second"] = ips * (1 + 0.01 * i);
      e["latency_ns"] = {{"p99", 1e9 / ips}};
      doc["benchmarks"].push_back(e);
    }
    json p = base;
    p["run_type"] = "aggregate";
    p["primary"] = true;
    p["items_per_second"] = ips * 1.02;
    p["latency_ns"] = {{"p99", 1e9 / ips}};
    doc["benchmarks"].push_back(p);
  }
  return doc;
}

TEST(Advice, RanksBestFirstWithASignificantMargin) {
  const json a =
      advise(result({{"std_mutex", 100, 0.99}, {"ticket", 300, 0.98}}), Goal::parse("throughput"));
  ASSERT_EQ(a["points"].size(), 1U);
  const json& p = a["points"][0];
  EXPECT_EQ(p["winner"], "lock/ticket");
  EXPECT_EQ(p["ranking"][1]["impl"], "lock/std_mutex");
  EXPECT_EQ(p["verdict"], "significant");
  EXPECT_NE(p["reasons"][0].get<std::string>().find("3.00x better than lock/std_mutex"),
            std::string::npos)
      << p["reasons"];
  EXPECT_EQ(a["overall"]["winner"], "lock/ticket");
}

TEST(Advice, WarnsWhenTheWinnerStarvesThreads) {
  const json a =
      advise(result({{"fair", 100, 0.99}, {"greedy", 300, 0.55}}), Goal::parse("throughput"));
  const json& reasons = a["points"][0]["reasons"];
  bool warned = false;
  for (const auto& r : reasons) {
    warned = warned || r.get<std::string>().find("warning: lock/greedy wins with fairness 0.55") !=
                           std::string::npos;
  }
  EXPECT_TRUE(warned) << reasons;
}

TEST(Advice, LowerIsBetterForTheTail) {
  // p99 = 1e9 / ips: the faster one also has the shorter tail.
  const json a = advise(result({{"slow", 100, 1}, {"fast", 300, 1}}), Goal::parse("p99"));
  EXPECT_EQ(a["points"][0]["winner"], "lock/fast");
  EXPECT_THROW(Goal::parse("speed"), cpb::UsageError);
}

}  // namespace
