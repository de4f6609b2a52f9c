// SPDX-License-Identifier: Apache-2.0
// Conformance: every built-in singleton, through one typed suite.
#include "patterns/singleton/singleton.hpp"

#include "harness/testing.hpp"
#include "patterns/singleton/singleton.impls.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <stdexcept>
#include <thread>
#include <vector>

namespace cpb::patterns::singleton {
namespace {

using namespace std::chrono_literals;

template <class L>
class SingletonTest : public ::testing::Test {};
TYPED_TEST_SUITE(SingletonTest, testing::ToGTest<Impls>, testing::ImplName);

TYPED_TEST(SingletonTest, SatisfiesTheConcept) { static_assert(Singleton<TypeParam>); }

TYPED_TEST(SingletonTest, ConstructsLazilyOnceAndReturnsTheSameObject) {
  const auto before = detail::constructions.load();
  TypeParam holder;
  EXPECT_EQ(detail::constructions.load(), before) << "constructed before the first get()";
  auto& a = holder.get();
  auto& b = holder.get();
  EXPECT_EQ(&a, &b);
  EXPECT_TRUE(a.intact());
  EXPECT_EQ(detail::constructions.load(), before + 1);
}

TYPED_TEST(SingletonTest, HoldersAreIndependent) {
  TypeParam x;
  TypeParam y;
  EXPECT_NE(&x.get(), &y.get());
}

TYPED_TEST(SingletonTest, RacingThreadsShareOneConstruction) {
  for (int round = 0; round < 50; ++round) {
    const auto before = detail::constructions.load();
    TypeParam holder;
    std::atomic<bool> go{false};
    std::vector<const void*> seen(4, nullptr);
    std::vector<std::thread> threads;
    for (std::size_t t = 0; t < seen.size(); ++t) {
      threads.emplace_back([&, t] {
        while (!go.load()) std::this_thread::yield();
        auto& w = holder.get();
        seen[t] = w.intact() ? &w : nullptr;
      });
    }
    go.store(true);
    for (auto& t : threads) t.join();
    ASSERT_EQ(detail::constructions.load(), before + 1) << "round " << round;
    for (const void* p : seen) ASSERT_EQ(p, &holder.get()) << "round " << round;
  }
}

/// Construction that takes a while: callers arriving meanwhile wait for it to finish and
/// then see the finished object.
TYPED_TEST(SingletonTest, LateArrivalsWaitForTheConstructionToFinish) {
  TypeParam holder;
  detail::init_ns.store(20'000'000);  // 20 ms in the constructor
  std::thread first([&] { (void)holder.get(); });
  std::this_thread::sleep_for(5ms);
  auto& w = holder.get();  // most likely arrives while the first thread constructs
  first.join();
  detail::init_ns.store(0);
  EXPECT_TRUE(w.intact());
  EXPECT_EQ(&w, &holder.get());
}

}  // namespace
}  // namespace cpb::patterns::singleton
