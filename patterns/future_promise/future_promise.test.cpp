// SPDX-License-Identifier: Apache-2.0
// Conformance of every future/promise library (typed over Impls): a value and an exception
// cross threads, a chain of continuations runs in order and skips its functions after an error,
// when_all keeps input order, a second fulfilment is refused. Then the own future's extras:
// on_error, when_any, cancellation, broken promises, the error messages, and a chain of
// 200,000 continuations completed in one set_value without growing the stack.
#include "patterns/future_promise/future_promise.hpp"

#include "harness/testing.hpp"
#include "patterns/future_promise/future_promise.impls.hpp"

#include <gtest/gtest.h>

#include <exception>
#include <stdexcept>
#include <string>
#include <thread>
#include <utility>
#include <vector>

namespace cpb::patterns::future_promise {
namespace {

template <class F>
class FutureConformance : public ::testing::Test {};
TYPED_TEST_SUITE(FutureConformance, testing::ToGTest<Impls>, testing::ImplName);

TYPED_TEST(FutureConformance, ValueCrossesThreads) {
  using F = TypeParam;
  typename F::template promise<Item> p;
  auto f = p.get_future();
  std::thread t([&p] { p.set_value(7); });
  EXPECT_EQ(f.get(), 7U);
  t.join();
}

TYPED_TEST(FutureConformance, ExceptionIsCarried) {
  using F = TypeParam;
  typename F::template promise<Item> p;
  auto f = p.get_future();
  std::thread t([&p] { p.set_exception(std::make_exception_ptr(std::runtime_error("boom"))); });
  try {
    (void)f.get();
    ADD_FAILURE() << "get() returned instead of throwing";
  } catch (const std::runtime_error& e) {
    EXPECT_EQ(std::string(e.what()), "boom");
  }
  t.join();
}

TYPED_TEST(FutureConformance, ChainRunsInOrderAcrossThreads) {
  using F = TypeParam;
  typename F::template promise<Item> p;
  auto f = p.get_future();
  std::thread t([&p] { p.set_value(3); });
  for (int i = 0; i < 10; ++i) f = F::then(std::move(f), [](Item v) { return v * 2; });
  EXPECT_EQ(f.get(), 3U << 10);
  t.join();
}

TYPED_TEST(FutureConformance, ChainSkipsFunctionsAfterAnError) {
  using F = TypeParam;
  typename F::template promise<Item> p;
  auto f = p.get_future();
  int calls = 0;
  f = F::then(std::move(f), [&calls](Item v) -> Item {
    ++calls;
    throw std::runtime_error("step " + std::to_string(v));
  });
  f = F::then(std::move(f), [&calls](Item v) {
    ++calls;
    return v;
  });
  p.set_value(1);
  EXPECT_THROW((void)f.get(), std::runtime_error);
  EXPECT_EQ(calls, 1);
}

TYPED_TEST(FutureConformance, WhenAllKeepsInputOrder) {
  using F = TypeParam;
  std::vector<typename F::template promise<Item>> ps(5);
  std::vector<typename F::template future<Item>> fs;
  for (auto& p : ps) fs.push_back(p.get_future());
  auto all = F::when_all(std::move(fs));
  std::thread t([&ps] {
    for (std::size_t k = ps.size(); k-- > 0;) ps[k].set_value(k * 10);
  });
  EXPECT_EQ(all.get(), (std::vector<Item>{0, 10, 20, 30, 40}));
  t.join();
}

TYPED_TEST(FutureConformance, SecondFulfilmentIsRefused) {
  using F = TypeParam;
  typename F::template promise<Item> p;
  auto f = p.get_future();
  p.set_value(1);
  EXPECT_THROW(p.set_value(2), std::logic_error);
  EXPECT_THROW(p.set_exception(std::make_exception_ptr(std::runtime_error("x"))), std::logic_error);
  EXPECT_EQ(f.get(), 1U);
}

// -- the own future's extras ----------------------------------------------------------------------

using P = Promise<Item>;
using Fut = Future<Item>;

TEST(SharedStateFuture, SecondFulfilmentSaysWhatHappened) {
  P p;
  auto f = p.get_future();
  p.set_value(1);
  try {
    p.set_value(2);
    FAIL() << "no error";
  } catch (const FutureError& e) {
    EXPECT_EQ(e.code(), FutureErrc::kAlreadySatisfied);
    EXPECT_NE(std::string(e.what()).find("exactly once"), std::string::npos) << e.what();
  }
  EXPECT_FALSE(p.try_set_value(3));
  EXPECT_THROW((void)p.get_future(), FutureError);
  EXPECT_EQ(f.get(), 1U);
  EXPECT_THROW((void)f.get(), FutureError);  // consumed
}

TEST(SharedStateFuture, ContinuationOnReadyFutureRunsAtOnce) {
  P p;
  auto f = p.get_future();
  p.set_value(4);
  int ran = 0;
  auto g = std::move(f).then([&ran](Item v) {
    ++ran;
    return v + 1;
  });
  EXPECT_EQ(ran, 1);
  EXPECT_TRUE(g.is_ready());
  EXPECT_EQ(g.get(), 5U);
}

TEST(SharedStateFuture, OnErrorRecoversAndValuesPassThrough) {
  P bad;
  auto f = bad.get_future().on_error([](std::exception_ptr e) -> Item {
    try {
      std::rethrow_exception(e);
    } catch (const std::runtime_error&) {
      return 99;
    }
  });
  bad.set_exception(std::make_exception_ptr(std::runtime_error("x")));
  EXPECT_EQ(f.get(), 99U);

  P good;
  auto g = good.get_future().on_error([](std::exception_ptr) -> Item { return 0; });
  good.set_value(5);
  EXPECT_EQ(g.get(), 5U);
}

TEST(SharedStateFuture, ThenChangesTheType) {
  P p;
  auto f = p.get_future().then([](Item v) { return std::to_string(v); });
  p.set_value(12);
  EXPECT_EQ(f.get(), "12");
}

TEST(SharedStateFuture, WhenAllReportsAnError) {
  std::vector<P> ps(3);
  std::vector<Fut> fs;
  for (auto& p : ps) fs.push_back(p.get_future());
  auto all = when_all(std::move(fs));
  ps[0].set_value(1);
  ps[1].set_exception(std::make_exception_ptr(std::runtime_error("second")));
  ps[2].set_value(3);
  EXPECT_THROW((void)all.get(), std::runtime_error);
  EXPECT_TRUE(when_all(std::vector<Fut>{}).get().empty());
}

TEST(SharedStateFuture, WhenAnyTakesTheFirst) {
  std::vector<P> ps(3);
  std::vector<Fut> fs;
  for (auto& p : ps) fs.push_back(p.get_future());
  auto any = when_any(std::move(fs));
  std::thread t([&ps] { ps[1].set_value(11); });
  const auto [index, value] = any.get();
  t.join();
  EXPECT_EQ(index, 1U);
  EXPECT_EQ(value, 11U);
  ps[0].set_value(0);  // later completions are ignored
  EXPECT_THROW((void)when_any(std::vector<Fut>{}), FutureError);
}

TEST(SharedStateFuture, CancelResolvesTheFutureAndTellsTheProducer) {
  P p;
  auto f = p.get_future();
  EXPECT_FALSE(p.cancelled());
  EXPECT_TRUE(f.cancel());
  EXPECT_TRUE(p.cancelled());
  p.set_value(1);  // ignored, not an error: the cancellation took the fulfilment
  try {
    (void)f.get();
    FAIL() << "no error";
  } catch (const FutureError& e) {
    EXPECT_EQ(e.code(), FutureErrc::kCancelled);
  }
  P done;
  auto g = done.get_future();
  done.set_value(2);
  EXPECT_FALSE(g.cancel());
  EXPECT_EQ(g.get(), 2U);
}

TEST(SharedStateFuture, CancelledContinuationDoesNotRun) {
  P p;
  int ran = 0;
  auto f = p.get_future().then([&ran](Item v) {
    ++ran;
    return v;
  });
  EXPECT_TRUE(f.cancel());
  p.set_value(1);
  EXPECT_EQ(ran, 0);
  EXPECT_THROW((void)f.get(), FutureError);
}

TEST(SharedStateFuture, BrokenPromise) {
  Fut f;
  {
    P p;
    f = p.get_future();
  }
  try {
    (void)f.get();
    FAIL() << "no error";
  } catch (const FutureError& e) {
    EXPECT_EQ(e.code(), FutureErrc::kBrokenPromise);
  }
}

TEST(SharedStateFuture, LongChainRunsInConstantStack) {
  // Attached before the value: set_value completes the whole chain; each completion inside a
  // continuation is queued on the trampoline, not recursed into (else this overflows).
  P p;
  auto f = p.get_future();
  constexpr Item kDepth = 200'000;  // recursion would need ~40 MB of stack
  for (Item i = 0; i < kDepth; ++i) f = std::move(f).then(Inc{});
  p.set_value(0);
  EXPECT_EQ(f.get(), kDepth);
}

}  // namespace
}  // namespace cpb::patterns::future_promise
