// SPDX-License-Identifier: Apache-2.0
// harness/testing.hpp: the family tests reach scenarios and checks through the registry.
#include "harness/testing.hpp"

#include "tests/unit/fake_family.hpp"

#include <gtest/gtest.h>

#include <stdexcept>
#include <string>

namespace cpb {
namespace {

TEST(Testing, RegisteredFindsTheImplementationOfItsFamily) {
  // Each test runs in its own process under ctest, so the global registry holds only this.
  testing::register_into<patterns::fake::Family, patterns::fake::Alpha>(Registry::instance());
  testing::register_into<patterns::fake::Family, patterns::fake::Beta>(Registry::instance());
  const ImplInfo& beta = testing::registered<patterns::fake::Family<patterns::fake::Beta>>();
  EXPECT_EQ(beta.family, "fake");
  EXPECT_EQ(beta.name, "beta");
  EXPECT_TRUE(beta.baseline);
  EXPECT_EQ(beta.scenarios.size(), 3U);
}

TEST(Testing, AnImplementationThatIsNotRegisteredIsNamed) {
  try {
    (void)testing::registered("fake", "gamma");
    FAIL() << "no exception";
  } catch (const std::logic_error& e) {
    EXPECT_NE(std::string(e.what()).find("fake/gamma is not registered"), std::string::npos)
        << e.what();
  }
}

}  // namespace
}  // namespace cpb
