// SPDX-License-Identifier: Apache-2.0
// Model checks: the registered model checks of every buffer templated on the sync policy pass
// (per policy, the outcome program with its oracle; a consumer's wake-up; close waking both
// sides), and the eventcount's lost-wake-up window is covered: the protocol as written passes,
// and two seeded-bug twins (written here, one line away from eventcount.hpp) deadlock.
#include "patterns/producer_consumer/producer_consumer.hpp"

#include "harness/testing.hpp"
#include "patterns/producer_consumer/eventcount.hpp"
#include "patterns/producer_consumer/producer_consumer.impls.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <climits>
#include <cstdint>
#include <string>

namespace cpb::patterns::producer_consumer {
namespace {

using S = check::Sync;

template <class B>
class BufferModel : public ::testing::Test {};
TYPED_TEST_SUITE(BufferModel, testing::ToGTest<ModelImpls>, testing::ImplName);

TYPED_TEST(BufferModel, RegisteredModelChecksPass) {
  EXPECT_EQ(testing::expect_registered_checks_pass<Family<TypeParam>>(&Check::model,
                                                                      testing::model_config()),
            6)
      << "four policy programs, a wake-up and a close check for " << TypeParam::kName;
}

// -- the eventcount's lost-wake-up window ------------------------------------------------------

/// EventCount (eventcount.hpp) with an optional bug: `kRelaxedSignal` reads the word with a
/// relaxed load instead of the seq_cst fetch_add(0), so under TSO the signaller's load can
/// pass its own buffered store of the data and miss a waiter that missed the data.
template <bool kRelaxedSignal>
class TwinEventCount {
 public:
  using Key = std::uint32_t;
  Key prepare_wait() { return word_.fetch_or(1, std::memory_order_seq_cst) | 1; }
  void cancel_wait() {}
  void commit_wait(Key key) {
    // Acquire pairs with the seq_cst CAS in notify_all.
    while (word_.load(std::memory_order_acquire) == key) mutex::futex_wait<S>(word_, key);
  }
  void notify_all() {
    std::uint32_t w = kRelaxedSignal ? word_.load(std::memory_order_relaxed)  // BUG
                                     : word_.fetch_add(0, std::memory_order_seq_cst);
    while ((w & 1) != 0) {
      if (word_.compare_exchange_weak(w, (w + 2) & ~1U, std::memory_order_seq_cst)) {
        mutex::futex_wake<S>(word_, INT_MAX);
        return;
      }
    }
  }

 private:
  S::atomic<std::uint32_t> word_{0};
};

/// A waiter sleeps until `flag` is set; a signaller sets it and notifies. `kCheckFirst` is the
/// classic bug: the waiter checks the flag before prepare_wait and does not re-check after
/// it, so a signal between the check and prepare_wait sees no waiter and is lost.
template <class Ec, bool kCheckFirst>
check::TestCase handoff(std::string name) {
  struct State {
    Ec ec;
    S::atomic<int> flag{0};
  };
  return check::make_test<State>(
      std::move(name),
      {[](State& s) {
         // Acquire pairs with the signaller's release store of the flag.
         while (s.flag.load(std::memory_order_acquire) == 0) {
           if constexpr (kCheckFirst) {
             s.ec.commit_wait(s.ec.prepare_wait());  // BUG: no re-check after prepare_wait
           } else {
             const auto key = s.ec.prepare_wait();
             // Acquire: as above.
             if (s.flag.load(std::memory_order_acquire) != 0) {
               s.ec.cancel_wait();
               break;
             }
             s.ec.commit_wait(key);
           }
         }
       },
       [](State& s) {
         // Release pairs with the waiter's acquire loads.
         s.flag.store(1, std::memory_order_release);
         s.ec.notify_all();
       }});
}

check::Config tso(check::Config c) {
  c.tier = check::Tier::kTso;
  return c;
}

TEST(EventCountModel, TheProtocolLosesNoWakeUp) {
  testing::expect_passes(handoff<EventCount<S>, false>("producer_consumer/eventcount/handoff"));
  for (check::Config c : {tso(testing::twin_dfs()), tso(testing::twin_random_walk())}) {
    c.max_seconds = 1;
    const auto r =
        check::explore(c, handoff<EventCount<S>, false>("producer_consumer/eventcount/handoff"));
    EXPECT_TRUE(r.ok()) << r.report();
  }
}

TEST(EventCountModel, CheckingBeforePrepareWaitLosesTheWakeUp) {
  testing::expect_caught(
      handoff<EventCount<S>, true>("producer_consumer/seeded/check_before_prepare"),
      check::FailureKind::kDeadlock);
}

TEST(EventCountModel, TheTwinWithTheSeqCstSignalPassesUnderTso) {
  for (check::Config c : {tso(testing::twin_dfs()), tso(testing::twin_random_walk())}) {
    c.max_seconds = 1;
    const auto r = check::explore(
        c, handoff<TwinEventCount<false>, false>("producer_consumer/seeded/seq_cst_signal"));
    EXPECT_TRUE(r.ok()) << r.report();
  }
}

TEST(EventCountModel, ARelaxedSignalLosesTheWakeUpUnderTso) {
  for (const check::Config& c : {tso(testing::twin_dfs()), tso(testing::twin_random_walk())}) {
    const auto r = check::explore(
        c, handoff<TwinEventCount<true>, false>("producer_consumer/seeded/relaxed_signal"));
    ASSERT_FALSE(r.ok()) << "not caught by " << to_string(c.strategy) << ": " << r.summary();
    EXPECT_EQ(r.failure->kind, check::FailureKind::kDeadlock) << r.report();
  }
}

}  // namespace
}  // namespace cpb::patterns::producer_consumer
