// SPDX-License-Identifier: Apache-2.0
/// @file
/// The C11 tier's state (private to the engine): per location, its modification order as a
/// bounded history of stores; per thread, what seq_cst fences taught it; the seq_cst order.
#pragma once

#include "harness/check/engine.hpp"
#include "harness/check/model.hpp"

#include <array>
#include <cstdint>
#include <vector>

namespace cpb::check::detail {

/// One store of a location, as kept in its history.
struct C11Store {
  std::uint64_t value = 0;
  std::int16_t tid = -1;     ///< the writer (-1: the initial value, known to every thread)
  std::uint32_t epoch = 0;   ///< the writer's clock entry at the store
  std::uint32_t id = 0;      ///< stores of a location numbered in the order they ran (0: initial)
  std::uint64_t sc_seq = 0;  ///< position in the seq_cst order S (0: not seq_cst)
  bool rmw = false;          ///< read the store just before it in mo (nothing goes between)
  VectorClock clock;         ///< what an acquire that reads it joins (release sequence)
  VectorClock read_by;       ///< per thread: its clock entry when it first read this store
};

/// One location: its modification order, oldest first, at most Config::c11_history stores.
struct C11Loc {
  std::uint64_t epoch = 0;  ///< the execution it belongs to
  std::uint32_t next_id = 0;
  std::vector<C11Store> mo;
};

struct Engine::C11State {
  std::vector<C11Loc> locs;  ///< by atomic id
  /// Per thread: the coherence knowledge seq_cst fences gave it (beyond its happens-before
  /// clock), and the S position of its latest seq_cst fence.
  std::array<VectorClock, kMaxThreads> known;
  std::array<std::uint64_t, kMaxThreads> fence_seq{};
  VectorClock fences;  ///< the knowledge every seq_cst fence so far published
  std::uint64_t sc_seq = 0;
  VectorClock rmw_clock;    ///< the clock the RMW being made will store
  std::int32_t rf_id = -1;  ///< for the trace: the store the latest load read (or wrote)
  std::int16_t rf_tid = -1;
  const char* rf_note = nullptr;
};

/// The tier's operations (c11.cpp); a friend of Engine, called by its operations when
/// `Engine::c11()`.
struct C11 {
  /// Before each execution.
  static void reset(Engine& e);
  /// A child thread starts with what its parent knows; a join learns what the thread knew.
  static void spawned(Engine& e, unsigned child, unsigned parent);
  static void joined(Engine& e, unsigned joiner, unsigned target);
  static std::uint64_t load(Engine& e, const AtomicState& a, std::memory_order mo);
  /// A compare-exchange that fails, or an atomic wait: reads the newest store.
  static void read_latest(Engine& e, const AtomicState& a, std::memory_order mo);
  static void store(Engine& e, const AtomicState& a, std::uint64_t v, std::memory_order mo);
  /// The two halves of a read-modify-write (or a successful compare-exchange): it reads the
  /// newest store in mo, and its store goes right after it.
  static void rmw_read(Engine& e, const AtomicState& a, std::memory_order mo);
  static void rmw_write(Engine& e, const AtomicState& a, std::memory_order mo);
  static void fence(Engine& e, std::memory_order mo);
  /// Fills the reads-from fields of the event just recorded.
  static void annotate(Engine& e, Event& ev);
  /// Decision::reads_any and Decision::evicts for the threads of `d.allowed`.
  static void classify(Engine& e, Decision& d);

 private:
  static Engine::C11State& st(Engine& e) { return *e.c11_; }
  static C11Loc& loc(Engine& e, const AtomicState& a);
  static bool knows(const Engine& e, const C11Store& s, const VectorClock& vc, const VectorClock& k,
                    const VectorClock* g);
  static std::size_t floor(Engine& e, const C11Loc& l, bool sc);
  /// A spin loop's re-read: `t` read `a` in the iteration before its latest yield or pause.
  static bool rereads(const Engine::Thread& t, const AtomicState& a);
  static std::uint64_t take(Engine& e, C11Store& w, std::memory_order mo);
  static void add(Engine& e, const AtomicState& a, std::uint64_t v, std::memory_order mo,
                  VectorClock clock, bool rmw);
};

}  // namespace cpb::check::detail
