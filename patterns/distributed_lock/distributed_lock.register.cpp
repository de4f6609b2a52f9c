// SPDX-License-Identifier: Apache-2.0
#include "patterns/distributed_lock/distributed_lock.hpp"

#include "patterns/distributed_lock/distributed_lock.impls.hpp"

CPB_REGISTER_IMPLS(distributed_lock, cpb::patterns::distributed_lock::Impls);
