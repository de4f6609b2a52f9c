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

/// Under ThreadSanitizer four baselines are left out, because TSan cannot check them:
/// - tbb_concurrent_queue: libtbb.so is not instrumented;
/// - moodycamel_cq and moodycamel_rwq synchronise through standalone atomic_thread_fence, which
///   TSan does not model (GCC warns: -Wtsan), so it reports races that are not there;
/// - boost_queue: its free list writes a node's `next` with a plain store while another thread
///   may read it (the tagged pointer's counter makes that reader's CAS fail and discard what it
///   read): a race by the C++ memory model, benign by design, and reported.
/// The own queues, mutex_ring and boost_spsc_queue run under TSan.
using Impls = std::conditional_t<
    sync::kTsan,
    TypeList<VyukovMpmc<Value>, MsQueue<Value>, SpscRing<Value>, MutexRing<Value>,
             BoostSpscQueue<Value>>,
    TypeList<VyukovMpmc<Value>, MsQueue<Value>, SpscRing<Value>, MutexRing<Value>,
             MoodycamelCq<Value>, MoodycamelRwq<Value>, BoostQueue<Value>, BoostSpscQueue<Value>,
             TbbConcurrentQueue<Value>>>;

}  // namespace cpb::patterns::lockfree_queue
