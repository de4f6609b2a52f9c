// SPDX-License-Identifier: Apache-2.0
#include "patterns/lockfree_queue/lockfree_queue.hpp"

#include "patterns/lockfree_queue/lockfree_queue.impls.hpp"

CPB_REGISTER_IMPLS(lockfree_queue, cpb::patterns::lockfree_queue::Impls);
