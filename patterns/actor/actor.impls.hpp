// SPDX-License-Identifier: Apache-2.0
/// @file
/// The built-in actor runtimes: the one list that registration, conformance tests and stress
/// checks are generated from.
#pragma once

#include "harness/core/type_list.hpp"
#include "patterns/actor/actor_server.hpp"
#include "patterns/actor/caf_actors.hpp"
#include "patterns/actor/ws_actors.hpp"

namespace cpb::patterns::actor {

using Impls = TypeList<WsActors<>, CafActors>;

/// ThreadSanitizer cannot see the synchronization inside libcaf_core (an uninstrumented shared
/// library) and reports CAF's mailbox hand-overs as data races; a TSan build registers and tests
/// the own runtime only. Every other preset runs both.
/// The servers built on the own runtime (`reactor::Server`): the reactors' scenarios and checks.
using Servers = TypeList<ActorServer>;

#if defined(__SANITIZE_THREAD__)
using Tested = TypeList<WsActors<>>;
#else
using Tested = Impls;
#endif

}  // namespace cpb::patterns::actor
