// SPDX-License-Identifier: Apache-2.0
#include "harness/bench/histogram.hpp"

#include <gtest/gtest.h>

#include <cstdint>
#include <limits>
#include <random>
#include <vector>

namespace cpb::bench {
namespace {

constexpr std::uint64_t kMax = std::numeric_limits<std::uint64_t>::max();

/// v lands in a bucket whose upper edge is >= v and whose previous bucket's upper edge is < v.
void expect_consistent(std::uint64_t v) {
  const int i = Histogram::index(v);
  ASSERT_GE(i, 0) << v;
  ASSERT_LT(i, Histogram::kBuckets) << v;
  EXPECT_GE(Histogram::upper(i), v) << "value " << v << " bucket " << i;
  if (i > 0) {
    EXPECT_LT(Histogram::upper(i - 1), v) << "value " << v << " bucket " << i;
  }
}

TEST(Histogram, EveryValueLandsInTheBucketThatBoundsIt) {
  for (std::uint64_t v = 0; v <= 70'000; ++v) expect_consistent(v);
  for (int b = 0; b < 64; ++b) {
    const std::uint64_t p = 1ULL << b;
    expect_consistent(p);
    expect_consistent(p - 1);
    expect_consistent(p + 1);
    expect_consistent(p + p / 2);
  }
  expect_consistent(kMax);
  std::mt19937_64 rng(42);
  for (int n = 0; n < 200'000; ++n) {
    const std::uint64_t v = rng() >> (rng() % 64);
    expect_consistent(v);
  }
}

TEST(Histogram, UpperIsStrictlyIncreasingAndItsOwnBucket) {
  const int last = Histogram::index(kMax);
  EXPECT_EQ(Histogram::upper(last), kMax);
  for (int i = 0; i <= last; ++i) {
    EXPECT_EQ(Histogram::index(Histogram::upper(i)), i) << i;
    if (i > 0) {
      EXPECT_LT(Histogram::upper(i - 1), Histogram::upper(i)) << i;
    }
  }
}

TEST(Histogram, BucketsAreAtMostOneEighthWide) {
  for (int i = 9; i <= Histogram::index(kMax); ++i) {
    const std::uint64_t lo = Histogram::upper(i - 1) + 1;
    const std::uint64_t width = Histogram::upper(i) - lo + 1;
    EXPECT_LE(width, lo / 8) << i;
  }
}

TEST(Histogram, QuantilesOfAUniformDistribution) {
  Histogram h;
  for (std::uint64_t v = 1; v <= 1000; ++v) h.add(v);
  EXPECT_EQ(h.count(), 1000U);
  EXPECT_EQ(h.max(), 1000U);
  // Quantiles report the bucket's upper edge: never below the true value, at most 12.5% above.
  const auto within = [&](double q, double truth) {
    const auto got = static_cast<double>(h.quantile(q));
    EXPECT_GE(got, truth) << "q=" << q;
    EXPECT_LE(got, truth * 1.125) << "q=" << q;
  };
  within(0.5, 501);
  within(0.9, 901);
  within(0.99, 991);
  EXPECT_EQ(h.quantile(0.0), 1U);
  EXPECT_EQ(h.quantile(0.999), 1000U);  // capped by the exact maximum
  EXPECT_EQ(h.quantile(1.0), 1000U);
  EXPECT_LE(h.quantile(0.5), h.quantile(0.9));
  EXPECT_LE(h.quantile(0.9), h.quantile(0.99));
  EXPECT_LE(h.quantile(0.99), h.quantile(0.999));
}

TEST(Histogram, QuantilesOfAConstantAreExact) {
  Histogram h;
  for (int n = 0; n < 100; ++n) h.add(777);
  for (double q : {0.0, 0.5, 0.9, 0.99, 1.0}) {
    EXPECT_EQ(h.quantile(q), 777U) << q;
  }
}

TEST(Histogram, QuantilesSeeATail) {
  Histogram h;
  for (int n = 0; n < 990; ++n) h.add(100);
  for (int n = 0; n < 10; ++n) h.add(100'000);
  // 100 lies in the bucket [96, 103].
  EXPECT_EQ(h.quantile(0.5), 103U);
  EXPECT_EQ(h.quantile(0.98), 103U);
  EXPECT_EQ(h.quantile(0.995), 100'000U);
  EXPECT_EQ(h.max(), 100'000U);
}

TEST(Histogram, MergeEqualsAddingEverything) {
  Histogram a;
  Histogram b;
  Histogram all;
  for (std::uint64_t v = 1; v <= 500; ++v) {
    a.add(v);
    all.add(v);
  }
  for (std::uint64_t v = 501; v <= 1000; ++v) {
    b.add(v * 3);
    all.add(v * 3);
  }
  a.merge(b);
  EXPECT_EQ(a.count(), 1000U);
  EXPECT_EQ(a.max(), 3000U);
  for (double q : {0.0, 0.1, 0.5, 0.75, 0.9, 0.99, 1.0}) {
    EXPECT_EQ(a.quantile(q), all.quantile(q)) << q;
  }
  const Histogram before = a;
  a.merge(Histogram{});
  EXPECT_EQ(a.count(), before.count());
  EXPECT_EQ(a.max(), before.max());
  EXPECT_EQ(a.quantile(0.5), before.quantile(0.5));
}

TEST(Histogram, EmptyAndCleared) {
  Histogram h;
  EXPECT_EQ(h.count(), 0U);
  EXPECT_EQ(h.max(), 0U);
  EXPECT_EQ(h.quantile(0.5), 0U);
  EXPECT_EQ(h.quantile(1.0), 0U);
  h.add(12345);
  EXPECT_EQ(h.count(), 1U);
  EXPECT_EQ(h.quantile(0.5), 12345U);
  h.clear();
  EXPECT_EQ(h.count(), 0U);
  EXPECT_EQ(h.max(), 0U);
  EXPECT_EQ(h.quantile(0.99), 0U);
}

}  // namespace
}  // namespace cpb::bench
