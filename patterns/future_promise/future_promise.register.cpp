// SPDX-License-Identifier: Apache-2.0
#include "patterns/future_promise/future_promise.hpp"

#include "patterns/future_promise/future_promise.impls.hpp"

CPB_REGISTER_IMPLS(future_promise, cpb::patterns::future_promise::Impls);
