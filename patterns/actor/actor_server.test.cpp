// SPDX-License-Identifier: Apache-2.0
// The servers on the own actor runtime (actor_server.hpp): the reactors' typed server
// conformance (server_conformance.hpp), and the family's registration: a server gets the
// reactors' scenarios and churn check, a runtime keeps its own.
#include "harness/testing.hpp"
#include "patterns/actor/actor.hpp"
#include "patterns/actor/actor.impls.hpp"
#include "patterns/reactor/server_conformance.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace cpb::patterns::reactor::testing {

INSTANTIATE_TYPED_TEST_SUITE_P(Actor, ServerConformance, cpb::testing::ToGTest<actor::Servers>,
                               cpb::testing::ImplName);

}  // namespace cpb::patterns::reactor::testing

namespace cpb::patterns::actor {
namespace {

std::vector<std::string> names(const std::vector<Scenario>& scenarios) {
  std::vector<std::string> out;
  for (const auto& s : scenarios) out.push_back(s.name);
  return out;
}

TEST(ActorServerFamily, AServerGetsTheReactorScenariosAndTheChurnCheck) {
  EXPECT_EQ(names(cpb::testing::registered<Family<ActorServer>>().scenarios),
            (std::vector<std::string>{"echo", "http", "http_open"}));
  const auto& checks = cpb::testing::registered<Family<ActorServer>>().checks;
  ASSERT_EQ(checks.size(), 1U);
  EXPECT_EQ(checks.front().name, "churn");
}

TEST(ActorServerFamily, ARuntimeKeepsItsOwnScenariosAndChecks) {
  EXPECT_EQ(names(cpb::testing::registered<Family<WsActors<>>>().scenarios),
            (std::vector<std::string>{"ping_pong", "counting", "fork_join", "thread_ring",
                                      "chameneos", "big", "fault"}));
  EXPECT_EQ(cpb::testing::registered<Family<WsActors<>>>().checks.size(), 1U);
}

TEST(ActorServerFamily, ConnectionActorsAreRecycledNotLeaked) {
  // 200 connections one after another, each closed before the next opens: the actors of closed
  // connections serve the next ones (the runtime keeps every actor for its life).
  ActorServer s(reactor::ServerOptions{reactor::Protocol::kHttp, 0, 2});
  for (int i = 0; i < 200; ++i) {
    reactor::testing::Fd c = reactor::testing::dial(s.port());
    reactor::testing::send_all(c.get(), workloads::io::kHttpRequest);
    ASSERT_EQ(reactor::testing::recv_n(c.get(), workloads::io::kHttpResponse.size()),
              workloads::io::kHttpResponse);
  }
  // A close can lag the next accept (the actor sees the EOF on a worker), so more than one may
  // be spawned; without recycling there would be 200.
  EXPECT_LT(s.actors(), 100U);
}

}  // namespace
}  // namespace cpb::patterns::actor
