// SPDX-License-Identifier: Apache-2.0
/// @file
/// The built-in fork-join runtimes: the one list that registration, conformance tests and
/// stress checks are generated from.
#pragma once

#include "harness/core/type_list.hpp"
#include "patterns/fork_join/fork_join_pool.hpp"
#include "patterns/fork_join/omp_tasks.hpp"
#include "patterns/fork_join/std_async.hpp"
#include "patterns/fork_join/tbb_task_group.hpp"

namespace cpb::patterns::fork_join {

using Impls = TypeList<ForkJoinPool<>, TbbTaskGroup, OmpTasks, StdAsync>;

}  // namespace cpb::patterns::fork_join
