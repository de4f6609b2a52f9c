// SPDX-License-Identifier: Apache-2.0
/// @file
/// The ZooKeeper lock recipe (zookeeper.apache.org recipes, "Locks"), over the C client
/// (libzookeeper-mt), one session per client with session timeout = ttl:
///   acquire  create `/cpb-locks/<name>/x-<session id>-` EPHEMERAL|SEQUENCE; list the children
///            (no watch); the lowest sequence number holds the lock; otherwise set a watch on
///            the next lower node only (`zoo_wexists`) and wait for its deletion, then list
///            again. One watcher per node: a release wakes one waiter (no herd), in FIFO order.
///            A create that fails with the connection may have happened anyway: once the
///            library reconnected, the recipe's GUID search (the session id in the node's name)
///            finds the node, else the create is sent again;
///   token    the fenced variant's token is the lock node's czxid (from `zoo_create2`): zxids
///            are totally ordered across the ensemble, so a later grant has a larger one;
///   release  delete our node; false when it is gone (our session expired: the server deleted
///            it and may have granted the lock to the next waiter).
/// A paused holder learns that its session expired only when it talks to the server again.
#pragma once

#include "patterns/distributed_lock/lock.hpp"

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

struct _zhandle;

namespace cpb::patterns::distributed_lock {

class ZooKeeperLockClient {
 public:
  ZooKeeperLockClient(const ZooKeeperServer& server, const LockOptions& opt, bool fenced);
  ~ZooKeeperLockClient();  ///< closes the session (its ephemeral nodes go with it)
  ZooKeeperLockClient(const ZooKeeperLockClient&) = delete;
  ZooKeeperLockClient& operator=(const ZooKeeperLockClient&) = delete;

  Grant acquire(std::string_view name);
  bool release(const Grant& g);
  /// The nodes waiting for lock `name`, the holder first (tests look at it).
  std::vector<std::string> queue(std::string_view name);

  /// Called on the client library's completion thread.
  void on_event(int type, int state);

 private:
  void ensure_parent(const std::string& dir);
  /// Creates this client's node in lock directory `dir`: its path and creation zxid.
  std::pair<std::string, std::int64_t> enqueue(const std::string& dir,
                                               std::chrono::steady_clock::time_point deadline);
  [[noreturn]] void fail(std::string_view doing, int rc) const;

  _zhandle* zh_ = nullptr;
  LockOptions opt_;
  bool fenced_;
  std::mutex mutex_;  ///< guards state_ and events_, written by the completion thread
  std::condition_variable cv_;
  int state_ = 0;
  std::uint64_t events_ = 0;       ///< watch events seen; a waiter waits for it to change
  std::set<std::string> parents_;  ///< lock directories known to exist
  std::string guid_;
};

template <bool Fenced>
class ZooKeeperLock {
 public:
  using Server = ZooKeeperServer;
  static constexpr std::string_view kName = Fenced ? "zookeeper_fenced" : "zookeeper_unfenced";
  static constexpr std::string_view kEngine = "zookeeper";
  static constexpr Progress kProgress = Progress::kBlocking;
  static constexpr bool kFenced = Fenced;
  static std::string unavailable() { return ZooKeeperServer::unavailable(); }

  ZooKeeperLock(const ZooKeeperServer& s, const LockOptions& opt) : c_(s, opt, Fenced) {}
  Grant acquire(std::string_view name) { return c_.acquire(name); }
  bool release(const Grant& g) { return c_.release(g); }

 private:
  ZooKeeperLockClient c_;
};

}  // namespace cpb::patterns::distributed_lock
