// SPDX-License-Identifier: Apache-2.0
/// @file
/// MapReduce jobs, the `Job` concept every engine runs, and the sequential run that every
/// engine's output is checked against.
///
/// A job maps one record (a `Document`) to (key, value) pairs through `emit`, and folds the
/// values of one key into an accumulator: `fold(acc, value)` adds one value, `merge(acc, other)`
/// adds a whole accumulator (what a combiner's partial results need), and `finish(acc)` turns
/// the accumulator into the key's output. `hash(key)` picks the key's shuffle partition. The
/// output of a run is one (key, output) pair per distinct key, in any order; `sorted()` gives
/// the canonical order in which runs are compared.
///
/// Whatever order the values of a key are folded and merged in, `finish` must give the same
/// output (both jobs here are commutative monoids, or sort in `finish`): that is what lets an
/// engine combine per worker, shuffle by hash and reduce per partition in any interleaving.
/// Reference: Dean & Ghemawat, "MapReduce: Simplified Data Processing on Large Clusters",
/// OSDI 2004 (§2.1 word count, inverted index; §4.3 combiner function).
#pragma once

#include "patterns/map_reduce/corpus.hpp"
#include "patterns/map_reduce/flat_map.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace cpb::patterns::map_reduce {

namespace detail {
/// An emit callback for the concept check.
template <class K, class V>
struct ProbeEmit {
  void operator()(const K& /*key*/, V /*value*/) const {}
};
}  // namespace detail

/// A MapReduce job over `Document`s.
template <class J>
concept Job = std::copy_constructible<J> &&
    requires(const J& j, const Document& d, const typename J::Key& k, typename J::Value v,
             typename J::Acc& a, detail::ProbeEmit<typename J::Key, typename J::Value> emit) {
  j.map(d, emit);
  { j.hash(k) } -> std::same_as<std::uint64_t>;
  j.fold(a, std::move(v));
  j.merge(a, std::move(a));
  { j.finish(std::move(a)) } -> std::same_as<typename J::Out>;
  { J::kName } -> std::convertible_to<std::string_view>;
};

/// The result of a run: one (key, output) pair per distinct key, in any order.
template <Job J>
using Output = std::vector<std::pair<typename J::Key, typename J::Out>>;

/// A 64-bit hash of a word: 8 bytes at a time through the splitmix64 finalizer. All its bits
/// are well mixed: the shuffle takes the partition from the high bits, the maps the slot from
/// the low ones.
inline std::uint64_t hash_word(std::string_view s) {
  const auto mix = [](std::uint64_t x) {
    x ^= x >> 30;
    x *= 0xbf58476d1ce4e5b9ULL;
    x ^= x >> 27;
    x *= 0x94d049bb133111ebULL;
    return x ^ (x >> 31);
  };
  std::uint64_t h = 0x9e3779b97f4a7c15ULL ^ s.size();
  const char* p = s.data();
  std::size_t n = s.size();
  for (; n >= 8; p += 8, n -= 8) {
    std::uint64_t w = 0;
    std::memcpy(&w, p, 8);
    h = mix(h ^ w);
  }
  std::uint64_t w = 0;
  if (n > 0) std::memcpy(&w, p, n);
  return mix(h ^ w);
}

/// Calls `f(word)` for every word of `text` (words are separated by spaces, or any byte ≤ ' ').
template <class F>
void for_each_word(std::string_view text, F&& f) {
  const char* p = text.data();
  const char* const end = p + text.size();
  while (p < end) {
    while (p < end && static_cast<unsigned char>(*p) <= ' ') ++p;
    const char* const b = p;
    while (p<end&& static_cast<unsigned char>(*p)> ' ') ++p;
    if (p > b) f(std::string_view(b, static_cast<std::size_t>(p - b)));
  }
}

/// Word count: how often every word occurs in the corpus. Keys point into the corpus text.
struct WordCount {
  static constexpr std::string_view kName = "word_count";
  using Key = std::string_view;
  using Value = std::uint32_t;
  using Acc = std::uint64_t;
  using Out = std::uint64_t;

  template <class Emit>
  void map(const Document& d, Emit&& emit) const {
    for_each_word(d.text, [&](std::string_view w) { emit(w, Value{1}); });
  }
  [[nodiscard]] std::uint64_t hash(const Key& k) const { return hash_word(k); }
  void fold(Acc& a, Value v) const { a += v; }
  void merge(Acc& a, Acc b) const { a += b; }
  [[nodiscard]] Out finish(Acc a) const { return a; }
};

/// Inverted index: for every word, the sorted ids of the documents it occurs in.
struct InvertedIndex {
  static constexpr std::string_view kName = "inverted_index";
  using Key = std::string_view;
  using Value = std::uint32_t;             // a document id
  using Acc = std::vector<std::uint32_t>;  // ids, unsorted, maybe repeated
  using Out = std::vector<std::uint32_t>;  // ids, sorted, distinct

  template <class Emit>
  void map(const Document& d, Emit&& emit) const {
    for_each_word(d.text, [&](std::string_view w) { emit(w, d.id); });
  }
  [[nodiscard]] std::uint64_t hash(const Key& k) const { return hash_word(k); }
  /// Skips a repeat of the last id: a document's words arrive together, so this drops most
  /// repeats early; `finish` removes the rest.
  void fold(Acc& a, Value v) const {
    if (a.empty() || a.back() != v) a.push_back(v);
  }
  void merge(Acc& a, Acc&& b) const {
    if (a.empty()) {
      a = std::move(b);
    } else {
      a.insert(a.end(), b.begin(), b.end());
    }
  }
  [[nodiscard]] Out finish(Acc&& a) const {
    std::sort(a.begin(), a.end());
    a.erase(std::unique(a.begin(), a.end()), a.end());
    return std::move(a);
  }
};

/// `out` in the canonical order: by key.
template <Job J>
Output<J> sorted(Output<J> out) {
  std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
  return out;
}

/// The reference: a sequential run on one thread, sorted by key.
template <Job J>
Output<J> run_sequential(const J& job, Input input) {
  FlatMap<typename J::Key, typename J::Acc> map;
  for (const Document& d : input) {
    job.map(d, [&](const typename J::Key& k, typename J::Value v) {
      job.fold(map.find_or_insert(k, job.hash(k)), std::move(v));
    });
  }
  Output<J> out;
  out.reserve(map.size());
  map.for_each([&](const auto& k, std::uint64_t /*hash*/, typename J::Acc& a) {
    out.emplace_back(k, job.finish(std::move(a)));
  });
  return sorted<J>(std::move(out));
}

/// "" when `got` (any order) equals `want` (sorted), else the first difference in words.
template <Job J>
std::string difference(const Output<J>& want, Output<J> got) {
  got = sorted<J>(std::move(got));
  const std::size_t n = std::min(want.size(), got.size());
  for (std::size_t i = 0; i < n; ++i) {
    if (want[i].first != got[i].first) {
      return fmt::format("entry {}: key '{}' where the sequential run has '{}' ({} keys, want {})",
                         i, got[i].first, want[i].first, got.size(), want.size());
    }
    if (!(want[i].second == got[i].second)) {
      return fmt::format("key '{}': the output differs from the sequential run's", got[i].first);
    }
  }
  if (want.size() != got.size()) {
    return fmt::format("{} keys where the sequential run has {}", got.size(), want.size());
  }
  return {};
}

}  // namespace cpb::patterns::map_reduce
