// SPDX-License-Identifier: Apache-2.0
// thread_per_connection beyond the shared conformance suite (reactor.test.cpp): the threads of
// closed connections are joined as new ones come, and the stop wakes threads blocked in recv and
// in send.
#include "patterns/reactor/thread_per_connection.hpp"

#include "patterns/reactor/server_testing.hpp"

#include <gtest/gtest.h>

#include <dirent.h>
#include <string>
#include <sys/socket.h>
#include <vector>

namespace cpb::patterns::reactor::testing {
namespace {

using S = ThreadPerConnection;

/// Threads of this process now (entries of /proc/self/task).
std::size_t threads_now() {
  std::size_t n = 0;
  if (DIR* d = ::opendir("/proc/self/task")) {
    while (const dirent* e = ::readdir(d)) n += e->d_name[0] != '.';
    ::closedir(d);
  }
  return n;
}

TEST(ThreadPerConnection, JoinsTheThreadsOfClosedConnections) {
  S s(ServerOptions{Protocol::kHttp, 0, 0});
  const std::size_t before = threads_now();
  for (int i = 0; i < 100; ++i) {
    Fd c = dial(s.port());
    send_all(c.get(), kHttpRequest);
    ASSERT_EQ(recv_n(c.get(), kHttpResponse.size()), kHttpResponse);
  }
  // Each accept joins the threads that ended before it: at most the last few are still there.
  Fd last = dial(s.port());
  send_all(last.get(), kHttpRequest);
  ASSERT_EQ(recv_n(last.get(), kHttpResponse.size()), kHttpResponse);
  EXPECT_LT(threads_now(), before + 10);
}

TEST(ThreadPerConnection, StopWakesThreadsBlockedInRecvAndSendAndClosesEveryFd) {
  { S warm(ServerOptions{Protocol::kEcho, 0, 0}); }
  const std::size_t fds = workloads::io::open_fds();
  const std::size_t threads = threads_now();
  std::vector<Fd> clients;
  {
    S s(ServerOptions{Protocol::kEcho, 0, 0});
    for (int i = 0; i < 8; ++i) clients.push_back(dial(s.port()));  // their threads block in recv
    // One more sends 8 MiB and reads nothing: its thread blocks in send.
    Fd& stuck = clients.emplace_back(dial(s.port()));
    const std::string chunk(1 << 16, 'x');
    std::size_t sent = 0;
    for (int i = 0; i < 128; ++i) {
      const ssize_t n = ::send(stuck.get(), chunk.data(), chunk.size(), MSG_DONTWAIT);
      if (n > 0) sent += static_cast<std::size_t>(n);
    }
    ASSERT_GT(sent, 0U);
    send_all(clients.front().get(), "ping");
    ASSERT_EQ(recv_n(clients.front().get(), 4), "ping");
  }
  EXPECT_EQ(workloads::io::open_fds(), fds + clients.size());
  EXPECT_EQ(threads_now(), threads);
}

}  // namespace
}  // namespace cpb::patterns::reactor::testing
