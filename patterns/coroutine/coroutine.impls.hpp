// SPDX-License-Identifier: Apache-2.0
/// @file
/// The built-in runtimes: the one list that registration, conformance tests and stress checks
/// are generated from.
#pragma once

#include "harness/core/type_list.hpp"
#include "patterns/coroutine/asio_awaitable.hpp"
#include "patterns/coroutine/boost_fiber.hpp"
#include "patterns/coroutine/coroutine_server.hpp"
#include "patterns/coroutine/futex_handoff.hpp"
#include "patterns/coroutine/task_scheduler.hpp"

namespace cpb::patterns::coroutine {

using Impls = TypeList<TaskScheduler, AsioAwaitable, BoostFiber, FutexHandoff>;

/// The servers built on the own runtime (`reactor::Server`): the reactors' scenarios and checks.
using Servers = TypeList<CoroutineServer>;

}  // namespace cpb::patterns::coroutine
