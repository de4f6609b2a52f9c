// SPDX-License-Identifier: Apache-2.0
#include "patterns/distributed_lock/zookeeper_lock.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <mutex>
#include <string>
#include <thread>
#include <vector>
// The synchronous API (zoo_create, zoo_wexists ...) exists in libzookeeper_mt only, and its
// header declares it only with THREADED.
#ifndef THREADED
#define THREADED
#endif
#include <zookeeper/zookeeper.h>

namespace cpb::patterns::distributed_lock {
namespace {

extern "C" void zk_watcher(zhandle_t* /*zh*/, int type, int state, const char* /*path*/,
                           void* ctx) {
  static_cast<ZooKeeperLockClient*>(ctx)->on_event(type, state);
}

/// The sequence number of a lock node: its last 10 digits.
std::string_view suffix(std::string_view node) {
  return node.size() >= 10 ? node.substr(node.size() - 10) : node;
}

/// The client library's log, kept rather than printed: the faults make it log the disconnects
/// and expired sessions they cause, which on stderr would bury a check's report. An error message
/// carries the latest line instead. The callback has no context pointer, so this is one log for
/// all the process's clients.
class ClientLog {
 public:
  static void keep(const char* message) {
    std::string line(message);
    while (!line.empty() && (line.back() == '\n' || line.back() == '\r')) line.pop_back();
    State& s = state();
    const std::lock_guard lock(s.mutex);
    s.last = std::move(line);
  }

  /// " (client log: ...)", or nothing when the library logged nothing.
  static std::string suffix() {
    State& s = state();
    const std::lock_guard lock(s.mutex);
    return s.last.empty() ? std::string() : fmt::format(" (client log: {})", s.last);
  }

 private:
  struct State {
    std::mutex mutex;
    std::string last;
  };
  /// Never destroyed: a client's threads may still log while the process exits.
  static State& state() {
    static auto* s = new State;
    return *s;
  }
};

extern "C" void zk_log(const char* message) { ClientLog::keep(message); }

/// The request met a lost connection: its outcome is unknown, and the library reconnects.
bool lost_connection(int rc) { return rc == ZCONNECTIONLOSS || rc == ZOPERATIONTIMEOUT; }

/// The client library resends nothing: `request()` is sent again while it meets a lost
/// connection and `deadline` has not passed (the library reconnects meanwhile; within the
/// session timeout the session and its nodes live on). Returns its last result.
template <class Request>
int retry_lost(std::chrono::steady_clock::time_point deadline, Request&& request) {
  int rc = request();
  while (lost_connection(rc) && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    rc = request();
  }
  return rc;
}

/// Where lock `name`'s queue lives.
std::string lock_dir(std::string_view name) { return fmt::format("/cpb-locks/{}", name); }

/// Sorts a lock's nodes into queue order, by their sequence numbers.
template <class Nodes>
void by_sequence(Nodes& nodes) {
  std::sort(nodes.begin(), nodes.end(),
            [](std::string_view a, std::string_view b) { return suffix(a) < suffix(b); });
}

struct Children {
  String_vector v{0, nullptr};
  ~Children() { deallocate_String_vector(&v); }
};

}  // namespace

void ZooKeeperLockClient::on_event(int type, int state) {
  {
    std::lock_guard lock(mutex_);
    if (type == ZOO_SESSION_EVENT) state_ = state;
    ++events_;
  }
  cv_.notify_all();
}

void ZooKeeperLockClient::fail(std::string_view doing, int rc) const {
  throw ServerError(fmt::format("zookeeper: {}: {}{}", doing, zerror(rc), ClientLog::suffix()));
}

ZooKeeperLockClient::ZooKeeperLockClient(const ZooKeeperServer& server, const LockOptions& opt,
                                         bool fenced)
    : opt_(opt), fenced_(fenced) {
  zoo_set_debug_level(ZOO_LOG_LEVEL_ERROR);
  const std::string host = fmt::format("127.0.0.1:{}", opt.port != 0 ? opt.port : server.port());
  zh_ = zookeeper_init2(host.c_str(), zk_watcher, static_cast<int>(opt.ttl.count()), nullptr, this,
                        0, zk_log);
  if (zh_ == nullptr) {
    throw ServerError(
        fmt::format("zookeeper: zookeeper_init({}) failed{}", host, ClientLog::suffix()));
  }
  std::unique_lock lock(mutex_);
  if (!cv_.wait_for(lock, opt.io_timeout, [this] { return state_ == ZOO_CONNECTED_STATE; })) {
    lock.unlock();
    zookeeper_close(zh_);
    zh_ = nullptr;
    throw ServerError(fmt::format("zookeeper: no session with {} within {} ms{}", host,
                                  opt.io_timeout.count(), ClientLog::suffix()));
  }
  guid_ = fmt::format("x-{:016x}-", static_cast<std::uint64_t>(zoo_client_id(zh_)->client_id));
}

ZooKeeperLockClient::~ZooKeeperLockClient() {
  if (zh_ != nullptr) zookeeper_close(zh_);
}

void ZooKeeperLockClient::ensure_parent(const std::string& dir) {
  if (parents_.contains(dir)) return;
  for (std::size_t at = 1; at != std::string::npos;) {
    at = dir.find('/', at + 1);
    const std::string p = dir.substr(0, at);
    const int rc =
        zoo_create(zh_, p.c_str(), nullptr, -1, &ZOO_OPEN_ACL_UNSAFE, ZOO_PERSISTENT, nullptr, 0);
    if (rc != ZOK && rc != ZNODEEXISTS) fail(fmt::format("create {}", p), rc);
  }
  parents_.insert(dir);
}

std::pair<std::string, std::int64_t> ZooKeeperLockClient::enqueue(
    const std::string& dir, std::chrono::steady_clock::time_point deadline) {
  const std::string prefix = dir + "/" + guid_;
  for (;;) {
    std::vector<char> created(prefix.size() + 32);
    Stat stat{};
    const int rc = zoo_create2(zh_, prefix.c_str(), nullptr, -1, &ZOO_OPEN_ACL_UNSAFE,
                               ZOO_EPHEMERAL_SEQUENTIAL, created.data(),
                               static_cast<int>(created.size()), &stat);
    if (rc == ZOK) return {created.data(), stat.czxid};
    if (!lost_connection(rc) || std::chrono::steady_clock::now() >= deadline) {
      fail(fmt::format("create {}", prefix), rc);
    }
    // The create may have happened before the connection went: the recipe's GUID search finds
    // a node whose name has this session's id, else the create is sent again.
    Children children;
    const int listed = retry_lost(deadline, [&] {
      deallocate_String_vector(&children.v);
      return zoo_get_children(zh_, dir.c_str(), 0, &children.v);
    });
    if (listed != ZOK && listed != ZNONODE) fail(fmt::format("list {}", dir), listed);
    for (int i = 0; i < children.v.count; ++i) {
      if (!std::string_view(children.v.data[i]).starts_with(guid_)) continue;
      const std::string path = dir + "/" + children.v.data[i];
      const int found =
          retry_lost(deadline, [&] { return zoo_exists(zh_, path.c_str(), 0, &stat); });
      if (found == ZOK) return {path, stat.czxid};
      if (found != ZNONODE) fail(fmt::format("stat {}", path), found);
    }
  }
}

Grant ZooKeeperLockClient::acquire(std::string_view name) {
  const std::string dir = lock_dir(name);
  ensure_parent(dir);
  const auto deadline = std::chrono::steady_clock::now() + opt_.acquire_timeout;
  const auto [mine, czxid] = enqueue(dir, deadline);
  const std::string my_node = mine.substr(dir.size() + 1);
  Grant g{fenced_ ? czxid : 0, mine, czxid};
  for (;;) {
    Children children;
    int rc = zoo_get_children(zh_, dir.c_str(), 0, &children.v);
    if (rc != ZOK) fail(fmt::format("list {}", dir), rc);
    std::vector<std::string_view> nodes(children.v.data, children.v.data + children.v.count);
    by_sequence(nodes);
    const auto me = std::find(nodes.begin(), nodes.end(), my_node);
    if (me == nodes.end()) {
      throw ServerError(
          fmt::format("zookeeper: lock node {} vanished while waiting (session expired)", mine));
    }
    if (me == nodes.begin()) return g;
    const std::string predecessor = dir + "/" + std::string(*(me - 1));
    std::uint64_t seen;
    {
      std::lock_guard lock(mutex_);
      seen = events_;
    }
    Stat stat{};
    rc = zoo_wexists(zh_, predecessor.c_str(), zk_watcher, this, &stat);
    if (rc == ZNONODE) continue;  // gone already: list again
    if (rc != ZOK) fail(fmt::format("watch {}", predecessor), rc);
    std::unique_lock lock(mutex_);
    if (!cv_.wait_until(lock, deadline, [&] { return events_ != seen; })) {
      lock.unlock();
      zoo_delete(zh_, mine.c_str(), -1);  // leave the queue
      throw ServerError(fmt::format("zookeeper: lock '{}' not acquired within {} ms", name,
                                    opt_.acquire_timeout.count()));
    }
  }
}

std::vector<std::string> ZooKeeperLockClient::queue(std::string_view name) {
  const std::string dir = lock_dir(name);
  Children children;
  const int rc = zoo_get_children(zh_, dir.c_str(), 0, &children.v);
  if (rc == ZNONODE) return {};
  if (rc != ZOK) fail(fmt::format("list {}", dir), rc);
  std::vector<std::string> nodes(children.v.data, children.v.data + children.v.count);
  by_sequence(nodes);
  return nodes;
}

bool ZooKeeperLockClient::release(const Grant& g) {
  if (g.handle.empty()) return false;
  // While the client reconnects (a restarted server), retry until the session answers.
  const int rc = retry_lost(std::chrono::steady_clock::now() + opt_.io_timeout,
                            [&] { return zoo_delete(zh_, g.handle.c_str(), -1); });
  if (rc == ZOK) return true;
  // ZNONODE: the session expired and the server deleted the node; ZSESSIONEXPIRED or
  // ZINVALIDSTATE: the client found out. Either way we no longer held it.
  return false;
}

}  // namespace cpb::patterns::distributed_lock
