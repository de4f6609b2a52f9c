// SPDX-License-Identifier: Apache-2.0
#include "patterns/proactor/proactor.hpp"

#include "patterns/proactor/proactor.impls.hpp"

CPB_REGISTER_IMPLS(proactor, cpb::patterns::proactor::Impls);
