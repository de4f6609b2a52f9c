// SPDX-License-Identifier: Apache-2.0
#include "patterns/coroutine/coroutine.hpp"

#include "patterns/coroutine/coroutine.impls.hpp"

CPB_REGISTER_IMPLS(coroutine, cpb::patterns::coroutine::Impls);
CPB_REGISTER_IMPLS(coroutine, cpb::patterns::coroutine::Servers);
