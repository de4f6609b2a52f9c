// SPDX-License-Identifier: Apache-2.0
// Model checks: every own optimistic store (a template on the sync policy) passes its
// registered model check (2 threads, 3 accounts, one transfer each and a snapshot), run on the
// same code rebound to cpb::check::Sync; and a seeded bug twin, Silo's commit without read-set
// validation, is caught: the money is not conserved (an assertion of the oracle fails).
#include "patterns/optimistic_cc/optimistic_cc.hpp"

#include "harness/check/registered.hpp"
#include "harness/testing.hpp"
#include "patterns/optimistic_cc/optimistic_cc.impls.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <memory>

namespace cpb::patterns::optimistic_cc {
namespace {

template <class St>
class OccModel : public ::testing::Test {};
TYPED_TEST_SUITE(OccModel, testing::SyncTemplated<Impls>, testing::ImplName);

TYPED_TEST(OccModel, RegisteredModelChecksPass) {
  EXPECT_EQ(testing::expect_registered_checks_pass<Family<TypeParam>>(&Check::model,
                                                                      testing::model_config()),
            1);
}

// -- the seeded bug twin --------------------------------------------------------------------

/// SiloOcc with one bug: commit locks and installs the write set but never validates the read
/// set, so two transfers that read the same balance both commit (a lost update) and a snapshot
/// that read across a commit is accepted (a torn read).
template <class S = sync::Real>
class UnvalidatedOcc {
  static constexpr std::uint64_t kLocked = 1;
  struct Record {
    typename S::template atomic<std::uint64_t> word{0};
    typename S::template atomic<Balance> value{0};
  };

 public:
  static constexpr std::string_view kName = "unvalidated_occ";
  static constexpr Progress kProgress = Progress::kBlocking;

  UnvalidatedOcc(std::size_t n, Balance initial) : n_(n), r_(std::make_unique<Record[]>(n)) {
    for (std::size_t k = 0; k < n; ++k) r_[k].value.store(initial, std::memory_order_relaxed);
  }
  [[nodiscard]] std::size_t size() const { return n_; }
  [[nodiscard]] Balance peek(Key k) const { return r_[k].value.load(std::memory_order_relaxed); }

  class Tx {
   public:
    explicit Tx(UnvalidatedOcc& s) : s_(s) {}
    Balance get(Key k) {
      for (const auto& w : writes_) {
        if (w.first == k) return w.second;
      }
      Record& rec = s_.r_[k];
      for (;;) {
        const std::uint64_t before = rec.word.load(std::memory_order_acquire);
        const Balance v = rec.value.load(std::memory_order_acquire);
        if ((before & kLocked) == 0 && rec.word.load(std::memory_order_relaxed) == before) {
          return v;
        }
        S::yield();
      }
    }
    void put(Key k, Balance v) {
      for (auto& w : writes_) {
        if (w.first == k) {
          w.second = v;
          return;
        }
      }
      writes_.emplace_back(k, v);
    }
    bool commit() {
      std::sort(writes_.begin(), writes_.end());
      std::vector<std::uint64_t> locked;
      for (const auto& w : writes_) {
        auto& word = s_.r_[w.first].word;
        for (;;) {
          std::uint64_t cur = word.load(std::memory_order_relaxed);
          if ((cur & kLocked) == 0 && word.compare_exchange_weak(cur, cur | kLocked)) {
            locked.push_back(cur | kLocked);
            break;
          }
          S::yield();
        }
      }
      // BUG: the read set is not validated here.
      for (std::size_t i = 0; i < writes_.size(); ++i) {
        Record& rec = s_.r_[writes_[i].first];
        rec.value.store(writes_[i].second, std::memory_order_release);
        rec.word.store(locked[i] + 1, std::memory_order_release);
      }
      return true;
    }

   private:
    UnvalidatedOcc& s_;
    std::vector<std::pair<Key, Balance>> writes_;
  };

  template <class F>
  std::uint32_t execute(std::span<const Key> /*keys*/, F&& body) {
    for (std::uint32_t attempt = 1;; ++attempt) {
      Tx tx(*this);
      body(tx);
      if (tx.commit()) return attempt;
    }
  }

 private:
  std::size_t n_;
  std::unique_ptr<Record[]> r_;
};

TEST(OccModelTwin, SkippingReadValidationIsCaught) {
  static_assert(transactions::Store<UnvalidatedOcc<>>);
  const auto run = check::model_mode([] {
    return transactions::conservation_model<UnvalidatedOcc<check::Sync>>(
        "optimistic_cc/twin/conservation");
  });
  const stress::CheckResult r = run(testing::model_config());
  std::printf("%s\n", r.failure.c_str());
  ASSERT_FALSE(r.passed()) << "the missing validation was not caught: " << r.details;
  EXPECT_EQ(r.kind, "assertion") << r.details;
}

}  // namespace
}  // namespace cpb::patterns::optimistic_cc
