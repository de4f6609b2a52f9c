// SPDX-License-Identifier: Apache-2.0
/// @file
/// The built-in stacks: the one list that registration, conformance tests and checks are
/// generated from.
#pragma once

#include "harness/core/type_list.hpp"
#include "patterns/lockfree_stack/boost_stack.hpp"
#include "patterns/lockfree_stack/elimination_stack.hpp"
#include "patterns/lockfree_stack/locked_vector.hpp"
#include "patterns/lockfree_stack/treiber_stack.hpp"

namespace cpb::patterns::lockfree_stack {

using Impls = TypeList<LockedVector, TreiberStack<>, EliminationStack<>, BoostStack>;

}  // namespace cpb::patterns::lockfree_stack
