// SPDX-License-Identifier: Apache-2.0
/// @file
/// The built-in thread pools: the one list that registration, conformance tests and stress
/// checks are generated from.
#pragma once

#include "harness/core/type_list.hpp"
#include "patterns/thread_pool/asio_thread_pool.hpp"
#include "patterns/thread_pool/global_queue_pool.hpp"
#include "patterns/thread_pool/tbb_task_arena.hpp"
#include "patterns/thread_pool/work_stealing_pool.hpp"

namespace cpb::patterns::thread_pool {

using Impls = TypeList<GlobalQueuePool<>, WorkStealingPool<>, AsioThreadPool, TbbTaskArena>;

}  // namespace cpb::patterns::thread_pool
