// SPDX-License-Identifier: Apache-2.0
/// @file
/// The single-instance Redis lock (redis.io "Distributed Locks with Redis"), over hiredis:
///   acquire  `SET lock:<name> <random 128-bit value> NX PX <ttl>`, retried with jittered
///            exponential backoff (50 us .. 2 ms) while another client holds it;
///   release  a Lua script that deletes the key only if it still holds our value, so a holder
///            whose lease ran out cannot delete its successor's lock.
/// The fenced variant acquires through one Lua script that does the `SET NX PX` and, when it
/// succeeds, `INCR fence:<name>` in the same atomic step, and returns that count as the
/// fencing token (distributed-anchors §1.4). Scripts run by EVALSHA, reloaded on NOSCRIPT.
/// No queue: waiters poll, so there is no FIFO order and no bound on a waiter's wait.
#pragma once

#include "patterns/distributed_lock/lock.hpp"

#include <cstdint>
#include <random>
#include <string>
#include <string_view>

struct redisContext;

namespace cpb::patterns::distributed_lock {

class RedisLockClient {
 public:
  RedisLockClient(const RedisServer& server, const LockOptions& opt, bool fenced);
  ~RedisLockClient();
  RedisLockClient(const RedisLockClient&) = delete;
  RedisLockClient& operator=(const RedisLockClient&) = delete;

  Grant acquire(std::string_view name);
  bool release(const Grant& g);

 private:
  /// One attempt: the grant's token (1 for an unfenced grant) or 0 when the lock is taken.
  std::int64_t try_once(std::string_view name, const std::string& value);
  /// EVALSHA of `sha` (loading `script` on NOSCRIPT) with `keys` and `args`; the integer reply.
  std::int64_t eval(std::string& sha, std::string_view script,
                    std::initializer_list<std::string_view> keys,
                    std::initializer_list<std::string_view> args);
  std::string load(std::string_view script);
  /// A connection broken by an earlier request (a server restart, a timeout) is opened again
  /// before the next one. The request that met the broken connection is not repeated: its
  /// outcome is unknown, and a repeated acquire would find its own key.
  void reconnect_if_broken();
  [[noreturn]] void fail(std::string_view doing) const;

  redisContext* ctx_ = nullptr;
  LockOptions opt_;
  bool fenced_;
  std::string acquire_sha_;
  std::string release_sha_;
  std::mt19937_64 rng_;
};

template <bool Fenced>
class RedisLock {
 public:
  using Server = RedisServer;
  static constexpr std::string_view kName = Fenced ? "redis_fenced" : "redis_unfenced";
  static constexpr std::string_view kEngine = "redis";
  static constexpr Progress kProgress = Progress::kBlocking;
  static constexpr bool kFenced = Fenced;
  static constexpr bool kBaseline = Fenced;  // the reference: redis_fenced
  static std::string unavailable() { return RedisServer::unavailable(); }

  RedisLock(const RedisServer& s, const LockOptions& opt) : c_(s, opt, Fenced) {}
  Grant acquire(std::string_view name) { return c_.acquire(name); }
  bool release(const Grant& g) { return c_.release(g); }

 private:
  RedisLockClient c_;
};

}  // namespace cpb::patterns::distributed_lock
