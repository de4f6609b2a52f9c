// SPDX-License-Identifier: Apache-2.0
// The servers on the own coroutine runtime (coroutine_server.hpp): the reactors' typed server
// conformance (server_conformance.hpp), and the family's registration: a server gets the
// reactors' scenarios and churn check, a runtime keeps its own.
#include "harness/testing.hpp"
#include "patterns/coroutine/coroutine.hpp"
#include "patterns/coroutine/coroutine.impls.hpp"
#include "patterns/reactor/server_conformance.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace cpb::patterns::reactor::testing {

INSTANTIATE_TYPED_TEST_SUITE_P(Coroutine, ServerConformance,
                               cpb::testing::ToGTest<coroutine::Servers>, cpb::testing::ImplName);

}  // namespace cpb::patterns::reactor::testing

namespace cpb::patterns::coroutine {
namespace {

std::vector<std::string> names(const std::vector<Scenario>& scenarios) {
  std::vector<std::string> out;
  for (const auto& s : scenarios) out.push_back(s.name);
  return out;
}

TEST(CoroutineServerFamily, AServerGetsTheReactorScenariosAndTheChurnCheck) {
  EXPECT_EQ(names(cpb::testing::registered<Family<CoroutineServer>>().scenarios),
            (std::vector<std::string>{"echo", "http", "http_open"}));
  const auto& checks = cpb::testing::registered<Family<CoroutineServer>>().checks;
  ASSERT_EQ(checks.size(), 1U);
  EXPECT_EQ(checks.front().name, "churn");
}

TEST(CoroutineServerFamily, ARuntimeKeepsItsOwnScenariosAndChecks) {
  EXPECT_EQ(names(cpb::testing::registered<Family<TaskScheduler>>().scenarios),
            (std::vector<std::string>{"await_chain", "timers", "ping_pong"}));
  EXPECT_EQ(cpb::testing::registered<Family<TaskScheduler>>().checks.size(), 2U);
  EXPECT_EQ(names(cpb::testing::registered<Family<FutexHandoff>>().scenarios),
            (std::vector<std::string>{"ping_pong"}));
}

TEST(CoroutineServerFamily, AFixtureServesAndVerifies) {
  Point p;
  p.params = {{"connections", 8}};
  auto f = cpb::testing::registered<Family<CoroutineServer>>().scenarios.at(1).make(p);  // http
  ASSERT_NE(f, nullptr);
  EXPECT_EQ(f->verify(), "no request was answered");  // nothing ran yet
}

}  // namespace
}  // namespace cpb::patterns::coroutine
