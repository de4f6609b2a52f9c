// SPDX-License-Identifier: Apache-2.0
// Unit tests without servers: the safety checker on hand-written histories (so that a checker
// bug cannot pass for a safe lock), the fenced store's rule, base64, the process plumbing, and the
// link proxies (LinkProxy, PeerProxy, PeerLinks).
#include "patterns/distributed_lock/etcd_lock.hpp"
#include "patterns/distributed_lock/fenced_store.hpp"
#include "patterns/distributed_lock/link_proxy.hpp"
#include "patterns/distributed_lock/process.hpp"
#include "patterns/distributed_lock/servers.hpp"

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <arpa/inet.h>
#include <chrono>
#include <fstream>
#include <memory>
#include <netinet/in.h>
#include <string>
#include <string_view>
#include <sys/socket.h>
#include <thread>
#include <unistd.h>

namespace dl = cpb::patterns::distributed_lock;

namespace {

constexpr std::uint64_t kS = 1'000'000'000;  // one second in ns

/// A history built by hand: times in seconds from the store's origin.
struct Script {
  dl::FencedStore store;
  std::uint64_t t0;
  explicit Script(bool fenced) : store(fenced), t0(store.history().origin_ns) {}
  std::uint64_t at(double s) const { return t0 + static_cast<std::uint64_t>(s * kS); }
};

TEST(Checker, SerialHoldersPass) {
  for (const bool fenced : {true, false}) {
    Script s(fenced);
    const auto a = s.store.granted(0, fenced ? 1 : 0, s.at(0), s.at(0.1));
    EXPECT_TRUE(s.store.write(a, fenced ? 1 : 0));
    s.store.released(a, true, s.at(0.2));
    const auto b = s.store.granted(1, fenced ? 2 : 0, s.at(0.1), s.at(0.3));
    EXPECT_TRUE(s.store.write(b, fenced ? 2 : 0));
    EXPECT_TRUE(s.store.write(b, fenced ? 2 : 0));
    s.store.released(b, true, s.at(0.4));
    const auto v = dl::check(s.store.history());
    EXPECT_EQ(v.violations(), 0U) << v.first();
    EXPECT_EQ(v.accepted, 3U);
  }
}

TEST(Checker, UnfencedPausedHolderIsCaughtWithTheInterval) {
  Script s(false);
  const auto a = s.store.granted(0, 0, s.at(0), s.at(0.1));
  EXPECT_TRUE(s.store.write(a, 0));
  const auto b = s.store.granted(1, 0, s.at(0.2), s.at(1.1));
  EXPECT_TRUE(s.store.write(b, 0));
  s.store.released(b, true, s.at(1.3));
  EXPECT_TRUE(s.store.write(a, 0));  // A, resumed, still believes it holds the lock
  s.store.released(a, false, s.at(3.0));
  const auto v = dl::check(s.store.history());
  EXPECT_EQ(v.overlaps, 1U);
  EXPECT_EQ(v.violations(), 1U);
  EXPECT_NE(v.first().find("overlap: client 0"), std::string::npos) << v.first();
  EXPECT_NE(v.first().find("client 1"), std::string::npos) << v.first();
  // The held intervals' intersection: B's 1.100..1.300 s inside A's 0.100..3.000 s.
  EXPECT_NE(v.first().find("both held the lock in 1.100..1.300 s"), std::string::npos) << v.first();
}

TEST(Checker, FencedStoreRejectsTheStaleWrite) {
  Script s(true);
  const auto a = s.store.granted(0, 5, s.at(0), s.at(0.1));
  EXPECT_TRUE(s.store.write(a, 5));
  const auto b = s.store.granted(1, 6, s.at(0.2), s.at(1.1));
  EXPECT_TRUE(s.store.write(b, 6));
  s.store.released(b, true, s.at(1.3));
  EXPECT_FALSE(s.store.write(a, 5));  // token 5 < 6: rejected
  s.store.released(a, false, s.at(3.0));
  const auto v = dl::check(s.store.history());
  EXPECT_EQ(v.violations(), 0U) << v.first();
  EXPECT_EQ(v.rejected, 1U);
}

TEST(Checker, AStaleWriteThatAStoreAcceptedIsCaught) {
  // The checker does not trust the store: the same history with fencing recorded, but the
  // stale write marked accepted (a broken store), is a violation of both kinds.
  dl::History h;
  h.fenced = true;
  h.origin_ns = 1;
  h.grants = {{1, 0, 5, 1, 2, 9 * kS, false}, {2, 1, 6, 3, 4, 5}};
  h.writes = {{1, 1, 5, 2, true}, {2, 2, 6, 4, true}, {3, 1, 5, 6, true}};
  const auto v = dl::check(h);
  EXPECT_EQ(v.stale_accepted, 1U);
  EXPECT_EQ(v.overlaps, 1U);
  EXPECT_NE(v.first().find("stale write accepted: write #3 with token 5 after token 6"),
            std::string::npos)
      << v.first();
}

TEST(Checker, TokensThatDoNotIncreaseAreCaught) {
  dl::History h;
  h.fenced = true;
  h.origin_ns = 1;
  // Grant 2 starts after grant 1 was released, yet got a smaller token.
  h.grants = {{1, 0, 7, 10, 20, 30, true}, {2, 1, 3, 40, 50, 60, true}};
  const auto v = dl::check(h);
  EXPECT_EQ(v.token_order, 1U);
  EXPECT_NE(v.first().find("token did not increase: client 1 got token 3"), std::string::npos)
      << v.first();
}

TEST(Base64, RoundTripsAndMatchesRfc4648) {
  EXPECT_EQ(dl::base64_encode(""), "");
  EXPECT_EQ(dl::base64_encode("f"), "Zg==");
  EXPECT_EQ(dl::base64_encode("fo"), "Zm8=");
  EXPECT_EQ(dl::base64_encode("foo"), "Zm9v");
  EXPECT_EQ(dl::base64_encode("foobar"), "Zm9vYmFy");
  const std::string bytes = std::string("\x00\xff\x10 lock/\x7f", 9);
  EXPECT_EQ(dl::base64_decode(dl::base64_encode(bytes)), bytes);
}

TEST(Resp, EncodesArgumentsWithTheirLengths) {
  EXPECT_EQ(dl::resp_command({"PING"}), "*1\r\n$4\r\nPING\r\n");
  EXPECT_EQ(dl::resp_command({"GET", "a b"}), "*2\r\n$3\r\nGET\r\n$3\r\na b\r\n");
}

TEST(Process, MissingBinaryIsOneLineNamingIt) {
  dl::TempDir dir("cpb-test");
  try {
    dl::Process p("fake-server", {"/nonexistent/fake-server"}, dir.path() + "/log");
    FAIL() << "no exception";
  } catch (const dl::ServerError& e) {
    const std::string m = e.what();
    EXPECT_EQ(m.find('\n'), std::string::npos);
    EXPECT_NE(m.find("fake-server: cannot run /nonexistent/fake-server: No such file"),
              std::string::npos)
        << m;
  }
}

TEST(Process, StopKillsTheWholeGroupEvenWhenTermIsIgnored) {
  dl::TempDir dir("cpb-test");
  const std::string pidfile = dir.path() + "/child.pid";
  pid_t leader;
  pid_t child = 0;
  {
    // The leader ignores SIGTERM and has a child: stop() must escalate and reach both.
    dl::Process p("stubborn",
                  {"/bin/sh", "-c", "trap '' TERM; sleep 60 & echo $! > " + pidfile + "; wait"},
                  dir.path() + "/log");
    leader = p.pid();
    for (int i = 0; i < 200 && child == 0; ++i) {
      std::ifstream in(pidfile);
      in >> child;
      if (child == 0) std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    ASSERT_GT(child, 0);
    EXPECT_TRUE(dl::process_alive(leader));
    EXPECT_TRUE(dl::process_alive(child));
    p.stop(std::chrono::milliseconds(200));
  }
  EXPECT_FALSE(dl::process_alive(leader));
  for (int i = 0; i < 100 && dl::process_alive(child); ++i) {  // reaped by init, not by us
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  EXPECT_FALSE(dl::process_alive(child));
}

TEST(Ports, AFreePortIsFreeAndAListenerMakesItInUse) {
  const auto port = dl::free_port();
  EXPECT_GT(port, 0);
  EXPECT_FALSE(dl::port_in_use(port));
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(port);
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
  ASSERT_EQ(listen(fd, 1), 0);
  EXPECT_TRUE(dl::port_in_use(port));
  close(fd);
}

/// A listening socket on a free loopback port, for the proxy's target.
struct Listener {
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  std::uint16_t port = 0;
  Listener() {
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof a;
    EXPECT_EQ(bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
    EXPECT_EQ(listen(fd, 8), 0);
    getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
    port = ntohs(a.sin_port);
  }
  ~Listener() { close(fd); }
};

TEST(LinkProxy, PassesHoldsInOrderAndCuts) {
  Listener target;
  dl::LinkProxy proxy(target.port);
  dl::Conn client("client", proxy.port(), std::chrono::milliseconds(2000));
  const int server = accept(target.fd, nullptr, nullptr);
  ASSERT_GE(server, 0);
  auto server_reads = [&](std::size_t n) {
    std::string got;
    char buf[256];
    while (got.size() < n) {
      const ssize_t r = recv(server, buf, sizeof buf, 0);
      if (r <= 0) break;
      got.append(buf, static_cast<std::size_t>(r));
    }
    return got;
  };
  client.send_all("ping");
  EXPECT_EQ(server_reads(4), "ping");
  ASSERT_EQ(send(server, "pong", 4, 0), 4);
  std::string reply;
  while (reply.size() < 4 && client.read_some(reply) > 0) {
  }
  EXPECT_EQ(reply, "pong");

  // Held: nothing arrives; after the heal, everything arrives in order.
  proxy.set_mode(dl::LinkProxy::Mode::kHold);
  client.send_all("one,");
  client.send_all("two");
  timeval tv{0, 200'000};
  setsockopt(server, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  char buf[16];
  EXPECT_LT(recv(server, buf, sizeof buf, 0), 0) << "bytes crossed a held link";
  proxy.set_mode(dl::LinkProxy::Mode::kPass);
  tv = {2, 0};
  setsockopt(server, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  EXPECT_EQ(server_reads(7), "one,two");

  // Cut: the connection is closed, and a new one is closed at once.
  proxy.set_mode(dl::LinkProxy::Mode::kCut);
  EXPECT_EQ(recv(server, buf, sizeof buf, 0), 0);
  std::string rest;
  EXPECT_EQ(client.read_some(rest), 0U);
  dl::Conn again("client", proxy.port(), std::chrono::milliseconds(2000));
  EXPECT_EQ(again.read_some(rest), 0U);
  EXPECT_EQ(proxy.accepted(), 2U);
  close(server);
}

TEST(LinkProxy, DelaysEachDirectionInOrderAndDeliversBeforeClosing) {
  using std::chrono::milliseconds;
  using std::chrono::steady_clock;
  Listener target;
  dl::LinkProxy proxy(target.port);
  constexpr milliseconds kDelay(250);
  proxy.set_delay(kDelay);
  auto client = std::make_unique<dl::Conn>("client", proxy.port(), milliseconds(3000));
  const int server = accept(target.fd, nullptr, nullptr);
  ASSERT_GE(server, 0);
  timeval tv{3, 0};
  setsockopt(server, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  auto server_reads = [&](std::size_t n) {
    std::string got;
    char buf[256];
    while (got.size() < n) {
      const ssize_t r = recv(server, buf, sizeof buf, 0);
      if (r <= 0) break;
      got.append(buf, static_cast<std::size_t>(r));
    }
    return got;
  };

  auto t0 = steady_clock::now();
  client->send_all("one,");
  client->send_all("two");
  EXPECT_EQ(server_reads(7), "one,two");
  EXPECT_GE(steady_clock::now() - t0, kDelay) << "bytes arrived before their delay";

  t0 = steady_clock::now();
  ASSERT_EQ(send(server, "back", 4, 0), 4);
  std::string reply;
  while (reply.size() < 4 && client->read_some(reply) > 0) {
  }
  EXPECT_EQ(reply, "back");
  EXPECT_GE(steady_clock::now() - t0, kDelay) << "the reply arrived before its delay";

  // A client that sends and closes at once: its bytes still arrive, then the end of stream.
  client->send_all("last");
  client.reset();
  EXPECT_EQ(server_reads(4), "last");
  char buf[8];
  EXPECT_EQ(recv(server, buf, sizeof buf, 0), 0);

  proxy.set_delay(milliseconds(0));  // back to at once: a new connection passes quickly
  dl::Conn again("client", proxy.port(), milliseconds(3000));
  const int second = accept(target.fd, nullptr, nullptr);
  ASSERT_GE(second, 0);
  again.send_all("x");
  ASSERT_EQ(recv(second, buf, 1, 0), 1);
  EXPECT_EQ(buf[0], 'x');
  close(second);
  close(server);
}

/// One end of a proxied connection: a client through a proxy, or the target's accepted side.
struct End {
  int fd;
  explicit End(int f) : fd(f) {
    timeval tv{0, 300'000};  // a read that sees nothing in 300 ms returns ""
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  }
  ~End() { close(fd); }
  End(const End&) = delete;
  End& operator=(const End&) = delete;
  void send(std::string_view s) const {
    ASSERT_EQ(::send(fd, s.data(), s.size(), MSG_NOSIGNAL), static_cast<ssize_t>(s.size()));
  }
  /// Up to `n` bytes, waiting up to 2 s for them; "" when none came, "<eof>" at end of stream.
  [[nodiscard]] std::string read(std::size_t n, int tries = 7) const {
    std::string got;
    char buf[256];
    for (int t = 0; t < tries && got.size() < n; ++t) {
      const ssize_t r = recv(fd, buf, std::min(sizeof buf, n - got.size()), 0);
      if (r == 0) return got + "<eof>";
      if (r > 0) got.append(buf, static_cast<std::size_t>(r));
    }
    return got;
  }
  [[nodiscard]] bool quiet() const { return read(1, 1).empty(); }  ///< nothing for 300 ms
};

int connect_to(std::uint16_t port) {
  const int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(port);
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  EXPECT_EQ(connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
  return fd;
}

std::string head_from(std::string_view who) {
  return fmt::format(
      "GET /raft/stream/message/{0} HTTP/1.1\r\nHost: x\r\nX-Server-From: {0}\r\n\r\n", who);
}

TEST(PeerProxy, ForwardsNothingBeforeTheHeadAndAttributesByTheHeader) {
  Listener target;
  dl::PeerProxy proxy(target.port, "X-Server-From");
  proxy.name("a1", 0);
  const End client(connect_to(proxy.port()));
  const End server(accept(target.fd, nullptr, nullptr));
  client.send("GET / HTTP/1.1\r\nx-server-from:  a1 \r\n");
  EXPECT_TRUE(server.quiet()) << "bytes crossed before the request head was complete";
  client.send("\r\nbody");
  const std::string want = "GET / HTTP/1.1\r\nx-server-from:  a1 \r\n\r\nbody";
  EXPECT_EQ(server.read(want.size()), want);
  EXPECT_EQ(proxy.attributed(0), 1U);
  // A request without the header, and one with a value no name maps: kUnknown, unaffected by
  // source 0's faults.
  proxy.set_mode(0, dl::PeerProxy::Way::kIn, dl::LinkMode::kHold);
  const End anon(connect_to(proxy.port()));
  const End anon_server(accept(target.fd, nullptr, nullptr));
  anon.send("GET /version HTTP/1.1\r\nHost: x\r\n\r\n");
  EXPECT_EQ(anon_server.read(34), "GET /version HTTP/1.1\r\nHost: x\r\n\r\n");
  const End other(connect_to(proxy.port()));
  const End other_server(accept(target.fd, nullptr, nullptr));
  other.send(head_from("ffff"));
  EXPECT_EQ(other_server.read(head_from("ffff").size()), head_from("ffff"));
  EXPECT_EQ(proxy.attributed(dl::PeerProxy::kUnknown), 2U);
  // Source 0's requests are held now; a name given later re-attributes the open connection.
  client.send("held");
  EXPECT_TRUE(server.quiet());
  proxy.name("ffff", 0);
  other.send("held too");
  EXPECT_TRUE(other_server.quiet());
  EXPECT_EQ(proxy.attributed(0), 2U);
  proxy.set_mode(0, dl::PeerProxy::Way::kIn, dl::LinkMode::kPass);
  EXPECT_EQ(server.read(4), "held");
  EXPECT_EQ(other_server.read(8), "held too");
}

/// Two listening nodes behind their peer proxies, named "a" and "b" in the source header.
struct TwoNodes {
  Listener n0;
  Listener n1;
  dl::PeerLinks links{{n0.port, n1.port}, "X-Server-From"};
  TwoNodes() {
    links.name(0, "a");
    links.name(1, "b");
  }
};

// The directed link 0→1 is 0's requests at 1's proxy and 1's responses at 0's proxy; the link
// 1→0 (the other two ways) keeps passing, and a one-way cut resets only a connection that tries
// to send across it.
TEST(PeerLinks, FaultsOneDirectedLinkOnBothProxies) {
  TwoNodes t;
  auto& [n0, n1, links] = t;
  // c01: opened by node 0 at node 1's proxy (requests 0→1, responses 1→0), c10 the other way.
  const End c01(connect_to(links.port(1)));
  const End s01(accept(n1.fd, nullptr, nullptr));
  const End c10(connect_to(links.port(0)));
  const End s10(accept(n0.fd, nullptr, nullptr));
  c01.send(head_from("a"));
  c10.send(head_from("b"));
  EXPECT_EQ(s01.read(head_from("a").size()), head_from("a"));
  EXPECT_EQ(s10.read(head_from("b").size()), head_from("b"));
  EXPECT_EQ(links.proxy(1).attributed(0), 1U);
  EXPECT_EQ(links.proxy(0).attributed(1), 1U);

  links.set(0, 1, dl::LinkMode::kHold);
  EXPECT_EQ(links.fault(0, 1).mode, dl::LinkMode::kHold);
  EXPECT_EQ(links.fault(1, 0).mode, dl::LinkMode::kPass);
  c01.send("0to1 req");   // 0→1: held
  s10.send("0to1 resp");  // 0→1: held
  s01.send("1to0 resp");  // 1→0: passes
  c10.send("1to0 req");   // 1→0: passes
  EXPECT_EQ(c01.read(9), "1to0 resp");
  EXPECT_EQ(s10.read(8), "1to0 req");
  EXPECT_TRUE(s01.quiet());
  EXPECT_TRUE(c10.quiet());
  links.heal();
  EXPECT_EQ(s01.read(8), "0to1 req");
  EXPECT_EQ(c10.read(9), "0to1 resp");

  // Cut 0→1: a connection lives while nothing crosses 0→1 on it, and is reset when a byte does.
  links.set(0, 1, dl::LinkMode::kCut);
  s01.send("still");
  EXPECT_EQ(c01.read(5), "still");
  s10.send("x");
  EXPECT_EQ(c10.read(1), "<eof>");
  EXPECT_EQ(s10.read(1), "<eof>");
  c01.send("y");
  EXPECT_EQ(s01.read(1), "<eof>");
  // A new connection from 0 is reset when its head arrives; one from 1 is served.
  const End again(connect_to(links.port(1)));
  const End again_server(accept(n1.fd, nullptr, nullptr));
  again.send(head_from("a"));
  EXPECT_EQ(again.read(1), "<eof>");
  links.heal();
  const End healed(connect_to(links.port(1)));
  const End healed_server(accept(n1.fd, nullptr, nullptr));
  healed.send(head_from("a"));
  EXPECT_EQ(healed_server.read(head_from("a").size()), head_from("a"));
}

// isolate(i): every link of node i both ways, and connections of unknown source into it.
TEST(PeerLinks, IsolateHoldsUnknownSourcesIntoTheNodeToo) {
  TwoNodes t;
  auto& [n0, n1, links] = t;
  links.isolate(0, dl::LinkMode::kHold);
  EXPECT_EQ(links.fault(0, 1).mode, dl::LinkMode::kHold);
  EXPECT_EQ(links.fault(1, 0).mode, dl::LinkMode::kHold);
  const End probe(connect_to(links.port(0)));
  const End probe_server(accept(n0.fd, nullptr, nullptr));
  probe.send("GET /version HTTP/1.1\r\n\r\n");
  EXPECT_TRUE(probe_server.quiet());
  const End probe1(connect_to(links.port(1)));  // into node 1: passes
  const End probe1_server(accept(n1.fd, nullptr, nullptr));
  probe1.send("GET /version HTTP/1.1\r\n\r\n");
  EXPECT_EQ(probe1_server.read(25), "GET /version HTTP/1.1\r\n\r\n");
  links.heal();
  EXPECT_EQ(probe_server.read(25), "GET /version HTTP/1.1\r\n\r\n");
}

}  // namespace
