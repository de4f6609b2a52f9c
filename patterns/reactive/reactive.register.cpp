// SPDX-License-Identifier: Apache-2.0
#include "patterns/reactive/reactive.hpp"

#include "patterns/reactive/reactive.impls.hpp"

CPB_REGISTER_IMPLS(reactive, cpb::patterns::reactive::Impls);
