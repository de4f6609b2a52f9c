// SPDX-License-Identifier: Apache-2.0
/// @file
/// Two-phase locking with wait-die deadlock prevention: locks are taken as the body touches
/// records (no declared key set), and a transaction that finds a record locked compares
/// timestamps. An older transaction (smaller timestamp) waits for the younger holder; a younger
/// one "dies": its remaining reads return 0 and its writes are dropped, and when the body ends
/// it releases every lock and restarts, keeping its timestamp. Waits only ever go from older to
/// younger, so no cycle of waits (deadlock) can form. Writes are buffered until the body ends
/// and applied, under the locks, only by an attempt that did not die, so a death needs no
/// undo; and since a restarted transaction keeps
/// its timestamp it eventually becomes the oldest and cannot die again (no starvation). Locks
/// are exclusive (reads lock too) and held until the end (strict two-phase locking), so
/// transactions are serializable in their commit order.
///
/// Progress: blocking (an older transaction waits, spinning with back-off, for a younger one).
/// Memory ordering: a record is taken with an acquire CAS of the owner word and released with a
/// release store of 0, so a body's accesses to the record's value (a plain `cell`, race-checked
/// by the model checker) happen after the previous holder's. Timestamps come from a relaxed
/// fetch_add: only their uniqueness and order matter, not what they publish.
/// When to use: transactions whose key set is not known before they run, where ordered
/// acquisition is impossible. When not to use: high conflict among young transactions, which
/// die and redo their work, or workloads where the global timestamp counter is the bottleneck.
/// Reference: D. J. Rosenkrantz, R. E. Stearns, P. M. Lewis II, "System level concurrency
/// control for distributed database systems", ACM TODS 3(2), 1978.
#pragma once

#include "harness/core/progress.hpp"
#include "harness/core/sync.hpp"
#include "patterns/optimistic_cc/transactions.hpp"

#include <algorithm>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string_view>

namespace cpb::patterns::pessimistic_cc {

using transactions::Balance;
using transactions::Key;

template <class S = sync::Real>
class WaitDie2pl {
  struct Record {
    typename S::template atomic<std::uint64_t> owner{0};  ///< holder's timestamp; 0 = free
    typename S::template cell<Balance> value{0};
  };

 public:
  static constexpr std::string_view kName = "wait_die_2pl";
  static constexpr Progress kProgress = Progress::kBlocking;

  WaitDie2pl(std::size_t accounts, Balance initial)
      : size_(accounts), records_(std::make_unique<Record[]>(accounts)) {
    for (std::size_t k = 0; k < size_; ++k) records_[k].value.store(initial);
  }

  [[nodiscard]] std::size_t size() const { return size_; }
  [[nodiscard]] Balance peek(Key k) const { return records_[k].value.load(); }

  /// One attempt: its timestamp, the records it holds, and whether it died.
  class Tx {
   public:
    Tx(WaitDie2pl& store, std::uint64_t ts) : store_(store), ts_(ts) {}

    Balance get(Key k) {
      if (!acquire(k)) return 0;
      for (const auto& w : writes_) {
        if (w.key == k) return w.value;
      }
      return store_.records_[k].value.load();
    }
    void put(Key k, Balance v) {
      if (!acquire(k)) return;
      for (auto& w : writes_) {
        if (w.key == k) {
          w.value = v;
          return;
        }
      }
      writes_.push_back({k, v});
    }

    /// Ends the attempt: applies its writes unless it died, then releases every lock (the
    /// shrinking phase). Returns whether it committed.
    bool finish() {
      if (!died_) {
        for (const auto& w : writes_) store_.records_[w.key].value.store(w.value);
      }
      for (const Key k : held_) {
        // Release pairs with the acquire CAS of the next holder.
        store_.records_[k].owner.store(0, std::memory_order_release);
      }
      return !died_;
    }

   private:
    struct Write {
      Key key;
      Balance value;
    };

    /// Takes record k's lock (waiting for younger holders); false when this attempt died.
    bool acquire(Key k) {
      if (died_) return false;
      if (std::find(held_.begin(), held_.end(), k) != held_.end()) return true;
      auto& owner = store_.records_[k].owner;
      sync::Backoff<S> backoff;
      for (;;) {
        // Relaxed peek: the CAS below acquires when it takes the lock.
        std::uint64_t holder = owner.load(std::memory_order_relaxed);
        if (holder == 0) {
          // Acquire pairs with the release store of the previous holder. Failure relaxed: we
          // look again.
          if (owner.compare_exchange_weak(holder, ts_, std::memory_order_acquire,
                                          std::memory_order_relaxed)) {
            held_.push_back(k);
            return true;
          }
          continue;
        }
        if (ts_ > holder) {  // we are younger: die
          died_ = true;
          return false;
        }
        backoff();  // we are older: wait for the younger holder to finish or die
      }
    }

    WaitDie2pl& store_;
    std::uint64_t ts_;
    bool died_ = false;
    transactions::detail::SmallVec<Key, 4> held_;
    transactions::detail::SmallVec<Write, 4> writes_;
  };

  template <class F>
  std::uint32_t execute(std::span<const Key> /*keys*/, F&& body) {
    // Relaxed: a unique, ordered priority is all a timestamp is; it publishes nothing.
    const std::uint64_t ts = clock_.fetch_add(1, std::memory_order_relaxed);
    sync::Backoff<S> backoff;
    for (std::uint32_t attempt = 1;; ++attempt) {
      Tx tx(*this, ts);
      body(tx);
      if (tx.finish()) return attempt;
      backoff();  // let the older transaction that killed us finish
    }
  }

 private:
  alignas(64) typename S::template atomic<std::uint64_t> clock_{1};
  std::size_t size_;
  std::unique_ptr<Record[]> records_;
};

}  // namespace cpb::patterns::pessimistic_cc
