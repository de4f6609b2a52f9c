// SPDX-License-Identifier: Apache-2.0
/// @file
/// Test helpers shared by the transactional-store families (`optimistic_cc`, `pessimistic_cc`).
#pragma once

#include "harness/stress/result.hpp"
#include "harness/testing.hpp"

#include <gtest/gtest.h>

#include <cstdio>

namespace cpb::patterns::transactions {

/// Runs `Fam`'s registered stress checks (the `conservation` check of a store) on real threads
/// and expects each to pass having committed both snapshots and transfers.
template <class Fam>
void expect_stress_checks_pass() {
  int ran = 0;
  for (const Check& c : testing::registered<Fam>().checks) {
    if (!c.stress) continue;
    const stress::CheckResult r = c.stress(testing::stress_config());
    ++ran;
    std::printf("%s", stress::format(r).c_str());
    EXPECT_TRUE(r.passed()) << r.failure << "\n" << r.details;
    EXPECT_GT(r.stat("snapshots"), 0);
    EXPECT_GT(r.stat("transfers"), 0);
  }
  EXPECT_GT(ran, 0);
}

}  // namespace cpb::patterns::transactions
