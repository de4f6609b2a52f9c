// SPDX-License-Identifier: Apache-2.0
/// @file
/// The skewed-cost workload: per-task CPU costs drawn from a Pareto distribution of shape
/// `alpha` (P(X > x) = x^-alpha for x >= 1), then scaled so that the batch's mean cost is exactly
/// `mean_ns`. The total work of a batch is thus the same for every shape; only its skew changes:
/// at alpha = 3 the largest of 256 costs is a few times the mean, at alpha = 1.1 one task often
/// holds a third of the batch. Costs are generated from a seed before timing and run as
/// `workloads::spin_ns(cost)`.
///
/// Reference: Harchol-Balter, "Performance Modeling and Design of Computer Systems" (2013),
/// ch. 20 and 24 (heavy-tailed job sizes, and why task assignment policy matters under them).
#pragma once

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <random>
#include <stdexcept>
#include <vector>

namespace cpb::patterns::worker_pool {

/// `n` costs in ns, Pareto(`alpha`)-distributed, scaled so they sum to exactly n * `mean_ns`.
/// Deterministic for a given seed. @throws std::invalid_argument if alpha <= 0 or mean_ns < 0.
inline std::vector<std::int64_t> pareto_costs(std::size_t n, double alpha, std::int64_t mean_ns,
                                              std::uint64_t seed) {
  if (!(alpha > 0)) throw std::invalid_argument("pareto_costs: the shape alpha must be > 0");
  if (mean_ns < 0) throw std::invalid_argument("pareto_costs: the mean cost must be >= 0");
  std::vector<std::int64_t> costs(n, 0);
  if (n == 0) return costs;
  std::mt19937_64 rng(seed);
  std::vector<double> raw(n);
  double sum = 0;
  for (double& x : raw) {
    // u in (0, 1]: 53 random bits, never 0, so u^(-1/alpha) is finite.
    const double u = static_cast<double>((rng() >> 11) + 1) * 0x1.0p-53;
    x = std::pow(u, -1.0 / alpha);
    sum += x;
  }
  const auto total = static_cast<std::int64_t>(n) * mean_ns;
  const double scale = static_cast<double>(total) / sum;
  std::int64_t given = 0;
  for (std::size_t i = 0; i < n; ++i) {
    costs[i] = static_cast<std::int64_t>(std::floor(raw[i] * scale));
    given += costs[i];
  }
  // Flooring leaves at most n ns over; the largest task takes it, so the sum is exact.
  *std::max_element(costs.begin(), costs.end()) += total - given;
  return costs;
}

}  // namespace cpb::patterns::worker_pool
