// SPDX-License-Identifier: Apache-2.0
/// @file
/// TL2-style optimistic concurrency control: a global version clock plus a versioned lock word
/// per record (bit 0: locked, the rest: the clock value of the commit that last wrote it). A
/// transaction samples the clock at its start (`rv`) and accepts a read only if the record is
/// unlocked and not newer than `rv`, so every attempt sees a consistent snapshot as of `rv`
/// (opacity; a read that fails dooms the attempt). Writes are buffered. At commit it try-locks
/// its write set in key order (a lock held by another transaction aborts it: no waiting),
/// takes a write version `wv` from the clock, re-checks that no record it read is now locked
/// by another or newer than `rv` (skipped when `wv == rv + 1`: nobody committed in between),
/// and installs its writes stamped `wv`. Read-only transactions commit without any of this.
///
/// Progress: blocking (a committer that is descheduled while holding locks makes the others
/// abort and retry until it resumes). Never deadlocks: locks are only tried, never waited for.
/// Memory ordering: the clock's fetch_add is acq_rel and the start's load acquire: a reader with
/// rv >= wv acquires the committer's clock increment, which follows its locking, so it sees the
/// record locked or already stamped wv. The install's release store of a word pairs with the
/// acquire load that starts a read; the install's release store of a value pairs with the
/// reader's acquire load of it, so a reader that sees a new value re-reads the word locked or
/// changed (the seqlock argument, without fences, which ThreadSanitizer does not model). Two
/// committers are ordered by their fetch_adds on the clock, so no seq_cst is needed for
/// validation.
/// When to use: read-heavy transactions that must see consistent data in every attempt
/// (opacity), long read-only transactions. When not to use: many short writers on many cores,
/// where the one global clock is a contended cache line on every commit.
/// Reference: D. Dice, O. Shalev, N. Shavit, "Transactional Locking II", DISC 2006.
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

namespace cpb::patterns::optimistic_cc {

using transactions::Balance;
using transactions::Key;

template <class S = sync::Real>
class Tl2Occ {
  static constexpr std::uint64_t kLocked = 1;

  struct Record {
    typename S::template atomic<std::uint64_t> word{0};  ///< version << 1 | locked
    typename S::template atomic<Balance> value{0};
  };

 public:
  static constexpr std::string_view kName = "tl2_occ";
  static constexpr Progress kProgress = Progress::kBlocking;

  Tl2Occ(std::size_t accounts, Balance initial)
      : size_(accounts), records_(std::make_unique<Record[]>(accounts)) {
    // Relaxed: the store is published to other threads by whatever hands it to them.
    for (std::size_t k = 0; k < size_; ++k)
      records_[k].value.store(initial, std::memory_order_relaxed);
  }

  [[nodiscard]] std::size_t size() const { return size_; }
  /// Relaxed: for verification, when no transaction runs.
  [[nodiscard]] Balance peek(Key k) const {
    return records_[k].value.load(std::memory_order_relaxed);
  }

  /// One attempt: its read version, read set and buffered writes.
  class Tx {
   public:
    // Acquire pairs with the acq_rel fetch_add of committers (see the file comment).
    explicit Tx(Tl2Occ& store) : store_(store), rv_(store.clock_.load(std::memory_order_acquire)) {}

    Balance get(Key k) {
      if (doomed_) return 0;
      for (const auto& w : writes_) {
        if (w.key == k) return w.value;
      }
      for (const auto& r : reads_) {
        if (r.key == k) return r.value;
      }
      Record& rec = store_.records_[k];
      // Acquire pairs with the release store that ends a commit: its value is visible.
      const std::uint64_t before = rec.word.load(std::memory_order_acquire);
      // Acquire pairs with the committer's release store of the value: if we see a new value,
      // the re-read below sees the committer's lock or its new word.
      const Balance v = rec.value.load(std::memory_order_acquire);
      // Relaxed: kept after the value load by that load's acquire.
      const std::uint64_t after = rec.word.load(std::memory_order_relaxed);
      if ((before & kLocked) != 0 || before != after || (before >> 1) > rv_) {
        doomed_ = true;  // locked, changed, or newer than our snapshot: this attempt aborts
        return 0;
      }
      reads_.push_back({k, v});
      return v;
    }

    void put(Key k, Balance v) {
      if (doomed_) return;
      for (auto& w : writes_) {
        if (w.key == k) {
          w.value = v;
          return;
        }
      }
      writes_.push_back({k, v});
    }

    /// Validates and installs; false when the attempt must retry (nothing was written).
    bool commit() {
      if (doomed_) return false;
      if (writes_.empty()) return true;  // every read was checked against rv as it was made
      transactions::detail::sort_small(
          writes_.begin(), writes_.end(),
          [](const Write& a, const Write& b) { return a.key < b.key; });
      std::size_t held = 0;
      for (; held < writes_.size(); ++held) {
        if (!try_lock(store_.records_[writes_[held].key])) break;
      }
      if (held == writes_.size()) {
        // acq_rel: acquires earlier committers' locks and installs, releases our locks to
        // transactions that start with rv >= wv.
        const std::uint64_t wv = store_.clock_.fetch_add(1, std::memory_order_acq_rel) + 1;
        if (wv == rv_ + 1 || validate()) {
          for (const auto& w : writes_) {
            Record& rec = store_.records_[w.key];
            // Release pairs with a reader's acquire load of the value: a reader that sees it
            // also sees our lock.
            rec.value.store(w.value, std::memory_order_release);
            // Release pairs with the acquire load that starts a read of this record.
            rec.word.store(wv << 1, std::memory_order_release);
          }
          return true;
        }
      }
      for (std::size_t i = 0; i < held; ++i) {
        Record& rec = store_.records_[writes_[i].key];
        // Relaxed read of our own lock word; release pairs with the next locker or reader.
        rec.word.store(rec.word.load(std::memory_order_relaxed) & ~kLocked,
                       std::memory_order_release);
      }
      return false;
    }

   private:
    struct Read {
      Key key;
      Balance value;
    };
    struct Write {
      Key key;
      Balance value;
    };

    static bool try_lock(Record& rec) {
      // Relaxed peek: a locked word means abort, no CAS needed.
      std::uint64_t w = rec.word.load(std::memory_order_relaxed);
      // Acquire: we read the record's state under the lock (nothing else here needs ordering).
      // Failure relaxed: we abort.
      return (w & kLocked) == 0 &&
             rec.word.compare_exchange_strong(w, w | kLocked, std::memory_order_acquire,
                                              std::memory_order_relaxed);
    }

    [[nodiscard]] bool in_writes(Key k) const {
      return std::any_of(writes_.begin(), writes_.end(),
                         [k](const Write& w) { return w.key == k; });
    }

    /// No record we read is locked by another transaction or was written after rv.
    [[nodiscard]] bool validate() const {
      for (const auto& r : reads_) {
        // Acquire: pairs with the release of a commit that stamped the record.
        const std::uint64_t now = store_.records_[r.key].word.load(std::memory_order_acquire);
        if ((now & kLocked) != 0 && !in_writes(r.key)) return false;
        if ((now >> 1) > rv_) return false;
      }
      return true;
    }

    Tl2Occ& store_;
    std::uint64_t rv_;
    bool doomed_ = false;
    transactions::detail::SmallVec<Read, 4> reads_;
    transactions::detail::SmallVec<Write, 4> writes_;
  };

  template <class F>
  std::uint32_t execute(std::span<const Key> /*keys*/, F&& body) {
    sync::Backoff<S> backoff;
    for (std::uint32_t attempt = 1;; ++attempt) {
      Tx tx(*this);
      body(tx);
      if (tx.commit()) return attempt;
      backoff();
    }
  }

 private:
  alignas(64) typename S::template atomic<std::uint64_t> clock_{0};
  std::size_t size_;
  std::unique_ptr<Record[]> records_;
};

}  // namespace cpb::patterns::optimistic_cc
