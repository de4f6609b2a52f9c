// SPDX-License-Identifier: Apache-2.0
// Differential tests of the checker's reductions (issue 10, items 2 and 3): every reduction
// reaches the outcomes of the search without reduction, at the same preemption bound, on
// generated programs over every operation of cpb::check::Sync, and on the programs kept from
// earlier mismatches. Long runs: cpb_check_diff (see README.md).
#include "harness/check/differential.hpp"

#include <gtest/gtest.h>

#include <iostream>
#include <map>
#include <stdexcept>
#include <string>
#include <vector>

namespace cpb::check::diff {
namespace {

/// Compared programs per tier in CI (skips do not count).
constexpr std::uint64_t kPrograms = 2'000;

/// The unreduced search of a CI-scale program needs a few hundred executions (median); the
/// cap skips the one in ten or so that needs more than 5,000.
Options ci_options() {
  Options o;
  o.cap = 5'000;
  return o;
}

std::string reports(const std::vector<Mismatch>& ms) {
  std::string out;
  for (const Mismatch& m : ms) out += m.report();
  return out;
}

void campaign(Tier tier) {
  CampaignOptions o;
  o.tier = tier;
  o.programs = kPrograms;
  o.seed = 1;
  o.options = ci_options();
  o.progress = &std::cout;
  const CampaignResult r = run_campaign(o);
  std::cout << r.summary(tier) << std::endl;
  EXPECT_EQ(r.programs, kPrograms);
  EXPECT_TRUE(r.mismatches.empty()) << r.report();
}

TEST(CheckDifferential, Sc) { campaign(Tier::kSc); }

TEST(CheckDifferential, Tso) { campaign(Tier::kTso); }

/// A program kept from a mismatch (shrunk), with the comparison that failed on it and why.
struct Regression {
  const char* what;
  const char* text;
};

/// Programs on which a reduction missed an outcome of the unreduced search, or reached one at
/// another preemption bound. Each is compared under its tier with every reduction.
const std::vector<Regression>& regressions() {
  static const std::vector<Regression> kList = {
      {"issue 10: a condition-variable wait announced as a write to the mutex hid the order "
       "in which t2 locks first",
       R"(tier=sc spurious=0
          t1: lock(m0){ c0.load() c0.store(1) cv0.wait_loop(c1) }
          t2: lock(m0){ c0.load() c0.store(2) c1.store(1) } cv0.notify_all())"},
  };
  return kList;
}

TEST(CheckDifferential, Regressions) {
  for (const Regression& r : regressions()) {
    SCOPED_TRACE(r.what);
    const Program p = parse(r.text);
    EXPECT_EQ(parse(to_text(p)), p);
    const ProgramResult res = compare(p, ci_options());
    ASSERT_FALSE(res.skipped) << to_text(p);
    EXPECT_TRUE(res.mismatches.empty()) << reports(res.mismatches);
  }
}

TEST(CheckDifferential, BoundedSearchWithoutReductionIsTheReference) {
  // The premise of the bounded comparisons: without reduction, the iterative search reaches
  // every outcome first at the bound of its fewest preemptions in the unbounded search.
  for (const Tier tier : {Tier::kSc, Tier::kTso}) {
    for (std::uint64_t k = 0; k < 100; ++k) {
      const std::uint64_t seed = program_seed(7, k);
      const auto m = compare_one(generate(seed, tier), {Reduction::kNone, 3}, ci_options());
      EXPECT_FALSE(m.has_value()) << m->report();
    }
  }
}

TEST(CheckDifferential, TextRoundTrip) {
  for (const Tier tier : {Tier::kSc, Tier::kTso}) {
    for (std::uint64_t seed = 1; seed <= 300; ++seed) {
      const Program p = generate(seed, tier, seed % 2 == 0 ? Scale::kCi : Scale::kLong);
      ASSERT_EQ(validate(p), "") << to_text(p);
      const std::string text = to_text(p);
      const Program q = parse(text);
      EXPECT_EQ(q, p) << text << "read back as\n" << to_text(q);
      EXPECT_EQ(to_text(q), text);
    }
  }
  // Hand-written, with free spacing.
  const Program p = parse(
      "tier=tso spurious=2\n"
      "t1:   a0.cas_weak(0,1,acq_rel,acquire)   spawn{ slot.read(consume) } fence(seq_cst) join()\n"
      "\n"
      "t2: lock(m1){ cv1.wait_for(a2:relaxed) try_lock(m0){c0.store(3)} } try_lock_shared(sm){}");
  EXPECT_EQ(p.tier, Tier::kTso);
  EXPECT_EQ(p.max_spurious, 2U);
  ASSERT_EQ(p.threads.size(), 2U);
  ASSERT_EQ(p.threads[0].size(), 2U);
  EXPECT_EQ(p.threads[0][1].op, OpCode::kSpawn);
  EXPECT_EQ(p.threads[0][1].after.size(), 1U);
  EXPECT_EQ(p.threads[1][0].body[0].op, OpCode::kCvWaitForPred);
  EXPECT_EQ(parse(to_text(p)), p);
}

TEST(CheckDifferential, ParseRejectsMalformedPrograms) {
  for (const char* bad : {
           "t1: a0.load(acquire)",                                 // no header
           "tier=sc spurious=0\nt1: a0.store(1,acquire)",          // a store cannot acquire
           "tier=sc spurious=0\nt1: a0.cas(0,1,seq_cst,release)",  // nor a CAS failure release
           "tier=sc spurious=0\nt1: cv0.wait()",                   // waits without its mutex
           "tier=sc spurious=0\nt1: lock(m1){ cv0.wait() }",       // holds the other mutex
           "tier=sc spurious=0\nt1: lock(m0){ lock(m0){} }",       // takes a mutex twice
           "tier=sc spurious=0\nt1: lock(m0){ a0.load(acquire)",   // no '}'
           "tier=sc spurious=0\nt1: spawn{ yield() } pause()",     // no join()
           "tier=sc spurious=0\nt1: join()",                       // join without spawn
           "tier=sc spurious=0\nt1: a3.load(relaxed)",             // no such atomic
           "tier=sc spurious=0\nt1: a0.frob(1,relaxed)",           // no such operation
           "tier=sc spurious=0\nt1: lock_shared(m0){}",            // not a shared mutex
           "tier=xx spurious=0\nt1: yield()",                      // no such tier
       }) {
    EXPECT_THROW((void)parse(bad), std::invalid_argument) << bad;
  }
}

TEST(CheckDifferential, GeneratorEmitsEveryOperation) {
  // The CI scale alone: the programs that CheckDifferential.Sc and .Tso compare.
  std::map<std::string, std::uint64_t> counts;
  for (const Tier tier : {Tier::kSc, Tier::kTso}) {
    for (std::uint64_t k = 0; k < 400; ++k)
      count_features(generate(program_seed(1, k), tier), counts);
  }
  std::string seen;
  for (const auto& [f, n] : counts) seen += f + "=" + std::to_string(n) + " ";
  std::cout << "features over 800 programs: " << seen << std::endl;
  for (const std::string& f : expected_features()) EXPECT_GT(counts[f], 0U) << f;
}

}  // namespace
}  // namespace cpb::check::diff
