// SPDX-License-Identifier: Apache-2.0
/// @file
/// The built-in consensus implementations: the one list that registration, conformance tests
/// and stress checks are generated from. (The etcd cluster of issue 14 joins it later.)
#pragma once

#include "harness/core/type_list.hpp"
#include "patterns/consensus/own_raft.hpp"

namespace cpb::patterns::consensus {

using Impls = TypeList<OwnRaft<>>;

}  // namespace cpb::patterns::consensus
