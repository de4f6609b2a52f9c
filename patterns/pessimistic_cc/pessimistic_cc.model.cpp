// SPDX-License-Identifier: Apache-2.0
// Model checks: every own two-phase-locking store (a template on the sync policy) passes its
// registered model check (2 threads, 3 accounts, one transfer each and a snapshot), run on the
// same code rebound to cpb::check::Sync; and a seeded bug twin, ordered locking that is not
// two-phase (each record is unlocked right after its access), is caught: every access is
// protected, so there is no data race, but a transaction is no longer atomic and the oracle's
// conservation assertion fails.
#include "patterns/pessimistic_cc/pessimistic_cc.hpp"

#include "harness/check/registered.hpp"
#include "harness/testing.hpp"
#include "patterns/pessimistic_cc/pessimistic_cc.impls.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <cstdio>
#include <memory>

namespace cpb::patterns::pessimistic_cc {
namespace {

template <class St>
class PccModel : public ::testing::Test {};
TYPED_TEST_SUITE(PccModel, testing::SyncTemplated<Impls>, testing::ImplName);

TYPED_TEST(PccModel, RegisteredModelChecksPass) {
  EXPECT_EQ(testing::expect_registered_checks_pass<Family<TypeParam>>(&Check::model,
                                                                      testing::model_config()),
            1);
}

// -- the seeded bug twin --------------------------------------------------------------------

/// Ordered2pl with one bug: it is not two-phase. Each access takes the record's lock, reads or
/// writes, and releases it at once, so another transaction can run between a transfer's debit
/// and its credit.
template <class S = sync::Real>
class EarlyRelease2pl {
  struct Record {
    typename S::template atomic<std::uint32_t> lock{0};
    typename S::template cell<Balance> value{0};
  };

 public:
  static constexpr std::string_view kName = "early_release_2pl";
  static constexpr Progress kProgress = Progress::kBlocking;

  EarlyRelease2pl(std::size_t n, Balance initial) : n_(n), r_(std::make_unique<Record[]>(n)) {
    for (std::size_t k = 0; k < n; ++k) r_[k].value.store(initial);
  }
  [[nodiscard]] std::size_t size() const { return n_; }
  [[nodiscard]] Balance peek(Key k) const { return r_[k].value.load(); }

  class Tx {
   public:
    explicit Tx(EarlyRelease2pl& s) : s_(s) {}
    Balance get(Key k) {
      Record& rec = lock(k);
      const Balance v = rec.value.load();
      rec.lock.store(0, std::memory_order_release);  // BUG: released before the transaction ends
      return v;
    }
    void put(Key k, Balance v) {
      Record& rec = lock(k);
      rec.value.store(v);
      rec.lock.store(0, std::memory_order_release);  // BUG: as above
    }

   private:
    Record& lock(Key k) {
      Record& rec = s_.r_[k];
      while (rec.lock.exchange(1, std::memory_order_acquire) != 0) S::yield();
      return rec;
    }
    EarlyRelease2pl& s_;
  };

  template <class F>
  std::uint32_t execute(std::span<const Key> /*keys*/, F&& body) {
    Tx tx(*this);
    body(tx);
    return 1;
  }

 private:
  std::size_t n_;
  std::unique_ptr<Record[]> r_;
};

TEST(PccModelTwin, ReleasingLocksEarlyIsCaught) {
  static_assert(transactions::Store<EarlyRelease2pl<>>);
  const auto run = check::model_mode([] {
    return transactions::conservation_model<EarlyRelease2pl<check::Sync>>(
        "pessimistic_cc/twin/conservation");
  });
  const stress::CheckResult r = run(testing::model_config());
  std::printf("%s\n", r.failure.c_str());
  ASSERT_FALSE(r.passed()) << "the early release was not caught: " << r.details;
  EXPECT_EQ(r.kind, "assertion") << r.details;
}

}  // namespace
}  // namespace cpb::patterns::pessimistic_cc
