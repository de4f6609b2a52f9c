// SPDX-License-Identifier: Apache-2.0
// Model checks: the registered model checks of every channel templated on the sync policy pass
// (a rendezvous hand-off, close racing a parked receiver, and, for go_channel, select racing a
// send and a close), and a seeded twin of go_channel whose close forgets the parked receivers
// is caught as a deadlock by both searches, with a replay string that reproduces it.
#include "patterns/channel/channel.hpp"

#include "harness/testing.hpp"
#include "patterns/channel/channel.impls.hpp"

#include <gtest/gtest.h>

namespace cpb::patterns::channel {
namespace {

using S = check::Sync;

template <class C>
class ChannelModel : public ::testing::Test {};
TYPED_TEST_SUITE(ChannelModel, testing::ToGTest<ModelImpls>, testing::ImplName);

TYPED_TEST(ChannelModel, RegisteredModelChecksPass) {
  EXPECT_EQ(testing::expect_registered_checks_pass<Family<TypeParam>>(&Check::model,
                                                                      testing::model_config()),
            TypeParam::kNativeSelect ? 3 : 2)
      << "hand-off, close (and select) for " << TypeParam::kName;
}

/// go_channel with the seeded bug: close() marks the channel closed and wakes the parked
/// senders, but forgets the parked receivers (one argument away from GoChannel::close).
class LosesCloseWakeUp : public GoChannel<S> {
 public:
  using GoChannel<S>::GoChannel;
  void close() { close_waking(false); }  // BUG: the parked receivers sleep on
};

TEST(ChannelTwin, ForgettingParkedReceiversOnCloseIsCaughtAndReplays) {
  const auto twin = detail::close_model<LosesCloseWakeUp>("channel/seeded/loses_close_wakeup");
  testing::expect_caught(twin, check::FailureKind::kDeadlock);
  check::Config c = testing::twin_dfs();
  const check::Result r = check::explore(c, twin);
  ASSERT_FALSE(r.ok());
  ASSERT_FALSE(r.failure->replay.empty());
  c.replay = r.failure->replay;
  const check::Result again = check::explore(c, twin);
  ASSERT_FALSE(again.ok()) << "the replay string did not reproduce the deadlock";
  EXPECT_EQ(again.failure->kind, check::FailureKind::kDeadlock);
  EXPECT_EQ(again.failure->trace, r.failure->trace);
}

TEST(ChannelTwin, TheFixedChannelPassesTheSameProgram) {
  testing::expect_passes(detail::close_model<GoChannel<S>>("channel/fixed/close"));
}

}  // namespace
}  // namespace cpb::patterns::channel
