// SPDX-License-Identifier: Apache-2.0
/// @file
/// Server fixtures: one redis-server, etcd or ZooKeeper (standalone) on 127.0.0.1, each with its
/// own temporary data directory and free port(s), started in the constructor, probed until it
/// answers a real request (Redis `PING`, etcd `GET /health` then `/version`, ZooKeeper's `srvr`
/// four-letter word), and stopped with its whole process group in the destructor, so also when
/// a test fails or throws. Constructing one is the only way to start a server here: the
/// benchmarks, the tests and the fault scenarios share these.
///
/// Errors are `ServerError` with one line naming the server and the cause:
///   - the binary is missing:   "redis-server: cannot run /bogus/redis-server: No such file ..."
///   - a requested port is taken: "etcd: port 2379 on 127.0.0.1 is in use"
///   - it never answers:         "zookeeper: not ready within 20000 ms (last log line: ...)"
///   - it exits while starting:  "redis-server: exited before it was ready (last log line: ...)"
/// With `port` 0 (the default) a free port is picked; when another process takes it before
/// the server binds it, the fixture retries twice on a new one.
///
/// Which binary: `ServerOptions::binary` when set, else the environment (CPB_REDIS_SERVER,
/// CPB_ETCD, CPB_JAVA and CPB_ZOOKEEPER_CLASSPATH), else the Debian package's (`redis-server`,
/// `etcd`, `java` with /usr/share/java/zookeeper.jar). `unavailable()` says why a server cannot
/// run here (its package is not installed), so `cpbench run` skips that implementation; an
/// environment variable that names a missing file is bad input instead: `cpb::UsageError`.
/// The environment may also fix the client port (CPB_REDIS_PORT, CPB_ETCD_PORT,
/// CPB_ZOOKEEPER_PORT: where a firewall allows only known ports) and the readiness timeout
/// (CPB_SERVER_READY_MS); the options' own values win over it.
///
/// In a benchmark or a check, start servers with `start_for_run`: a server that cannot start
/// is then a `cpb::SetupError`, which stops `cpbench run` or `check` with exit code 2.
#pragma once

#include "harness/core/errors.hpp"
#include "patterns/distributed_lock/process.hpp"

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace cpb::patterns::distributed_lock {

struct ServerOptions {
  std::string binary;  ///< empty: the default (see the file comment)
  /// Client port; 0: the environment's, else a free one. A taken port is a ServerError.
  std::uint16_t port = 0;
  Millis ready_timeout{0};  ///< 0: CPB_SERVER_READY_MS, else 20 s
  /// Extra keys for ZooKeeper's zoo.cfg, one `key=value` per line (tests: a smaller tickTime).
  std::string zookeeper_config;
  /// Redis persistence: empty runs without it (a restart forgets every key, the fence counter
  /// too); "always" or "everysec" turns on the append-only file with that fsync policy.
  std::string redis_appendfsync;
};

/// What every fixture has: the engine's name and version, its client port and its process.
class Server {
 public:
  virtual ~Server() = default;
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  [[nodiscard]] std::string_view engine() const { return engine_; }
  [[nodiscard]] std::uint16_t port() const { return port_; }
  /// The process group leader; 0 after stop().
  [[nodiscard]] pid_t pid() const { return process_ ? process_->pid() : 0; }
  /// As the running server reports it: "7.0.15", "3.4.23", "3.8.0".
  [[nodiscard]] const std::string& version() const { return version_; }
  /// major * 10000 + minor * 100 + patch (70015), for numeric result fields.
  [[nodiscard]] std::int64_t version_number() const;
  [[nodiscard]] const std::string& data_dir() const { return dir_.path(); }
  /// Stops the server now (the destructor does it otherwise).
  void stop() {
    if (process_) process_->stop();
    process_.reset();
  }
  /// The pause fault: SIGSTOP / SIGCONT to the server's whole process group.
  void pause() const;
  void resume() const;
  /// The crash fault: SIGKILL to the whole group, then the same server again on the same port
  /// and data directory, waited for as at first (what survives is what the engine persisted:
  /// etcd and ZooKeeper their data; our Redis nothing, it runs without RDB and AOF).
  void kill_and_restart();

 protected:
  /// `port_env`: the environment variable that may fix the client port (nullptr: none).
  Server(std::string engine, std::string_view dir_prefix, const char* port_env = nullptr)
      : engine_(std::move(engine)), dir_(dir_prefix), port_env_(port_env) {}
  using ArgvFn = std::function<std::vector<std::string>(std::uint16_t port)>;
  using ProbeFn = std::function<std::string(std::uint16_t port)>;
  /// Starts `argv` (built by `make_argv` for a client port) and probes it with `probe` until
  /// it answers or `opt.ready_timeout` passes; `probe` returns the version, or throws
  /// ServerError while the server is not ready. Both are kept for kill_and_restart().
  void start(const ServerOptions& opt, ArgvFn make_argv, ProbeFn probe);
  /// One start on port_: true when ready; false when it exited because the port was taken and
  /// `may_retry`; throws ServerError otherwise.
  bool launch(bool may_retry);

  std::string engine_;
  TempDir dir_;
  std::uint16_t port_ = 0;
  std::string version_;
  std::unique_ptr<Process> process_;
  ArgvFn make_argv_;
  ProbeFn probe_;
  Millis ready_timeout_{20000};
  const char* port_env_;
};

/// Starts `S` in `slot` as a benchmark's or check's fixture: a ServerError (the binary fails,
/// the port is taken, it never becomes ready) becomes cpb::SetupError with the same line.
template <class S, class... Args>
S& start_for_run(std::optional<S>& slot, Args&&... args) {
  try {
    return slot.emplace(std::forward<Args>(args)...);
  } catch (const ServerError& e) {
    throw SetupError(e.what());
  }
}

class RedisServer final : public Server {
 public:
  explicit RedisServer(const ServerOptions& opt = {});
  /// Empty when redis-server can run here, else why not.
  static std::string unavailable();
};

class EtcdServer final : public Server {
 public:
  explicit EtcdServer(const ServerOptions& opt = {});
  static std::string unavailable();
  [[nodiscard]] std::uint16_t peer_port() const { return peer_port_; }

 private:
  std::uint16_t peer_port_ = 0;
  std::uint16_t peer_of_ = 0;  ///< the client port peer_port_ was picked for
};

/// A standalone ZooKeeper (ZooKeeperServerMain) with tickTime 200 ms, so sessions may time out
/// after 400 ms to 4 s; the AdminServer is off and `srvr`/`ruok` are whitelisted.
class ZooKeeperServer final : public Server {
 public:
  explicit ZooKeeperServer(const ServerOptions& opt = {});
  static std::string unavailable();
  static constexpr int kTickMs = 200;
};

/// The binary a fixture would run, resolved as the file comment says; throws cpb::UsageError
/// when an environment variable names a file that is not executable.
std::string redis_binary();
std::string etcd_binary();
std::string java_binary();
std::string zookeeper_classpath();

/// "a.b.c..." as a number, a * 10000 + b * 100 + c ("7.0.15" → 70015); 0 when it does not parse.
std::int64_t version_number(std::string_view version);

/// A Redis request in RESP for the probes: `*N\r\n$len\r\narg\r\n...`.
std::string resp_command(std::initializer_list<std::string_view> args);

}  // namespace cpb::patterns::distributed_lock
