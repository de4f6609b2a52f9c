// SPDX-License-Identifier: Apache-2.0
/// @file
/// Silo-style optimistic concurrency control with per-record versions (no global clock). Each
/// record has a version word (bit 0: locked, the rest: a version that every commit of the record
/// increments) and a value. A transaction reads records optimistically, seqlock style (word,
/// value, word again; retry if the word moved or was locked), remembering each word it saw, and
/// buffers its writes. At commit it locks its write set in key order, validates its read set
/// (every word must be unchanged and not locked by another transaction) and installs its writes
/// with incremented versions; if validation fails it unlocks and the whole transaction retries.
/// Reads write nothing to shared memory, so readers of the same records do not conflict.
///
/// Serializable: a transaction is serialized at its validation, when it holds the locks of its
/// writes and finds each read still current. Not opaque: an attempt that will fail validation
/// may see an inconsistent state (the body must cope, see `transactions::Store`).
///
/// Progress: blocking (committers lock their write set briefly; a reader that meets a locked
/// record spins with back-off until it is released). Key-ordered locking cannot deadlock.
/// Memory ordering: the commit's release store of a record's word pairs with the acquire load of
/// the word that starts a read, so the value installed before it is seen. The commit stores the
/// value with release after locking, and the reader loads it with acquire before re-reading the
/// word: a reader whose value load saw a new value has synchronized with the committer, so its
/// re-read sees the word locked or changed, and it retries (the seqlock argument, without
/// fences, which ThreadSanitizer does not model). Locking the write set and the validation
/// loads are seq_cst: two transactions that each write what the other read (the store-load
/// pattern) cannot both miss the other's lock.
/// When to use: read-mostly transactions, many keys, low to moderate conflict. When not to use:
/// hot keys written by many threads, where validation keeps failing and work is redone.
/// Reference: S. Tu, W. Zheng, E. Kohler, B. Liskov, S. Madden, "Speedy transactions in
/// multicore in-memory databases", SOSP 2013 (the commit protocol, without Silo's epochs).
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
class SiloOcc {
  static constexpr std::uint64_t kLocked = 1;

  struct Record {
    typename S::template atomic<std::uint64_t> word{0};
    typename S::template atomic<Balance> value{0};
  };

 public:
  static constexpr std::string_view kName = "silo_occ";
  static constexpr Progress kProgress = Progress::kBlocking;

  SiloOcc(std::size_t accounts, Balance initial)
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

  /// One attempt's read and write sets.
  class Tx {
   public:
    explicit Tx(SiloOcc& store) : store_(store) {}

    Balance get(Key k) {
      for (const auto& w : writes_) {
        if (w.key == k) return w.value;
      }
      for (const auto& r : reads_) {
        if (r.key == k) return r.value;
      }
      Record& rec = store_.records_[k];
      sync::Backoff<S> backoff;
      for (;;) {
        // Acquire pairs with the release store that ends a commit: its value is visible.
        const std::uint64_t before = rec.word.load(std::memory_order_acquire);
        if ((before & kLocked) != 0) {  // a commit is installing this record: wait for it
          backoff();
          continue;
        }
        // Acquire pairs with the committer's release store of the value: if we see a new value,
        // the re-read below sees the committer's lock or its new word.
        const Balance v = rec.value.load(std::memory_order_acquire);
        // Relaxed: kept after the value load by that load's acquire.
        if (rec.word.load(std::memory_order_relaxed) == before) {
          reads_.push_back({k, before, v});
          return v;
        }
      }
    }

    void put(Key k, Balance v) {
      for (auto& w : writes_) {
        if (w.key == k) {
          w.value = v;
          return;
        }
      }
      writes_.push_back({k, v, 0});
    }

    /// Validates and installs; false when the attempt must retry (nothing was written).
    bool commit() {
      if (writes_.empty()) return validate();
      transactions::detail::sort_small(
          writes_.begin(), writes_.end(),
          [](const Write& a, const Write& b) { return a.key < b.key; });
      for (auto& w : writes_) w.locked = lock(store_.records_[w.key]);
      if (!validate()) {
        for (auto& w : writes_) {
          // Release pairs with the acquire of the next reader or locker; the version is unchanged.
          store_.records_[w.key].word.store(w.locked & ~kLocked, std::memory_order_release);
        }
        return false;
      }
      for (auto& w : writes_) {
        Record& rec = store_.records_[w.key];
        // Release pairs with an optimistic reader's acquire load of the value: a reader that sees
        // it also sees our lock (see the file comment).
        rec.value.store(w.value, std::memory_order_release);
        // locked + 1: the lock bit cleared and the version incremented. Release pairs with the
        // acquire load that starts a reader's read of this record.
        rec.word.store(w.locked + 1, std::memory_order_release);
      }
      return true;
    }

   private:
    struct Read {
      Key key;
      std::uint64_t word;  ///< the (unlocked) word seen when the value was read
      Balance value;
    };
    struct Write {
      Key key;
      Balance value;
      std::uint64_t locked;  ///< the word as we locked it
    };

    static std::uint64_t lock(Record& rec) {
      sync::Backoff<S> backoff;
      for (;;) {
        // Relaxed peek: only a free word is worth a CAS.
        std::uint64_t w = rec.word.load(std::memory_order_relaxed);
        // seq_cst: ordered before our validation loads (see the file comment). Failure relaxed:
        // we look again.
        if ((w & kLocked) == 0 &&
            rec.word.compare_exchange_weak(w, w | kLocked, std::memory_order_seq_cst,
                                           std::memory_order_relaxed)) {
          return w | kLocked;
        }
        backoff();
      }
    }

    [[nodiscard]] bool in_writes(Key k) const {
      return std::any_of(writes_.begin(), writes_.end(),
                         [k](const Write& w) { return w.key == k; });
    }

    /// Every read is still current: the word is the one we saw, and not locked by another
    /// transaction (our own lock leaves the version as it was).
    [[nodiscard]] bool validate() const {
      for (const auto& r : reads_) {
        // seq_cst: see the file comment.
        const std::uint64_t now = store_.records_[r.key].word.load(std::memory_order_seq_cst);
        if ((now & ~kLocked) != r.word) return false;
        if ((now & kLocked) != 0 && !in_writes(r.key)) return false;
      }
      return true;
    }

    SiloOcc& store_;
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
  std::size_t size_;
  std::unique_ptr<Record[]> records_;
};

}  // namespace cpb::patterns::optimistic_cc
