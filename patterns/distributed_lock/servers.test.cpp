// SPDX-License-Identifier: Apache-2.0
// The server fixtures against the real binaries: each engine starts, reports its version and
// answers; the error paths (a missing binary, a port in use, a server that never becomes
// ready) are one line naming the server; and no server process is left behind, whether the
// fixture is destroyed, unwound by an exception, or its owner crashes.
#include "patterns/distributed_lock/servers.hpp"

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <arpa/inet.h>
#include <chrono>
#include <csignal>
#include <fstream>
#include <netinet/in.h>
#include <string>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>

namespace dl = cpb::patterns::distributed_lock;
using std::chrono::milliseconds;

namespace {

/// Waits up to 2 s for `pid` to be gone (a killed group's members are reaped by init).
bool gone(pid_t pid) {
  for (int i = 0; i < 200 && dl::process_alive(pid); ++i) {
    std::this_thread::sleep_for(milliseconds(10));
  }
  return !dl::process_alive(pid);
}

template <class S>
void starts_answers_and_stops(std::string_view engine, std::string_view version_prefix) {
  if (const auto why = S::unavailable(); !why.empty()) GTEST_SKIP() << why;
  pid_t pid;
  {
    S s;
    pid = s.pid();
    EXPECT_EQ(s.engine(), engine);
    EXPECT_GT(s.port(), 0);
    EXPECT_TRUE(dl::process_alive(pid));
    EXPECT_TRUE(s.version().starts_with(version_prefix)) << s.version();
    EXPECT_GT(s.version_number(), 10000);
    EXPECT_TRUE(dl::port_in_use(s.port()));
  }
  EXPECT_TRUE(gone(pid));
}

TEST(Servers, RedisStartsAnswersAndStops) {
  starts_answers_and_stops<dl::RedisServer>("redis-server", "7.");
}
TEST(Servers, EtcdStartsAnswersAndStops) { starts_answers_and_stops<dl::EtcdServer>("etcd", "3."); }
TEST(Servers, ZooKeeperStartsAnswersAndStops) {
  starts_answers_and_stops<dl::ZooKeeperServer>("zookeeper", "3.");
}

void expect_one_line(const std::string& m, std::string_view needle) {
  EXPECT_EQ(m.find('\n'), std::string::npos) << m;
  EXPECT_NE(m.find(needle), std::string::npos) << m;
}

TEST(Servers, MissingBinaryNamesTheServer) {
  dl::ServerOptions o;
  o.binary = "/nonexistent/bin/redis-server";
  try {
    dl::RedisServer s(o);
    FAIL() << "started";
  } catch (const dl::ServerError& e) {
    expect_one_line(e.what(), "redis-server: cannot run /nonexistent/bin/redis-server");
  }
  o.binary = "/nonexistent/bin/etcd";
  try {
    dl::EtcdServer s(o);
    FAIL() << "started";
  } catch (const dl::ServerError& e) {
    expect_one_line(e.what(), "etcd: cannot run /nonexistent/bin/etcd");
  }
}

TEST(Servers, PortInUseNamesTheServerAndThePort) {
  if (const auto why = dl::RedisServer::unavailable(); !why.empty()) GTEST_SKIP() << why;
  const int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
  ASSERT_EQ(listen(fd, 1), 0);
  socklen_t len = sizeof a;
  getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  dl::ServerOptions o;
  o.port = ntohs(a.sin_port);
  try {
    dl::RedisServer s(o);
    FAIL() << "started on a taken port";
  } catch (const dl::ServerError& e) {
    expect_one_line(e.what(), fmt::format("redis-server: port {} on 127.0.0.1 is in use", o.port));
  }
  close(fd);
}

/// A fake server that never answers, with a child of its own, both recorded in `pids`.
std::string never_ready_script(const dl::TempDir& dir, const std::string& pids) {
  const std::string path = dir.path() + "/never-ready";
  std::ofstream out(path);
  out << "#!/bin/sh\nsleep 60 &\necho $$ $! > " << pids << "\nwait\n";
  out.close();
  chmod(path.c_str(), 0755);
  return path;
}

std::pair<pid_t, pid_t> read_pids(const std::string& file) {
  pid_t a = 0, b = 0;
  for (int i = 0; i < 100 && b == 0; ++i) {
    std::ifstream in(file);
    in >> a >> b;
    if (b == 0) std::this_thread::sleep_for(milliseconds(10));
  }
  return {a, b};
}

TEST(Servers, NeverReadyTimesOutAndLeavesNothingBehind) {
  dl::TempDir dir("cpb-test");
  const std::string pids = dir.path() + "/pids";
  dl::ServerOptions o;
  o.binary = never_ready_script(dir, pids);
  o.ready_timeout = milliseconds(400);
  try {
    dl::RedisServer s(o);
    FAIL() << "a server that never answers became ready";
  } catch (const dl::ServerError& e) {
    expect_one_line(e.what(), "redis-server: not ready within 400 ms");
  }
  const auto [leader, child] = read_pids(pids);
  ASSERT_GT(child, 0);
  EXPECT_TRUE(gone(leader));
  EXPECT_TRUE(gone(child));
}

TEST(Servers, AnExitBeforeReadyIsReportedWithTheLog) {
  dl::ServerOptions o;
  o.binary = "/bin/false";
  try {
    dl::EtcdServer s(o);
    FAIL() << "/bin/false became ready";
  } catch (const dl::ServerError& e) {
    expect_one_line(e.what(), "etcd: exited before it was ready");
  }
}

// No server outlives its owner: a test that throws (the fixture unwinds) and a process that
// crashes outright (no destructor runs; the kernel's parent-death signal kills the server).
TEST(Servers, NoServerIsLeftBehindByAThrowOrACrash) {
  if (const auto why = dl::RedisServer::unavailable(); !why.empty()) GTEST_SKIP() << why;
  for (const bool crash : {false, true}) {
    int fds[2];
    ASSERT_EQ(pipe(fds), 0);
    const pid_t owner = fork();
    if (owner == 0) {
      close(fds[0]);
      try {
        dl::RedisServer s;
        const pid_t pid = s.pid();
        [[maybe_unused]] auto n = write(fds[1], &pid, sizeof pid);
        if (crash) std::abort();
        throw std::runtime_error("a failing test");
      } catch (const std::exception&) {
        _exit(0);
      }
    }
    close(fds[1]);
    pid_t server = 0;
    ASSERT_EQ(read(fds[0], &server, sizeof server), static_cast<ssize_t>(sizeof server));
    close(fds[0]);
    int status = 0;
    waitpid(owner, &status, 0);
    EXPECT_EQ(WIFSIGNALED(status), crash);
    EXPECT_TRUE(gone(server)) << (crash ? "after a crash" : "after a throw");
  }
}

TEST(Servers, PauseAndResumeTheWholeServer) {
  if (const auto why = dl::RedisServer::unavailable(); !why.empty()) GTEST_SKIP() << why;
  dl::RedisServer s;
  s.pause();
  EXPECT_THROW(
      {
        dl::Conn c("redis-server", s.port(), milliseconds(200));
        c.send_all(dl::resp_command({"PING"}));
        std::string r;
        c.read_some(r);  // a stopped server accepts (the kernel does) but never answers
      },
      dl::ServerError);
  s.resume();
  dl::Conn c("redis-server", s.port(), milliseconds(2000));
  c.send_all(dl::resp_command({"PING"}));
  std::string r;
  c.read_some(r);
  EXPECT_EQ(r.rfind("+PONG", 0), 0U) << r;
  // stop() on a paused server also works: the destructor's SIGCONT + SIGTERM.
  s.pause();
}

}  // namespace
