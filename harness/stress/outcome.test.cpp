// SPDX-License-Identifier: Apache-2.0
// Unit tests of the outcome runner: grading, forbidden and unnamed outcomes, the arbiter,
// actors that throw or hang, seeds and the JSON form.
#include "harness/stress/outcome.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <atomic>
#include <chrono>
#include <stdexcept>
#include <string>
#include <thread>

namespace cpb::stress {
namespace {

using namespace std::chrono_literals;

struct Cell2 {
  std::atomic<int> a{0};
  std::atomic<int> b{0};
};

OutcomeOptions quick() {
  OutcomeOptions o;
  o.budget = 50ms;
  o.stride = 64;
  return o;
}

/// Both actors record a constant: the outcome is always (1, 2).
OutcomeTest<Cell2, 2> constant_test(Grade g) {
  return {"constant",
          "each actor writes a constant",
          {{"one", [](Cell2&, Outcome<2>& r) { r[0] = 1; }},
           {"two", [](Cell2&, Outcome<2>& r) { r[1] = 2; }}},
          {},
          {{{1, 2}, g, "the only outcome"}}};
}

TEST(Outcome, AcceptableOutcomesPass) {
  const CheckResult r = run_outcome(constant_test(Grade::kAcceptable), quick());
  EXPECT_TRUE(r.passed()) << r.failure;
  EXPECT_EQ(r.kind, "outcome");
  EXPECT_GT(r.samples, 0U);
  ASSERT_EQ(r.histogram.size(), 1U);
  EXPECT_EQ(r.histogram[0].outcome, "1, 2");
  EXPECT_EQ(r.histogram[0].count, r.samples);  // every state was graded exactly once
  EXPECT_EQ(r.count(Grade::kAcceptable), r.samples);
}

TEST(Outcome, ForbiddenOutcomeFailsWithTheSeed) {
  OutcomeOptions o = quick();
  o.seed = 0xabcdef;
  const CheckResult r = run_outcome(constant_test(Grade::kForbidden), o);
  EXPECT_EQ(r.verdict, Verdict::kFail);
  EXPECT_EQ(r.seed, 0xabcdefU);
  EXPECT_NE(r.failure.find("forbidden outcome [1, 2]"), std::string::npos) << r.failure;
  EXPECT_NE(r.failure.find("0xabcdef"), std::string::npos) << r.failure;
  EXPECT_EQ(r.count(Grade::kForbidden), r.samples);
}

TEST(Outcome, UnnamedOutcomeFails) {
  auto t = constant_test(Grade::kAcceptable);
  t.table = {{{0, 0}, Grade::kAcceptable, "nothing happened"}};
  const CheckResult r = run_outcome(t, quick());
  EXPECT_EQ(r.verdict, Verdict::kFail);
  EXPECT_NE(r.failure.find("unnamed outcome [1, 2]"), std::string::npos) << r.failure;
  ASSERT_EQ(r.histogram.size(), 2U);
  EXPECT_FALSE(r.histogram[1].named);
  EXPECT_EQ(r.histogram[0].count, 0U);  // named rows are listed even when never seen
}

TEST(Outcome, InterestingOutcomesPassAndAreCounted) {
  const CheckResult r = run_outcome(constant_test(Grade::kInteresting), quick());
  EXPECT_TRUE(r.passed()) << r.failure;
  EXPECT_EQ(r.count(Grade::kInteresting), r.samples);
}

struct Counter {
  std::atomic<int> n{0};
};

TEST(Outcome, ArbiterRunsAfterEveryActor) {
  OutcomeTest<Counter, 1> t{
      "arbiter",
      "two increments, then the arbiter reads the total",
      {{"inc0", [](Counter& c, Outcome<1>&) { c.n.fetch_add(1); }},
       {"inc1", [](Counter& c, Outcome<1>&) { c.n.fetch_add(1); }}},
      // Relaxed: the stride barrier orders both increments before the arbiter.
      [](Counter& c, Outcome<1>& r) { r[0] = c.n.load(std::memory_order_relaxed); },
      {{{2}, Grade::kAcceptable, "both increments seen"}}};
  const CheckResult r = run_outcome(t, quick());
  EXPECT_TRUE(r.passed()) << r.failure;
  EXPECT_EQ(r.count("2"), r.samples);
}

TEST(Outcome, StatesAreFreshForEveryTrial) {
  // If a state were reused without being rebuilt, the second trial would read 1.
  OutcomeTest<Counter, 1> t{"fresh",
                            "one actor increments and records the value before",
                            {{"inc", [](Counter& c, Outcome<1>& r) { r[0] = c.n.fetch_add(1); }}},
                            {},
                            {{{0}, Grade::kAcceptable, "a fresh state"}}};
  const CheckResult r = run_outcome(t, quick());
  EXPECT_TRUE(r.passed()) << r.failure;
}

TEST(Outcome, ThrowingActorIsReportedWithItsStride) {
  auto calls = std::make_shared<std::atomic<int>>(0);
  OutcomeTest<Cell2, 2> t{"thrower",
                          "actor 1 throws on its 200th state",
                          {{"quiet", [](Cell2&, Outcome<2>&) {}},
                           {"loud",
                            [calls](Cell2&, Outcome<2>&) {
                              if (calls->fetch_add(1) == 199) throw std::runtime_error("boom");
                            }}},
                          {},
                          {{{0, 0}, Grade::kAcceptable, "nothing recorded"}}};
  OutcomeOptions o = quick();
  o.budget = 5000ms;  // it must stop at the throw, long before this
  const auto start = std::chrono::steady_clock::now();
  const CheckResult r = run_outcome(t, o);
  EXPECT_LT(std::chrono::steady_clock::now() - start, 4000ms);
  EXPECT_EQ(r.verdict, Verdict::kError);
  // State 199 with 64 states per stride is in stride 3.
  EXPECT_NE(r.failure.find("actor 1 (loud) threw in stride 3: boom"), std::string::npos)
      << r.failure;
  EXPECT_NE(r.failure.find("CPB_STRESS_SEED="), std::string::npos) << r.failure;
}

TEST(Outcome, HungActorIsReportedAfterTheBudget) {
  auto release = std::make_shared<std::atomic<bool>>(false);
  auto calls = std::make_shared<std::atomic<int>>(0);
  auto finished = std::make_shared<std::atomic<bool>>(false);
  OutcomeTest<Cell2, 2> t{"hang",
                          "actor 0 stops returning on its 150th state",
                          {{"sleeper",
                            [release, calls, finished](Cell2&, Outcome<2>&) {
                              if (calls->fetch_add(1) != 149) return;
                              while (!release->load()) std::this_thread::sleep_for(1ms);
                              finished->store(true);
                            }},
                           {"other", [](Cell2&, Outcome<2>&) {}}},
                          {},
                          {{{0, 0}, Grade::kAcceptable, "nothing recorded"}}};
  OutcomeOptions o = quick();
  o.budget = 100ms;
  o.grace = 300ms;
  const auto start = std::chrono::steady_clock::now();
  const CheckResult r = run_outcome(t, o);
  const auto took = std::chrono::steady_clock::now() - start;
  EXPECT_EQ(r.verdict, Verdict::kError);
  // State 149 with 64 states per stride is in stride 2.
  EXPECT_NE(r.failure.find("actor 0 (sleeper) did not return in stride 2"), std::string::npos)
      << r.failure;
  EXPECT_GE(took, 400ms);   // budget + grace
  EXPECT_LT(took, 3000ms);  // and then it returned instead of hanging
  // Let the detached thread finish, so the process ends cleanly under the sanitizers.
  release->store(true);
  for (int i = 0; i < 2000 && !finished->load(); ++i) std::this_thread::sleep_for(1ms);
  EXPECT_TRUE(finished->load());
  std::this_thread::sleep_for(50ms);
}

TEST(Outcome, BudgetIsRespected) {
  OutcomeOptions o = quick();
  o.budget = 30ms;
  const CheckResult r = run_outcome(constant_test(Grade::kAcceptable), o);
  EXPECT_EQ(r.budget_ms, 30);
  EXPECT_GE(r.elapsed_ms, 30.0);
  EXPECT_LT(r.elapsed_ms, 2000.0);
}

TEST(Outcome, SeedDeterminesTheStrideSchedule) {
  for (std::uint64_t s = 0; s < 50; ++s) {
    EXPECT_EQ(stride_delays(7, s, 3), stride_delays(7, s, 3));
    EXPECT_EQ(timebase_offsets(7, s, 3), timebase_offsets(7, s, 3));
  }
  int differ = 0;
  for (std::uint64_t s = 0; s < 50; ++s) {
    differ += timebase_offsets(7, s, 3) != timebase_offsets(8, s, 3) ? 1 : 0;
  }
  EXPECT_GT(differ, 40);  // another seed, another schedule
  int held_back = 0;
  for (std::uint64_t s = 0; s < 400; ++s) {
    for (const auto d : stride_delays(7, s, 2)) held_back += d > 0 ? 1 : 0;
  }
  EXPECT_GT(held_back, 50);  // about one stride in four holds an actor back
  EXPECT_LT(held_back, 150);
  OutcomeOptions o = quick();
  o.seed = 42;
  EXPECT_EQ(run_outcome(constant_test(Grade::kAcceptable), o).seed, 42U);
}

TEST(Outcome, MalformedTestsAreRejected) {
  auto t = constant_test(Grade::kAcceptable);
  t.table.push_back({{1, 2}, Grade::kForbidden, "named twice"});
  EXPECT_THROW(run_outcome(t, quick()), std::invalid_argument);
  t.actors.clear();
  EXPECT_THROW(run_outcome(t, quick()), std::invalid_argument);
}

TEST(Outcome, JsonCarriesTheChecksBlockFields) {
  OutcomeOptions o = quick();
  o.seed = 5;
  const CheckResult r = run_outcome(constant_test(Grade::kForbidden), o);
  const nlohmann::json j = r;
  EXPECT_EQ(j["name"], "constant");
  EXPECT_EQ(j["mode"], "stress");
  EXPECT_EQ(j["kind"], "outcome");
  EXPECT_EQ(j["seed"], 5);
  EXPECT_EQ(j["budget_ms"], 50);
  EXPECT_EQ(j["verdict"], "fail");
  EXPECT_FALSE(j["failure"].get<std::string>().empty());
  ASSERT_EQ(j["histogram"].size(), 1U);
  EXPECT_EQ(j["histogram"][0]["outcome"], "1, 2");
  EXPECT_EQ(j["histogram"][0]["grade"], "FORBIDDEN");
  EXPECT_EQ(j["histogram"][0]["description"], "the only outcome");
  EXPECT_GT(j["histogram"][0]["count"].get<std::uint64_t>(), 0U);
  EXPECT_TRUE(j["stats"].contains("strides"));
  const std::string text = format(r);
  EXPECT_NE(text.find("FORBIDDEN"), std::string::npos) << text;
  EXPECT_NE(text.find("[fail] constant"), std::string::npos) << text;
}

}  // namespace
}  // namespace cpb::stress
