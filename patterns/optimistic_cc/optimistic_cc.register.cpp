// SPDX-License-Identifier: Apache-2.0
#include "patterns/optimistic_cc/optimistic_cc.hpp"

#include "patterns/optimistic_cc/optimistic_cc.impls.hpp"

CPB_REGISTER_IMPLS(optimistic_cc, cpb::patterns::optimistic_cc::Impls);
