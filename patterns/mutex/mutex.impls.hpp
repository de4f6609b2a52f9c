// SPDX-License-Identifier: Apache-2.0
/// @file
/// The built-in mutex implementations: the one list that registration, conformance tests and
/// stress checks are generated from.
#pragma once

#include "harness/core/type_list.hpp"
#include "patterns/mutex/std_mutex.hpp"
#include "patterns/mutex/tas_spinlock.hpp"
#include "patterns/mutex/tbb_spin_mutex.hpp"
#include "patterns/mutex/ticket_lock.hpp"
#include "patterns/mutex/ttas_spinlock.hpp"

namespace cpb::patterns::mutex {

using Impls = TypeList<StdMutex, TasSpinlock<>, TtasSpinlock<>, TicketLock<>, TbbSpinMutex>;

}  // namespace cpb::patterns::mutex
