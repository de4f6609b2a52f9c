// SPDX-License-Identifier: Apache-2.0
#include "harness/check/chooser.hpp"

#include "harness/check/dpor.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <bit>
#include <cmath>

namespace cpb::check {

namespace {

std::uint64_t splitmix64(std::uint64_t x) {
  x += 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

/// xoshiro-style small fast generator (xorshift64*).
class Rng {
 public:
  void seed(std::uint64_t s) { s_ = splitmix64(s) | 1; }
  std::uint64_t next() {
    s_ ^= s_ >> 12;
    s_ ^= s_ << 25;
    s_ ^= s_ >> 27;
    return s_ * 0x2545f4914f6cdd1dULL;
  }
  /// Uniform in [0, n).
  std::uint32_t below(std::uint32_t n) {
    return static_cast<std::uint32_t>(((next() >> 32) * std::uint64_t{n}) >> 32);
  }
  bool chance(double p) { return static_cast<double>(next() >> 11) * 0x1.0p-53 < p; }

 private:
  std::uint64_t s_ = 1;
};

class RandomChooser final : public Chooser {
 public:
  RandomChooser(std::uint64_t seed, double p) : seed_(seed), p_(p) {}
  bool begin_execution(std::uint64_t index) override {
    rng_.seed(seed_ ^ (index * 0xd1b54a32d192ed03ULL));
    return true;
  }
  int pick_thread(const Decision& d) override {
    return static_cast<int>(d.allowed.nth(rng_.below(d.allowed.count())));
  }
  bool pick_bool(BoolKind /*kind*/) override { return rng_.chance(p_); }
  unsigned pick_waiter(unsigned n) override { return rng_.below(n); }

 private:
  std::uint64_t seed_;
  double p_;
  Rng rng_;
};

}  // namespace

std::unique_ptr<Chooser> make_random_chooser(std::uint64_t seed, double spurious_probability) {
  return std::make_unique<RandomChooser>(seed, spurious_probability);
}

// ---- PCT --------------------------------------------------------------------------------

namespace {

class PctChooser final : public Chooser {
 public:
  /// `depth` 0: execution i >= 1 runs with depth 1 + (i - 1) % max_depth.
  PctChooser(std::uint64_t seed, unsigned depth, unsigned max_depth, double p)
      : seed_(seed), fixed_(depth), max_depth_(depth > 0 ? depth : max_depth), p_(p) {}

  bool begin_execution(std::uint64_t index) override {
    rng_.seed(seed_ ^ (index * 0xd1b54a32d192ed03ULL));
    step_ = 0;
    changes_.clear();
    // d-1 change points, uniform in [1, k], where k is the longest execution seen so far (the
    // first execution has none and measures k).
    const unsigned depth =
        fixed_ > 0 ? fixed_ : 1 + static_cast<unsigned>((index - 1) % max_depth_);
    if (index > 0 && k_ > 0) {
      for (unsigned j = 0; j + 1 < depth; ++j)
        changes_.push_back(1 + rng_.below(static_cast<std::uint32_t>(k_)));
    }
    for (auto& p : prio_) p = 0;
    prio_[0] = fresh();
    // TSO flushes of each thread's buffer compete by priority like threads.
    for (unsigned i = kFlushBase; i < prio_.size(); ++i) prio_[i] = fresh();
    return true;
  }
  int pick_thread(const Decision& d) override {
    ++step_;
    for (std::size_t j = 0; j < changes_.size(); ++j) {
      // At the j-th change point the running thread drops below every initial priority.
      if (changes_[j] == step_ && d.current >= 0) prio_[static_cast<unsigned>(d.current)] = j + 1;
    }
    int best = -1;
    d.allowed.for_each([&](unsigned t) {
      if (best < 0 || prio_[t] > prio_[static_cast<unsigned>(best)]) best = static_cast<int>(t);
    });
    return best;
  }
  bool pick_bool(BoolKind /*kind*/) override { return rng_.chance(p_); }
  unsigned pick_waiter(unsigned n) override { return rng_.below(n); }
  void on_spawn(int tid) override {
    prio_[static_cast<unsigned>(tid)] = fresh();
    max_threads_ = std::max(max_threads_, static_cast<unsigned>(tid) + 1);
  }
  void end_execution(std::uint64_t /*steps*/) override { k_ = std::max(k_, step_); }

  [[nodiscard]] std::uint64_t k() const { return k_; }
  [[nodiscard]] unsigned max_threads() const { return max_threads_; }
  [[nodiscard]] unsigned max_depth() const { return max_depth_; }
  [[nodiscard]] bool rotates() const { return fixed_ == 0; }

 private:
  /// A random initial priority above every change-point priority; ties are improbable and
  /// broken by thread id.
  std::uint64_t fresh() { return (std::uint64_t{max_depth_} << 40) + (rng_.next() >> 24); }

  std::uint64_t seed_;
  unsigned fixed_;
  unsigned max_depth_;
  double p_;
  Rng rng_;
  std::array<std::uint64_t, kChoices> prio_{};
  std::vector<std::uint64_t> changes_;
  std::uint64_t step_ = 0;
  std::uint64_t k_ = 0;
  unsigned max_threads_ = 1;
};

}  // namespace

std::unique_ptr<Chooser> make_pct_chooser(std::uint64_t seed, unsigned depth, unsigned max_depth,
                                          double spurious_probability) {
  return std::make_unique<PctChooser>(seed, depth, std::max(max_depth, 1U), spurious_probability);
}

PctStats pct_stats(const Chooser& chooser) {
  const auto& c = dynamic_cast<const PctChooser&>(chooser);
  PctStats s;
  s.max_threads = c.max_threads();
  s.max_steps = std::max<std::uint64_t>(c.k(), 1);
  s.depth = c.max_depth();
  // Rotating, one run in max_depth has the deepest depth.
  s.per_run_bound =
      1.0 / (static_cast<double>(s.max_threads) *
             std::pow(static_cast<double>(s.max_steps), static_cast<double>(s.depth) - 1) *
             (c.rotates() ? static_cast<double>(s.depth) : 1.0));
  return s;
}

// ---- DFS --------------------------------------------------------------------------------

namespace {

class DfsChooser final : public Chooser {
 public:
  DfsChooser(int max_bound, bool iterative, bool sleep_sets, bool dpor)
      : max_bound_(max_bound), sleep_sets_(sleep_sets), dpor_(dpor) {
    stats_.bound = (max_bound < 0 || !iterative) ? max_bound : 0;
    stats_.per_bound.push_back(0);
  }

  bool begin_execution(std::uint64_t /*index*/) override {
    if (finished_) return false;
    depth_ = 0;
    preemptions_ = 0;
    sleep_ = {};
    dimmed_ = {};
    read_tid_ = -1;
    if (dpor_) order_.reset(stats_.bound >= 0);
    ++stats_.per_bound.back();
    return true;
  }

  int pick_thread(const Decision& d) override {
    if (depth_ == stack_.size()) {
      Node n;
      n.allowed = d.allowed;
      n.current = static_cast<std::int16_t>(d.current);
      n.preemptible = d.current_preemptible;
      n.preemptions = preemptions_;
      n.sleep = sleep_ & d.allowed;
      n.dimmed = dimmed_ & d.allowed;
      // Prefer continuing the current thread (no preemption), else the lowest id. Under DPOR
      // the other threads are explored only where a race asks for them, so the bound cuts
      // nothing when the current thread can go on.
      const ChoiceSet cur = d.go_on & n.allowed;
      const bool go_on = dpor_ && ((n.allowed - n.sleep) & cur).any();
      const ChoiceSet cand = go_on ? cur - n.sleep : candidates(n, n.allowed);
      if (cand.empty()) {
        ++stats_.pruned;
        --stats_.per_bound.back();
        return -1;  // every allowed thread is asleep or over the bound: redundant
      }
      n.chosen =
          static_cast<std::int16_t>((cand & cur).any() ? (cand & cur).first() : cand.first());
      n.done = ChoiceSet::of(static_cast<unsigned>(n.chosen));
      n.backtrack = n.done;
      stack_.push_back(n);
    }
    Node& n = stack_[depth_++];
    const int t = n.chosen;
    if (n.preemptible && t != n.current && static_cast<unsigned>(t) < kFlushBase) ++preemptions_;
    const auto tu = static_cast<unsigned>(t);
    read_tid_ = n.dimmed.test(tu) ? t : -1;
    read_floor_ = read_tid_ >= 0 ? floors_[tu] : 0;
    // Sleep set of the child: threads asleep here or already explored here, whose next
    // operation commutes with the chosen one, or (C11, see pick_read) is a store that the
    // chosen load could read after it too. A sleeping load that the chosen step stores for is
    // dimmed instead of woken.
    ChoiceSet next_sleep;
    ChoiceSet next_dimmed;
    if (sleep_sets_) {
      const detail::Op& op = d.pending[tu];
      // Explored here: it sleeps from here on, and covered every store it could read here.
      (n.done - n.sleep).for_each([&](unsigned u) {
        if (d.reads_any.test(u)) floors_[u] = d.stores[u];
      });
      const auto dims = [&](unsigned u) {
        return d.reads_any.test(u) && !d.evicts.test(tu) && stores_to(op, d.pending[u].obj);
      };
      ChoiceSet carry = n.sleep | n.done;
      carry.reset(tu);
      carry.for_each([&](unsigned u) {
        // A thread's own operations never commute with flushes of its own buffer.
        if (u % kFlushBase == tu % kFlushBase) return;
        const bool covered =
            d.reads_any.test(tu) && !d.evicts.test(u) && stores_to(d.pending[u], op.obj);
        if (covered || !detail::dependent(d.pending[u], op)) {
          next_sleep.set(u);
        } else if (dims(u)) {
          next_dimmed.set(u);
        }
      });
      (n.dimmed - carry).for_each([&](unsigned u) {
        if (u != tu && (dims(u) || !detail::dependent(d.pending[u], op))) next_dimmed.set(u);
      });
    }
    sleep_ = next_sleep;
    dimmed_ = next_dimmed;
    return t;
  }

  bool pick_bool(BoolKind /*kind*/) override { return pick_value(2) != 0; }
  unsigned pick_waiter(unsigned n) override { return pick_value(n); }

  // C11: a load L that may read any store it does not know to be overwritten
  // (Decision::reads_any) and another thread's store S to its location that drops no store
  // from a full history. S then L reaches every state that L then S does: L may still read
  // what it read before S, and the two steps change disjoint state. Two rules follow
  // (pick_thread). Where S was explored, a sibling that runs L first keeps S asleep. And a
  // sleeping L that S follows is dimmed, not woken: it may run, but reading a store that its
  // location already had where L was explored would repeat an execution that running L there
  // covered (move L back over S and the steps independent of it). A dimmed load, just picked,
  // reads only the newer stores; with none, the execution is redundant.
  int pick_read(unsigned tid, unsigned n, const std::uint32_t* ids) override {
    dimmed_.reset(tid);  // it runs: what it does next is another operation
    const bool dimmed = static_cast<int>(tid) == read_tid_;
    read_tid_ = -1;
    if (!dimmed || n > 64) return n < 2 ? 0 : static_cast<int>(pick_value(n));
    std::uint64_t mask = 0;
    for (unsigned i = 0; i < n; ++i) {
      if (ids[i] >= read_floor_) mask |= std::uint64_t{1} << i;
    }
    if (mask == 0) {
      ++stats_.pruned;
      --stats_.per_bound.back();
      return -1;
    }
    if (std::popcount(mask) == 1) return std::countr_zero(mask);
    return static_cast<int>(pick_value(n, mask));
  }

  [[nodiscard]] bool wants_steps() const override { return dpor_; }

  void on_spawn(int tid) override {
    if (dpor_) order_.spawned(static_cast<unsigned>(tid), last_tid_);
  }

  // Source-DPOR (Abdulla et al., JACM'17): each step's races with earlier events ask, at the
  // point before the earlier event, for a thread that starts the reversed order.
  void on_step(const Step& s) override {
    order_.ran(s.tid, s.pending[s.tid], s.joined, s.decided ? static_cast<int>(depth_) - 1 : -1,
               on_race_);
    last_tid_ = s.tid;
  }

  void on_wake(unsigned waker, unsigned woken) override { order_.woke(waker, woken); }

  // TSO: the flushes of a buffer are the events of a process of their own (kFlushBase + t).
  void on_flush(unsigned tid, const detail::Op& op, bool decided) override {
    order_.ran(kFlushBase + tid, op, -1, decided ? static_cast<int>(depth_) - 1 : -1, on_race_);
  }

  // A blocked thread's next operation is an event that never ran, at the end of the trace:
  // its races ask for the orders in which it is not blocked.
  void on_blocked(unsigned tid, const detail::Op& op) override {
    order_.ran(tid, op, -1, -1, on_race_);
  }

  void on_cell(unsigned tid, const void* cell, bool write) override {
    order_.accessed(tid, cell, write, on_race_);
  }

  // A free (or a reused block) is a write to every object in the block, done by the running
  // thread after its latest step: it races with the unordered accesses of other threads.
  void on_heap(unsigned tid, const void* block, std::size_t size, bool shared) override {
    const auto* lo = static_cast<const char*>(block);
    order_.wrote(tid, lo, lo + size, shared ? &order_ : nullptr, on_race_);
  }

  void end_execution(std::uint64_t /*steps*/) override {
    // Truncate to the decisions actually made (a pruned execution stops early).
    stack_.resize(depth_);
    while (!stack_.empty()) {
      Node& n = stack_.back();
      if (n.values != 0) {
        // The next value, of those in the mask (pick_read) when it has one.
        const std::uint64_t above = n.mask & ~((std::uint64_t{2} << n.chosen) - 1);
        if (n.mask != 0 && above != 0) {
          n.chosen = static_cast<std::int16_t>(std::countr_zero(above));
          return;
        }
        if (n.mask == 0 && static_cast<unsigned>(n.chosen) + 1 < n.values) {
          ++n.chosen;
          return;
        }
      } else {
        const ChoiceSet cand = candidates(n, (dpor_ ? n.backtrack : n.allowed) - n.done);
        if (cand.any()) {
          n.chosen = static_cast<std::int16_t>(cand.first());
          n.done.set(static_cast<unsigned>(n.chosen));
          return;
        }
      }
      stack_.pop_back();
    }
    // This bound is exhausted. Iterative bounding: raise it if some schedule was cut.
    if (stats_.bound >= 0 && stats_.bound < max_bound_ && stats_.bound_hit) {
      ++stats_.bound;
      stats_.bound_hit = false;
      stats_.per_bound.push_back(0);
      return;
    }
    stats_.complete = true;
    finished_ = true;
  }

  [[nodiscard]] const DfsStats& stats() const { return stats_; }

 private:
  struct Node {
    ChoiceSet allowed;
    ChoiceSet done;
    ChoiceSet sleep;
    ChoiceSet backtrack;  ///< DPOR: the threads to explore here
    ChoiceSet dimmed;     ///< C11: loads that may read only stores newer than their floor
    std::int16_t chosen = 0;
    std::int16_t current = -1;
    bool preemptible = false;
    unsigned values = 0;  ///< a choice of a value in [0, values) (a yes/no, a waiter), not a thread
    std::uint64_t mask = 0;  ///< pick_read: the values to try (0: all of them)
    int preemptions = 0;
  };

  /// Whether `op` stores to the atomic `obj` (a read-modify-write too).
  static bool stores_to(const detail::Op& op, const void* obj) {
    using detail::OpKind;
    return op.obj == obj && (op.kind == OpKind::kStore || op.kind == OpKind::kExchange ||
                             op.kind == OpKind::kRmw || op.kind == OpKind::kCas);
  }

  /// A value in [0, n), each in turn; with a `mask` (n <= 64), those of its bits only.
  unsigned pick_value(unsigned n, std::uint64_t mask = 0) {
    if (depth_ == stack_.size()) {
      Node v;
      v.values = n;
      v.mask = mask;
      v.chosen = static_cast<std::int16_t>(mask != 0 ? std::countr_zero(mask) : 0);
      stack_.push_back(v);
    }
    return static_cast<unsigned>(stack_[depth_++].chosen);
  }

  /// The threads of `want` that may be explored at `n`: awake and within the preemption bound.
  ChoiceSet candidates(const Node& n, const ChoiceSet& want) {
    ChoiceSet cand = want - n.sleep;
    if (n.preemptible && stats_.bound >= 0 && n.preemptions >= stats_.bound) {
      // Flushes are the memory system acting, not preemptions: the bound does not cut them.
      const ChoiceSet keep = ChoiceSet::of(static_cast<unsigned>(n.current)) | ChoiceSet::flushes();
      if ((cand - keep).any()) stats_.bound_hit = true;
      cand &= keep;
    }
    return cand;
  }

  /// The race of `event` with a later one asks for one of the initials of its reversal
  /// (TraceOrder::initial) to run before it.
  void reverse(std::uint32_t event) {
    // Bounded: running the thread there may be a preemption over the bound. BPOR (Coons et
    // al., OOPSLA'13) also tries it at the latest context switch before, where it may run
    // without one; but the chain of reversals that leads to a schedule may pass through
    // schedules over the bound, so every point of the block from that switch to the event is
    // tried (the differential test found schedules that BPOR's two points miss).
    std::uint32_t from = event;
    if (stats_.bound >= 0) {
      from = static_cast<std::uint32_t>(std::max(order_.last_switch_before(event), 0));
    }
    for (std::uint32_t e = from; e <= event; ++e) add_backtrack(order_.tag(e));
  }
  /// At decision `node`: nothing to do if an initial is explored there already; else one
  /// that may run there (awake, if one is), or every thread that may run there when none may
  /// (blocked, or giving way). Events without a decision had one thread to run: nothing else
  /// can go first there.
  void add_backtrack(int node) {
    if (node < 0) return;
    Node& n = stack_[static_cast<std::size_t>(node)];
    if (stats_.bound >= 0) {
      // Bounded: every initial that the later event needs, since reaching it from another
      // one may cost a preemption over the bound (the source-set argument assumes none).
      ChoiceSet need;
      n.allowed.for_each([&](unsigned p) {
        if (order_.initial(p, true)) need.set(p);
      });
      n.backtrack |= need.any() ? need : n.allowed;
      return;
    }
    const auto first_initial = [this](const ChoiceSet& among) {
      int found = -1;
      among.for_each([&](unsigned p) {
        if (found < 0 && order_.initial(p)) found = static_cast<int>(p);
      });
      return found;
    };
    if (first_initial(n.backtrack) >= 0) return;
    int p = first_initial(n.allowed - n.backtrack - n.sleep);
    if (p < 0) p = first_initial((n.allowed - n.backtrack) & n.sleep);
    if (p < 0) {
      n.backtrack |= n.allowed;
      return;
    }
    n.backtrack.set(static_cast<unsigned>(p));
  }

  int max_bound_;
  bool sleep_sets_;
  bool dpor_;
  bool finished_ = false;
  std::vector<Node> stack_;
  std::size_t depth_ = 0;
  int preemptions_ = 0;
  ChoiceSet sleep_;
  /// C11: dimmed loads of the current node, and per thread the number of stores its load's
  /// location had where it was last explored (a dimmed load reads only stores numbered from
  /// there on); the thread just picked if it is dimmed, and its floor.
  ChoiceSet dimmed_;
  std::array<std::uint32_t, kMaxThreads> floors_{};
  int read_tid_ = -1;
  std::uint32_t read_floor_ = 0;
  detail::TraceOrder order_;
  unsigned last_tid_ = 0;
  detail::TraceOrder::OnRace on_race_ = [this](std::uint32_t e) { reverse(e); };
  DfsStats stats_;
};

}  // namespace

std::unique_ptr<Chooser> make_dfs_chooser(int max_bound, bool iterative, bool sleep_sets,
                                          bool dpor) {
  return std::make_unique<DfsChooser>(max_bound, iterative, sleep_sets, dpor);
}

DfsStats dfs_stats(const Chooser& c) { return dynamic_cast<const DfsChooser&>(c).stats(); }
int dfs_bound(const Chooser& c) { return static_cast<const DfsChooser&>(c).stats().bound; }

// ---- replay -----------------------------------------------------------------------------

int ReplayChooser::pick_thread(const Decision& d) {
  const int fallback = d.allowed.first();
  if (!diverged_.empty()) return fallback;
  if (pos_ >= decisions_.size()) {
    diverged_ =
        fmt::format("the execution needs more than the {} recorded decisions", decisions_.size());
    return fallback;
  }
  const unsigned t = decisions_[pos_];
  if (t >= kChoices || !d.allowed.test(t)) {
    diverged_ =
        fmt::format("decision {} chooses thread {}, which cannot run at that point", pos_, t);
    return fallback;
  }
  ++pos_;
  return static_cast<int>(t);
}

bool ReplayChooser::pick_bool(BoolKind /*kind*/) {
  if (!diverged_.empty()) return false;
  if (pos_ >= decisions_.size()) {
    diverged_ =
        fmt::format("the execution needs more than the {} recorded decisions", decisions_.size());
    return false;
  }
  const unsigned v = decisions_[pos_];
  if (v > 1) {
    diverged_ = fmt::format("decision {} is {} where a yes/no choice is made", pos_, v);
    return false;
  }
  ++pos_;
  return v == 1;
}

unsigned ReplayChooser::pick_waiter(unsigned n) {
  if (!diverged_.empty()) return 0;
  if (pos_ >= decisions_.size()) {
    diverged_ =
        fmt::format("the execution needs more than the {} recorded decisions", decisions_.size());
    return 0;
  }
  const unsigned v = decisions_[pos_];
  if (v >= n) {
    diverged_ = fmt::format("decision {} picks waiter {} of {}", pos_, v, n);
    return 0;
  }
  ++pos_;
  return v;
}

std::string ReplayChooser::divergence() const {
  if (!diverged_.empty()) return diverged_;
  if (pos_ != decisions_.size()) {
    return fmt::format("the execution ended after {} of the {} recorded decisions", pos_,
                       decisions_.size());
  }
  return {};
}

}  // namespace cpb::check
