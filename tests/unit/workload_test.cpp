// SPDX-License-Identifier: Apache-2.0
#include "workloads/workload.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <functional>
#include <numeric>
#include <stdexcept>
#include <vector>

namespace cpb::workloads {
namespace {

std::int64_t sum(const std::vector<std::int64_t>& v) {
  return std::accumulate(v.begin(), v.end(), std::int64_t{0});
}

/// The share of the total carried by the largest 1 % of the costs.
double top_share(std::vector<std::int64_t> v) {
  std::sort(v.begin(), v.end(), std::greater<>());
  const auto top = static_cast<std::ptrdiff_t>(v.size() / 100);
  return static_cast<double>(std::accumulate(v.begin(), v.begin() + top, std::int64_t{0})) /
         static_cast<double>(sum(v));
}

TEST(ParetoCosts, KeepTheMeanAndAreSeeded) {
  for (const double alpha : {1.1, 1.5, 3.0}) {
    const auto costs = pareto_costs_ns(10'000, 20'000, alpha, 7);
    EXPECT_NEAR(static_cast<double>(sum(costs)) / 10'000, 20'000, 1) << alpha;
    EXPECT_GE(*std::min_element(costs.begin(), costs.end()), 1);
    EXPECT_LE(*std::max_element(costs.begin(), costs.end()), 1000 * 20'000 * 2);
    EXPECT_EQ(costs, pareto_costs_ns(10'000, 20'000, alpha, 7));
  }
  EXPECT_NE(pareto_costs_ns(100, 1000, 1.5, 1), pareto_costs_ns(100, 1000, 1.5, 2));
}

TEST(ParetoCosts, SmallerShapeIsMoreSkewed) {
  const double heavy = top_share(pareto_costs_ns(10'000, 1000, 1.1, 3));
  const double medium = top_share(pareto_costs_ns(10'000, 1000, 1.5, 3));
  const double light = top_share(pareto_costs_ns(10'000, 1000, 3.0, 3));
  EXPECT_GT(heavy, medium);
  EXPECT_GT(medium, light);
  EXPECT_GT(heavy, 0.25);  // the largest 1 % carry a large part of the work
  EXPECT_LT(light, 0.10);
}

TEST(ParetoCosts, RejectsImpossibleParameters) {
  EXPECT_THROW(pareto_costs_ns(0, 1000, 1.5, 1), std::invalid_argument);
  EXPECT_THROW(pareto_costs_ns(10, 0, 1.5, 1), std::invalid_argument);
  EXPECT_THROW(pareto_costs_ns(10, 1000, 1.0, 1), std::invalid_argument);
}

}  // namespace
}  // namespace cpb::workloads
