// SPDX-License-Identifier: Apache-2.0
#include "patterns/lockfree_stack/lockfree_stack.hpp"

#include "patterns/lockfree_stack/lockfree_stack.impls.hpp"

CPB_REGISTER_IMPLS(lockfree_stack, cpb::patterns::lockfree_stack::Impls);
