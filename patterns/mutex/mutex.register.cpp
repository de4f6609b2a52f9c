// SPDX-License-Identifier: Apache-2.0
#include "patterns/mutex/mutex.hpp"

#include "patterns/mutex/mutex.impls.hpp"

CPB_REGISTER_IMPLS(mutex, cpb::patterns::mutex::Impls);
