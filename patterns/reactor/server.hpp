// SPDX-License-Identifier: Apache-2.0
/// @file
/// What every server of the `reactor` and `proactor` families is: constructed from
/// `ServerOptions`, it listens on 127.0.0.1 (port 0: the OS picks; `port()` says which) and
/// serves the protocol on its own thread(s) until it is destroyed, which stops every thread and
/// closes every fd. A server whose mechanism may be refused at run time (io_uring) also has
/// `static std::string unavailable()`: empty when it can run here, else why not.
#pragma once

#include "harness/core/progress.hpp"
#include "workloads/io/net.hpp"

#include <concepts>
#include <cstdint>
#include <string>
#include <string_view>

namespace cpb::patterns::reactor {

using workloads::io::Protocol;

struct ServerOptions {
  Protocol protocol = Protocol::kHttp;
  std::uint16_t port = 0;  ///< 0: the OS picks
  unsigned loops = 0;      ///< event loops of a multi-loop server; 0: one per CPU
};

template <class S>
concept Server = std::constructible_from<S, const ServerOptions&> && requires(const S& s) {
  { s.port() } -> std::same_as<std::uint16_t>;
  { S::kName } -> std::convertible_to<std::string_view>;
  { S::kProgress } -> std::convertible_to<Progress>;
};

/// Why `S` cannot run here (empty: it can).
template <class S>
std::string unavailable() {
  if constexpr (requires { S::unavailable(); }) {
    return S::unavailable();
  } else {
    return {};
  }
}

}  // namespace cpb::patterns::reactor
