// SPDX-License-Identifier: Apache-2.0
/// @file
/// The built-in stacks: the one list that registration, conformance tests and checks are
/// generated from.
#pragma once

#include "harness/core/sync.hpp"
#include "harness/core/type_list.hpp"
#include "patterns/lockfree_stack/boost_stack.hpp"
#include "patterns/lockfree_stack/elimination_stack.hpp"
#include "patterns/lockfree_stack/locked_vector.hpp"
#include "patterns/lockfree_stack/treiber_stack.hpp"

#include <type_traits>

namespace cpb::patterns::lockfree_stack {

/// `boost_stack` is left out of ThreadSanitizer builds: by design its pop reads a node's `next`
/// (a plain field) while another thread may be recycling that node through Boost's freelist, a
/// race TSan reports (benign for Boost's algorithm on x86, undefined behaviour in C++).
using Impls =
    std::conditional_t<sync::kTsan, TypeList<LockedVector, TreiberStack<>, EliminationStack<>>,
                       TypeList<LockedVector, TreiberStack<>, EliminationStack<>, BoostStack>>;

}  // namespace cpb::patterns::lockfree_stack
