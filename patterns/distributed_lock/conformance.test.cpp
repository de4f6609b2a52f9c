// SPDX-License-Identifier: Apache-2.0
// Conformance of every lock client against its real server, one typed suite: mutual exclusion
// (with the fenced store's history checked), tokens that increase, a release by a non-holder
// that fails, and the pause fault, which also shows that lease expiry frees the lock. One
// server per engine for the whole binary (ZooKeeper's JVM starts slowly), started on first use
// and stopped at exit.
#include "harness/testing.hpp"
#include "patterns/distributed_lock/distributed_lock.hpp"
#include "patterns/distributed_lock/distributed_lock.impls.hpp"
#include "patterns/distributed_lock/server_testing.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <memory>
#include <thread>
#include <vector>

namespace dl = cpb::patterns::distributed_lock;
using std::chrono::milliseconds;

namespace {

template <class L>
class LockConformance : public ::testing::Test {
 protected:
  void SetUp() override {
    if (const auto why = L::unavailable(); !why.empty()) GTEST_SKIP() << why;
    server_ = dl::testing::shared_server<typename L::Server>();
    ASSERT_NE(server_, nullptr);
  }
  /// A lock name of this test alone (the server is shared by every test of the binary).
  std::string name() const {
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    return fmt::format("{}-{}", info->name(), L::kName);
  }
  dl::LockOptions options(milliseconds ttl = milliseconds(4000)) const {
    dl::LockOptions o;
    o.ttl = ttl;
    o.acquire_timeout = milliseconds(20000);
    return o;
  }
  typename L::Server* server_ = nullptr;
};

TYPED_TEST_SUITE(LockConformance, cpb::testing::ToGTest<dl::Impls>, cpb::testing::ImplName);

TYPED_TEST(LockConformance, MutualExclusionWithTheHistoryChecked) {
  constexpr int kThreads = 4;
  constexpr int kRounds = 6;
  dl::FencedStore store(TypeParam::kFenced);
  std::atomic<int> inside{0};
  std::atomic<int> most{0};
  std::vector<std::unique_ptr<TypeParam>> clients;
  for (int i = 0; i < kThreads; ++i) {
    clients.push_back(std::make_unique<TypeParam>(*this->server_, this->options()));
  }
  const std::string lock = this->name();
  std::vector<std::thread> threads;
  for (int i = 0; i < kThreads; ++i) {
    threads.emplace_back([&, i] {
      for (int r = 0; r < kRounds; ++r) {
        const auto invoked = dl::steady_ns();
        const dl::Grant g = clients[static_cast<std::size_t>(i)]->acquire(lock);
        const int now = inside.fetch_add(1) + 1;
        int seen = most.load();
        while (now > seen && !most.compare_exchange_weak(seen, now)) {
        }
        const auto id = store.granted(i, g.token, invoked, dl::steady_ns());
        store.write(id, g.token);
        std::this_thread::sleep_for(std::chrono::microseconds(200));
        store.write(id, g.token);
        inside.fetch_sub(1);
        store.released(id, clients[static_cast<std::size_t>(i)]->release(g), dl::steady_ns());
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(most.load(), 1);
  const auto v = dl::check(store.history());
  EXPECT_EQ(v.grants, static_cast<std::uint64_t>(kThreads * kRounds));
  EXPECT_EQ(v.violations(), 0U) << v.first();
  EXPECT_EQ(v.rejected, 0U);
  for (const auto& g : store.history().grants) EXPECT_TRUE(g.release_ok);
}

TYPED_TEST(LockConformance, TokensIncreaseAcrossClients) {
  if (!TypeParam::kFenced) GTEST_SKIP() << "an unfenced client hands out no token";
  TypeParam a(*this->server_, this->options());
  TypeParam b(*this->server_, this->options());
  const std::string lock = this->name();
  std::int64_t last = 0;
  for (int i = 0; i < 6; ++i) {
    TypeParam& c = i % 2 == 0 ? a : b;
    const dl::Grant g = c.acquire(lock);
    EXPECT_GT(g.token, last) << "grant " << i;
    last = g.token;
    EXPECT_TRUE(c.release(g));
  }
}

TYPED_TEST(LockConformance, ReleaseByANonHolderFails) {
  TypeParam a(*this->server_, this->options());
  TypeParam b(*this->server_, this->options());
  const std::string lock = this->name();
  const dl::Grant g = a.acquire(lock);
  EXPECT_FALSE(b.release(dl::Grant{}));  // a grant it never got
  EXPECT_TRUE(a.release(g));
  EXPECT_FALSE(a.release(g));  // released already: no longer the holder
  // The lock is free again, and a release that failed broke nothing.
  const dl::Grant h = b.acquire(lock);
  EXPECT_FALSE(a.release(g));
  EXPECT_TRUE(b.release(h));
}

// The pause fault: the holder (a child process) is SIGSTOPped past its 1 s lease. Lease expiry
// frees the lock (B gets it, within a bound), the paused holder's release then fails, and the
// safety checker catches the unfenced variant with a named overlap; the fenced one shows 0.
TYPED_TEST(LockConformance, PauseFaultLeaseExpiryAndFencing) {
  dl::PauseOptions opt;
  opt.ttl = milliseconds(1000);
  opt.lock = this->name();
  const dl::PauseResult r = dl::pause_holder<TypeParam>(*this->server_, opt);
  EXPECT_EQ(r.safety.grants, 2U);
  EXPECT_GE(r.unavailable_ns, 300'000'000U);  // A's lease had to run out first
  EXPECT_LT(r.unavailable_ns, 8'000'000'000U);
  EXPECT_FALSE(r.a_release_ok);
  if (TypeParam::kFenced) {
    EXPECT_EQ(r.safety.violations(), 0U) << r.safety.first();
    EXPECT_FALSE(r.a_second_write_accepted);
    EXPECT_EQ(r.safety.rejected, 1U);
  } else {
    EXPECT_TRUE(r.a_second_write_accepted);
    EXPECT_EQ(r.safety.overlaps, 1U);
    EXPECT_NE(r.safety.first().find("overlap: client 0"), std::string::npos) << r.safety.first();
    EXPECT_NE(r.safety.first().find("both held the lock in"), std::string::npos)
        << r.safety.first();
  }
}

}  // namespace
