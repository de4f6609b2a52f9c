// SPDX-License-Identifier: Apache-2.0
/// @file
/// The family concept: a client of a lock service on a real server. `acquire(name)` blocks
/// until this client holds lock `name` and returns a `Grant`; `release(grant)` gives it back
/// and says whether it was still held (false for a holder whose lease ran out, or for a grant
/// that is not this client's). A fenced client's grant carries a fencing token (Kleppmann):
/// larger for every later grant of the same lock, so a protected resource (fenced_store.hpp) can
/// reject a write from a holder whose lease ran out while it was paused. An unfenced client
/// hands out token 0, and its resource has nothing to check.
///
/// One client is one connection (or session) and is used by one thread at a time.
#pragma once

#include "harness/core/progress.hpp"
#include "patterns/distributed_lock/servers.hpp"

#include <concepts>
#include <cstdint>
#include <string>
#include <string_view>

namespace cpb::patterns::distributed_lock {

struct Grant {
  std::int64_t token = 0;  ///< the fencing token; 0 from an unfenced client
  std::string handle;      ///< what release needs: Redis value, etcd key, ZooKeeper node path
  std::int64_t engine_token = 0;  ///< the engine's own number for the grant (tests; 0: none)
};

struct LockOptions {
  /// The lease: Redis PX, the etcd lease TTL (rounded up to whole seconds), the ZooKeeper
  /// session timeout (the server clamps it to 2..20 ticks: 400 ms..4 s in our fixture).
  Millis ttl{4000};
  Millis io_timeout{10000};       ///< one request's round trip
  Millis acquire_timeout{30000};  ///< acquire() gives up (ServerError) after this
  std::uint16_t port = 0;  ///< 0: the server's port; else connect here (a LinkProxy before it)
};

template <class L>
concept LockClient = std::constructible_from<L, const typename L::Server&, const LockOptions&> &&
    std::derived_from<typename L::Server, Server> &&
    requires(L& l, const Grant& g, std::string_view name) {
  { L::kName } -> std::convertible_to<std::string_view>;
  { L::kProgress } -> std::convertible_to<Progress>;
  { L::kFenced } -> std::convertible_to<bool>;
  { L::kEngine } -> std::convertible_to<std::string_view>;
  { l.acquire(name) } -> std::same_as<Grant>;
  { l.release(g) } -> std::same_as<bool>;
};

}  // namespace cpb::patterns::distributed_lock
