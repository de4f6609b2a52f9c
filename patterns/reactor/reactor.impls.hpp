// SPDX-License-Identifier: Apache-2.0
/// @file
/// The built-in reactors: the one list that registration, conformance tests and stress checks
/// are generated from.
#pragma once

#include "harness/core/type_list.hpp"
#include "patterns/reactor/asio_server.hpp"
#include "patterns/reactor/epoll_reactor.hpp"
#include "patterns/reactor/libevent_server.hpp"
#include "patterns/reactor/libuv_server.hpp"
#include "patterns/reactor/multi_reactor.hpp"
#include "patterns/reactor/thread_per_connection.hpp"

namespace cpb::patterns::reactor {

using Impls = TypeList<EpollReactor, MultiReactor, LibuvServer, LibeventServer, AsioServer,
                       ThreadPerConnection>;

}  // namespace cpb::patterns::reactor
