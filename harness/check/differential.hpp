// SPDX-License-Identifier: Apache-2.0
/// @file
/// Differential testing of the checker's reductions (issue 10, items 2 and 3): random programs
/// over every operation of `cpb::check::Sync`, a text form for them, and a comparator that
/// checks that each reduction (DPOR with sleep sets, DPOR alone, sleep sets alone) reaches the
/// same outcomes as the search without reduction, unbounded and at each preemption bound, with
/// a shrinker for the programs on which it does not.
///
/// ```cpp
/// namespace diff = cpb::check::diff;
/// const diff::Program p = diff::generate(seed, cpb::check::Tier::kSc);
/// const diff::ProgramResult r = diff::compare(p, {});
/// for (const diff::Mismatch& m : r.mismatches) std::cout << m.report();
/// ```
///
/// An *outcome* of an execution is the set of failure kinds it met and, when none of them
/// ended it early (every thread finished or blocked, so equivalent interleavings agree), the
/// values its operations returned and the final values of the shared variables.
#pragma once

#include "harness/check/explore.hpp"
#include "harness/check/model.hpp"

#include <atomic>
#include <compare>
#include <cstdint>
#include <map>
#include <optional>
#include <ostream>
#include <string>
#include <string_view>
#include <vector>

namespace cpb::check::diff {

/// Shared state of every program: 3 atomics, 2 cells, 2 mutexes (condition variable i goes
/// with mutex i), one shared mutex, and one atomic slot for a heap object.
inline constexpr int kAtomics = 3;
inline constexpr int kCells = 2;
inline constexpr int kMutexes = 2;
/// A recorded value that the execution did not reach.
inline constexpr int kUnset = -99;

/// What a statement does. Blocks (`kLock` ... `kTryLockShared`, `kSpawn`) hold more statements.
enum class OpCode : std::uint8_t {
  kLoad,              ///< a.load(mo), recorded
  kStore,             ///< a.store(v, mo)
  kExchange,          ///< a.exchange(v, mo), recorded
  kCasStrong,         ///< a.compare_exchange_strong(e, v, mo, mo2): success and observed value
  kCasWeak,           ///< a.compare_exchange_weak(e, v, mo, mo2): success and observed value
  kFetchAdd,          ///< a.fetch_add(v, mo), recorded; likewise sub, and, or, xor
  kFetchSub,          ///<
  kFetchAnd,          ///<
  kFetchOr,           ///<
  kFetchXor,          ///<
  kWait,              ///< a.wait(v, mo): blocks while a == v until notified
  kNotifyOne,         ///< a.notify_one()
  kNotifyAll,         ///< a.notify_all()
  kSpinYield,         ///< while (a.load(mo) == v) S::yield(); the value that ended it is recorded
  kSpinPause,         ///< the same with S::pause()
  kCellRead,          ///< c.load(), recorded
  kCellWrite,         ///< c.store(v)
  kLock,              ///< block: unique_lock on m (lock ... unlock)
  kTryLock,           ///< block: unique_lock(m, try_to_lock), recorded; the body only on success
  kLockExclusive,     ///< block: unique_lock on the shared mutex
  kLockShared,        ///< block: shared_lock on the shared mutex
  kTryLockExclusive,  ///< block: try_lock of the shared mutex, recorded
  kTryLockShared,     ///< block: try_lock_shared of the shared mutex, recorded
  kCvWait,            ///< cv.wait(lk) once
  kCvWaitPred,        ///< cv.wait(lk, pred)
  kCvWaitLoop,        ///< while (!pred) cv.wait(lk)
  kCvWaitFor,         ///< cv.wait_for(lk, 1ms): timed out or not, recorded
  kCvWaitForPred,     ///< cv.wait_for(lk, 1ms, pred): the result, recorded
  kCvNotifyOne,       ///< cv.notify_one()
  kCvNotifyAll,       ///< cv.notify_all()
  kFence,             ///< S::fence(mo)
  kYield,             ///< S::yield()
  kPause,             ///< S::pause()
  kSpawn,             ///< block: a child thread runs `body`; the parent runs `after`, then joins
  kCreate,    ///< o = create<Obj>(v); CAS the slot from null to o (mo, mo2), recorded; else free o
  kTake,      ///< p = slot.exchange(null, mo), recorded (null or not); destroy(p)
  kReadObj,   ///< p = slot.load(mo), recorded (null or not), kept in the thread's register
  kObjLoad,   ///< p->v.load() through the register, recorded (kUnset when null)
  kObjStore,  ///< p->v.store(v) through the register
  kReplace,   ///< old = slot.exchange(create<Obj>(v), mo), recorded; old is dropped (a leak)
  kCount
};
[[nodiscard]] std::string_view to_string(OpCode op);

/// A condition: `c[index].load() != 0` or `a[index].load(mo) != 0`.
struct Pred {
  bool cell = true;
  int index = 0;
  std::memory_order mo = std::memory_order_seq_cst;
  bool operator==(const Pred&) const = default;
};

/// One statement of a thread.
struct Stmt {
  OpCode op = OpCode::kYield;
  int obj = 0;  ///< index of the atomic, cell, mutex or condition variable
  int v1 = 0;   ///< value stored / added / expected
  int v2 = 0;   ///< CAS: the desired value
  std::memory_order mo = std::memory_order_seq_cst;
  std::memory_order mo2 = std::memory_order_seq_cst;  ///< CAS: the failure order
  Pred pred;                                          ///< condition-variable predicates
  std::vector<Stmt> body;   ///< blocks: the critical section; spawn: the child's statements
  std::vector<Stmt> after;  ///< spawn: the parent's statements before the join
  bool operator==(const Stmt&) const = default;
};

/// A generated program: the threads that the test body starts and joins.
struct Program {
  Tier tier = Tier::kSc;
  unsigned max_spurious = 0;  ///< Config::max_spurious of every search of it
  /// C11: Config::c11_history of every search of it (the generator draws 2 or 4, so that the
  /// bound drops stores in small programs too).
  unsigned c11_history = 4;
  std::vector<std::vector<Stmt>> threads;
  bool operator==(const Program&) const = default;
};

/// Program sizes. `kCi`: small enough for 2,000 programs per tier in a debug build within a
/// minute or two (two threads of 2 to 4 statements, or three of one; TSO smaller). `kLong`:
/// larger, for long runs of a release build (two threads of 3 to 6 statements, or three of 1
/// to 2); more of them run past the cap of the unreduced search and are skipped.
enum class Scale : std::uint8_t { kCi, kLong };

/// The program that `seed` generates for `tier` (TSO programs are smaller).
[[nodiscard]] Program generate(std::uint64_t seed, Tier tier, Scale scale = Scale::kCi);

/// Text form: a header line `tier=sc spurious=1`, then one line per thread,
/// `t1: a0.store(1,rel) lock(m0){ c0.store(2) cv0.notify_all() } spawn{ a1.load(acq) } join()`.
[[nodiscard]] std::string to_text(const Program& p);
/// Reads `to_text`'s form back; throws std::invalid_argument naming the line and column, or
/// the rule (see `validate`) that the program breaks.
[[nodiscard]] Program parse(std::string_view text);
/// Empty when `p` is well formed (indices and memory orders legal, a condition-variable wait
/// only while its mutex is held, no mutex taken twice, at most 15 threads); else the reason.
[[nodiscard]] std::string validate(const Program& p);

/// Counts of the generator's features (`op`, `op.order`, `cas.success.order`, ...) in `p`.
void count_features(const Program& p, std::map<std::string, std::uint64_t>& counts);
/// The features that `count_features` must see over enough generated programs: every
/// operation with every memory order legal for it.
[[nodiscard]] std::vector<std::string> expected_features();

/// The test that runs `p`: each execution resets `*record` and fills it with the values the
/// operations returned (one fixed slot per operation, kUnset if not reached), then the final
/// values of the atomics, the cells and the heap slot.
[[nodiscard]] TestCase make_test(const Program& p, std::vector<int>* record);

/// The failure kinds an execution met (bit `1 << kind`; the searches run on past data races
/// and memory errors, so an execution meets all of them that its interleaving has) and, when
/// it met none, or only a deadlock or a leak, the recorded state.
struct Outcome {
  std::uint32_t failures = 0;
  std::vector<int> state;
  auto operator<=>(const Outcome&) const = default;
};
[[nodiscard]] std::string to_string(const Outcome& o);

/// A reduction under test. `kNone` checks the comparison itself: the bounded search without
/// reduction reaches each outcome at the bound of its fewest preemptions.
enum class Reduction : std::uint8_t { kDporSleep, kDpor, kSleep, kNone };
[[nodiscard]] std::string_view to_string(Reduction r);
[[nodiscard]] std::string_view to_string(Scale s);

/// One comparison of a reduction with the search without reduction: unbounded (`bound` < 0),
/// or iterative up to `bound`, where every outcome must first appear at the bound equal to the
/// fewest preemptions that reach it without reduction.
struct Comparison {
  Reduction reduction = Reduction::kDporSleep;
  int bound = -1;
};

struct Options {
  /// Executions of the search without reduction; a program that needs more is skipped.
  std::uint64_t cap = 20'000;
  /// The iterative comparisons run up to bound 2, or 3 when the unreduced search needed at
  /// most this many executions.
  std::uint64_t small = 500;
  /// Shrink mismatching programs (each candidate re-runs one comparison).
  bool shrink = true;
};

/// A reduction that does not reach the outcomes of the search without reduction.
struct Mismatch {
  std::uint64_t seed = 0;    ///< generator seed (0: not generated)
  Scale scale = Scale::kCi;  ///< and the generator's scale
  Program program;
  Comparison comparison;
  /// Outcomes that only the search without reduction reached, with their fewest preemptions,
  /// or (bounded) that the reduction first reached at another bound, with both.
  std::vector<std::string> only_unreduced;
  /// Outcomes that only the reduction reached (at its first bound when bounded).
  std::vector<std::string> only_reduced;
  std::string note;  ///< e.g. the reduction did not finish
  bool was_shrunk = false;
  Program shrunk;  ///< the smallest program found on which the comparison still mismatches
  /// The outcomes of one side only on `shrunk`, as above.
  std::vector<std::string> shrunk_only_unreduced;
  std::vector<std::string> shrunk_only_reduced;
  /// Tier, reduction, bound, seed, program, the outcomes of one side only, shrunk program.
  [[nodiscard]] std::string report() const;
};

/// The outcome of comparing one program.
struct ProgramResult {
  bool skipped = false;                        ///< the unreduced search ran past Options::cap
  std::uint64_t executions = 0;                ///< all searches together
  std::uint64_t unreduced = 0;                 ///< executions of the unreduced search
  std::map<FailureKind, std::uint64_t> kinds;  ///< outcomes of the unreduced search, by kind
  std::vector<Mismatch> mismatches;            ///< not shrunk
};

/// Compares every reduction with the unreduced search on `p`, unbounded and iterative.
[[nodiscard]] ProgramResult compare(const Program& p, const Options& opt, std::uint64_t seed = 0);
/// Runs one comparison: the mismatch, if any. Nothing when the unreduced search ran past
/// the cap.
[[nodiscard]] std::optional<Mismatch> compare_one(const Program& p, const Comparison& c,
                                                  const Options& opt);
/// Greedily removes threads, then statements and blocks (or unwraps a block), keeping each
/// removal after which `c` still mismatches, until none does.
[[nodiscard]] Program shrink(const Program& p, const Comparison& c, const Options& opt);

/// Shrinks `m.program` (see `shrink`) into `m.shrunk`, with the outcomes of one side only on
/// it.
void shrink_mismatch(Mismatch& m, const Options& opt);

/// A run of many generated programs.
struct CampaignOptions {
  Tier tier = Tier::kSc;
  std::uint64_t programs = 2'000;  ///< compared programs (skips do not count)
  Scale scale = Scale::kCi;
  std::uint64_t seed = 1;  ///< program k has generator seed `program_seed(seed, k)`
  unsigned jobs = 1;       ///< worker OS threads, each running its own searches
  Options options;
  std::size_t max_shrunk = 16;       ///< mismatches shrunk (the rest are reported as found)
  std::ostream* progress = nullptr;  ///< progress lines, about every tenth of the run
};

struct CampaignResult {
  std::uint64_t programs = 0;  ///< compared
  std::uint64_t skips = 0;
  std::uint64_t executions = 0;
  std::map<FailureKind, std::uint64_t> kinds;  ///< unreduced outcomes of compared programs
  std::vector<Mismatch> mismatches;            ///< in program order
  double seconds = 0;
  /// One line: tier, programs, skips, executions, mismatches, seconds, outcome kinds.
  [[nodiscard]] std::string summary(Tier tier) const;
  /// Each shrunk mismatch in full, once per distinct (reduction, bound, shrunk program); then
  /// one line for each of the others.
  [[nodiscard]] std::string report() const;
};

/// The generator seed of program `k` of a run seeded `seed`.
[[nodiscard]] std::uint64_t program_seed(std::uint64_t seed, std::uint64_t k);

/// Compares programs `program_seed(seed, 0)`, `(seed, 1)`, ... until `programs` were compared;
/// the result is the same for any number of jobs.
[[nodiscard]] CampaignResult run_campaign(const CampaignOptions& o);

}  // namespace cpb::check::diff
