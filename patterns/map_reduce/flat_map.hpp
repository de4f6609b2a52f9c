// SPDX-License-Identifier: Apache-2.0
/// @file
/// `FlatMap<K, A>`: an open-addressing hash map (linear probing, power-of-two table at most half
/// full) from a key to an accumulator, for one thread at a time. The caller passes each key's
/// 64-bit hash, computed once by the job and carried with the key through the shuffle; the map
/// stores it beside the key, so probing compares hashes before keys and growth never rehashes.
/// `clear()` keeps the table, so a map reused run after run stops allocating.
///
/// Progress: not concurrent (one owner; the engines hand whole maps between phases).
/// Used by the own engine's combiner and reducers and by the `tbb_parallel_reduce` baseline's
/// bodies alike, so that the two differ in their parallel structure, not in their hash table.
/// Reference: Knuth, TAOCP vol. 3, §6.4 (linear probing).
#pragma once

#include <bit>
#include <cstddef>
#include <cstdint>
#include <utility>
#include <vector>

namespace cpb::patterns::map_reduce {

template <class K, class A>
class FlatMap {
 public:
  explicit FlatMap(std::size_t expected = 16) { rehash(std::bit_ceil(2 * expected + 2)); }

  /// The accumulator of `key` (whose hash is `hash`), default-constructed when it is new.
  A& find_or_insert(const K& key, std::uint64_t hash) {
    const std::uint64_t h = hash | 1;  // 0 marks an empty slot
    for (std::size_t i = h & mask_;; i = (i + 1) & mask_) {
      Slot& s = slots_[i];
      if (s.hash == h && s.key == key) return s.acc;
      if (s.hash == 0) {
        if (2 * (size_ + 1) > slots_.size()) {
          rehash(2 * slots_.size());
          return find_or_insert(key, hash);
        }
        s.hash = h;
        s.key = key;
        ++size_;
        return s.acc;
      }
    }
  }

  /// Calls `f(key, hash, acc)` for every entry, in table order; `f` may move from `acc`.
  template <class F>
  void for_each(F&& f) {
    for (Slot& s : slots_) {
      if (s.hash != 0) f(s.key, s.hash, s.acc);
    }
  }

  /// Removes every entry, keeping the table.
  void clear() {
    if (size_ == 0) return;
    for (Slot& s : slots_) {
      if (s.hash != 0) s = Slot{};
    }
    size_ = 0;
  }

  [[nodiscard]] std::size_t size() const { return size_; }

 private:
  struct Slot {
    std::uint64_t hash = 0;
    K key{};
    A acc{};
  };

  void rehash(std::size_t capacity) {
    std::vector<Slot> old(capacity);
    old.swap(slots_);
    mask_ = capacity - 1;
    for (Slot& s : old) {
      if (s.hash == 0) continue;
      std::size_t i = s.hash & mask_;
      while (slots_[i].hash != 0) i = (i + 1) & mask_;
      slots_[i] = std::move(s);
    }
  }

  std::vector<Slot> slots_;
  std::size_t mask_ = 0;
  std::size_t size_ = 0;
};

}  // namespace cpb::patterns::map_reduce
