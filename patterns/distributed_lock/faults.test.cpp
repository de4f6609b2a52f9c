// SPDX-License-Identifier: Apache-2.0
// The server faults (server_fault.hpp) against every client: a crash and restart of the server,
// and a pause of the server past the lease. Each run prints its grants, violations and
// unavailability; the assertions are what each engine's design implies (see the README).
#include "harness/testing.hpp"
#include "patterns/distributed_lock/distributed_lock.hpp"
#include "patterns/distributed_lock/distributed_lock.impls.hpp"
#include "patterns/distributed_lock/server_fault.hpp"
#include "patterns/distributed_lock/server_testing.hpp"

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <chrono>
#include <cstdio>
#include <exception>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

namespace dl = cpb::patterns::distributed_lock;

namespace {

/// Runs fault `f` against `server` and prints its grants, violations and unavailability.
template <class L>
dl::ServerFaultResult run_fault(typename L::Server& server, dl::ServerFault f,
                                std::string_view tag = "") {
  dl::ServerFaultOptions o = dl::fault_options(f);
  o.lock = fmt::format("{}{}-{}", dl::fault_name(f), tag, L::kName);
  auto r = dl::server_fault<L>(server, f, o);
  std::printf(
      "%s %s%s: grants %llu, accepted %llu, rejected %llu, violations %llu, outage %.0f ms, B "
      "%s after %.0f ms%s, A's release %s\n",
      std::string(L::kName).c_str(), dl::fault_name(f), std::string(tag).c_str(),
      static_cast<unsigned long long>(r.safety.grants),
      static_cast<unsigned long long>(r.safety.accepted),
      static_cast<unsigned long long>(r.safety.rejected),
      static_cast<unsigned long long>(r.safety.violations()), r.outage_ns / 1e6,
      r.b_granted ? "granted" : "not granted", r.b_wait_ns / 1e6,
      r.b_error.empty() ? "" : (" (" + r.b_error + ")").c_str(), r.a_release_ok ? "ok" : "failed");
  for (const auto& p : r.safety.problems) std::printf("  %s\n", p.c_str());
  return r;
}

template <class L>
class ServerFaults : public ::testing::Test {
 protected:
  void SetUp() override {
    if (const auto why = L::unavailable(); !why.empty()) GTEST_SKIP() << why;
    server_ = dl::testing::shared_server<typename L::Server>();
    ASSERT_NE(server_, nullptr);
  }
  dl::ServerFaultResult run(dl::ServerFault f) { return run_fault<L>(*server_, f); }
  typename L::Server* server_ = nullptr;
};

TYPED_TEST_SUITE(ServerFaults, cpb::testing::ToGTest<dl::Impls>, cpb::testing::ImplName);

// A crash and restart: etcd and ZooKeeper persist the lock (the key and its lease, the node and
// its session), so B waits for A's release: no violation. Our Redis persists nothing: the lock
// is gone and B gets it at once, and the fence counter restarts too, so even the fenced variant
// reuses A's token and both writes are accepted (fencing needs a durable counter: AOF with
// appendfsync always, RedisWithAof below).
TYPED_TEST(ServerFaults, Restart) {
  const auto r = this->run(dl::ServerFault::kRestart);
  EXPECT_TRUE(r.b_granted) << r.b_error;
  EXPECT_EQ(r.safety.grants, 2U);
  if (TypeParam::kEngine == "redis") {
    EXPECT_EQ(r.safety.overlaps, 1U);
    EXPECT_FALSE(r.a_release_ok);
  } else {
    EXPECT_EQ(r.safety.violations(), 0U) << r.safety.first();
    EXPECT_TRUE(r.a_release_ok);
    EXPECT_EQ(r.safety.rejected, 0U);
  }
}

// The server stopped past the lease. When it resumes, it either expires A's lease or session
// first (A could not renew it) and grants B the lock while A still believes it holds it, or it
// first takes the renewals A queued during the pause and A keeps the lock (seen with ZooKeeper:
// its session expiry and the queued pings race at resume). Either way fencing keeps the store
// safe; without it, a lost lock is caught as an overlap.
TYPED_TEST(ServerFaults, PausePastTheLease) {
  const auto r = this->run(dl::ServerFault::kPause);
  EXPECT_TRUE(r.b_granted) << r.b_error;
  EXPECT_EQ(r.safety.grants, 2U);
  if (TypeParam::kFenced) {
    EXPECT_EQ(r.safety.violations(), 0U) << r.safety.first();
    EXPECT_EQ(r.safety.rejected, r.a_release_ok ? 0U : 1U);
  } else if (r.a_release_ok) {
    EXPECT_EQ(r.safety.violations(), 0U) << r.safety.first();
  } else {
    EXPECT_EQ(r.safety.overlaps, 1U);
  }
  if (TypeParam::kEngine == "redis") {
    EXPECT_FALSE(r.a_release_ok);  // Redis expires by the clock
  }
}

// A partition of the holder: its traffic to the server is held by the link proxy past the
// lease, while it keeps running and writes. Every engine expires the lease or session (A cannot
// renew it), B gets the lock, and A's write during the partition is rejected when fenced and
// caught as an overlap when not.
// A slow link does the same when its delay exceeds the lease: A's renewals arrive too late.
template <class L>
void lost_to_the_link(const dl::ServerFaultResult& r) {
  EXPECT_TRUE(r.b_granted) << r.b_error;
  EXPECT_EQ(r.safety.grants, 2U);
  EXPECT_FALSE(r.a_release_ok);
  if (L::kFenced) {
    EXPECT_EQ(r.safety.violations(), 0U) << r.safety.first();
    EXPECT_EQ(r.safety.rejected, 1U);
  } else {
    EXPECT_EQ(r.safety.overlaps, 1U);
  }
}

TYPED_TEST(ServerFaults, PartitionOfTheHolder) {
  lost_to_the_link<TypeParam>(this->run(dl::ServerFault::kPartition));
}

TYPED_TEST(ServerFaults, DelayOfTheHolderPastTheLease) {
  lost_to_the_link<TypeParam>(this->run(dl::ServerFault::kDelay));
}

// The same restart against a Redis with the append-only file on (appendfsync always): the lock
// key (with its expiry) and the fence counter survive, so B waits for A's release, as with etcd
// and ZooKeeper, and neither variant violates.
template <class L>
class RedisWithAof : public ::testing::Test {
 protected:
  static dl::RedisServer* server() {
    static const std::unique_ptr<dl::RedisServer> s = [] {
      dl::ServerOptions o;
      o.redis_appendfsync = "always";
      return dl::RedisServer::unavailable().empty() ? std::make_unique<dl::RedisServer>(o)
                                                    : nullptr;
    }();
    return s.get();
  }
};

using RedisLocks = ::testing::Types<dl::RedisLock<true>, dl::RedisLock<false>>;
TYPED_TEST_SUITE(RedisWithAof, RedisLocks, cpb::testing::ImplName);

TYPED_TEST(RedisWithAof, RestartKeepsTheLockAndItsFence) {
  if (const auto why = dl::RedisServer::unavailable(); !why.empty()) GTEST_SKIP() << why;
  const auto r = run_fault<TypeParam>(*this->server(), dl::ServerFault::kRestart, "_aof");
  EXPECT_TRUE(r.b_granted) << r.b_error;
  EXPECT_EQ(r.safety.grants, 2U);
  EXPECT_EQ(r.safety.violations(), 0U) << r.safety.first();
  EXPECT_TRUE(r.a_release_ok);
  EXPECT_EQ(r.safety.rejected, 0U);
}

// A create whose reply is lost with the connection: the node exists, but the client heard
// nothing. After the library reconnects (the session lives on), the recipe's GUID search finds
// the node. Without it the client must either fail or create a second node, which waits behind
// its own first one until the session ends. Typed, so that the engine's ctest process runs it.
template <class L>
class ZooKeeperLostCreate : public ::testing::Test {};

using ZooKeeperLocks = ::testing::Types<dl::ZooKeeperLock<true>, dl::ZooKeeperLock<false>>;
TYPED_TEST_SUITE(ZooKeeperLostCreate, ZooKeeperLocks, cpb::testing::ImplName);

TYPED_TEST(ZooKeeperLostCreate, TheGuidSearchFindsTheNode) {
  if (const auto why = dl::ZooKeeperServer::unavailable(); !why.empty()) GTEST_SKIP() << why;
  auto* server = dl::testing::shared_server<dl::ZooKeeperServer>();
  ASSERT_NE(server, nullptr);
  using Clock = std::chrono::steady_clock;
  using std::chrono::milliseconds;
  dl::PeerProxy proxy(server->port(), "");  // every connection is of source kUnknown
  constexpr int kClient = dl::PeerProxy::kUnknown;
  dl::LockOptions o;
  o.ttl = milliseconds(4000);
  dl::ZooKeeperLockClient observer(*server, o, TypeParam::kFenced);
  o.port = proxy.port();
  dl::ZooKeeperLockClient a(*server, o, TypeParam::kFenced);
  const std::string name = fmt::format("lost-create-{}", TypeParam::kName);
  ASSERT_TRUE(a.release(a.acquire(name)));  // creates the lock's directory first

  proxy.set_mode(kClient, dl::PeerProxy::Way::kOut, dl::LinkMode::kHold);  // replies wait
  std::optional<dl::Grant> grant;
  std::string error;
  std::thread t([&] {
    try {
      grant = a.acquire(name);
    } catch (const std::exception& e) {
      error = e.what();
    }
  });
  const auto deadline = Clock::now() + milliseconds(10000);
  std::vector<std::string> queued;
  while ((queued = observer.queue(name)).empty() && Clock::now() < deadline) {
    std::this_thread::sleep_for(milliseconds(20));
  }
  // The reply is waiting in the proxy: cutting that way closes the connection with it. The cut
  // stays until the client has tried to connect again, so it cannot miss the reply.
  proxy.set_mode(kClient, dl::PeerProxy::Way::kOut, dl::LinkMode::kCut);
  while (proxy.accepted() < 2 && Clock::now() < deadline) {
    std::this_thread::sleep_for(milliseconds(10));
  }
  proxy.set_mode(kClient, dl::PeerProxy::Way::kOut, dl::LinkMode::kPass);
  t.join();

  ASSERT_EQ(queued.size(), 1U) << "the create did not reach the server";
  EXPECT_GE(proxy.accepted(), 2U) << "the client did not lose its connection";
  ASSERT_TRUE(grant.has_value()) << error;
  EXPECT_EQ(grant->handle, "/cpb-locks/" + name + "/" + queued[0]);
  EXPECT_EQ(observer.queue(name), queued) << "a second node was created";
  EXPECT_TRUE(a.release(*grant));
  EXPECT_TRUE(observer.queue(name).empty());
}

}  // namespace
