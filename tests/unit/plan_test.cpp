// SPDX-License-Identifier: Apache-2.0
#include "harness/bench/plan.hpp"

#include "tests/unit/fake_family.hpp"

#include "harness/core/errors.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <set>
#include <string>
#include <vector>

namespace cpb::bench {
namespace {

std::vector<std::string> names(const std::vector<Case>& cases) {
  std::vector<std::string> v;
  for (const auto& c : cases) v.push_back(c.name);
  return v;
}

bool has(const std::vector<std::string>& v, const std::string& s) {
  return std::find(v.begin(), v.end(), s) != v.end();
}

/// The message of the UsageError `plan` throws, or a failure when it throws none.
std::string usage_error(const Registry& reg, const Selection& sel) {
  try {
    plan(reg, sel);
  } catch (const UsageError& e) {
    return e.what();
  }
  ADD_FAILURE() << "plan() accepted the selection";
  return {};
}

class Plan : public ::testing::Test {
 protected:
  Registry reg_ = testing::fake_registry();
};

TEST_F(Plan, LocalRegistryHoldsTheFakeFamily) {
  ASSERT_EQ(reg_.families().size(), 1U);
  EXPECT_EQ(reg_.families()[0].name, "fake");
  EXPECT_EQ(reg_.families()[0].reference, "beta");
  ASSERT_EQ(reg_.impls().size(), 2U);
  EXPECT_EQ(reg_.impls()[0].name, "alpha");
  EXPECT_FALSE(reg_.impls()[0].baseline);
  EXPECT_EQ(reg_.impls()[0].progress, Progress::kLockFree);
  EXPECT_EQ(reg_.impls()[1].name, "beta");
  EXPECT_TRUE(reg_.impls()[1].baseline);
  EXPECT_TRUE(reg_.problems().empty());
  EXPECT_EQ(reg_.impl("fake", "beta"), &reg_.impls()[1]);
  EXPECT_EQ(reg_.impl("fake", "gamma"), nullptr);
  EXPECT_EQ(reg_.impl("other", "alpha"), nullptr);

  testing::register_into<patterns::fake::Family, patterns::fake::Alpha>(reg_);
  EXPECT_EQ(reg_.impls().size(), 2U);
  ASSERT_EQ(reg_.problems().size(), 1U);
  EXPECT_NE(reg_.problems()[0].find("fake/alpha is registered twice"), std::string::npos)
      << reg_.problems()[0];
}

TEST_F(Plan, NamesEveryPointOfTheDefaultMatrix) {
  const auto cases = plan(reg_, {});
  // Per implementation: count 3 sizes x 2 delays x 3 thread counts, fixed 1, owned 2.
  ASSERT_EQ(cases.size(), 2U * (18 + 1 + 2));
  const auto n = names(cases);
  EXPECT_EQ(n.front(), "fake/alpha/count/size:1/delay_ns:0/threads:1");
  EXPECT_TRUE(has(n, "fake/alpha/count/size:3/delay_ns:10/threads:4"));
  EXPECT_TRUE(has(n, "fake/beta/fixed/threads:3"));
  EXPECT_TRUE(has(n, "fake/beta/owned/grain:5/threads:2"));
  EXPECT_TRUE(has(n, "fake/beta/owned/grain:5/threads:4"));
  EXPECT_EQ(std::set<std::string>(n.begin(), n.end()).size(), n.size()) << "names repeat";

  for (const auto& c : cases) {
    EXPECT_EQ(c.name, case_name(*c.impl, *c.scenario, c.point));
    EXPECT_EQ(c.impl->family, "fake");
  }
  // Registry order: all of alpha, then all of beta; each (impl, scenario) is one family index
  // and numbers its instances from 0.
  EXPECT_EQ(cases[0].impl->name, "alpha");
  EXPECT_EQ(cases.back().impl->name, "beta");
  EXPECT_EQ(cases[0].family_index, 0);
  EXPECT_EQ(cases[0].instance_index, 0);
  EXPECT_EQ(cases[17].family_index, 0);
  EXPECT_EQ(cases[17].instance_index, 17);
  EXPECT_EQ(cases[18].scenario->name, "fixed");
  EXPECT_EQ(cases[18].family_index, 1);
  EXPECT_EQ(cases[18].instance_index, 0);
  EXPECT_EQ(cases[21].impl->name, "beta");
  EXPECT_EQ(cases[21].family_index, 3);
  EXPECT_EQ(cases.back().family_index, 5);
  EXPECT_EQ(cases.back().instance_index, 1);

  const auto& p = cases[1].point;
  EXPECT_EQ(p.threads, 2);
  EXPECT_EQ(p.get("size"), 1);
  EXPECT_EQ(p.get("delay_ns"), 0);
  EXPECT_THROW((void)p.get("nope"), std::out_of_range);
}

TEST_F(Plan, QuickPicksTheQuickLists) {
  Selection sel;
  sel.quick = true;
  const auto n = names(plan(reg_, sel));
  const std::vector<std::string> alpha = {
      "fake/alpha/count/size:2/delay_ns:0/threads:1",  // size's quick list; delay's first value
      "fake/alpha/count/size:2/delay_ns:0/threads:2",  // runners' quick list
      "fake/alpha/fixed/threads:3",                    // fixed has no quick list
      "fake/alpha/owned/grain:5/threads:2",            // owned's quick list
  };
  ASSERT_EQ(n.size(), 8U);
  EXPECT_EQ(std::vector<std::string>(n.begin(), n.begin() + 4), alpha);
}

TEST_F(Plan, ThreadsOverrideAppliesToRunnersAndOwnedButNotFixed) {
  Selection sel;
  sel.impl = "alpha";
  sel.threads = std::vector<int>{8, 16};
  sel.quick = true;  // --threads wins over the quick list
  const auto n = names(plan(reg_, sel));
  const std::vector<std::string> want = {
      "fake/alpha/count/size:2/delay_ns:0/threads:8",
      "fake/alpha/count/size:2/delay_ns:0/threads:16",
      "fake/alpha/fixed/threads:3",
      "fake/alpha/owned/grain:5/threads:8",
      "fake/alpha/owned/grain:5/threads:16",
  };
  EXPECT_EQ(n, want);
}

TEST_F(Plan, ParamOverrideReplacesThatAxisOnly) {
  Selection sel;
  sel.impl = "beta";
  sel.scenario = "count";
  sel.threads = std::vector<int>{1};
  sel.params = {{"size", {7, 9}}};
  const auto n = names(plan(reg_, sel));
  const std::vector<std::string> want = {
      "fake/beta/count/size:7/delay_ns:0/threads:1",
      "fake/beta/count/size:7/delay_ns:10/threads:1",
      "fake/beta/count/size:9/delay_ns:0/threads:1",
      "fake/beta/count/size:9/delay_ns:10/threads:1",
  };
  EXPECT_EQ(n, want);

  sel.quick = true;  // the override also wins over the quick list
  EXPECT_EQ(plan(reg_, sel).size(), 2U);
}

TEST_F(Plan, RegexesMatchWholeNames) {
  Selection sel;
  sel.impl = "alph";
  EXPECT_NE(usage_error(reg_, sel).find("--impl 'alph'"), std::string::npos);
  sel.impl = "a.*";  // alpha, not beta: the match is anchored at both ends
  for (const auto& c : plan(reg_, sel)) {
    EXPECT_EQ(c.impl->name, "alpha");
  }
  sel.impl = "alpha|beta";
  EXPECT_EQ(plan(reg_, sel).size(), 42U);

  Selection fam;
  fam.family = "fak";
  EXPECT_NE(usage_error(reg_, fam).find("--family 'fak'"), std::string::npos);

  Selection scen;
  scen.scenario = "own";
  EXPECT_NE(usage_error(reg_, scen).find("matches no benchmark"), std::string::npos);
  scen.scenario = "own.*|fixed";
  EXPECT_EQ(plan(reg_, scen).size(), 2U * (2 + 1));
}

TEST_F(Plan, FilterIsSearchedInTheFullName) {
  Selection sel;
  sel.filter = "threads:4$";
  const auto cases = plan(reg_, sel);
  // count: 3 x 2 points at 4 threads; owned: 1; per implementation.
  ASSERT_EQ(cases.size(), 2U * (6 + 1));
  for (const auto& c : cases) {
    EXPECT_EQ(c.point.threads, 4) << c.name;
  }
  sel.filter = "beta/fixed";
  ASSERT_EQ(plan(reg_, sel).size(), 1U);
}

TEST_F(Plan, UnknownFamilyNamesTheKnownOnes) {
  Selection sel;
  sel.family = "queue";
  const auto msg = usage_error(reg_, sel);
  EXPECT_NE(msg.find("--family 'queue' matches no family"), std::string::npos) << msg;
  EXPECT_NE(msg.find("known: fake"), std::string::npos) << msg;
}

TEST_F(Plan, UnknownImplNamesTheKnownOnes) {
  Selection sel;
  sel.impl = "gamma";
  const auto msg = usage_error(reg_, sel);
  EXPECT_NE(msg.find("--impl 'gamma' matches no implementation"), std::string::npos) << msg;
  EXPECT_NE(msg.find("alpha, beta"), std::string::npos) << msg;
}

TEST_F(Plan, InvalidRegexNamesTheFlag) {
  for (const char* flag : {"family", "impl", "scenario", "filter"}) {
    Selection sel;
    const std::string bad = "(unclosed";
    if (std::string(flag) == "family") sel.family = bad;
    if (std::string(flag) == "impl") sel.impl = bad;
    if (std::string(flag) == "scenario") sel.scenario = bad;
    if (std::string(flag) == "filter") sel.filter = bad;
    const auto msg = usage_error(reg_, sel);
    EXPECT_NE(
        msg.find(std::string("--") + flag + ": '(unclosed' is not a valid regular expression"),
        std::string::npos)
        << msg;
  }
}

TEST_F(Plan, EmptySelectionNamesTheScenarios) {
  Selection sel;
  sel.filter = "no-such-benchmark";
  const auto msg = usage_error(reg_, sel);
  EXPECT_NE(msg.find("the selection matches no benchmark"), std::string::npos) << msg;
  EXPECT_NE(msg.find("count, fixed, owned"), std::string::npos) << msg;
}

TEST_F(Plan, ParamWithoutValuesIsRejected) {
  Selection sel;
  sel.params = {{"size", {}}};
  const auto msg = usage_error(reg_, sel);
  EXPECT_NE(msg.find("--param size: no values given"), std::string::npos) << msg;
}

TEST_F(Plan, EmptyRegistryIsAUsageError) {
  const Registry empty;
  const auto msg = usage_error(empty, {});
  EXPECT_NE(msg.find("matches no family"), std::string::npos) << msg;
}

}  // namespace
}  // namespace cpb::bench
