// SPDX-License-Identifier: Apache-2.0
/// @file
/// For the server tests: one server per engine for the whole test binary (ZooKeeper's JVM takes
/// about a second to start), started on first use and stopped at exit, or by the kernel's
/// parent-death signal if the binary dies first.
#pragma once

#include "patterns/distributed_lock/servers.hpp"

#include <memory>

namespace cpb::patterns::distributed_lock::testing {

/// The binary's server of type S; nullptr when S cannot run here (`S::unavailable()`).
template <class S>
S* shared_server() {
  static std::unique_ptr<S> server = [] {
    return S::unavailable().empty() ? std::make_unique<S>() : nullptr;
  }();
  return server.get();
}

}  // namespace cpb::patterns::distributed_lock::testing
