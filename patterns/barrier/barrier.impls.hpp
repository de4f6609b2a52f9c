// SPDX-License-Identifier: Apache-2.0
/// @file
/// The built-in barriers: the one list that registration, conformance tests and checks are
/// generated from.
#pragma once

#include "harness/core/type_list.hpp"
#include "patterns/barrier/dissemination_barrier.hpp"
#include "patterns/barrier/pthread_barrier.hpp"
#include "patterns/barrier/sense_barrier.hpp"
#include "patterns/barrier/std_barrier.hpp"

namespace cpb::patterns::barrier {

/// The own implementations (templates on the sync policy, model-checked).
using OwnImpls = TypeList<SenseBarrier<>, DisseminationBarrier<>>;

using Impls = TypeList<StdBarrier, SenseBarrier<>, DisseminationBarrier<>, PthreadBarrier>;

}  // namespace cpb::patterns::barrier
