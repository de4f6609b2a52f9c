// SPDX-License-Identifier: Apache-2.0
// Conformance of every reactor (server_conformance.hpp), and the family's fixtures on a real
// server: the benchmark scenarios build, serve and verify.
#include "patterns/reactor/reactor.hpp"

#include "harness/testing.hpp"
#include "patterns/reactor/reactor.impls.hpp"
#include "patterns/reactor/server_conformance.hpp"

#include <gtest/gtest.h>

namespace cpb::patterns::reactor::testing {

INSTANTIATE_TYPED_TEST_SUITE_P(Reactor, ServerConformance, cpb::testing::ToGTest<Impls>,
                               cpb::testing::ImplName);

namespace {

TEST(ReactorFamily, ScenariosCarryTheConnectionsAxisBoundedByTheFdLimit) {
  const auto& scenarios = cpb::testing::registered<Family<EpollReactor>>().scenarios;
  ASSERT_EQ(scenarios.size(), 3U);
  for (const auto& s : scenarios) {
    EXPECT_EQ(s.params.front().name, "connections");
    EXPECT_EQ(s.params.front().max, workloads::io::max_loopback_connections());
  }
}

TEST(ReactorFamily, AFixtureBuildsServesAndVerifies) {
  Point p;
  p.params = {{"connections", 8}, {"rate_rps", 1000}};
  const auto& scenarios = cpb::testing::registered<Family<EpollReactor>>().scenarios;
  auto f = scenarios.at(2).make(p);  // http_open
  ASSERT_NE(f, nullptr);
  EXPECT_EQ(f->verify(), "no request was answered");  // nothing ran yet
}

}  // namespace
}  // namespace cpb::patterns::reactor::testing
