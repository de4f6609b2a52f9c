// SPDX-License-Identifier: Apache-2.0
/// @file
/// Mutual exclusion as a history property: the hold intervals of a lock never overlap.
///
/// Each hold is recorded with `Recorder::hold` (or `try_hold`): a ticket once the lock is held
/// and another just before it is released. Under mutual exclusion the next holder can only get
/// the lock after the release began, so its first ticket is above the previous holder's second:
/// the intervals [acquired, released] are disjoint. Two intervals that overlap prove that two
/// threads held the lock at once.
#pragma once

#include "harness/stress/history.hpp"
#include "harness/stress/result.hpp"

#include <string>

namespace cpb::stress {

/// Checks that no two holds in `holds` (Op.invoke = acquired, Op.response = released)
/// overlap. On failure, prints the overlapping pair and the holds around them as a per-thread
/// table.
CheckResult check_mutual_exclusion(const History& holds, const std::string& name = "mutex",
                                   std::uint64_t seed = 0);

}  // namespace cpb::stress
