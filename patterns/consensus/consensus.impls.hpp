// SPDX-License-Identifier: Apache-2.0
/// @file
/// The built-in consensus implementations: the one list that registration, conformance tests
/// and stress checks are generated from. The etcd cluster joins it where the build has the
/// server fixtures of patterns/distributed_lock (CMakeLists.txt defines CPB_HAVE_ETCD_CLUSTER).
#pragma once

#include "harness/core/type_list.hpp"
#include "patterns/consensus/own_raft.hpp"

#if defined(CPB_HAVE_ETCD_CLUSTER)
#include "patterns/consensus/etcd_cluster.hpp"
#endif

namespace cpb::patterns::consensus {

#if defined(CPB_HAVE_ETCD_CLUSTER)
using Impls = TypeList<EtcdConsensus, OwnRaft<>>;
#else
using Impls = TypeList<OwnRaft<>>;
#endif

}  // namespace cpb::patterns::consensus
