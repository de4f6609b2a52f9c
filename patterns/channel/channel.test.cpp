// SPDX-License-Identifier: Apache-2.0
// Conformance: every built-in channel through one typed suite (each kind it has).
#include "patterns/channel/channel.hpp"

#include "harness/testing.hpp"
#include "patterns/channel/channel.impls.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <cstdint>
#include <span>
#include <stdexcept>
#include <thread>
#include <vector>

namespace cpb::patterns::channel {
namespace {

template <class C>
class ChannelTest : public ::testing::Test {};
TYPED_TEST_SUITE(ChannelTest, testing::ToGTest<Impls>, testing::ImplName);

TYPED_TEST(ChannelTest, SatisfiesTheConcept) { static_assert(Channel<TypeParam>); }

TYPED_TEST(ChannelTest, RefusesKindsItLacks) {
  if constexpr (!TypeParam::kRendezvous) {
    EXPECT_THROW(TypeParam{0}, std::invalid_argument);
  }
  if constexpr (!TypeParam::kBounded) {
    EXPECT_THROW(TypeParam{4}, std::invalid_argument);
  }
  if constexpr (!TypeParam::kUnbounded) {
    EXPECT_THROW(TypeParam{kUnbounded}, std::invalid_argument);
  }
}

TYPED_TEST(ChannelTest, BoundedKeepsFifoAndDrainsAfterClose) {
  if constexpr (TypeParam::kBounded) {
    TypeParam c(4);
    for (std::uint64_t v = 1; v <= 4; ++v) ASSERT_TRUE(c.send(v));
    std::uint64_t v = 0;
    ASSERT_EQ(c.try_recv(v), Recv::kOk);
    EXPECT_EQ(v, 1U);
    ASSERT_TRUE(c.send(5));
    c.close();
    EXPECT_FALSE(c.send(6)) << "a send after close succeeded";
    for (std::uint64_t want = 2; want <= 5; ++want) {
      ASSERT_TRUE(c.recv(v));
      EXPECT_EQ(v, want);
    }
    EXPECT_FALSE(c.recv(v)) << "closed and drained, yet recv returned an item";
    EXPECT_EQ(c.try_recv(v), Recv::kClosed);
  }
}

TYPED_TEST(ChannelTest, BoundedSendBlocksUntilThereIsRoom) {
  if constexpr (TypeParam::kBounded) {
    TypeParam c(1);
    ASSERT_TRUE(c.send(1));
    std::atomic<bool> done{false};
    std::thread t([&] {
      EXPECT_TRUE(c.send(2));
      done.store(true);
    });
    std::uint64_t v = 0;
    ASSERT_TRUE(c.recv(v));
    EXPECT_EQ(v, 1U);
    ASSERT_TRUE(c.recv(v));
    EXPECT_EQ(v, 2U);
    t.join();
    EXPECT_TRUE(done.load());
  }
}

TYPED_TEST(ChannelTest, UnboundedNeverBlocksASend) {
  if constexpr (TypeParam::kUnbounded) {
    TypeParam c(kUnbounded);
    for (std::uint64_t v = 1; v <= 10'000; ++v) ASSERT_TRUE(c.send(v));
    std::uint64_t v = 0;
    for (std::uint64_t want = 1; want <= 10'000; ++want) {
      ASSERT_EQ(c.try_recv(v), Recv::kOk);
      ASSERT_EQ(v, want);
    }
    EXPECT_EQ(c.try_recv(v), Recv::kEmpty);
  }
}

TYPED_TEST(ChannelTest, RendezvousSendReturnsOnlyOnceTaken) {
  if constexpr (TypeParam::kRendezvous) {
    TypeParam c(0);
    std::uint64_t v = 0;
    EXPECT_EQ(c.try_recv(v), Recv::kEmpty);
    std::atomic<int> sent{0};
    std::thread t([&] {
      for (std::uint64_t i = 1; i <= 100; ++i) {
        ASSERT_TRUE(c.send(i));
        sent.fetch_add(1);
      }
    });
    for (std::uint64_t want = 1; want <= 100; ++want) {
      ASSERT_TRUE(c.recv(v));
      ASSERT_EQ(v, want);
      // A rendezvous send cannot run ahead: at most the one just taken has returned.
      EXPECT_LE(sent.load(), static_cast<int>(want));
    }
    t.join();
  }
}

TYPED_TEST(ChannelTest, CloseFailsAParkedRendezvousSender) {
  if constexpr (TypeParam::kRendezvous) {
    TypeParam c(0);
    std::atomic<int> result{-1};
    std::thread t([&] { result.store(c.send(9) ? 1 : 0); });
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
    c.close();
    t.join();
    EXPECT_EQ(result.load(), 0) << "a send nobody took reported success";
    std::uint64_t v = 0;
    if constexpr (!stale_slot_after_close<TypeParam>()) {
      EXPECT_FALSE(c.recv(v)) << "the failed send's item was delivered";
    }
  }
}

TYPED_TEST(ChannelTest, SelectTakesFromTheReadyChannelAndSeesClose) {
  constexpr std::size_t cap = TypeParam::kBounded ? 2 : 0;
  TypeParam a(cap);
  TypeParam b(cap);
  TypeParam* chans[] = {&a, &b};
  const std::span<TypeParam* const> span(chans);
  std::thread t([&] { ASSERT_TRUE(b.send(7)); });
  std::uint64_t v = 0;
  Selected s = TypeParam::select(span, v, 0);
  EXPECT_TRUE(s.ok);
  EXPECT_EQ(s.index, 1U);
  EXPECT_EQ(v, 7U);
  t.join();
  a.close();
  s = TypeParam::select(span, v, 0);
  EXPECT_FALSE(s.ok);
  EXPECT_EQ(s.index, 0U) << "a closed channel is ready";
}

TYPED_TEST(ChannelTest, ParkedSelectWakesOnASend) {
  constexpr std::size_t cap = TypeParam::kBounded ? 2 : 0;
  TypeParam a(cap);
  TypeParam b(cap);
  TypeParam c(cap);
  TypeParam* chans[] = {&a, &b, &c};
  std::atomic<bool> first{false};
  std::thread t([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
    ASSERT_TRUE(c.send(11));
    while (!first.load()) std::this_thread::yield();
    ASSERT_TRUE(a.send(12));
  });
  std::uint64_t v = 0;
  Selector<TypeParam> sel;
  Selected s = sel(std::span<TypeParam* const>(chans), v);
  first.store(true);
  EXPECT_TRUE(s.ok);
  EXPECT_EQ(s.index, 2U);
  EXPECT_EQ(v, 11U);
  s = sel(std::span<TypeParam* const>(chans), v);
  EXPECT_TRUE(s.ok);
  EXPECT_EQ(s.index, 0U);
  EXPECT_EQ(v, 12U);
  t.join();
}

}  // namespace
}  // namespace cpb::patterns::channel
