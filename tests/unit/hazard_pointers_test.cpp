// SPDX-License-Identifier: Apache-2.0
// The hazard-pointer domain shared by the lock-free queue and stacks: what is retired is freed
// at a scan unless a hazard slot names it, the domain frees what is pending when it dies, and
// pending objects stay bounded under churn.
#include "harness/core/hazard_pointers.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <thread>
#include <vector>

namespace cpb::sync {
namespace {

struct Counted {
  static inline std::atomic<int> live{0};
  Counted() { live.fetch_add(1); }
  ~Counted() { live.fetch_sub(1); }
  Counted(const Counted&) = delete;
  Counted& operator=(const Counted&) = delete;
};

TEST(HazardPointers, AnUnprotectedRetiredObjectIsDeletedAtTheScan) {
  Counted::live = 0;
  HazardDomain<> d(1);  // every retire scans
  {
    HazardDomain<>::Guard g(d);
    g.retire(new Counted);
  }
  EXPECT_EQ(Counted::live.load(), 0);
  EXPECT_EQ(d.pending(), 0U);
}

TEST(HazardPointers, AProtectedObjectSurvivesUntilItsSlotIsCleared) {
  Counted::live = 0;
  HazardDomain<> d(1);
  auto* obj = new Counted;
  std::atomic<Counted*> src{obj};
  HazardDomain<>::Guard reader(d);
  ASSERT_EQ(reader.protect(0, src), obj);
  {
    HazardDomain<>::Guard writer(d);  // a second record: the reader holds the first
    src.store(nullptr);               // unlink
    writer.retire(obj);               // scans, sees the reader's hazard, keeps it
  }
  EXPECT_EQ(Counted::live.load(), 1) << "deleted while a hazard slot named it";
  reader.clear(0);
  {
    HazardDomain<>::Guard writer(d);
    writer.retire(new Counted);  // scans again: both are free now, in one record or the other
  }
  {
    HazardDomain<>::Guard other(d);
    other.retire(new Counted);
  }
  // The reader still holds its record; the two writer records were scanned with no hazard.
  EXPECT_EQ(Counted::live.load(), 0);
}

TEST(HazardPointers, TheDomainDeletesWhatIsStillPendingWhenItDies) {
  Counted::live = 0;
  {
    HazardDomain<> d(1000);  // never scans in this test
    HazardDomain<>::Guard g(d);
    for (int i = 0; i < 10; ++i) g.retire(new Counted);
    EXPECT_EQ(Counted::live.load(), 10);
  }
  EXPECT_EQ(Counted::live.load(), 0);
}

TEST(HazardPointers, PendingObjectsStayBoundedUnderChurn) {
  HazardDomain<> d(64);
  std::atomic<Counted*> src{new Counted};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 20'000; ++i) {
        HazardDomain<>::Guard g(d);
        Counted* p = g.protect(0, src);
        auto* fresh = new Counted;
        if (src.compare_exchange_strong(p, fresh)) {
          g.retire(p);
        } else {
          delete fresh;
        }
      }
    });
  }
  for (auto& t : threads) t.join();
  // At most threshold + slots per record pending; the records are at most one per thread.
  EXPECT_LE(d.pending(), 4 * (64 + HazardDomain<>::kSlots));
  delete src.load();
}

}  // namespace
}  // namespace cpb::sync
