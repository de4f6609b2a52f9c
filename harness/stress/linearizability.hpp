// SPDX-License-Identifier: Apache-2.0
/// @file
/// The linearizability checker: does some sequential order of a recorded history, consistent
/// with real time, explain every result against a sequential specification?
///
/// The search is Wing & Gong's, with Lowe's just-in-time linearization and memoization of
/// (set of linearized operations, spec state), as in Porcupine: walk the time-ordered list of
/// invoke and response events; at an invoke, try to linearize that operation now (the spec
/// must accept its recorded result); at a response of an operation not yet linearized,
/// backtrack. A (linearized set, state) pair already explored is never explored again.
///
/// Long histories are cut at quiescent points (no operation pending: every earlier operation
/// responded before any later one was invoked), which `record()` creates at each round
/// boundary. Every linearization orders the operations before a cut before those after it, so
/// the segments (windows) are checked one after another. A window can end in several spec
/// states (two concurrent pushes, nothing popped yet), so the search collects every state a
/// window can end in and starts the next window from all of them: exact, not a guess.
///
/// A spec whose operations each touch one key (sets, maps) can declare `partition(op)`; the
/// history is then split per key and each key checked on its own (P-compositionality:
/// linearizability is local), which makes cuts far more frequent.
///
/// A spec is a type with:
///   `using State = ...;` (copyable, `==`),  `State init() const;`
///   `bool step(State&, const Op&) const;` — apply `op` if its recorded result is possible in
///       that state, and return true; return false if it is not,
///   `std::size_t hash(const State&) const;`, `std::string describe(const Op&) const;`,
///   `std::string describe_state(const State&) const;`
///   optionally `std::int64_t partition(const Op&) const;`.
#pragma once

#include "harness/stress/history.hpp"
#include "harness/stress/result.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <map>
#include <span>
#include <string>
#include <unordered_set>
#include <utility>
#include <vector>

namespace cpb::stress {

template <class S>
concept SequentialSpec = std::copyable<typename S::State> &&
    requires(const S& s, typename S::State& st, const typename S::State& cst, const Op& op) {
  { s.init() } -> std::convertible_to<typename S::State>;
  { s.step(st, op) } -> std::same_as<bool>;
  { s.hash(cst) } -> std::convertible_to<std::size_t>;
  { s.describe(op) } -> std::convertible_to<std::string>;
  { s.describe_state(cst) } -> std::convertible_to<std::string>;
  { cst == cst } -> std::convertible_to<bool>;
};

template <class S>
concept PartitionedSpec = SequentialSpec<S> && requires(const S& s, const Op& op) {
  { s.partition(op) } -> std::convertible_to<std::int64_t>;
};

struct LinOptions {
  std::string name = "linearizability";
  std::uint64_t seed = 0;                ///< recorded in the result only (the run's seed)
  std::int64_t budget_ms = 0;            ///< recorded in the result only
  std::uint64_t max_nodes = 20'000'000;  ///< search steps per window before giving up (error)
  std::size_t max_states = 4096;         ///< distinct end states of one window before giving up
  std::size_t max_table_rows = 200;      ///< the failing window's table is cut beyond this
};

namespace detail {

/// [begin, end) index ranges of `ops` (sorted by invoke) between quiescent points.
std::vector<std::pair<std::size_t, std::size_t>> quiescent_windows(std::span<const Op> ops);

/// The state-independent part of a failure report: which window, its table, and the deepest
/// partial linearization found with the operations that could have come next.
std::string explain_window(std::span<const Op> window, const Describe& describe,
                           std::span<const std::size_t> best_prefix, const std::string& best_state,
                           const std::string& start_states, std::size_t max_rows,
                           std::span<const Op> before = {});

/// One window's search (see the file comment).
template <SequentialSpec S>
class WindowSearch {
 public:
  using State = typename S::State;

  enum class Status { kOk, kNotLinearizable, kGaveUp, kTooManyStates };

  WindowSearch(const S& spec, std::span<const Op> ops) : spec_(spec), ops_(ops) {
    const std::size_t n = ops.size();
    // Events: 1 + 2i is op i's invoke, 2 + 2i its response; 0 is the list head.
    std::vector<int> events;
    events.reserve(2 * n);
    for (std::size_t i = 0; i < n; ++i) {
      events.push_back(static_cast<int>(1 + 2 * i));
      events.push_back(static_cast<int>(2 + 2 * i));
    }
    const auto time = [&](int e) {
      const Op& op = ops[static_cast<std::size_t>((e - 1) / 2)];
      return (e % 2 == 1) ? op.invoke : op.response;
    };
    // Equal times: invokes first, so ties count as overlapping (never claims more order).
    std::sort(events.begin(), events.end(), [&](int a, int b) {
      const auto ta = time(a);
      const auto tb = time(b);
      return ta != tb ? ta < tb : (a % 2) > (b % 2);
    });
    next_.assign(2 * n + 1, -1);
    prev_.assign(2 * n + 1, -1);
    int last = 0;
    for (const int e : events) {
      next_[static_cast<std::size_t>(last)] = e;
      prev_[static_cast<std::size_t>(e)] = last;
      last = e;
    }
    zobrist_.resize(n);
    for (std::size_t i = 0; i < n; ++i) zobrist_[i] = mix64(0xc0ffee ^ (i * 0x9e3779b97f4a7c15ULL));
    bits_.assign((n + 63) / 64, 0);
  }

  /// Collects into `ends` every state the window can end in, starting from any of `starts`.
  Status run(const std::vector<State>& starts, std::vector<State>& ends, std::uint64_t max_nodes,
             std::size_t max_states) {
    EndSet end_set(16, StateHash{&spec_});
    for (const State& start : starts) {
      State state = start;
      std::vector<Frame> stack;
      int e = next_[0];
      for (;;) {
        if (next_[0] == -1) {  // every operation linearized
          end_set.insert(state);
          if (end_set.size() > max_states) return Status::kTooManyStates;
          if (stack.empty()) break;
          e = backtrack(stack, state);
          continue;
        }
        if (++nodes_ > max_nodes) return Status::kGaveUp;
        const std::size_t i = static_cast<std::size_t>((e - 1) / 2);
        if (e % 2 == 1) {  // an invoke: try to linearize op i here
          State next_state = state;
          if (spec_.step(next_state, ops_[i])) {
            flip(i);
            Node node{bits_, next_state, combine(zhash_, spec_.hash(next_state))};
            if (memo_.insert(std::move(node)).second) {
              stack.push_back({e, std::move(state)});
              state = std::move(next_state);
              lift(e);
              if (stack.size() > best_.size()) {
                best_.clear();
                for (const auto& f : stack)
                  best_.push_back(static_cast<std::size_t>((f.e - 1) / 2));
                best_state_ = state;
              }
              e = next_[0];
              continue;
            }
            flip(i);
          }
          e = next_[static_cast<std::size_t>(e)];
        } else {  // the response of an op not linearized yet: it cannot go later; undo one
          if (stack.empty()) break;
          e = backtrack(stack, state);
        }
      }
    }
    ends.assign(end_set.begin(), end_set.end());
    return ends.empty() ? Status::kNotLinearizable : Status::kOk;
  }

  [[nodiscard]] std::uint64_t nodes() const { return nodes_; }
  /// The deepest partial linearization found: op indices in linearization order.
  [[nodiscard]] const std::vector<std::size_t>& best() const { return best_; }
  /// The spec state after best(); meaningful when best() is non-empty.
  [[nodiscard]] const State& best_state() const { return best_state_; }

 private:
  struct Frame {
    int e;
    State before;
  };
  struct Node {
    std::vector<std::uint64_t> bits;
    State state;
    std::size_t h;
    bool operator==(const Node& o) const { return h == o.h && bits == o.bits && state == o.state; }
  };
  struct NodeHash {
    std::size_t operator()(const Node& n) const { return n.h; }
  };
  struct StateHash {
    const S* spec;
    std::size_t operator()(const State& s) const { return spec->hash(s); }
  };
  using EndSet = std::unordered_set<State, StateHash>;

  static std::size_t combine(std::uint64_t a, std::size_t b) {
    return static_cast<std::size_t>(
        mix64(a ^ (static_cast<std::uint64_t>(b) * 0x9e3779b97f4a7c15ULL)));
  }

  void flip(std::size_t i) {
    bits_[i / 64] ^= std::uint64_t{1} << (i % 64);
    zhash_ ^= zobrist_[i];
  }

  void unlink(int x) {
    const auto ux = static_cast<std::size_t>(x);
    next_[static_cast<std::size_t>(prev_[ux])] = next_[ux];
    if (next_[ux] != -1) prev_[static_cast<std::size_t>(next_[ux])] = prev_[ux];
  }
  void relink(int x) {
    const auto ux = static_cast<std::size_t>(x);
    next_[static_cast<std::size_t>(prev_[ux])] = x;
    if (next_[ux] != -1) prev_[static_cast<std::size_t>(next_[ux])] = x;
  }
  // An invoke event e (odd) and its response e + 1 leave the list together, and come back in
  // the reverse order (dancing links).
  void lift(int e) {
    unlink(e);
    unlink(e + 1);
  }
  void unlift(int e) {
    relink(e + 1);
    relink(e);
  }

  int backtrack(std::vector<Frame>& stack, State& state) {
    Frame f = std::move(stack.back());
    stack.pop_back();
    unlift(f.e);
    flip(static_cast<std::size_t>((f.e - 1) / 2));
    state = std::move(f.before);
    return next_[static_cast<std::size_t>(f.e)];
  }

  const S& spec_;
  std::span<const Op> ops_;
  std::vector<int> next_;
  std::vector<int> prev_;
  std::vector<std::uint64_t> zobrist_;
  std::vector<std::uint64_t> bits_;
  std::uint64_t zhash_ = 0;
  std::unordered_set<Node, NodeHash> memo_;
  std::uint64_t nodes_ = 0;
  std::vector<std::size_t> best_;
  State best_state_{};
};

template <SequentialSpec S>
std::string describe_states(const S& spec, const std::vector<typename S::State>& states) {
  std::string out;
  for (std::size_t i = 0; i < states.size() && i < 8; ++i) {
    if (i > 0) out += ", ";
    out += spec.describe_state(states[i]);
  }
  if (states.size() > 8) out += fmt::format(", ... ({} in all)", states.size());
  return out;
}

}  // namespace detail

/// Checks `history` against `spec`. Verdict kPass: linearizable; kFail: not, with the failing
/// window printed as a per-thread table and the deepest partial linearization; kError: the
/// search gave up (max_nodes or max_states), which is not a pass.
template <SequentialSpec S>
CheckResult check_linearizable(const S& spec, const History& history, const LinOptions& opt = {}) {
  using State = typename S::State;
  const auto t0 = std::chrono::steady_clock::now();
  CheckResult r;
  r.name = opt.name;
  r.kind = "linearizability";
  r.seed = opt.seed;
  r.budget_ms = opt.budget_ms;
  r.samples = history.size();

  // Partition (one partition unless the spec declares keys), each sorted by invoke.
  std::map<std::int64_t, std::vector<Op>> parts;
  for (const Op& op : history) {
    std::int64_t key = 0;
    if constexpr (PartitionedSpec<S>) key = spec.partition(op);
    parts[key].push_back(op);
  }
  std::uint64_t nodes = 0;
  std::size_t windows = 0;
  std::size_t largest = 0;
  std::size_t most_states = 1;
  const Describe describe = [&spec](const Op& op) { return spec.describe(op); };
  constexpr std::size_t kContext = 12;  // operations shown before a failing window
  for (auto& [key, ops] : parts) {
    std::sort(ops.begin(), ops.end(), [](const Op& a, const Op& b) { return a.invoke < b.invoke; });
    std::vector<State> states{spec.init()};
    std::size_t k = 0;
    for (const auto& [b, e] : detail::quiescent_windows(ops)) {
      ++windows;
      largest = std::max(largest, e - b);
      const std::span<const Op> window(ops.data() + b, e - b);
      detail::WindowSearch<S> search(spec, window);
      std::vector<State> ends;
      const auto status = search.run(states, ends, opt.max_nodes, opt.max_states);
      nodes += search.nodes();
      if (status != detail::WindowSearch<S>::Status::kOk) {
        const std::string where =
            PartitionedSpec<S> ? fmt::format("window {} of key {} ({} ops)", k, key, window.size())
                               : fmt::format("window {} ({} ops, tickets {}..{})", k, window.size(),
                                             window.front().invoke, window.back().response);
        if (status == detail::WindowSearch<S>::Status::kNotLinearizable) {
          r.verdict = Verdict::kFail;
          r.failure = fmt::format("{}: not linearizable: {} has no linearization from {}", opt.name,
                                  where, detail::describe_states(spec, states));
          r.details = detail::explain_window(
              window, describe, search.best(),
              search.best().empty() ? std::string() : spec.describe_state(search.best_state()),
              detail::describe_states(spec, states), opt.max_table_rows,
              std::span<const Op>(ops.data() + (b > kContext ? b - kContext : 0),
                                  b > kContext ? kContext : b));
        } else {
          r.verdict = Verdict::kError;
          r.failure = fmt::format(
              "{}: the search gave up on {} ({}): the window is too concurrent; record "
              "shorter rounds",
              opt.name, where,
              status == detail::WindowSearch<S>::Status::kGaveUp
                  ? fmt::format("over {} steps", opt.max_nodes)
                  : fmt::format("over {} possible end states", opt.max_states));
        }
        if (opt.seed != 0)
          r.failure += fmt::format("; seed {:#x}, replay with {}", opt.seed, replay_hint(opt.seed));
        break;
      }
      states = std::move(ends);
      most_states = std::max(most_states, states.size());
      ++k;
    }
    if (r.verdict != Verdict::kPass) break;
  }
  r.elapsed_ms =
      std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
  r.stats = {{"operations", static_cast<std::int64_t>(history.size())},
             {"partitions", static_cast<std::int64_t>(parts.size())},
             {"windows", static_cast<std::int64_t>(windows)},
             {"largest_window", static_cast<std::int64_t>(largest)},
             {"most_end_states", static_cast<std::int64_t>(most_states)},
             {"search_nodes", static_cast<std::int64_t>(nodes)}};
  return r;
}

/// Records a workload with `record()` and checks it: one call for a family's check. A thread
/// that throws or hangs gives Verdict::kError; `operations` is what was recorded.
template <SequentialSpec S>
CheckResult run_linearizability(const std::string& name, const S& spec,
                                const RecordOptions& options, Body body,
                                const LinOptions& lin = {}) {
  const Recording rec = record(options, std::move(body));
  LinOptions lo = lin;
  lo.name = name;
  lo.seed = rec.seed;
  lo.budget_ms = options.time_cap.count();
  if (!rec.engine.ok()) {
    CheckResult r;
    r.name = name;
    r.kind = "linearizability";
    r.seed = rec.seed;
    r.budget_ms = lo.budget_ms;
    r.elapsed_ms = rec.elapsed_ms;
    r.verdict = Verdict::kError;
    r.failure = fmt::format("{}: {}; seed {:#x}, replay with {}", name, rec.engine.describe(),
                            rec.seed, replay_hint(rec.seed));
    return r;
  }
  CheckResult r = check_linearizable(spec, rec.history, lo);
  r.stats.emplace_back("rounds", static_cast<std::int64_t>(rec.rounds));
  r.stats.emplace_back("record_ms", static_cast<std::int64_t>(rec.elapsed_ms));
  r.stats.emplace_back("check_ms", static_cast<std::int64_t>(r.elapsed_ms));
  r.elapsed_ms += rec.elapsed_ms;
  return r;
}

}  // namespace cpb::stress
