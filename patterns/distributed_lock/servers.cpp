// SPDX-License-Identifier: Apache-2.0
#include "patterns/distributed_lock/servers.hpp"

#include "harness/core/errors.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <csignal>
#include <cstdlib>
#include <fstream>
#include <thread>
#include <unistd.h>
#include <vector>

namespace cpb::patterns::distributed_lock {
namespace {

constexpr const char* kZooKeeperJar = "/usr/share/java/zookeeper.jar";

bool executable(const std::string& path) { return access(path.c_str(), X_OK) == 0; }

/// `name` itself when it holds a '/', else its first match in PATH; empty when none.
std::string find_in_path(const std::string& name) {
  if (name.find('/') != std::string::npos) return executable(name) ? name : std::string();
  const char* path = std::getenv("PATH");
  std::string_view rest = path != nullptr ? path : "/usr/bin:/bin";
  while (!rest.empty()) {
    const auto colon = rest.find(':');
    const std::string dir(rest.substr(0, colon));
    rest = colon == std::string_view::npos ? std::string_view() : rest.substr(colon + 1);
    const std::string full = (dir.empty() ? "." : dir) + "/" + name;
    if (executable(full)) return full;
  }
  return {};
}

/// The environment's override of a binary (checked: bad input is a UsageError), else `fallback`.
std::string from_env(const char* var, const std::string& fallback) {
  const char* v = std::getenv(var);
  if (v == nullptr || *v == 0) return fallback;
  const std::string found = find_in_path(v);
  if (found.empty()) {
    throw UsageError(fmt::format("{}={}: not an executable file", var, v));
  }
  return found;
}

/// A whole number in [lo, hi] from the environment; `fallback` when unset; UsageError when bad.
std::int64_t int_from_env(const char* var, std::int64_t lo, std::int64_t hi,
                          std::int64_t fallback) {
  const char* v = var != nullptr ? std::getenv(var) : nullptr;
  if (v == nullptr || *v == 0) return fallback;
  char* end = nullptr;
  errno = 0;
  const long long n = std::strtoll(v, &end, 10);
  if (errno != 0 || *end != 0 || n < lo || n > hi) {
    throw UsageError(fmt::format("{}={}: not a whole number in {}..{}", var, v, lo, hi));
  }
  return n;
}

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return s;
}

/// The value after `key` up to the end of its line or the next `stop` character.
std::string field_after(std::string_view text, std::string_view key, std::string_view stop) {
  const auto at = text.find(key);
  if (at == std::string_view::npos) return {};
  text.remove_prefix(at + key.size());
  return std::string(text.substr(0, text.find_first_of(stop)));
}

std::string http_get(std::string_view what, std::uint16_t port, std::string_view path, Millis t) {
  Conn c(std::string(what), port, t);
  c.send_all(fmt::format("GET {} HTTP/1.1\r\nHost: 127.0.0.1:{}\r\nConnection: close\r\n\r\n", path,
                         port));
  return c.read_to_eof();
}

}  // namespace

std::string resp_command(std::initializer_list<std::string_view> args) {
  std::string out = fmt::format("*{}\r\n", args.size());
  for (const auto a : args) out += fmt::format("${}\r\n{}\r\n", a.size(), a);
  return out;
}

std::string redis_binary() { return from_env("CPB_REDIS_SERVER", "redis-server"); }
std::string etcd_binary() { return from_env("CPB_ETCD", "etcd"); }
std::string java_binary() { return from_env("CPB_JAVA", "java"); }
std::string zookeeper_classpath() {
  const char* v = std::getenv("CPB_ZOOKEEPER_CLASSPATH");
  return v != nullptr && *v != 0 ? std::string(v) : std::string(kZooKeeperJar);
}

std::int64_t version_number(std::string_view v) {
  std::int64_t parts[3] = {0, 0, 0};
  int i = 0;
  for (char c : v) {
    if (c >= '0' && c <= '9') {
      parts[i] = parts[i] * 10 + (c - '0');
    } else if (c == '.' && i < 2) {
      ++i;
    } else {
      break;
    }
  }
  return parts[0] * 10000 + parts[1] * 100 + parts[2];
}

std::int64_t Server::version_number() const { return distributed_lock::version_number(version_); }

void Server::pause() const {
  if (process_) process_->signal_group(SIGSTOP);
}
void Server::resume() const {
  if (process_) process_->signal_group(SIGCONT);
}

void Server::start(const ServerOptions& opt, ArgvFn make_argv, ProbeFn probe) {
  make_argv_ = std::move(make_argv);
  probe_ = std::move(probe);
  ready_timeout_ = opt.ready_timeout.count() != 0
                       ? opt.ready_timeout
                       : Millis(int_from_env("CPB_SERVER_READY_MS", 1, 3'600'000, 20'000));
  const auto wanted =
      opt.port != 0 ? opt.port : static_cast<std::uint16_t>(int_from_env(port_env_, 1, 65535, 0));
  if (wanted != 0 && port_in_use(wanted)) {
    throw ServerError(fmt::format("{}: port {} on 127.0.0.1 is in use", engine_, wanted));
  }
  constexpr int kAttempts = 3;  // a picked port taken by someone else before the server bound it
  for (int attempt = 1;; ++attempt) {
    port_ = wanted != 0 ? wanted : free_port();
    if (launch(wanted == 0 && attempt < kAttempts)) return;
  }
}

bool Server::launch(bool may_retry) {
  const std::string log = dir_.path() + "/server.log";
  process_ = std::make_unique<Process>(engine_, make_argv_(port_), log);
  const auto deadline = std::chrono::steady_clock::now() + ready_timeout_;
  Millis backoff(5);
  std::string last_error;
  for (;;) {
    if (!process_->running()) {
      process_->stop();
      const std::string line = last_log_line(log);
      const bool clash =
          lower(line).find("address already in use") != std::string::npos || port_in_use(port_);
      process_.reset();
      if (may_retry && clash) return false;  // retry on a new port
      if (clash) {
        throw ServerError(fmt::format("{}: port {} on 127.0.0.1 is in use (last log line: {})",
                                      engine_, port_, line));
      }
      throw ServerError(fmt::format("{}: exited before it was ready (last log line: {})", engine_,
                                    line.empty() ? "none" : line));
    }
    try {
      version_ = probe_(port_);
      return true;
    } catch (const ServerError& e) {
      last_error = e.what();
    }
    if (std::chrono::steady_clock::now() >= deadline) {
      process_->stop();
      process_.reset();
      const std::string line = last_log_line(log);
      throw ServerError(
          fmt::format("{}: not ready within {} ms (last probe: {}; last log line: {})", engine_,
                      ready_timeout_.count(), last_error, line.empty() ? "none" : line));
    }
    std::this_thread::sleep_for(backoff);
    backoff = std::min(backoff * 2, Millis(100));
  }
}

void Server::kill_and_restart() {
  if (process_) process_->kill_group();
  process_.reset();
  launch(false);
}

// --- Redis ------------------------------------------------------------------------------------

std::string RedisServer::unavailable() {
  if (find_in_path(redis_binary()).empty()) {
    return "redis-server is not installed (Debian package redis-server, or set CPB_REDIS_SERVER)";
  }
  return {};
}

RedisServer::RedisServer(const ServerOptions& opt)
    : Server("redis-server", "cpb-redis", "CPB_REDIS_PORT") {
  const std::string bin = opt.binary.empty() ? redis_binary() : opt.binary;
  start(
      opt,
      [this, bin, aof = opt.redis_appendfsync](std::uint16_t port) {
        std::vector<std::string> args{bin,
                                      "--port",
                                      std::to_string(port),
                                      "--bind",
                                      "127.0.0.1",
                                      "--dir",
                                      dir_.path(),
                                      "--save",
                                      "",
                                      "--daemonize",
                                      "no",
                                      "--io-threads",
                                      "1",
                                      "--maxclients",
                                      "1000",
                                      "--appendonly",
                                      aof.empty() ? "no" : "yes"};
        if (!aof.empty()) args.insert(args.end(), {"--appendfsync", aof});
        return args;
      },
      [](std::uint16_t port) {
        Conn c("redis-server", port, Millis(1000));
        c.send_all(resp_command({"PING"}));
        std::string reply;
        while (reply.find("\r\n") == std::string::npos) {
          if (c.read_some(reply) == 0) break;
        }
        if (reply.rfind("+PONG", 0) != 0) {
          throw ServerError(
              fmt::format("redis-server: PING answered '{}'", reply.substr(0, reply.find('\r'))));
        }
        c.send_all(resp_command({"INFO", "server"}));
        std::string info;
        while (info.find("redis_version:") == std::string::npos ||
               info.find("\r\n", info.find("redis_version:")) == std::string::npos) {
          if (c.read_some(info) == 0) break;
        }
        const std::string v = field_after(info, "redis_version:", "\r\n");
        if (v.empty()) throw ServerError("redis-server: INFO server has no redis_version");
        return v;
      });
}

// --- etcd -------------------------------------------------------------------------------------

std::string EtcdServer::unavailable() {
  if (find_in_path(etcd_binary()).empty()) {
    return "etcd is not installed (Debian package etcd-server, or set CPB_ETCD)";
  }
  return {};
}

EtcdServer::EtcdServer(const ServerOptions& opt) : Server("etcd", "cpb-etcd", "CPB_ETCD_PORT") {
  const std::string bin = opt.binary.empty() ? etcd_binary() : opt.binary;
  start(
      opt,
      [this, bin](std::uint16_t port) {
        // A restart on the same client port keeps its peer port (the data dir records it).
        if (peer_port_ == 0 || peer_of_ != port) {
          peer_port_ = free_port();
          if (peer_port_ == port) peer_port_ = free_port();
          peer_of_ = port;
        }
        const std::string client = fmt::format("http://127.0.0.1:{}", port);
        const std::string peer = fmt::format("http://127.0.0.1:{}", peer_port_);
        // A fresh data dir and a unique cluster token per start (distributed-anchors §2.4);
        // loopback timing 10/100 ms keeps the documented heartbeat:election ratio.
        return std::vector<std::string>{bin,
                                        "--name",
                                        "cpb",
                                        "--data-dir",
                                        dir_.path() + "/data-" + std::to_string(port),
                                        "--listen-client-urls",
                                        client,
                                        "--advertise-client-urls",
                                        client,
                                        "--listen-peer-urls",
                                        peer,
                                        "--initial-advertise-peer-urls",
                                        peer,
                                        "--initial-cluster",
                                        "cpb=" + peer,
                                        "--initial-cluster-token",
                                        fmt::format("cpb-{}-{}", getpid(), port),
                                        "--initial-cluster-state",
                                        "new",
                                        "--heartbeat-interval",
                                        "10",
                                        "--election-timeout",
                                        "100",
                                        "--logger",
                                        "zap",
                                        "--log-outputs",
                                        "stderr"};
      },
      [](std::uint16_t port) {
        const std::string health = http_get("etcd", port, "/health", Millis(1000));
        if (health.find("\"health\":\"true\"") == std::string::npos) {
          throw ServerError("etcd: /health is not true yet");
        }
        const std::string v = field_after(http_get("etcd", port, "/version", Millis(1000)),
                                          "\"etcdserver\":\"", "\"");
        if (v.empty()) throw ServerError("etcd: /version has no etcdserver");
        return v;
      });
}

// --- ZooKeeper --------------------------------------------------------------------------------

std::string ZooKeeperServer::unavailable() {
  if (find_in_path(java_binary()).empty()) {
    return "java is not installed (Debian package zookeeperd pulls it in, or set CPB_JAVA)";
  }
  const std::string cp = zookeeper_classpath();
  const std::string first = cp.substr(0, cp.find(':'));
  if (access(first.c_str(), R_OK) != 0) {
    return fmt::format("{} is missing (Debian package zookeeper, or set CPB_ZOOKEEPER_CLASSPATH)",
                       first);
  }
  return {};
}

ZooKeeperServer::ZooKeeperServer(const ServerOptions& opt)
    : Server("zookeeper", "cpb-zookeeper", "CPB_ZOOKEEPER_PORT") {
  const std::string bin = opt.binary.empty() ? java_binary() : opt.binary;
  std::string cp = zookeeper_classpath();
  // A logger binding, when installed, so that startup errors reach the log (else slf4j is silent).
  constexpr const char* kSlf4jSimple = "/usr/share/java/slf4j-simple.jar";
  if (access(kSlf4jSimple, R_OK) == 0) cp += std::string(":") + kSlf4jSimple;
  start(
      opt,
      [this, bin, cp, extra = opt.zookeeper_config](std::uint16_t port) {
        const std::string cfg = dir_.path() + "/zoo.cfg";
        std::ofstream out(cfg, std::ios::trunc);
        out << "tickTime=" << kTickMs << "\n"
            << "dataDir=" << dir_.path() << "/data-" << port << "\n"
            << "clientPort=" << port << "\n"
            << "clientPortAddress=127.0.0.1\n"
            << "maxClientCnxns=0\n"
            << "admin.enableServer=false\n"
            << "4lw.commands.whitelist=srvr,ruok\n"
            << extra << "\n";
        out.close();
        if (!out) throw ServerError(fmt::format("zookeeper: cannot write {}", cfg));
        // The JVM is exec'd directly (no zkServer.sh), so the death signal reaches it; small
        // heap and C1 only: it starts faster on 2 cores.
        return std::vector<std::string>{bin,
                                        "-Xmx256m",
                                        "-XX:+UseSerialGC",
                                        "-XX:TieredStopAtLevel=1",
                                        "-Djava.io.tmpdir=" + dir_.path(),
                                        "-Dzookeeper.admin.enableServer=false",
                                        "-Dorg.slf4j.simpleLogger.defaultLogLevel=warn",
                                        "-cp",
                                        cp,
                                        "org.apache.zookeeper.server.ZooKeeperServerMain",
                                        cfg};
      },
      [](std::uint16_t port) {
        Conn c("zookeeper", port, Millis(1000));
        c.send_all("srvr");
        const std::string reply = c.read_to_eof();
        if (reply.find("Mode: standalone") == std::string::npos) {
          throw ServerError("zookeeper: srvr does not say standalone yet");
        }
        std::string v = field_after(reply, "Zookeeper version: ", "-,\n");
        if (v.empty()) throw ServerError("zookeeper: srvr has no version");
        return v;
      });
}

}  // namespace cpb::patterns::distributed_lock
