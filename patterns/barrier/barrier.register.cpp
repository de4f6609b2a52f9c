// SPDX-License-Identifier: Apache-2.0
#include "patterns/barrier/barrier.hpp"

#include "patterns/barrier/barrier.impls.hpp"

CPB_REGISTER_IMPLS(barrier, cpb::patterns::barrier::Impls);
