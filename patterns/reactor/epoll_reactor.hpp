// SPDX-License-Identifier: Apache-2.0
/// @file
/// `epoll_reactor`: one own epoll loop on one thread serves every connection (the Node.js
/// shape). See epoll_loop.hpp for the loop.
///
/// Progress: blocking (epoll_wait). Memory ordering: none of its own (one thread; start and
/// stop are ordered by thread creation, an eventfd and join).
/// When to use: a service whose work per request is small next to its I/O and that one core
/// can carry; no locks in the handlers. When not: CPU-heavy handlers (they stall every
/// connection) or more load than one core can take (multi_reactor).
/// Reference: Schmidt (PLoP 1995); epoll(7).
#pragma once

#include "harness/core/progress.hpp"
#include "patterns/reactor/epoll_loop.hpp"
#include "patterns/reactor/server.hpp"

#include <cstdint>
#include <optional>
#include <string_view>

namespace cpb::patterns::reactor {

class EpollReactor {
 public:
  static constexpr std::string_view kName = "epoll_reactor";
  static constexpr Progress kProgress = Progress::kBlocking;

  explicit EpollReactor(const ServerOptions& o) {
    workloads::io::Fd l = workloads::io::listen_tcp(o.port, false);
    port_ = workloads::io::local_port(l.get());
    loop_.emplace(std::move(l), o.protocol);
  }
  [[nodiscard]] std::uint16_t port() const { return port_; }

 private:
  std::uint16_t port_ = 0;
  std::optional<EpollLoop> loop_;
};

}  // namespace cpb::patterns::reactor
