// SPDX-License-Identifier: Apache-2.0
/// @file
/// The built-in two-phase-locking stores and the baseline (the same global-mutex store as
/// `optimistic_cc`'s): the one list that registration, conformance tests and checks are
/// generated from.
#pragma once

#include "harness/core/type_list.hpp"
#include "patterns/optimistic_cc/global_mutex.hpp"
#include "patterns/pessimistic_cc/ordered_2pl.hpp"
#include "patterns/pessimistic_cc/wait_die_2pl.hpp"

namespace cpb::patterns::pessimistic_cc {

using Impls = TypeList<transactions::GlobalMutex, Ordered2pl<>, WaitDie2pl<>>;

}  // namespace cpb::patterns::pessimistic_cc
