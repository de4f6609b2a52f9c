// SPDX-License-Identifier: Apache-2.0
#include "patterns/rw_lock/rw_lock.hpp"

#include "patterns/rw_lock/rw_lock.impls.hpp"

CPB_REGISTER_IMPLS(rw_lock, cpb::patterns::rw_lock::Impls);
