// SPDX-License-Identifier: Apache-2.0
/// @file
/// `multi_reactor`: one own epoll loop per CPU, each with its own SO_REUSEPORT listener on the
/// same port, so the kernel spreads new connections over the loops and no loop shares anything
/// with another (the Netty / nginx worker shape). See epoll_loop.hpp for the loop.
///
/// Progress: blocking (epoll_wait). Memory ordering: none of its own (loops share nothing).
/// When to use: more connections than one core can serve, handlers that are independent per
/// connection. When not: few connections (the kernel may hash them onto one loop) or state
/// shared between connections (it would need locks the single loop does not).
/// Reference: the SO_REUSEPORT section of socket(7); Netty's EventLoopGroup.
#pragma once

#include "harness/core/progress.hpp"
#include "patterns/reactor/epoll_loop.hpp"
#include "patterns/reactor/server.hpp"

#include <algorithm>
#include <cstdint>
#include <memory>
#include <string_view>
#include <thread>
#include <vector>

namespace cpb::patterns::reactor {

class MultiReactor {
 public:
  static constexpr std::string_view kName = "multi_reactor";
  static constexpr Progress kProgress = Progress::kBlocking;

  explicit MultiReactor(const ServerOptions& o) {
    const unsigned n = o.loops != 0 ? o.loops : std::max(1U, std::thread::hardware_concurrency());
    // SO_REUSEPORT would let a second server share a port that is in use: a plain bind first
    // finds out (and throws cpb::UsageError).
    if (o.port != 0) workloads::io::listen_tcp(o.port, false);
    std::vector<workloads::io::Fd> listeners;
    listeners.push_back(workloads::io::listen_tcp(o.port, true));
    port_ = workloads::io::local_port(listeners.front().get());
    for (unsigned i = 1; i < n; ++i) listeners.push_back(workloads::io::listen_tcp(port_, true));
    for (auto& l : listeners)
      loops_.push_back(std::make_unique<EpollLoop>(std::move(l), o.protocol));
  }
  [[nodiscard]] std::uint16_t port() const { return port_; }
  [[nodiscard]] std::size_t loops() const { return loops_.size(); }

 private:
  std::uint16_t port_ = 0;
  std::vector<std::unique_ptr<EpollLoop>> loops_;
};

}  // namespace cpb::patterns::reactor
