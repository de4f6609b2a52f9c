// SPDX-License-Identifier: Apache-2.0
/// @file
/// The etcd lease lock over etcd's v3 JSON gateway (HTTP/1.1 keep-alive on a plain socket; no
/// etcdctl, no gRPC library):
///   session  one lease per client (`/v3/lease/grant`, TTL = ttl rounded up to whole seconds),
///            kept alive by a thread of the client every TTL/3 (`/v3/lease/keepalive`) on its
///            own connection, as etcd's `concurrency.Session` does; a paused client process
///            pauses that thread too, so its lease runs out;
///   acquire  `/v3/lock/lock {name, lease}`: the server-side `concurrency.Mutex` (the key with
///            the smallest create revision under the name's prefix holds it; a waiter blocks
///            in the server until every older key is deleted). The answer is the lock key;
///   token    the fenced variant reads that key (`/v3/kv/range`) and takes its create revision:
///            revisions are cluster-wide and strictly increasing (distributed-anchors §2.2);
///   release  `/v3/kv/txn`: delete the key only if it is still the one we created
///            (create revision equal to ours; unfenced: the key still exists), so a holder
///            whose lease ran out learns it (false) and deletes nothing of its successor's.
/// Keys and values are base64 in the JSON; int64 fields come back as strings.
#pragma once

#include "patterns/distributed_lock/lock.hpp"
#include "patterns/distributed_lock/process.hpp"

#include <nlohmann/json.hpp>

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>

namespace cpb::patterns::distributed_lock {

std::string base64_encode(std::string_view in);
std::string base64_decode(std::string_view in);
/// An int64 field that the gateway writes as a string (or leaves out when it is 0): 0 when
/// absent or of another type.
std::int64_t json_i64(const nlohmann::json& j, std::string_view key);

/// A keep-alive HTTP/1.1 connection to the etcd gateway: POST a JSON body, get the JSON back
/// (Content-Length or chunked). A non-200 answer or an `error` field is a ServerError.
class EtcdHttp {
 public:
  EtcdHttp(std::uint16_t port, Millis timeout);
  nlohmann::json post(std::string_view path, const nlohmann::json& body);
  void set_timeout(Millis t) { conn_->set_timeout(t); }

 private:
  std::uint16_t port_;
  Millis timeout_;
  std::optional<Conn> conn_;
  std::string buf_;  ///< bytes read past the previous response
};

class EtcdLockClient {
 public:
  EtcdLockClient(const EtcdServer& server, const LockOptions& opt, bool fenced);
  /// A client of the etcd gateway at `port`, e.g. one member of a cluster.
  EtcdLockClient(std::uint16_t port, const LockOptions& opt, bool fenced);
  ~EtcdLockClient();  ///< stops the keep-alive thread and revokes the lease
  EtcdLockClient(const EtcdLockClient&) = delete;
  EtcdLockClient& operator=(const EtcdLockClient&) = delete;

  Grant acquire(std::string_view name);
  bool release(const Grant& g);
  [[nodiscard]] std::int64_t lease() const { return lease_.load(); }

 private:
  void keepalive_loop();

  LockOptions opt_;
  bool fenced_;
  std::int64_t ttl_s_;
  EtcdHttp http_;
  /// Read by the keep-alive thread, replaced by acquire() after a failed lock request (seq_cst:
  /// no ordering with other data is needed, the lease ID is the whole message).
  std::atomic<std::int64_t> lease_{0};
  std::mutex mutex_;  ///< guards stop_ for the keep-alive thread's timed wait
  std::condition_variable cv_;
  bool stop_ = false;
  std::thread keepalive_;
  std::uint16_t port_;
};

template <bool Fenced>
class EtcdLock {
 public:
  using Server = EtcdServer;
  static constexpr std::string_view kName = Fenced ? "etcd_fenced" : "etcd_unfenced";
  static constexpr std::string_view kEngine = "etcd";
  static constexpr Progress kProgress = Progress::kBlocking;
  static constexpr bool kFenced = Fenced;
  static std::string unavailable() { return EtcdServer::unavailable(); }

  EtcdLock(const EtcdServer& s, const LockOptions& opt) : c_(s, opt, Fenced) {}
  Grant acquire(std::string_view name) { return c_.acquire(name); }
  bool release(const Grant& g) { return c_.release(g); }

 private:
  EtcdLockClient c_;
};

}  // namespace cpb::patterns::distributed_lock
