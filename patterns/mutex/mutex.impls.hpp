// SPDX-License-Identifier: Apache-2.0
/// @file
/// The built-in mutex implementations: the one list that registration, conformance tests and
/// stress checks are generated from.
#pragma once

#include "harness/core/sync.hpp"
#include "harness/core/type_list.hpp"
#include "patterns/mutex/absl_mutex.hpp"
#include "patterns/mutex/backoff_ticket_lock.hpp"
#include "patterns/mutex/futex_mutex.hpp"
#include "patterns/mutex/mcs_lock.hpp"
#include "patterns/mutex/std_mutex.hpp"
#include "patterns/mutex/tas_spinlock.hpp"
#include "patterns/mutex/tbb_spin_mutex.hpp"
#include "patterns/mutex/ticket_lock.hpp"
#include "patterns/mutex/ttas_spinlock.hpp"

#include <type_traits>

namespace cpb::patterns::mutex {

/// The own implementations (templates on the sync policy, model-checked).
using OwnImpls = TypeList<TasSpinlock<>, TtasSpinlock<>, TicketLock<>, McsLock<>, FutexMutex<>,
                          BackoffTicketLock<>>;

/// Every implementation. `absl_mutex` lives in an uninstrumented shared library and is left out
/// of the ThreadSanitizer build (its synchronization is invisible to TSan).
using Impls =
    std::conditional_t<sync::kTsan,
                       TypeList<StdMutex, TasSpinlock<>, TtasSpinlock<>, TicketLock<>, McsLock<>,
                                FutexMutex<>, BackoffTicketLock<>, TbbSpinMutex>,
                       TypeList<StdMutex, TasSpinlock<>, TtasSpinlock<>, TicketLock<>, McsLock<>,
                                FutexMutex<>, BackoffTicketLock<>, TbbSpinMutex, AbslMutex>>;

}  // namespace cpb::patterns::mutex
