// SPDX-License-Identifier: Apache-2.0
// Tests of the memory-order audit (audit.hpp): the weakening ladder, the --weaken syntax, that a
// weakening reaches exactly the operation it names, and the verdicts on message passing with a
// fence and with a store that is stronger than it needs to be.
#include "harness/check/audit.hpp"

#include "harness/check/explore.hpp"
#include "harness/check/registered.hpp"
#include "harness/core/errors.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <atomic>
#include <csignal>
#include <source_location>
#include <string>
#include <vector>

namespace cpb::check {
namespace {

using S = Sync;
using enum std::memory_order;

TEST(AuditLadder, OneStepWeakerPerKind) {
  using V = std::vector<std::memory_order>;
  EXPECT_EQ(weaker_orders(OpKind::kLoad, seq_cst), V{acquire});
  EXPECT_EQ(weaker_orders(OpKind::kLoad, acquire), V{relaxed});
  EXPECT_EQ(weaker_orders(OpKind::kStore, seq_cst), V{release});
  EXPECT_EQ(weaker_orders(OpKind::kStore, release), V{relaxed});
  EXPECT_EQ(weaker_orders(OpKind::kCas, seq_cst), V{acq_rel});
  EXPECT_EQ(weaker_orders(OpKind::kRmw, acq_rel), (V{release, acquire}));
  EXPECT_EQ(weaker_orders(OpKind::kFence, seq_cst), V{acq_rel});
  EXPECT_EQ(weaker_orders(OpKind::kFence, release), V{relaxed});
  EXPECT_TRUE(weaker_orders(OpKind::kExchange, relaxed).empty());
  EXPECT_EQ(order_name(OpKind::kFence, relaxed), "none");
  EXPECT_EQ(order_name(OpKind::kStore, relaxed), "relaxed");
}

TEST(AuditWeaken, ParsesTheSiteAndTheOrder) {
  const Weakening w = parse_weakening("patterns/q/ring.hpp:86:16=relaxed");
  EXPECT_EQ(w.file, "patterns/q/ring.hpp");
  EXPECT_EQ(w.line, 86U);
  EXPECT_EQ(w.column, 16U);
  EXPECT_EQ(w.order, relaxed);
  EXPECT_EQ(parse_weakening("C:/x.hpp:1:2=none").file, "C:/x.hpp");
  for (const char* bad : {"ring.hpp:86:16", "ring.hpp:86=relaxed", ":86:16=relaxed",
                          "ring.hpp:0:16=relaxed", "ring.hpp:86:-1=relaxed", "ring.hpp:8:1=weak"}) {
    EXPECT_THROW(parse_weakening(bad), UsageError) << bad;
  }
}

TEST(AuditWeaken, MatchesAWholeTrailingPathOnly) {
  const auto loc = std::source_location::current();
  const Weakening w{"check/audit.test.cpp", loc.line(), loc.column(), relaxed};
  EXPECT_TRUE(w.matches(loc));
  EXPECT_FALSE((Weakening{"dit.test.cpp", loc.line(), loc.column(), relaxed}.matches(loc)));
  EXPECT_FALSE(
      (Weakening{"check/audit.test.cpp", loc.line() + 1, loc.column(), relaxed}.matches(loc)));
  EXPECT_FALSE(
      (Weakening{"check/audit.test.cpp", loc.line(), loc.column() + 1, relaxed}.matches(loc)));
}

// Message passing: the data is a cell, the flag an atomic; the reader checks the data when it
// sees the flag. `publish` is the writer's flag store and `observe` the reader's load.
struct Mp {
  S::atomic<int> flag{0};
  S::cell<int> data{0};
};

/// Where the operations of mp() are written, filled in as they run.
struct Sites {
  std::source_location publish;
  std::source_location observe;
} g_sites;

TestCase mp(std::memory_order store, std::memory_order load) {
  return make_test<Mp>("audit/mp", {[store](Mp& s) {
                                      s.data.store(1);
                                      g_sites.publish = std::source_location::current();
                                      s.flag.store(1, store, g_sites.publish);
                                    },
                                    [load](Mp& s) {
                                      g_sites.observe = std::source_location::current();
                                      if (s.flag.load(load, g_sites.observe) == 1) {
                                        CPB_CHECK_ASSERT(s.data.load() == 1);
                                      }
                                    }});
}

Config c11_dfs() {
  Config c;
  c.strategy = Strategy::kDfs;
  c.tier = Tier::kC11;
  c.preemption_bound = -1;
  c.max_seconds = 30;
  return c;
}

TEST(AuditWeaken, ReachesOnlyTheOperationItNames) {
  const TestCase t = mp(release, acquire);
  ASSERT_TRUE(explore(c11_dfs(), t).ok());
  Config weak = c11_dfs();
  weak.weaken = {Weakening{g_sites.publish.file_name(), g_sites.publish.line(),
                           g_sites.publish.column(), relaxed}};
  const Result r = explore(weak, t);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.failure->kind, FailureKind::kDataRace) << r.report();
  EXPECT_NE(r.report().find("store(relaxed)"), std::string::npos) << r.report();
  // Another column of the same line is another operation.
  weak.weaken[0].column += 1;
  EXPECT_TRUE(explore(weak, t).ok());
}

TEST(AuditWeaken, ASiteCallbackSeesEveryOperationWithItsWrittenOrder) {
  std::vector<std::pair<OpKind, std::memory_order>> seen;
  Config c = c11_dfs();
  c.weaken = {Weakening{g_sites.publish.file_name(), g_sites.publish.line(),
                        g_sites.publish.column(), relaxed}};
  c.stop_on_failure = false;
  c.on_site = [&](const std::source_location& loc, OpKind op, std::memory_order mo) {
    if (loc.line() == g_sites.publish.line() || loc.line() == g_sites.observe.line()) {
      seen.emplace_back(op, mo);
    }
  };
  (void)explore(c, mp(release, acquire));
  ASSERT_FALSE(seen.empty());
  for (const auto& [op, mo] : seen) {
    EXPECT_TRUE((op == OpKind::kStore && mo == release) || (op == OpKind::kLoad && mo == acquire));
  }
}

std::vector<AuditCheck> mp_checks(std::memory_order store, std::memory_order load) {
  return {{"mp", model_mode([store, load] { return mp(store, load); })}};
}

CheckConfig c11_all() {
  CheckConfig c;
  c.tier = "c11";
  c.budget = std::chrono::milliseconds(600);
  return c;
}

const AuditRow& row_at(const AuditResult& a, const std::source_location& loc) {
  const auto it = std::find_if(a.rows.begin(), a.rows.end(), [&](const AuditRow& r) {
    return r.site.line == loc.line() && r.site.column == loc.column();
  });
  if (it == a.rows.end()) throw std::runtime_error("no row for the site");
  return *it;
}

TEST(AuditOrders, ReleaseAcquireMessagePassingNeedsBoth) {
  const AuditResult a = audit_orders(mp_checks(release, acquire), c11_all());
  ASSERT_EQ(a.rows.size(), 2U);
  for (const AuditRow& row : a.rows) {
    EXPECT_TRUE(row.needed()) << site_name(row.site);
    ASSERT_EQ(row.trials.size(), 1U);
    EXPECT_EQ(row.trials[0].order, relaxed);
    EXPECT_EQ(row.trials[0].kind, "data-race");
    EXPECT_EQ(row.trials[0].check, "mp");
    // The replay string, with the weakening, reproduces the failure.
    CheckConfig replay = c11_all();
    replay.replay = row.trials[0].replay;
    const AuditScope scope({Weakening{row.site.file, row.site.line, row.site.column, relaxed}});
    const stress::CheckResult r = mp_checks(release, acquire)[0].model(replay);
    EXPECT_EQ(r.kind, "data-race") << r.details;
  }
  EXPECT_EQ(row_at(a, g_sites.publish).verdict(), "needed");
}

TEST(AuditOrders, SeqCstMessagePassingIsStrongerThanItNeeds) {
  const AuditResult a = audit_orders(mp_checks(seq_cst, seq_cst), c11_all());
  const AuditRow& store = row_at(a, g_sites.publish);
  EXPECT_EQ(store.verdict(), "stronger than the checks need");
  ASSERT_EQ(store.trials.size(), 2U);  // release passes, so relaxed is tried too
  EXPECT_FALSE(store.trials[0].caught);
  EXPECT_GT(store.trials[0].executions, 0U);
  EXPECT_TRUE(store.trials[1].caught);
  EXPECT_EQ(store.weakest_passing(), release);
  const AuditRow& load = row_at(a, g_sites.observe);
  EXPECT_EQ(load.weakest_passing(), acquire);
  nlohmann::json j = store;
  EXPECT_EQ(j["verdict"], "stronger than the checks need");
  EXPECT_EQ(j["weakest_passing"], "release");
  EXPECT_EQ(j["trials"][1]["kind"], "data-race");
}

TEST(AuditOrders, RelaxedSitesAreListedWithNothingToTry) {
  struct Counter {
    S::atomic<int> n{0};
  };
  const std::vector<AuditCheck> checks{
      {"count", model_mode([] {
         const auto add = [](Counter& s) { s.n.fetch_add(1, relaxed); };
         return make_test<Counter>("audit/count", {add, add},
                                   [](Counter& s) { CPB_CHECK_ASSERT(s.n.load(relaxed) == 2); });
       })}};
  const AuditResult a = audit_orders(checks, c11_all());
  ASSERT_EQ(a.rows.size(), 2U);  // the fetch_add, and the check's load
  for (const AuditRow& row : a.rows) {
    EXPECT_EQ(row.verdict(), "relaxed");
    EXPECT_TRUE(row.trials.empty());
  }
}

// Code that follows a pointer it read too early crashes outside the checker: each trial runs
// in a child process, so the crash is a caught trial and the audit goes on. Here the check
// crashes on every run after the first (the unweakened run that collects the sites).
TEST(AuditOrders, ATrialThatCrashesIsCaughtAndTheAuditGoesOn) {
  int runs = 0;
  const auto mp_model = model_mode([] { return mp(release, acquire); });
  const std::vector<AuditCheck> checks{{"crashy", [&](const CheckConfig& c) {
                                          if (runs++ > 0) std::raise(SIGSEGV);
                                          return mp_model(c);
                                        }}};
  const AuditResult a = audit_orders(checks, c11_all());
  ASSERT_EQ(a.rows.size(), 2U);
  for (const AuditRow& row : a.rows) {
    ASSERT_EQ(row.trials.size(), 1U);
    EXPECT_TRUE(row.trials[0].caught);
    // Killed by the signal, or, under ASan, its SEGV report and exit status 1.
    EXPECT_TRUE(row.trials[0].kind.starts_with("crash (")) << row.trials[0].kind;
    EXPECT_EQ(row.trials[0].check, "crashy");
    EXPECT_TRUE(row.trials[0].replay.empty());
  }
  EXPECT_EQ(runs, 1);  // the trials ran in children
}

TEST(AuditOrders, ACheckThatFailsUnweakenedStopsTheAudit) {
  try {
    (void)audit_orders(mp_checks(relaxed, relaxed), c11_all());
    FAIL() << "no error";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("mp fails before any order is weakened"),
              std::string::npos)
        << e.what();
  }
}

}  // namespace
}  // namespace cpb::check
