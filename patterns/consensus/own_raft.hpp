// SPDX-License-Identifier: Apache-2.0
/// @file
/// `own_raft`: the in-process Raft of raft.hpp as a `consensus` implementation, and its seeded
/// twin `own_raft_figure8`, the same code with the commit rule switched to counting replicas
/// (the Raft paper's Figure 8). The twin is not registered among the built-ins: the model test
/// (consensus.model.cpp) and the plug-in of the e2e test (figure8_twin.cpp) use it.
#pragma once

#include "harness/core/progress.hpp"
#include "harness/core/sync.hpp"
#include "patterns/consensus/raft.hpp"

#include <string_view>

namespace cpb::patterns::consensus {

/// Raft with §5.4.2's commit rule: a leader commits by counting replicas only entries of its
/// own term.
template <class S = sync::Real>
struct OwnRaft {
  static constexpr std::string_view kName = "own_raft";
  static constexpr Progress kProgress = Progress::kBlocking;
  static constexpr CommitRule kRule = CommitRule::kCurrentTerm;
  using Cluster = RaftCluster<S>;
};

/// The seeded twin: commits any entry a majority holds (Figure 8's bug).
template <class S = sync::Real>
struct OwnRaftFigure8 {
  static constexpr std::string_view kName = "own_raft_figure8";
  static constexpr Progress kProgress = Progress::kBlocking;
  static constexpr CommitRule kRule = CommitRule::kCountReplicas;
  using Cluster = RaftCluster<S>;
};

}  // namespace cpb::patterns::consensus
