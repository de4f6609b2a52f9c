// SPDX-License-Identifier: Apache-2.0
// The real I/O workloads (workloads/io): the protocol sessions, the load generator against a
// minimal echo server, file I/O (O_DIRECT where the file system allows), the simulated remote
// call, and the fd budget.
#include "harness/core/errors.hpp"
#include "workloads/io/file_io.hpp"
#include "workloads/io/loadgen.hpp"
#include "workloads/io/net.hpp"
#include "workloads/io/remote_call.hpp"

#include <gtest/gtest.h>

#include <cstdint>
#include <filesystem>
#include <map>
#include <string>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <thread>
#include <unistd.h>

namespace cpb::workloads::io {
namespace {

TEST(Session, HttpAnswersEveryRequestSplitAnywhere) {
  Session s(Protocol::kHttp);
  std::string out;
  const std::string two = std::string(kHttpRequest) + std::string(kHttpRequest);
  for (const char ch : two) ASSERT_TRUE(s.feed(&ch, 1, out));
  EXPECT_EQ(out, std::string(kHttpResponse) + std::string(kHttpResponse));
  EXPECT_EQ(s.requests(), 2U);
}

TEST(Session, HttpRejectsAnEndlessHead) {
  Session s(Protocol::kHttp);
  std::string out;
  const std::string junk(9000, 'x');
  EXPECT_FALSE(s.feed(junk.data(), junk.size(), out));
}

TEST(Session, EchoReturnsTheBytes) {
  Session s(Protocol::kEcho);
  std::string out;
  ASSERT_TRUE(s.feed("abc", 3, out));
  EXPECT_EQ(out, "abc");
}

/// A minimal single-threaded epoll echo server for the load generator.
class TinyEcho {
 public:
  TinyEcho() : l_(listen_tcp(0, false)), stop_(::eventfd(0, EFD_CLOEXEC)) {
    port_ = local_port(l_.get());
    t_ = std::thread([this] { loop(); });
  }
  ~TinyEcho() {
    const std::uint64_t one = 1;
    [[maybe_unused]] const ssize_t n = ::write(stop_.get(), &one, sizeof one);
    t_.join();
  }
  [[nodiscard]] std::uint16_t port() const { return port_; }

 private:
  void loop() {
    Fd ep(::epoll_create1(EPOLL_CLOEXEC));
    std::map<int, Fd> conns;
    const auto add = [&](int fd) {
      epoll_event ev{};
      ev.events = EPOLLIN;
      ev.data.fd = fd;
      ::epoll_ctl(ep.get(), EPOLL_CTL_ADD, fd, &ev);
    };
    add(l_.get());
    add(stop_.get());
    char buf[65536];
    for (;;) {
      epoll_event evs[64];
      const int n = ::epoll_wait(ep.get(), evs, 64, -1);
      for (int i = 0; i < n; ++i) {
        const int fd = evs[i].data.fd;
        if (fd == stop_.get()) return;
        if (fd == l_.get()) {
          for (int c;
               (c = ::accept4(l_.get(), nullptr, nullptr, SOCK_CLOEXEC | SOCK_NONBLOCK)) >= 0;) {
            conns.emplace(c, Fd(c));
            add(c);
          }
          continue;
        }
        const ssize_t got = ::recv(fd, buf, sizeof buf, 0);
        if (got <= 0) {
          if (got == 0 || (errno != EAGAIN && errno != EINTR)) conns.erase(fd);
          continue;
        }
        // Blocking-ish send of the reply: the client reads while it waits.
        for (ssize_t off = 0; off < got;) {
          const ssize_t w =
              ::send(fd, buf + off, static_cast<std::size_t>(got - off), MSG_NOSIGNAL);
          if (w > 0)
            off += w;
          else if (w < 0 && errno != EAGAIN && errno != EINTR)
            break;
        }
      }
    }
  }
  Fd l_;
  Fd stop_;
  std::uint16_t port_ = 0;
  std::thread t_;
};

TEST(LoadGen, ClosedAndOpenLoopCountAndVerifyEveryResponse) {
  TinyEcho server;
  LoadGen gen({server.port(), Protocol::kEcho, 8, 100});
  EXPECT_EQ(gen.closed(500).requests, 500U);
  const auto open = gen.open(100, 10'000);
  EXPECT_EQ(open.requests, 100U);
  EXPECT_EQ(gen.latencies().count(), 600U);
  EXPECT_EQ(gen.bytes_verified(), 600U * 100U);
  EXPECT_GT(gen.latencies().quantile(0.5), 0U);
}

TEST(LoadGen, OpenLoopKeepsToItsSchedule) {
  TinyEcho server;
  LoadGen gen({server.port(), Protocol::kEcho, 1, 16});
  const auto r = gen.open(50, 1000);  // request i is due at i ms
  EXPECT_EQ(r.requests, 50U);
  EXPECT_GE(r.seconds, 0.045);  // it kept to the schedule rather than running ahead
}

TEST(LoadGen, ConnectionsAboveTheFdLimitAreAUsageError) {
  EXPECT_THROW(LoadGen({1, Protocol::kEcho, 100'000'000, 16}), UsageError);
}

TEST(FdBudget, AskingForMoreThanTheHardLimitThrows) {
  EXPECT_THROW(ensure_fd_budget(std::size_t{1} << 40, "test"), UsageError);
  EXPECT_NO_THROW(ensure_fd_budget(4, "test"));
  EXPECT_GE(max_loopback_connections(), 1);
}

TEST(Listen, APortInUseIsAUsageError) {
  Fd a = listen_tcp(0, false);
  EXPECT_THROW(listen_tcp(local_port(a.get()), false), UsageError);
}

TEST(FileIo, PageCacheRoundTrip) {
  FileIo f(std::filesystem::temp_directory_path().string(), FileMode::kPageCache, 1 << 20, 4096);
  ASSERT_EQ(f.unsupported(), "");
  EXPECT_EQ(f.write_all(false), 1U << 20);
  EXPECT_EQ(f.read_all(), 1U << 20);
}

TEST(FileIo, DirectRoundTripOrSaysWhyNot) {
  for (const std::string& dir : {std::filesystem::temp_directory_path().string(),
                                 std::filesystem::current_path().string()}) {
    FileIo f(dir, FileMode::kDirect, 1 << 18, 4096);
    if (!f.unsupported().empty()) {
      EXPECT_NE(f.unsupported().find("O_DIRECT"), std::string::npos);
      EXPECT_THROW(f.write_all(false), std::logic_error);  // refused, not a crash
      continue;
    }
    EXPECT_EQ(f.write_all(true), 1U << 18);
    EXPECT_EQ(f.read_all(), 1U << 18);
  }
}

TEST(FileIo, BadSizesThrow) {
  EXPECT_THROW(FileIo("/tmp", FileMode::kPageCache, 1000, 300), std::invalid_argument);
  EXPECT_THROW(FileIo("/tmp", FileMode::kDirect, 8192, 512 * 3), std::invalid_argument);
}

TEST(RemoteCall, DelaysHaveTheMeanAndAreSeeded) {
  for (const Delay d : {Delay::kExponential, Delay::kPareto}) {
    RemoteCall a(d, 100, 42, 2.5);
    RemoteCall b(d, 100, 42, 2.5);
    double sum = 0;
    constexpr int kN = 200'000;
    for (int i = 0; i < kN; ++i) {
      const double x = a.next_us();
      ASSERT_EQ(x, b.next_us());
      ASSERT_GE(x, 0);
      ASSERT_LE(x, 100 * 100);
      sum += x;
    }
    EXPECT_NEAR(sum / kN, 100, 5) << (d == Delay::kPareto ? "pareto" : "exponential");
  }
}

TEST(RemoteCall, BadParametersThrow) {
  EXPECT_THROW(RemoteCall(Delay::kExponential, 0, 1), std::invalid_argument);
  EXPECT_THROW(RemoteCall(Delay::kPareto, 10, 1, 1.0), std::invalid_argument);
  EXPECT_THROW(parse_delay("uniform"), std::invalid_argument);
  EXPECT_EQ(parse_delay("pareto"), Delay::kPareto);
}

TEST(RemoteCall, CallBlocksForTheDrawnDelay) {
  RemoteCall c(Delay::kExponential, 50, 3);
  EXPECT_GE(c.call(), 0);
}

}  // namespace
}  // namespace cpb::workloads::io
