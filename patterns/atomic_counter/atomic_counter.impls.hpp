// SPDX-License-Identifier: Apache-2.0
/// @file
/// The built-in counters: the one list that registration, conformance tests and checks are
/// generated from. `tbb_combinable` is left out under ThreadSanitizer: it allocates through
/// libtbb, which is not instrumented (tbb_combinable.hpp).
#pragma once

#include "harness/core/sync.hpp"
#include "harness/core/type_list.hpp"
#include "patterns/atomic_counter/cas_loop_counter.hpp"
#include "patterns/atomic_counter/fetch_add_counter.hpp"
#include "patterns/atomic_counter/mutex_counter.hpp"
#include "patterns/atomic_counter/sharded_counter.hpp"
#include "patterns/atomic_counter/tbb_combinable.hpp"

#include <type_traits>

namespace cpb::patterns::atomic_counter {

using Own = TypeList<FetchAddCounter<>, CasLoopCounter<>, ShardedCounter<>, MutexCounter<>>;

using Impls = std::conditional_t<
    sync::kTsan, Own,
    TypeList<TbbCombinable, FetchAddCounter<>, CasLoopCounter<>, ShardedCounter<>, MutexCounter<>>>;

}  // namespace cpb::patterns::atomic_counter
