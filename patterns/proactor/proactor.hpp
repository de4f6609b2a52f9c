// SPDX-License-Identifier: Apache-2.0
/// @file
/// The `proactor` family: completion-based TCP servers (start an operation, get its result)
/// serving the same echo and HTTP/1.1 protocols as the `reactor` family, with the same
/// fixtures and scenarios (patterns/reactor/reactor.hpp): real loopback traffic from the load
/// generator, closed and open loop, every response checked. An implementation the kernel or
/// sandbox refuses (io_uring) declares why in `unavailable()`: the harness skips it with that
/// reason, and its fixture throws the reason instead of crashing.
/// No model check: kernel I/O is outside the model checker (DESIGN §2).
#pragma once

#include "patterns/reactor/reactor.hpp"
#include "patterns/reactor/server.hpp"

#include <string_view>
#include <vector>

namespace cpb::patterns::proactor {

template <reactor::Server S>
struct Family {
  static constexpr std::string_view kName = "proactor";
  static constexpr std::string_view kDescription =
      "completion-based servers of echo and HTTP/1.1 on loopback TCP: io_uring with batched "
      "submission and registered buffers, against Asio's proactor on epoll";
  static constexpr std::string_view kReference = "asio";
  static std::vector<Scenario> scenarios() { return reactor::detail::scenarios<S>(); }
  static std::vector<Check> checks() { return {reactor::detail::churn_check<S>()}; }
};

}  // namespace cpb::patterns::proactor
