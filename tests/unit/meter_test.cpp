// SPDX-License-Identifier: Apache-2.0
#include "harness/bench/meter.hpp"

#include <gtest/gtest.h>

#include <cstdint>

namespace cpb::bench {
namespace {

TEST(Meter, CountsItemsAndRunsEveryOperation) {
  Meter m;
  m.configure(1);
  m.begin();
  int calls = 0;
  for (int n = 0; n < 10; ++n) m.op([&] { ++calls; }, 3);
  m.op([&] { ++calls; });
  m.end();
  EXPECT_EQ(calls, 11);
  EXPECT_EQ(m.ops(), 10U * 3 + 1);
  // sample_every 1 times every call, whatever its item count.
  EXPECT_EQ(m.histogram().count(), 11U);
  EXPECT_LE(m.start_ns(), m.last_ns());
  EXPECT_LE(m.last_ns(), m.end_ns());
}

TEST(Meter, SamplesOneCallInSampleEvery) {
  for (std::uint32_t every : {2U, 8U, 64U}) {
    Meter m;
    m.configure(every);
    m.begin();
    int calls = 0;
    for (int n = 0; n < 1000; ++n) m.op([&] { ++calls; });
    m.end();
    EXPECT_EQ(calls, 1000);
    EXPECT_EQ(m.ops(), 1000U);
    EXPECT_EQ(m.histogram().count(), m.ops() / every) << every;
  }
}

TEST(Meter, SamplingCountsCallsNotItems) {
  Meter m;
  m.configure(8);
  m.begin();
  for (int n = 0; n < 100; ++n) m.op([] {}, 5);
  EXPECT_EQ(m.ops(), 500U);
  EXPECT_EQ(m.histogram().count(), 100U / 8);
}

TEST(Meter, ZeroSamplePeriodMeansEveryCall) {
  Meter m;
  m.configure(0);
  m.begin();
  for (int n = 0; n < 7; ++n) m.op([] {});
  EXPECT_EQ(m.histogram().count(), 7U);
}

TEST(Meter, SampledLatencyCoversTheOperation) {
  Meter m;
  m.configure(1);
  m.begin();
  m.op([] {
    const std::uint64_t t0 = now_ns();
    while (now_ns() - t0 < 200'000) {
    }
  });
  EXPECT_GE(m.histogram().max(), 200'000U);
}

TEST(Meter, BeginResetsCountsSamplesAndThePeriod) {
  Meter m;
  m.configure(8);
  m.begin();
  for (int n = 0; n < 21; ++n) m.op([] {});  // 2 samples, 5 calls into the next period
  m.end();
  EXPECT_EQ(m.ops(), 21U);
  EXPECT_EQ(m.histogram().count(), 2U);
  const std::uint64_t first_start = m.start_ns();

  m.begin();
  EXPECT_EQ(m.ops(), 0U);
  EXPECT_EQ(m.histogram().count(), 0U);
  EXPECT_EQ(m.histogram().max(), 0U);
  EXPECT_GE(m.start_ns(), first_start);
  // The period restarts: 7 calls take no sample, the 8th does.
  for (int n = 0; n < 7; ++n) m.op([] {});
  EXPECT_EQ(m.histogram().count(), 0U);
  m.op([] {});
  EXPECT_EQ(m.histogram().count(), 1U);
  EXPECT_EQ(m.ops(), 8U);
}

}  // namespace
}  // namespace cpb::bench
