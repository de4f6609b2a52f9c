// SPDX-License-Identifier: Apache-2.0
#include "patterns/worker_pool/worker_pool.hpp"

#include "patterns/worker_pool/worker_pool.impls.hpp"

CPB_REGISTER_IMPLS(worker_pool, cpb::patterns::worker_pool::Impls);
