// SPDX-License-Identifier: Apache-2.0
#include "patterns/semaphore/semaphore.hpp"

#include "patterns/semaphore/semaphore.impls.hpp"

CPB_REGISTER_IMPLS(semaphore, cpb::patterns::semaphore::Impls);
