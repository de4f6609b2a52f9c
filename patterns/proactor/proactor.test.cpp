// SPDX-License-Identifier: Apache-2.0
// Conformance of every proactor (patterns/reactor/server_conformance.hpp), and the io_uring
// refusal path: an unavailable io_uring is reported with its reason, never a crash.
#include "patterns/proactor/proactor.hpp"

#include "harness/testing.hpp"
#include "patterns/proactor/proactor.impls.hpp"
#include "patterns/reactor/server_conformance.hpp"

#include <gtest/gtest.h>

#include <cstdlib>
#include <stdexcept>
#include <string>

namespace cpb::patterns::reactor::testing {

INSTANTIATE_TYPED_TEST_SUITE_P(Proactor, ServerConformance, cpb::testing::ToGTest<proactor::Impls>,
                               cpb::testing::ImplName);

}  // namespace cpb::patterns::reactor::testing

namespace cpb::patterns::proactor {
namespace {

struct DisableUring {
  DisableUring() { ::setenv("CPB_DISABLE_IO_URING", "1", 1); }
  ~DisableUring() { ::unsetenv("CPB_DISABLE_IO_URING"); }
};

TEST(UringRefused, TheReasonIsReportedNotACrash) {
  DisableUring off;
  EXPECT_EQ(UringProactor::unavailable(), "disabled by CPB_DISABLE_IO_URING");
  try {
    UringProactor s(reactor::ServerOptions{});
    FAIL() << "constructed while unavailable";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("CPB_DISABLE_IO_URING"), std::string::npos);
  }
  Point p;
  p.params = {{"connections", 4}};
  try {
    auto f = cpb::testing::registered<Family<UringProactor>>().scenarios.at(1).make(p);
    FAIL() << "the fixture was built while io_uring is unavailable";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("unavailable here"), std::string::npos) << e.what();
  }
  // Registered, it carries the reason, so `list`, `run` and `check` skip it (the CLI test:
  // proactor_refused.e2e.sh).
  Registry reg;
  cpb::detail::register_into<Family, UringProactor>(reg, __FILE__);
  const ImplInfo* uring = reg.impl("proactor", "io_uring");
  ASSERT_NE(uring, nullptr);
  EXPECT_EQ(uring->why_unavailable(), "disabled by CPB_DISABLE_IO_URING");
}

TEST(UringRefused, WorksWhereTheKernelAllowsIt) {
  if (!UringProactor::unavailable().empty()) GTEST_SKIP() << UringProactor::unavailable();
  UringProactor s(reactor::ServerOptions{});
  EXPECT_NE(s.port(), 0);
}

}  // namespace
}  // namespace cpb::patterns::proactor
