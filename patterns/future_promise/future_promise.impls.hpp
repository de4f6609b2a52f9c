// SPDX-License-Identifier: Apache-2.0
/// @file
/// The built-in future/promise libraries: the one list that registration, conformance tests
/// and stress checks are generated from.
#pragma once

#include "harness/core/type_list.hpp"
#include "patterns/future_promise/boost_future.hpp"
#include "patterns/future_promise/shared_state_future.hpp"
#include "patterns/future_promise/std_future.hpp"

namespace cpb::patterns::future_promise {

using Impls = TypeList<SharedStateFuture<>, BoostFuture, StdFuture>;

}  // namespace cpb::patterns::future_promise
