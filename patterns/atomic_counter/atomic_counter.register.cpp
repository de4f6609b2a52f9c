// SPDX-License-Identifier: Apache-2.0
#include "patterns/atomic_counter/atomic_counter.hpp"

#include "patterns/atomic_counter/atomic_counter.impls.hpp"

CPB_REGISTER_IMPLS(atomic_counter, cpb::patterns::atomic_counter::Impls);
