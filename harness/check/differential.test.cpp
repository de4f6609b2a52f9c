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

/// Compared programs per tier in CI (skips do not count). Under a sanitizer, which checks the
/// checker's memory rather than its verdicts, the first eighth of the same programs: the debug
/// preset compares all of them.
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
constexpr std::uint64_t kPrograms = 250;
#else
constexpr std::uint64_t kPrograms = 2'000;
#endif

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

void campaign(Tier tier, std::uint64_t programs, const Options& options, Scale scale = Scale::kCi) {
  CampaignOptions o;
  o.tier = tier;
  o.programs = programs;
  o.scale = scale;
  o.seed = 1;
  o.options = options;
  o.progress = &std::cout;
  const CampaignResult r = run_campaign(o);
  std::cout << r.summary(tier) << std::endl;
  EXPECT_EQ(r.programs, programs);
  EXPECT_TRUE(r.mismatches.empty()) << r.report();
}

TEST(CheckDifferential, Sc) { campaign(Tier::kSc, kPrograms, ci_options()); }

TEST(CheckDifferential, Tso) { campaign(Tier::kTso, kPrograms, ci_options()); }

/// C11 compares one reduction, the sleep sets with their C11 rule for loads and stores
/// (chooser.cpp). The CI-scale programs are too small to tell that rule from an unsound one
/// (a mutant that applies it to seq_cst loads passes 2,000 of them), so a quarter as many
/// programs at the long scale, with a higher cap (a third of them still run past it).
TEST(CheckDifferential, C11) {
  Options o = ci_options();
  o.cap = 20'000;
  campaign(Tier::kC11, kPrograms / 4, o, Scale::kLong);
}

/// A program kept from a mismatch (shrunk), with the comparison that failed on it and why.
struct Regression {
  const char* what;
  const char* text;
};

/// Programs on which a reduction missed an outcome of the unreduced search, or reached one at
/// another preemption bound. Each is compared under its tier with every reduction.
const std::vector<Regression>& regressions() {
  static const std::vector<Regression> kList = {
      // ---- SC, DPOR (with and without sleep sets), unbounded ----
      {"issue 10: a condition-variable wait announced as a write to the mutex hid the order "
       "in which t2 locks first",
       R"(tier=sc spurious=0
          t1: lock(m0){ c0.load() c0.store(1) cv0.wait_loop(c1) }
          t2: lock(m0){ c0.load() c0.store(2) c1.store(1) } cv0.notify_all())"},
      {"dpor, unbounded: t2 yields first; t2's store before t1's load is never run",
       R"(tier=sc spurious=0
          t1: a2.load(acquire)
          t2: pause() a2.store(1,seq_cst))"},
      {"dpor, unbounded: after a yield, t2 locking first (t1's try_lock fails) is never run",
       R"(tier=sc spurious=0
          t1: try_lock(m1){ }
          t2: yield() lock(m1){ })"},
      {"dpor, unbounded: after a yield, the lost wake-up (deadlock) is never run",
       R"(tier=sc spurious=0
          t1: lock(m0){ cv0.wait() }
          t2: yield() cv0.notify_all())"},
      {"dpor, unbounded: a child thread that pauses first",
       R"(tier=sc spurious=0
          t1: spawn{ pause() a0.store(2,relaxed) } join()
          t2: a0.load(seq_cst))"},
      {"dpor, unbounded: a use after free through a cell (the free before t2's read of o->v)",
       R"(tier=sc spurious=0
          t1: slot.take(acquire)
          t2: slot.create(2,release,relaxed) slot.read(acquire) a0.notify_one() obj.load())"},
      {"dpor, unbounded: the free racing a relaxed reader's cell access",
       R"(tier=sc spurious=0
          t1: slot.create(1,seq_cst,relaxed) a2.store(3,seq_cst) slot.take(acq_rel)
          t2: slot.read(consume) pause() obj.load())"},
      {"dpor, unbounded: t2 takes the object between t1's create and t1's read",
       R"(tier=sc spurious=0
          t1: slot.create(1,seq_cst,acquire) slot.read(relaxed) slot.take(acquire) obj.load()
          t2: slot.take(acq_rel))"},
      {"dpor, unbounded: a predicate wait whose predicate holds; t2 locking first is never run",
       R"(tier=sc spurious=0
          t1: lock(m1){ cv1.wait(c1) }
          t2: c1.store(2) lock(m1){ })"},
      {"dpor, unbounded: t1's try_lock failing while t2 holds the mutex is never run",
       R"(tier=sc spurious=0
          t1: try_lock(m1){ c0.load() }
          t2: c0.store(2) lock(m1){ })"},
      {"dpor, unbounded: a child thread's cell read, then t2's try_lock winning the mutex",
       R"(tier=sc spurious=0
          t1: spawn{ c1.load() } join() lock(m1){ }
          t2: try_lock(m1){ c1.store(1) })"},
      {"dpor, unbounded: the free racing a cell access after a join; 0 preemptions",
       R"(tier=sc spurious=0
          t1: slot.create(3,seq_cst,relaxed) slot.read(seq_cst) spawn{ } join() obj.load()
          t2: slot.take(acq_rel))"},
      // ---- sleep sets alone, unbounded (found by the long run) ----
      {"sleep sets, unbounded: three threads, a spin and a yield; 2 preemptions, never run",
       R"(tier=sc spurious=0
          t1: a0.spin_pause(2,acquire)
          t2: a1.load(seq_cst) a0.fetch_or(3,consume)
          t3: yield() a1.exchange(1,acquire))"},
      {"sleep sets, unbounded: three threads, a spin and a pause; 2 preemptions, never run",
       R"(tier=sc spurious=0
          t1: a0.load(seq_cst)
          t2: a2.spin_yield(1,acquire) a0.cas_weak(0,3,consume,acquire)
          t3: pause() a2.store(2,relaxed))"},
      {"tso, sleep sets, unbounded: the free racing a cell access after a join is never run",
       R"(tier=tso spurious=0
          t1: slot.take(seq_cst)
          t2: slot.create(3,seq_cst,relaxed) slot.read(acquire) spawn{ } join() obj.load() slot.take(acq_rel))"},
      // ---- SC, DPOR alone, iterative bound (BPOR) ----
      {"dpor, bounded: an outcome of 0 preemptions first reached at bound 1 (three threads)",
       R"(tier=sc spurious=0
          t1: a1.load(acquire)
          t2: a1.fetch_xor(1,release)
          t3: a1.load(acquire))"},
      {"dpor, bounded: a child thread and a yield; 0 preemptions, first at bound 1",
       R"(tier=sc spurious=0
          t1: spawn{ a0.exchange(3,seq_cst) } join()
          t2: yield() a0.load(acquire))"},
      {"dpor: after a pause, an outcome of 2 preemptions is never reached, bounded or not",
       R"(tier=sc spurious=0
          t1: a1.fetch_sub(1,acq_rel) lock(m0){ }
          t2: a1.store(1,seq_cst) pause() try_lock(m0){ })"},
      // ---- sleep sets under a preemption bound (issue 10, item 3), SC ----
      {"sleep sets, bounded: t1's try_lock failing needs 1 preemption, first at bound 2",
       R"(tier=sc spurious=0
          t1: try_lock(m0){ }
          t2: lock(m0){ })"},
      {"sleep sets, bounded: needs 1 preemption, first at bound 2 (atomics only)",
       R"(tier=sc spurious=0
          t1: a1.store(1,release)
          t2: a1.load(acquire) a1.wait(0,relaxed))"},
      {"sleep sets, bounded: needs 0 preemptions, first at bound 1 (a yield)",
       R"(tier=sc spurious=0
          t1: a0.load(consume)
          t2: a0.store(3,seq_cst) yield())"},
      {"sleep sets, bounded: a condition-variable hand-off, 0 preemptions, first at bound 1",
       R"(tier=sc spurious=0
          t1: cv1.notify_all() lock(m1){ }
          t2: lock(m1){ cv1.wait() })"},
      {"sleep sets, bounded: a spawn, 0 preemptions, first at bound 1",
       R"(tier=sc spurious=0
          t1: spawn{ } a2.store(1,seq_cst) join()
          t2: a2.load(acquire))"},
      {"sleep sets, bounded: needs 2 preemptions, reached at a higher bound",
       R"(tier=sc spurious=0
          t1: lock(m0){ }
          t2: lock(m0){ } try_lock(m0){ })"},
      // ---- sleep sets under a preemption bound, TSO ----
      {"tso, sleep sets, bounded: needs 1 preemption, first at bound 2",
       R"(tier=tso spurious=0
          t1: a1.fetch_or(1,consume)
          t2: a1.load(relaxed) a1.load(relaxed))"},
      {"tso, sleep sets, bounded: needs 0 preemptions, first at bound 1 (a pause)",
       R"(tier=tso spurious=0
          t1: a1.load(relaxed)
          t2: a1.store(1,seq_cst) pause())"},
      {"tso, sleep sets, bounded: condition variables, 0 preemptions, first at bound 1",
       R"(tier=tso spurious=0
          t1: cv1.notify_one() lock(m0){ }
          t2: lock(m1){ cv1.wait_for() })"},
      {"tso, sleep sets, bounded: t1's try_lock failing needs 1 preemption, first at bound 2",
       R"(tier=tso spurious=0
          t1: try_lock(m1){ }
          t2: lock(m1){ })"},
      // ---- found by the long runs, after the fixes above ----
      {"dpor: two readers of a shared mutex run side by side (t1's CAS between t2's RMWs)",
       R"(tier=sc spurious=0
          t1: lock_shared(sm){ a0.cas_weak(0,3,acquire,acquire) }
          t2: lock_shared(sm){ a0.fetch_sub(2,relaxed) a0.fetch_or(3,release) })"},
      {"dpor: a writer's try_lock fails while a reader holds the shared mutex",
       R"(tier=sc spurious=0
          t1: try_lock(sm){ }
          t2: lock_shared(sm){ })"},
      {"dpor: a race with a yield covered the race of a lock with a try_lock",
       R"(tier=sc spurious=0
          t1: try_lock(m0){ yield() }
          t2: pause() lock(m0){ })"},
      {"dpor, bounded: t1 blocks on m1 while holding m0, a free switch (1 preemption)",
       R"(tier=sc spurious=0
          t1: a0.store(1,relaxed) lock(m0){ lock(m1){ } }
          t2: lock(m1){ a0.fetch_sub(3,acquire) } try_lock(m0){ })"},
      {"dpor: t1 spins holding the lock; t2's lock never ran, and t2 locking first was lost",
       R"(tier=sc spurious=0
          t1: lock(m1){ a0.spin_pause(0,consume) }
          t2: lock(m1){ } a0.store(1,release))"},
      // ---- DPOR in the TSO tier ----
      {"tso, dpor, bounded: a step's flushes counted as a context switch for BPOR",
       R"(tier=tso spurious=0
          t1: a2.store(3,release) a2.fetch_xor(3,release)
          t2: a2.fetch_add(1,release))"},
      {"tso, dpor: a store still buffered when the execution deadlocks flushes before t2's CAS",
       R"(tier=tso spurious=0
          t1: a0.store(1,relaxed) a1.wait(0,consume)
          t2: a0.cas_weak(0,1,acquire,acquire))"},
      {"tso, dpor: t1 loads between two flushes of the buffer that t2's exit drains",
       R"(tier=tso spurious=0
          t1: a0.load(consume)
          t2: a1.store(2,release) a0.store(1,relaxed) a0.store(2,release))"},
      // ---- found by the 100,000-program SC run after TSO got its DPOR ----
      {"dpor, bounded: t1 runs between t2's create and take (1 preemption), first at bound 2",
       R"(tier=sc spurious=0
          t1: a1.fetch_add(1,consume) lock(m0){ } slot.read(relaxed)
          t2: slot.create(3,release,relaxed) slot.take(seq_cst) lock(m0){ a1.load(consume) } try_lock(m0){ })"},
      {"dpor, bounded: t1's wait between t2's two critical sections, first at bound 2",
       R"(tier=sc spurious=0
          t1: a0.cas_weak(1,2,seq_cst,acquire) lock(m0){ cv0.wait() }
          t2: a0.cas(0,1,seq_cst,acquire) lock(m0){ a0.load(relaxed) } lock(m0){ cv0.notify_all() })"},
      {"dpor, bounded: t1's take and store before t2's try_lock, first at bound 2",
       R"(tier=sc spurious=0
          t1: slot.take(seq_cst) c1.store(1) lock(m0){ }
          t2: slot.create(1,release,relaxed) try_lock(m0){ lock(m1){ c1.load() } } lock(m0){ })"},
      {"sleep sets: a race met in an execution cut short is not an outcome (no leak check)",
       R"(tier=sc spurious=0
          t1: c0.store(2)
          t2:
          t3: c0.store(1) slot.create(1,acquire,acquire) slot.replace(2,relaxed))"},
  };
  return kList;
}

TEST(CheckDifferential, Regressions) {
  for (const Regression& r : regressions()) {
    SCOPED_TRACE(r.what);
    const Program p = parse(r.text);
    EXPECT_EQ(parse(to_text(p)), p);
    Options o = ci_options();
    o.cap = 50'000;  // kept programs are compared whatever their size
    const ProgramResult res = compare(p, o);
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
  for (const Tier tier : {Tier::kSc, Tier::kTso, Tier::kC11}) {
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
  const Program c11 = parse("tier=c11 spurious=0 history=2\nt1: a0.load(relaxed)");
  EXPECT_EQ(c11.tier, Tier::kC11);
  EXPECT_EQ(c11.c11_history, 2U);
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
           "tier=c11 spurious=0 history=0\nt1: yield()",           // keeps no store
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
