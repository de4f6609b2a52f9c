// SPDX-License-Identifier: Apache-2.0
/// @file
/// Conservative two-phase locking with ordered acquisition: a transaction declares the keys it
/// will touch; `execute` sorts them, takes each record's spinlock in key order (the growing
/// phase), runs the body directly on the records, then releases them all (the shrinking phase).
/// Every transaction locks in the same global order, so there is no deadlock and nothing ever
/// aborts or retries. The body may touch only the keys it declared: a get of another key returns
/// 0, a put is dropped, and `execute` throws std::logic_error once the locks are released.
///
/// Progress: blocking (waiters spin with exponential back-off, then yield).
/// Memory ordering: a record's lock is taken with an acquire exchange and released with a
/// release store, so a body's accesses to the record (plain `cell`s, race-checked by the model
/// checker) happen after the previous holder's. The spinning load is relaxed (a hint).
/// When to use: transactions whose key set is known up front (transfers, fixed updates), any
/// conflict rate: nothing is ever redone. When not to use: key sets discovered while running
/// (reads that decide what to write next), or long transactions over hot keys, which hold every
/// lock for their whole length.
/// Reference: K. P. Eswaran, J. N. Gray, R. A. Lorie, I. L. Traiger, "The notions of consistency
/// and predicate locks in a database system", CACM 19(11), 1976 (two-phase locking); J. W.
/// Havender, "Avoiding deadlock in multitasking systems", IBM Systems Journal 7(2), 1968 (a
/// global order of acquisition).
#pragma once

#include "harness/core/progress.hpp"
#include "harness/core/sync.hpp"
#include "patterns/optimistic_cc/transactions.hpp"

#include <algorithm>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <stdexcept>
#include <string_view>

namespace cpb::patterns::pessimistic_cc {

using transactions::Balance;
using transactions::Key;

template <class S = sync::Real>
class Ordered2pl {
  struct Record {
    typename S::template atomic<std::uint32_t> lock{0};
    typename S::template cell<Balance> value{0};
  };

 public:
  static constexpr std::string_view kName = "ordered_2pl";
  static constexpr Progress kProgress = Progress::kBlocking;

  Ordered2pl(std::size_t accounts, Balance initial)
      : size_(accounts), records_(std::make_unique<Record[]>(accounts)) {
    for (std::size_t k = 0; k < size_; ++k) records_[k].value.store(initial);
  }

  [[nodiscard]] std::size_t size() const { return size_; }
  [[nodiscard]] Balance peek(Key k) const { return records_[k].value.load(); }

  /// The body's view: direct access to the records it holds locked.
  class Tx {
   public:
    Tx(Ordered2pl& store, std::span<const Key> held) : store_(store), held_(held) {}
    Balance get(Key k) { return holds(k) ? store_.records_[k].value.load() : 0; }
    void put(Key k, Balance v) {
      if (holds(k)) store_.records_[k].value.store(v);
    }
    [[nodiscard]] bool strayed() const { return strayed_; }

   private:
    bool holds(Key k) {
      const bool ok = std::binary_search(held_.begin(), held_.end(), k);
      strayed_ = strayed_ || !ok;
      return ok;
    }
    Ordered2pl& store_;
    std::span<const Key> held_;
    bool strayed_ = false;
  };

  template <class F>
  std::uint32_t execute(std::span<const Key> keys, F&& body) {
    transactions::detail::SmallVec<Key, 4> sorted;
    for (const Key k : keys) sorted.push_back(k);
    transactions::detail::sort_small(sorted.begin(), sorted.end(), std::less<>());
    sorted.resize_down(
        static_cast<std::size_t>(std::unique(sorted.begin(), sorted.end()) - sorted.begin()));
    for (const Key k : sorted) lock(records_[k]);
    Tx tx(*this, std::span<const Key>(sorted.begin(), sorted.size()));
    body(tx);
    for (const Key k : sorted) {
      // Release pairs with the acquire exchange of the next holder.
      records_[k].lock.store(0, std::memory_order_release);
    }
    if (tx.strayed())
      throw std::logic_error("ordered_2pl: the body touched a key it did not declare");
    return 1;
  }

 private:
  static void lock(Record& rec) {
    sync::Backoff<S> backoff;
    // Relaxed peek (test-and-test-and-set): only a free lock is worth the exchange, which
    // acquires (pairs with the release store of the previous holder).
    while (rec.lock.load(std::memory_order_relaxed) != 0 ||
           rec.lock.exchange(1, std::memory_order_acquire) != 0) {
      backoff();
    }
  }

  std::size_t size_;
  std::unique_ptr<Record[]> records_;
};

}  // namespace cpb::patterns::pessimistic_cc
