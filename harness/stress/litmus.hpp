// SPDX-License-Identifier: Apache-2.0
/// @file
/// The classic litmus shapes as outcome tests over `std::atomic`: MP, SB, LB, IRIW, 2+2W and
/// CoRR, each with relaxed, release/acquire and seq_cst orders.
///
/// The tables say what the C++ memory model ALLOWS, never what x86 happens to do: an outcome
/// the model allows for an order is ACCEPTABLE or ACCEPTABLE_INTERESTING, never FORBIDDEN, even
/// when this hardware cannot produce it (LB, IRIW and 2+2W reorderings on x86-TSO). The
/// histograms then show which allowed outcomes the machine actually produced.
///
/// Memory orders: these tests use weak orders ON PURPOSE; the orders are template parameters,
/// so each instantiation compiles to the instructions of that order. In `kAcqRel` every store
/// is a release that pairs with the other actor's acquire load of the same variable, and every
/// load is an acquire that pairs with the release store it reads from; in `kRelaxed` nothing
/// pairs (that is the point). The arbiter's relaxed loads are ordered after every actor's
/// stores by the stride barrier (its acq_rel arrival / release generation bump).
#pragma once

#include "harness/stress/outcome.hpp"

#include <atomic>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

namespace cpb::stress::litmus {

/// The memory orders a litmus test runs with.
enum class Order { kRelaxed, kAcqRel, kSeqCst };

constexpr std::string_view to_string(Order o) {
  switch (o) {
    case Order::kRelaxed:
      return "relaxed";
    case Order::kAcqRel:
      return "acq_rel";
    case Order::kSeqCst:
      return "seq_cst";
  }
  return "?";
}

/// The order of a store under `o`: relaxed, release or seq_cst.
constexpr std::memory_order store_order(Order o) {
  switch (o) {
    case Order::kRelaxed:
      return std::memory_order_relaxed;
    case Order::kAcqRel:
      return std::memory_order_release;
    case Order::kSeqCst:
      return std::memory_order_seq_cst;
  }
  return std::memory_order_seq_cst;
}

/// The order of a load under `o`: relaxed, acquire or seq_cst.
constexpr std::memory_order load_order(Order o) {
  switch (o) {
    case Order::kRelaxed:
      return std::memory_order_relaxed;
    case Order::kAcqRel:
      return std::memory_order_acquire;
    case Order::kSeqCst:
      return std::memory_order_seq_cst;
  }
  return std::memory_order_seq_cst;
}

/// Two atomics on separate cache lines (same-line variables hide some reorderings).
struct TwoVars {
  alignas(64) std::atomic<int> x{0};
  alignas(64) std::atomic<int> y{0};
};

inline std::string litmus_name(std::string_view shape, Order o) {
  return "litmus." + std::string(shape) + "." + std::string(to_string(o));
}

/// Message passing. writer: x = 1; y = 1.  reader: r0 = y; r1 = x.
/// (1, 0) -- the flag seen, the data not -- is forbidden once y is release/acquire; relaxed
/// allows it (x86 never shows it: TSO keeps store order and load order, but a compiler may).
template <Order O>
OutcomeTest<TwoVars, 2> mp() {
  constexpr auto st = store_order(O);
  constexpr auto ld = load_order(O);
  const Grade reordered = O == Order::kRelaxed ? Grade::kInteresting : Grade::kForbidden;
  return {litmus_name("mp", O),
          "message passing: data then flag; the reader reads flag then data",
          {{"writer",
            [](TwoVars& s, Outcome<2>&) {
              s.x.store(1, st);  // the data; weak on purpose, see the file comment
              s.y.store(1, st);  // the flag; release pairs with the reader's acquire of y
            }},
           {"reader",
            [](TwoVars& s, Outcome<2>& r) {
              r[0] = s.y.load(ld);  // acquire pairs with the writer's release store of y
              r[1] = s.x.load(ld);  // weak on purpose, see the file comment
            }}},
          {},
          {{{0, 0}, Grade::kAcceptable, "the reader ran before the writer"},
           {{0, 1}, Grade::kAcceptable, "the data arrived, the flag not yet"},
           {{1, 1}, Grade::kAcceptable, "the reader ran after the writer"},
           {{1, 0},
            reordered,
            O == Order::kRelaxed
                ? "flag seen but data stale: allowed for relaxed (not produced by x86 hardware)"
                : "flag seen but data stale: release/acquire on the flag forbids it"}}};
}

/// Store buffering (Dekker). t0: x = 1; r0 = y.  t1: y = 1; r1 = x.
/// (0, 0) is allowed unless every access is seq_cst; x86 store buffers produce it.
template <Order O>
OutcomeTest<TwoVars, 2> sb() {
  constexpr auto st = store_order(O);
  constexpr auto ld = load_order(O);
  const Grade reordered = O == Order::kSeqCst ? Grade::kForbidden : Grade::kInteresting;
  return {litmus_name("sb", O),
          "store buffering: each actor stores its variable then loads the other's",
          {{"t0",
            [](TwoVars& s, Outcome<2>& r) {
              s.x.store(1, st);     // release pairs with t1's acquire load of x
              r[0] = s.y.load(ld);  // acquire pairs with t1's release store of y
            }},
           {"t1",
            [](TwoVars& s, Outcome<2>& r) {
              s.y.store(1, st);     // release pairs with t0's acquire load of y
              r[1] = s.x.load(ld);  // acquire pairs with t0's release store of x
            }}},
          {},
          {{{0, 1}, Grade::kAcceptable, "t0 ran first"},
           {{1, 0}, Grade::kAcceptable, "t1 ran first"},
           {{1, 1}, Grade::kAcceptable, "interleaved: both stores before both loads"},
           {{0, 0},
            reordered,
            O == Order::kSeqCst
                ? "both loads missed both stores: seq_cst forbids it (single total order)"
                : "both loads missed both stores: allowed; store buffers (x86) show it"}}};
}

/// Load buffering. t0: r0 = x; y = 1.  t1: r1 = y; x = 1.
/// (1, 1) -- each load reads the other's later store -- is allowed for relaxed only; x86 never
/// shows it (loads are not reordered with later stores).
template <Order O>
OutcomeTest<TwoVars, 2> lb() {
  constexpr auto st = store_order(O);
  constexpr auto ld = load_order(O);
  const Grade reordered = O == Order::kRelaxed ? Grade::kInteresting : Grade::kForbidden;
  return {litmus_name("lb", O),
          "load buffering: each actor loads one variable then stores the other",
          {{"t0",
            [](TwoVars& s, Outcome<2>& r) {
              r[0] = s.x.load(ld);  // acquire pairs with t1's release store of x
              s.y.store(1, st);     // release pairs with t1's acquire load of y
            }},
           {"t1",
            [](TwoVars& s, Outcome<2>& r) {
              r[1] = s.y.load(ld);  // acquire pairs with t0's release store of y
              s.x.store(1, st);     // release pairs with t0's acquire load of x
            }}},
          {},
          {{{0, 0}, Grade::kAcceptable, "both loads before both stores"},
           {{0, 1}, Grade::kAcceptable, "t0 ran first"},
           {{1, 0}, Grade::kAcceptable, "t1 ran first"},
           {{1, 1},
            reordered,
            O == Order::kRelaxed
                ? "each load saw the other's later store: allowed for relaxed (not on x86)"
                : "each load saw the other's later store: acquire/release forbid the cycle"}}};
}

/// Independent reads of independent writes. w0: x = 1.  w1: y = 1.
/// r0: a = x; b = y.  r1: c = y; d = x.  Outcome (a, b, c, d).
/// (1, 0, 1, 0) -- the readers disagree on the order of the two writes -- is forbidden only
/// with seq_cst (a single total order); x86 is multi-copy atomic and never shows it.
template <Order O>
OutcomeTest<TwoVars, 4> iriw() {
  constexpr auto st = store_order(O);
  constexpr auto ld = load_order(O);
  OutcomeTest<TwoVars, 4> t{
      litmus_name("iriw", O),
      "independent reads of independent writes: do two readers agree on the order of x and y?",
      {{"w0", [](TwoVars& s, Outcome<4>&) { s.x.store(1, st); }},  // release pairs with r0/r1
       {"w1", [](TwoVars& s, Outcome<4>&) { s.y.store(1, st); }},  // release pairs with r0/r1
       {"r0",
        [](TwoVars& s, Outcome<4>& r) {
          r[0] = s.x.load(ld);  // acquire pairs with w0's release store
          r[1] = s.y.load(ld);  // acquire pairs with w1's release store
        }},
       {"r1",
        [](TwoVars& s, Outcome<4>& r) {
          r[2] = s.y.load(ld);  // acquire pairs with w1's release store
          r[3] = s.x.load(ld);  // acquire pairs with w0's release store
        }}},
      {},
      {}};
  for (int i = 0; i < 16; ++i) {
    const Outcome<4> o{(i >> 3) & 1, (i >> 2) & 1, (i >> 1) & 1, i & 1};
    if (o == Outcome<4>{1, 0, 1, 0}) {
      t.table.push_back(
          {o, O == Order::kSeqCst ? Grade::kForbidden : Grade::kInteresting,
           O == Order::kSeqCst
               ? "the readers disagree on the order of the writes: seq_cst forbids it"
               : "the readers disagree on the order of the writes: allowed (not on x86)"});
    } else {
      t.table.push_back({o, Grade::kAcceptable, "consistent with one order of the writes"});
    }
  }
  return t;
}

/// 2+2W. t0: x = 1; y = 2.  t1: y = 1; x = 2.  The arbiter reads the final (x, y).
/// (1, 1) -- each thread's first store won -- needs the two coherence orders to contradict
/// program order; allowed except with seq_cst. x86 (TSO: stores in order) never shows it.
template <Order O>
OutcomeTest<TwoVars, 2> two_plus_two_w() {
  constexpr auto st = store_order(O);
  return {litmus_name("2+2w", O),
          "2+2W: two threads store to both variables in opposite orders; final values",
          {{"t0",
            [](TwoVars& s, Outcome<2>&) {
              s.x.store(1, st);  // release: no acquire load in this shape; weak on purpose
              s.y.store(2, st);  // as above
            }},
           {"t1",
            [](TwoVars& s, Outcome<2>&) {
              s.y.store(1, st);  // as above
              s.x.store(2, st);  // as above
            }}},
          [](TwoVars& s, Outcome<2>& r) {
            // Relaxed: the stride barrier orders every actor's stores before the arbiter.
            r[0] = s.x.load(std::memory_order_relaxed);
            r[1] = s.y.load(std::memory_order_relaxed);
          },
          {{{2, 2}, Grade::kAcceptable, "interleaved: t0's x, t1's y, then t0's y, t1's x"},
           {{1, 2}, Grade::kAcceptable, "t1 then t0"},
           {{2, 1}, Grade::kAcceptable, "t0 then t1"},
           {{1, 1},
            O == Order::kSeqCst ? Grade::kForbidden : Grade::kInteresting,
            O == Order::kSeqCst ? "each thread's first store was last: seq_cst forbids the cycle"
                                : "each thread's first store was last: allowed (not on x86)"}}};
}

/// Coherence of read-read. writer: x = 1.  reader: r0 = x; r1 = x.
/// (1, 0) -- the new value, then the old -- is forbidden for every order: coherence holds even
/// for relaxed atomics.
template <Order O>
OutcomeTest<TwoVars, 2> corr() {
  constexpr auto st = store_order(O);
  constexpr auto ld = load_order(O);
  return {litmus_name("corr", O),
          "coherence read-read: two loads of one variable never go back in time",
          {{"writer", [](TwoVars& s, Outcome<2>&) { s.x.store(1, st); }},  // pairs with reader
           {"reader",
            [](TwoVars& s, Outcome<2>& r) {
              r[0] = s.x.load(ld);  // acquire pairs with the writer's release store
              r[1] = s.x.load(ld);  // as above
            }}},
          {},
          {{{0, 0}, Grade::kAcceptable, "both loads before the store"},
           {{0, 1}, Grade::kAcceptable, "the store between the loads"},
           {{1, 1}, Grade::kAcceptable, "both loads after the store"},
           {{1, 0}, Grade::kForbidden, "new value then old: coherence forbids it for any order"}}};
}

/// One litmus test of the suite, type-erased for a driver such as `cpbench check`.
struct Entry {
  std::string name;
  std::function<CheckResult(const OutcomeOptions&)> run;
};

/// Every shape with every order: 18 tests, named `litmus.<shape>.<order>`.
inline std::vector<Entry> suite() {
  std::vector<Entry> out;
  const auto add = [&out](auto make) {
    out.push_back(
        {make().name, [make](const OutcomeOptions& o) { return run_outcome(make(), o); }});
  };
  add([] { return mp<Order::kRelaxed>(); });
  add([] { return mp<Order::kAcqRel>(); });
  add([] { return mp<Order::kSeqCst>(); });
  add([] { return sb<Order::kRelaxed>(); });
  add([] { return sb<Order::kAcqRel>(); });
  add([] { return sb<Order::kSeqCst>(); });
  add([] { return lb<Order::kRelaxed>(); });
  add([] { return lb<Order::kAcqRel>(); });
  add([] { return lb<Order::kSeqCst>(); });
  add([] { return iriw<Order::kRelaxed>(); });
  add([] { return iriw<Order::kAcqRel>(); });
  add([] { return iriw<Order::kSeqCst>(); });
  add([] { return two_plus_two_w<Order::kRelaxed>(); });
  add([] { return two_plus_two_w<Order::kAcqRel>(); });
  add([] { return two_plus_two_w<Order::kSeqCst>(); });
  add([] { return corr<Order::kRelaxed>(); });
  add([] { return corr<Order::kAcqRel>(); });
  add([] { return corr<Order::kSeqCst>(); });
  return out;
}

}  // namespace cpb::stress::litmus
