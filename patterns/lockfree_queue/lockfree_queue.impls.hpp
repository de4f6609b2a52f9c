// SPDX-License-Identifier: Apache-2.0
/// @file
/// The built-in queue implementations: the one list that registration, conformance tests and
/// checks are generated from. An MPMC queue comes first, so `cpbench list scenarios` (which
/// shows the first implementation's scenarios) shows the whole scenario set.
#pragma once

#include "harness/core/sync.hpp"
#include "harness/core/type_list.hpp"
#include "patterns/lockfree_queue/boost_queue.hpp"
#include "patterns/lockfree_queue/boost_spsc_queue.hpp"
#include "patterns/lockfree_queue/moodycamel_cq.hpp"
#include "patterns/lockfree_queue/moodycamel_rwq.hpp"
#include "patterns/lockfree_queue/ms_queue.hpp"
#include "patterns/lockfree_queue/mutex_ring.hpp"
#include "patterns/lockfree_queue/spsc_ring.hpp"
#include "patterns/lockfree_queue/tbb_concurrent_queue.hpp"
#include "patterns/lockfree_queue/vyukov_mpmc.hpp"

#include <cstdint>
#include <type_traits>

namespace cpb::patterns::lockfree_queue {

using Value = std::uint64_t;

/// The implementations templated on the sync policy, which the model checker runs: the own ones
/// and the mutex ring.
using ModelImpls = TypeList<VyukovMpmc<Value>, MsQueue<Value>, SpscRing<Value>, MutexRing<Value>>;

/// libtbb.so is not instrumented: TbbConcurrentQueue is left out of the TSan build.
using Impls = std::conditional_t<
    sync::kTsan,
    TypeList<VyukovMpmc<Value>, MsQueue<Value>, SpscRing<Value>, MutexRing<Value>,
             MoodycamelCq<Value>, MoodycamelRwq<Value>, BoostQueue<Value>, BoostSpscQueue<Value>>,
    TypeList<VyukovMpmc<Value>, MsQueue<Value>, SpscRing<Value>, MutexRing<Value>,
             MoodycamelCq<Value>, MoodycamelRwq<Value>, BoostQueue<Value>, BoostSpscQueue<Value>,
             TbbConcurrentQueue<Value>>>;

}  // namespace cpb::patterns::lockfree_queue
