// SPDX-License-Identifier: Apache-2.0
// Conformance: every boundary through one typed suite; the operators against a sequential spec;
// the overflow policy names.
#include "patterns/reactive/reactive.hpp"

#include "harness/testing.hpp"
#include "patterns/reactive/operators.hpp"
#include "patterns/reactive/reactive.impls.hpp"

#include <gtest/gtest.h>

#include <cstdint>
#include <memory>
#include <random>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

namespace cpb::patterns::reactive {
namespace {

// -- the policy names -----------------------------------------------------------------------------

TEST(OverflowNames, RoundTrip) {
  for (const Overflow o : kOverflows) EXPECT_EQ(parse_overflow(to_string(o)), o);
}

TEST(OverflowNames, AnUnknownNameIsAOneLineErrorNamingTheKnownOnes) {
  try {
    parse_overflow("drop_middle");
    FAIL() << "an unknown policy was accepted";
  } catch (const std::invalid_argument& e) {
    const std::string what = e.what();
    EXPECT_EQ(what,
              "unknown overflow policy 'drop_middle' (known: buffer, drop_newest, drop_oldest, "
              "latest, error)");
    EXPECT_EQ(what.find('\n'), std::string::npos);
  }
  EXPECT_THROW(parse_overflow(""), std::invalid_argument);
  EXPECT_THROW(parse_overflow("Buffer"), std::invalid_argument);
}

// -- operators against a sequential spec ---------------------------------------------------------

/// Collects items; requests `first` on subscribe and then, after each item, a random 0..3 more
/// (and always at least one when nothing is outstanding), checking every onNext is within the
/// credits and before the one terminal signal.
template <class T>
class Collector : public Subscriber<T> {
 public:
  explicit Collector(std::uint64_t seed, std::uint64_t first = 1) : rng_(seed), first_(first) {}
  void on_subscribe(Subscription& s) override {
    s_ = &s;
    grant(first_);
  }
  void on_next(T v) override {
    EXPECT_EQ(terminals, 0) << "onNext after the terminal signal";
    EXPECT_LE(++received_, granted_) << "onNext beyond the credits";
    items.push_back(std::move(v));
    const std::uint64_t more = rng_() % 4;
    if (more > 0) {
      grant(more);
    } else if (received_ == granted_) {
      grant(1);
    }
  }
  void on_error(std::string_view what) override {
    ++terminals;
    error = what;
  }
  void on_complete() override { ++terminals; }

  std::vector<T> items;
  int terminals = 0;
  std::string error;

 private:
  void grant(std::uint64_t n) {
    granted_ += n;
    s_->request(n);
  }
  std::mt19937_64 rng_;
  const std::uint64_t first_;
  Subscription* s_ = nullptr;
  std::uint64_t granted_ = 0;
  std::uint64_t received_ = 0;
};

TEST(Operators, MapAndFilterMatchTheSequentialSpec) {
  testing::repeat_rounds([](std::mt19937_64& rng) -> std::string {
    const std::uint64_t n = rng() % 200;
    const std::uint64_t m = 1 + rng() % 5;
    auto p = filter(map(range(1, n), [](std::uint64_t v) { return v * 3; }),
                    [m](const std::uint64_t& v) { return v % m != 0; });
    Collector<std::uint64_t> c(rng());
    p->subscribe(c);
    std::vector<std::uint64_t> want;
    for (std::uint64_t v = 1; v <= n; ++v) {
      if ((v * 3) % m != 0) want.push_back(v * 3);
    }
    if (c.items != want) return "map/filter output differs from the spec";
    if (c.terminals != 1 || !c.error.empty()) return "not exactly one onComplete";
    return {};
  });
}

TEST(Operators, BufferMatchesTheSequentialSpec) {
  testing::repeat_rounds([](std::mt19937_64& rng) -> std::string {
    const std::uint64_t n = rng() % 100;
    const std::size_t k = 1 + rng() % 7;
    auto p = buffer(range(0, n), k);
    Collector<std::vector<std::uint64_t>> c(rng());
    p->subscribe(c);
    std::vector<std::vector<std::uint64_t>> want;
    for (std::uint64_t v = 0; v < n; ++v) {
      if (v % k == 0) want.emplace_back();
      want.back().push_back(v);
    }
    if (c.items != want) return "buffer output differs from the spec";
    if (c.terminals != 1) return "not exactly one onComplete";
    return {};
  });
}

/// Subscribes to each window as it arrives, with its own random demand, and records its items.
class WindowCollector : public Collector<std::shared_ptr<Window<std::uint64_t>>> {
 public:
  using Collector::Collector;
  void on_next(std::shared_ptr<Window<std::uint64_t>> w) override {
    inner.push_back(std::make_unique<Collector<std::uint64_t>>(items.size() + 7, 1));
    w->subscribe(*inner.back());
    Collector::on_next(std::move(w));
  }
  std::vector<std::unique_ptr<Collector<std::uint64_t>>> inner;
};

TEST(Operators, WindowMatchesTheSequentialSpec) {
  testing::repeat_rounds([](std::mt19937_64& rng) -> std::string {
    const std::uint64_t n = rng() % 100;
    const std::size_t k = 1 + rng() % 7;
    auto p = window(range(0, n), k);
    WindowCollector c(rng());
    p->subscribe(c);
    std::vector<std::vector<std::uint64_t>> want;
    for (std::uint64_t v = 0; v < n; ++v) {
      if (v % k == 0) want.emplace_back();
      want.back().push_back(v);
    }
    if (c.terminals != 1) return "not exactly one onComplete of the outer stream";
    if (c.inner.size() != want.size()) return "wrong number of windows";
    for (std::size_t i = 0; i < want.size(); ++i) {
      if (c.inner[i]->items != want[i]) return "window " + std::to_string(i) + " differs";
      if (c.inner[i]->terminals != 1) return "a window did not complete exactly once";
      if (c.items[i]->held() > k) return "a window held more than its size";
    }
    return {};
  });
}

TEST(Operators, RequestZeroIsAnError) {
  class Zero : public Subscriber<std::uint64_t> {
   public:
    void on_subscribe(Subscription& s) override { s.request(0); }
    void on_next(std::uint64_t /*v*/) override { ++next; }
    void on_error(std::string_view /*what*/) override { ++errors; }
    void on_complete() override { ++completes; }
    int next = 0;
    int errors = 0;
    int completes = 0;
  } z;
  range(1, 5)->subscribe(z);
  EXPECT_EQ(z.next, 0);
  EXPECT_EQ(z.errors, 1);
  EXPECT_EQ(z.completes, 0);
}

TEST(Operators, CancelStopsTheSource) {
  class Two : public Subscriber<std::uint64_t> {
   public:
    void on_subscribe(Subscription& s) override {
      s_ = &s;
      s.request(kUnboundedDemand);
    }
    void on_next(std::uint64_t /*v*/) override {
      if (++next == 2) s_->cancel();
    }
    void on_error(std::string_view /*what*/) override { ++terminals; }
    void on_complete() override { ++terminals; }
    Subscription* s_ = nullptr;
    int next = 0;
    int terminals = 0;
  } t;
  range(1, 100)->subscribe(t);
  EXPECT_EQ(t.next, 2);
  EXPECT_EQ(t.terminals, 0);
}

// -- boundaries -------------------------------------------------------------------------------

template <class B>
class BoundaryTest : public ::testing::Test {};
TYPED_TEST_SUITE(BoundaryTest, testing::ToGTest<Impls>, testing::ImplName);

TYPED_TEST(BoundaryTest, SatisfiesTheConcept) { static_assert(Boundary<TypeParam>); }

TYPED_TEST(BoundaryTest, ZeroCapacityThrows) {
  EXPECT_THROW(TypeParam(0, Overflow::kBuffer), std::invalid_argument);
}

/// A subscriber that requests nothing until told to, on the test's thread.
class Manual : public Subscriber<std::uint64_t> {
 public:
  void on_subscribe(Subscription& s) override { sub.store(&s); }
  void on_next(std::uint64_t v) override {
    got.push_back(v);
    count.fetch_add(1);
  }
  void on_error(std::string_view what) override {
    error = what;
    terminals.fetch_add(1);
  }
  void on_complete() override { terminals.fetch_add(1); }
  Subscription& wait_subscribed() {
    while (sub.load() == nullptr) std::this_thread::yield();
    return *sub.load();
  }
  void wait_count(int n) {
    while (count.load() < n) std::this_thread::yield();
  }
  std::atomic<Subscription*> sub{nullptr};
  std::atomic<int> count{0};
  std::atomic<int> terminals{0};
  std::vector<std::uint64_t> got;  // the drainer's; read after join
  std::string error;
};

/// Fills a boundary of capacity 3 with 1..5 under `policy` while nothing is requested, then
/// requests everything and completes: what arrives, and the offers' results.
template <class B>
std::vector<std::uint64_t> outcome(Overflow policy, std::vector<Offered>& offers, Manual& m) {
  B b(3, policy);
  std::thread t([&] { b.drain(m); });
  Subscription& s = m.wait_subscribed();
  for (std::uint64_t v = 1; v <= 5; ++v) offers.push_back(b.offer(v));
  s.request(100);
  b.complete();
  t.join();
  return m.got;
}

using V = std::vector<std::uint64_t>;
using O = std::vector<Offered>;
constexpr Offered kA = Offered::kAccepted;

TYPED_TEST(BoundaryTest, EachPolicyLosesWhatItSays) {
  if constexpr (TypeParam::kBackpressure) {
    {
      O o;
      Manual m;
      EXPECT_EQ(outcome<TypeParam>(Overflow::kDropNewest, o, m), (V{1, 2, 3}));
      EXPECT_EQ(o, (O{kA, kA, kA, Offered::kDropped, Offered::kDropped}));
      EXPECT_EQ(m.terminals.load(), 1);
      EXPECT_TRUE(m.error.empty());
    }
    {
      O o;
      Manual m;
      EXPECT_EQ(outcome<TypeParam>(Overflow::kDropOldest, o, m), (V{3, 4, 5}));
      EXPECT_EQ(o, (O{kA, kA, kA, Offered::kEvicted, Offered::kEvicted}));
    }
    {
      O o;
      Manual m;
      EXPECT_EQ(outcome<TypeParam>(Overflow::kLatest, o, m), (V{5}));
      EXPECT_EQ(
          o, (O{kA, Offered::kEvicted, Offered::kEvicted, Offered::kEvicted, Offered::kEvicted}));
    }
    {
      O o;
      Manual m;
      EXPECT_EQ(outcome<TypeParam>(Overflow::kBuffer, o, m), V{});
      EXPECT_EQ(o, (O{kA, kA, kA, Offered::kFailed, Offered::kTerminated}));
      EXPECT_EQ(m.terminals.load(), 1);
      EXPECT_NE(m.error.find("overflow"), std::string::npos) << m.error;
    }
    {
      O o;
      Manual m;
      EXPECT_EQ(outcome<TypeParam>(Overflow::kError, o, m), V{});
      EXPECT_EQ(o, (O{Offered::kFailed, Offered::kTerminated, Offered::kTerminated,
                      Offered::kTerminated, Offered::kTerminated}));
      EXPECT_EQ(m.terminals.load(), 1);
    }
  } else {
    for (const Overflow p : kOverflows) {
      O o;
      Manual m;
      EXPECT_EQ(outcome<TypeParam>(p, o, m), (V{1, 2, 3, 4, 5})) << "the floor lost items";
      EXPECT_EQ(m.terminals.load(), 1);
    }
  }
}

TYPED_TEST(BoundaryTest, DeliversOnlyWhatWasRequested) {
  if constexpr (TypeParam::kBackpressure) {
    TypeParam b(8, Overflow::kBuffer);
    Manual m;
    std::thread t([&] { b.drain(m); });
    Subscription& s = m.wait_subscribed();
    for (std::uint64_t v = 1; v <= 6; ++v) ASSERT_EQ(b.offer(v), Offered::kAccepted);
    s.request(2);
    m.wait_count(2);
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
    EXPECT_EQ(m.count.load(), 2) << "delivered beyond request(2)";
    s.request(4);
    b.complete();
    t.join();
    EXPECT_EQ(m.got, (V{1, 2, 3, 4, 5, 6}));
    EXPECT_EQ(m.terminals.load(), 1);
    const BoundaryStats st = b.stats();
    EXPECT_EQ(st.peak_items, 6U);
    EXPECT_EQ(st.peak_bytes, 48U);
  }
}

TYPED_TEST(BoundaryTest, CancelEndsTheDrainWithNoTerminalSignal) {
  TypeParam b(4, Overflow::kDropNewest);
  Manual m;
  std::thread t([&] { b.drain(m); });
  m.wait_subscribed().cancel();
  t.join();
  EXPECT_EQ(m.terminals.load(), 0);
  EXPECT_EQ(b.offer(1), Offered::kTerminated);
}

}  // namespace
}  // namespace cpb::patterns::reactive
