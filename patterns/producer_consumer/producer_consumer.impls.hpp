// SPDX-License-Identifier: Apache-2.0
/// @file
/// The built-in bounded buffers: the one list that registration, conformance tests and checks
/// are generated from.
#pragma once

#include "harness/core/sync.hpp"
#include "harness/core/type_list.hpp"
#include "patterns/producer_consumer/condvar_buffer.hpp"
#include "patterns/producer_consumer/eventcount_ring.hpp"
#include "patterns/producer_consumer/moodycamel_blocking.hpp"
#include "patterns/producer_consumer/semaphore_buffer.hpp"
#include "patterns/producer_consumer/tbb_bounded_queue.hpp"

#include <type_traits>

namespace cpb::patterns::producer_consumer {

/// The implementations templated on the sync policy, which the model checker runs.
using ModelImpls = TypeList<EventcountRing<>, CondvarBuffer<>, SemaphoreBuffer<>>;

/// Under ThreadSanitizer both baselines are left out, because TSan cannot check them:
/// - tbb_bounded_queue: libtbb.so is not instrumented;
/// - moodycamel_blocking: moodycamel synchronises through standalone atomic_thread_fence, which
///   TSan does not model (GCC warns: -Wtsan), so it reports races that are not there.
using Impls =
    std::conditional_t<sync::kTsan, TypeList<EventcountRing<>, CondvarBuffer<>, SemaphoreBuffer<>>,
                       TypeList<EventcountRing<>, CondvarBuffer<>, SemaphoreBuffer<>,
                                TbbBoundedQueue, MoodycamelBlocking>>;

}  // namespace cpb::patterns::producer_consumer
