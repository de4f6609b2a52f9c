// SPDX-License-Identifier: Apache-2.0
// The seeded Figure 8 twin as a plug-in: a cpbench of its own (cpb_add_plugin) in which the
// consensus family has own_raft_figure8 beside the built-in own_raft, so that
// `cpbench check --family consensus --mode model` shows the twin caught (exit 1, a replay
// string) while own_raft passes. figure8_twin_e2e.sh runs it.
#include "patterns/consensus/consensus.hpp"
#include "patterns/consensus/own_raft.hpp"

CPB_REGISTER_IMPL(consensus, cpb::patterns::consensus::OwnRaftFigure8<>);
