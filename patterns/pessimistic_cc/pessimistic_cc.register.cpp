// SPDX-License-Identifier: Apache-2.0
#include "patterns/pessimistic_cc/pessimistic_cc.hpp"

#include "patterns/pessimistic_cc/pessimistic_cc.impls.hpp"

CPB_REGISTER_IMPLS(pessimistic_cc, cpb::patterns::pessimistic_cc::Impls);
