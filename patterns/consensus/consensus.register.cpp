// SPDX-License-Identifier: Apache-2.0
#include "patterns/consensus/consensus.hpp"

#include "patterns/consensus/consensus.impls.hpp"

CPB_REGISTER_IMPLS(consensus, cpb::patterns::consensus::Impls);
