// SPDX-License-Identifier: Apache-2.0
/// @file
/// The bridge between the registry's checks and the model checker: a family writes a
/// `TestCase` over its implementation rebound to `check::Sync`, and `model_mode` turns it into
/// the `Check::model` function that `cpbench check --mode model` runs.
///
/// ```cpp
/// static std::vector<Check> checks() {
///   Check c{"mutual_exclusion", "...", stress_fn, {}};
///   if constexpr (sync::sync_templated<L>) {
///     c.model = check::model_mode([] { return my_test<sync::rebind_t<L, check::Sync>>(); });
///   }
///   return {c};
/// }
/// ```
#pragma once

#include "harness/check/explore.hpp"
#include "harness/core/registry.hpp"
#include "harness/stress/result.hpp"

#include <functional>

namespace cpb::check {

/// The checker configuration for one strategy of a registered check: `c.strategy` must name
/// one strategy (not `all`), `c.tier` a tier; the seed and budget carry over (0 = defaults).
/// Throws std::invalid_argument naming an unknown strategy or tier.
Config config_for(const CheckConfig& c, std::string_view strategy);

/// A `stress::CheckResult` (mode "model") from an exploration: the summary line as the failure,
/// the whole report (replay string and trace) as details, executions as samples.
stress::CheckResult to_check_result(const Result& r);

/// The `Check::model` function for a test: runs `CheckConfig::strategy` (`all`: random, PCT and
/// bounded DFS in turn, the budget split between them, stopping at the first failure), or
/// replays `CheckConfig::replay`. A bad replay string (malformed, corrupted, from another test
/// or tier) throws cpb::UsageError naming the problem.
std::function<stress::CheckResult(const CheckConfig&)> model_mode(std::function<TestCase()> make);

}  // namespace cpb::check
