// SPDX-License-Identifier: Apache-2.0
/// @file
/// A log-bucketed latency histogram: 8 sub-buckets per power of two (12.5% resolution), fixed
/// size, no allocation on `add`, mergeable across threads. Exact maximum.
#pragma once

#include <array>
#include <bit>
#include <cstdint>

namespace cpb::bench {

class Histogram {
 public:
  static constexpr int kSubBits = 3;
  static constexpr int kBuckets = 64 << kSubBits;

  void add(std::uint64_t ns) {
    ++counts_[index(ns)];
    ++count_;
    if (ns > max_) max_ = ns;
  }

  void merge(const Histogram& o) {
    for (int i = 0; i < kBuckets; ++i) counts_[i] += o.counts_[i];
    count_ += o.count_;
    if (o.max_ > max_) max_ = o.max_;
  }

  void clear() { *this = Histogram{}; }

  [[nodiscard]] std::uint64_t count() const { return count_; }
  [[nodiscard]] std::uint64_t max() const { return max_; }

  /// The value at quantile q in [0, 1]: the upper edge of the bucket holding it, capped by the
  /// exact maximum. 0 when empty.
  [[nodiscard]] std::uint64_t quantile(double q) const {
    if (count_ == 0) return 0;
    auto rank = static_cast<std::uint64_t>(q * static_cast<double>(count_));
    if (rank >= count_) rank = count_ - 1;
    std::uint64_t seen = 0;
    for (int i = 0; i < kBuckets; ++i) {
      seen += counts_[i];
      if (seen > rank) return upper(i) < max_ ? upper(i) : max_;
    }
    return max_;
  }

  static int index(std::uint64_t v) {
    if (v < (1U << kSubBits)) return static_cast<int>(v);
    const int msb = 63 - std::countl_zero(v);
    const int shift = msb - kSubBits;
    const auto sub = static_cast<int>((v >> shift) & ((1U << kSubBits) - 1));
    return ((shift + 1) << kSubBits) + sub;
  }

  /// Largest value that falls in bucket i.
  static std::uint64_t upper(int i) {
    if (i < (1 << kSubBits)) return static_cast<std::uint64_t>(i);
    const int shift = (i >> kSubBits) - 1;
    const std::uint64_t sub = static_cast<std::uint64_t>(i) & ((1U << kSubBits) - 1);
    const std::uint64_t base = ((1ULL << kSubBits) | sub) << shift;
    return base + ((1ULL << shift) - 1);
  }

 private:
  std::array<std::uint64_t, kBuckets> counts_{};
  std::uint64_t count_ = 0;
  std::uint64_t max_ = 0;
};

}  // namespace cpb::bench
