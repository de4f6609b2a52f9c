// SPDX-License-Identifier: Apache-2.0
/// @file
/// The built-in optimistic stores and the baseline: the one list that registration,
/// conformance tests and checks are generated from.
#pragma once

#include "harness/core/type_list.hpp"
#include "patterns/optimistic_cc/global_mutex.hpp"
#include "patterns/optimistic_cc/silo_occ.hpp"
#include "patterns/optimistic_cc/tl2_occ.hpp"

namespace cpb::patterns::optimistic_cc {

using Impls = TypeList<transactions::GlobalMutex, SiloOcc<>, Tl2Occ<>>;

}  // namespace cpb::patterns::optimistic_cc
