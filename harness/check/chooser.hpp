// SPDX-License-Identifier: Apache-2.0
/// @file
/// The one interface through which every nondeterministic choice of an execution is made, and
/// the strategies behind it: seeded random walk, PCT, bounded DFS with sleep sets, and replay.
#pragma once

#include "harness/check/model.hpp"

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace cpb::check {

/// A thread choice: the threads that may run next and what each will do. Choosing a flush
/// (`kFlushBase + t`, TSO tier) is not a preemption: it is the memory system acting.
struct Decision {
  ChoiceSet allowed;                    ///< threads and flushes (at least two)
  int current = -1;                     ///< the thread at the scheduling point (-1: it finished)
  bool current_preemptible = false;     ///< choosing another thread than `current` is a preemption
  const detail::Op* pending = nullptr;  ///< next operation of every bit of `allowed`
  unsigned threads = 0;                 ///< threads created so far
  /// What lets the current thread go on: itself, or (TSO) the flushes its next step waits for
  /// (a locked instruction drains its buffer first). Empty when it cannot.
  ChoiceSet go_on;
  /// C11 tier, for the sleep sets: the threads whose next operation is a load that may read
  /// any store it does not know to be overwritten (not seq_cst, not a spin loop's re-read)...
  ChoiceSet reads_any;
  /// ...and the threads whose next operation stores to a location whose history is full (the
  /// store drops its oldest store). Both empty in the other tiers.
  ChoiceSet evicts;
  /// C11, per thread of `reads_any`: how many stores its location has had (their numbers are
  /// below this; see pick_read).
  const std::uint32_t* stores = nullptr;
};

/// One step of an execution (for dynamic partial-order reduction), reported for every step
/// whether or not there was a choice: thread `tid` ran its pending operation.
struct Step {
  unsigned tid = 0;
  bool decided = false;                 ///< the chooser picked it (its latest pick_thread)
  int joined = -1;                      ///< the thread that a join waited for, else -1
  const detail::Op* pending = nullptr;  ///< next operation of every thread, before the step
};

/// Kinds of yes/no choices. Spurious wake-ups and weak CAS failures count against
/// Config::max_spurious; a timed wait may always time out.
enum class BoolKind : std::uint8_t { kSpuriousWakeup, kWeakCasFailure, kTimeout };

class Chooser {
 public:
  virtual ~Chooser() = default;
  /// Called before execution number `index` (0-based). False: the strategy is exhausted.
  virtual bool begin_execution(std::uint64_t index) = 0;
  /// Returns the chosen thread, or -1 to abandon the execution as redundant.
  virtual int pick_thread(const Decision& d) = 0;
  virtual bool pick_bool(BoolKind kind) = 0;
  /// Which of `n` (>= 2) waiters a notify_one wakes, or which of `n` timed waits times out
  /// first when nothing else can run: neither the standard nor futexes promise an order.
  virtual unsigned pick_waiter(unsigned n) = 0;
  /// C11: which of the `n` (>= 1) stores that thread `tid`'s load may read it reads; `ids`:
  /// their numbers (Decision::stores), newest first (the first 64). -1 abandons the execution
  /// as redundant. Not asked for a spin loop's re-read.
  virtual int pick_read(unsigned /*tid*/, unsigned n, const std::uint32_t* /*ids*/) {
    return n < 2 ? 0 : static_cast<int>(pick_waiter(n));
  }
  virtual void on_spawn(int /*tid*/) {}
  /// True when the chooser wants `on_step` for every step of the executions.
  [[nodiscard]] virtual bool wants_steps() const { return false; }
  virtual void on_step(const Step& /*step*/) {}
  /// With `wants_steps` (TSO): the oldest store of thread `tid`'s buffer, `op`, is written to
  /// memory (`decided`: the chooser picked it; else it was the only choice).
  virtual void on_flush(unsigned /*tid*/, const detail::Op& /*op*/, bool /*decided*/) {}
  /// With `wants_steps`: the execution ended stuck, and thread `tid` never made `op`, the
  /// operation it waits to make (or, `tid` >= kFlushBase, a store never left the buffer).
  virtual void on_blocked(unsigned /*tid*/, const detail::Op& /*op*/) {}
  /// With `wants_steps`: the latest step, a notify by thread `waker`, woke thread `woken`.
  virtual void on_wake(unsigned /*waker*/, unsigned /*woken*/) {}
  /// With `wants_steps`: the running thread `tid` read or wrote a `cell` during its latest
  /// step (cells are not scheduling points, but their order with a free or a racing access
  /// decides between a use after free and a data race).
  virtual void on_cell(unsigned /*tid*/, const void* /*cell*/, bool /*write*/) {}
  /// With `wants_steps`: the running thread `tid` freed, or was handed a reused, block of the
  /// checker heap (a write to all of it), after its latest step; `shared`: the heap's free list
  /// is shared state too (Config::reuse_freed).
  virtual void on_heap(unsigned /*tid*/, const void* /*block*/, std::size_t /*size*/,
                       bool /*shared*/) {}
  /// Called after each execution with its step count.
  virtual void end_execution(std::uint64_t /*steps*/) {}
};

/// Uniform random walk; execution i depends only on (seed, i).
std::unique_ptr<Chooser> make_random_chooser(std::uint64_t seed, double spurious_probability);

/// PCT (Burckhardt et al., ASPLOS'10) of bug depth `depth`, or, with `depth` 0, of the depths
/// 1, 2, ..., `max_depth` in turn (execution i >= 1 has depth 1 + (i - 1) % max_depth).
std::unique_ptr<Chooser> make_pct_chooser(std::uint64_t seed, unsigned depth, unsigned max_depth,
                                          double spurious_probability);

/// Statistics PCT reports: the per-run probability bound 1/(n*k^(d-1)) of finding a bug of
/// depth d, the deepest searched (divided by d when the depths rotate).
struct PctStats {
  unsigned max_threads = 0;
  std::uint64_t max_steps = 0;
  unsigned depth = 0;
  double per_run_bound = 0;
};
/// `c` must come from make_pct_chooser.
PctStats pct_stats(const Chooser& c);

/// Bounded exhaustive depth-first search with sleep sets and, with `dpor`, dynamic
/// partial-order reduction: a node explores only the threads that a race in some execution
/// through it asks for (Source-DPOR, see dpor.hpp), not every thread that could run there.
std::unique_ptr<Chooser> make_dfs_chooser(int max_bound, bool iterative, bool sleep_sets,
                                          bool dpor);
struct DfsStats {
  int bound = 0;                         ///< the preemption bound being (or last) explored
  bool complete = false;                 ///< every execution within `bound` was explored
  bool bound_hit = false;                ///< some schedule was cut by the bound
  std::uint64_t pruned = 0;              ///< executions abandoned by the sleep sets
  std::vector<std::uint64_t> per_bound;  ///< executions run at each bound
};
/// `c` must come from make_dfs_chooser.
DfsStats dfs_stats(const Chooser& c);
/// The preemption bound the DFS explores now; `c` must come from make_dfs_chooser.
int dfs_bound(const Chooser& c);

/// Replays a recorded decision list; notes where the execution diverges from it.
class ReplayChooser final : public Chooser {
 public:
  explicit ReplayChooser(std::vector<std::uint16_t> decisions) : decisions_(std::move(decisions)) {}
  bool begin_execution(std::uint64_t /*index*/) override {
    pos_ = 0;
    diverged_.clear();
    return true;
  }
  int pick_thread(const Decision& d) override;
  bool pick_bool(BoolKind kind) override;
  unsigned pick_waiter(unsigned n) override;
  /// Empty when the execution followed the decisions exactly and used all of them.
  [[nodiscard]] std::string divergence() const;

 private:
  std::vector<std::uint16_t> decisions_;
  std::size_t pos_ = 0;
  std::string diverged_;
};

}  // namespace cpb::check
