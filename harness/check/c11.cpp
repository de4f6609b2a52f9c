// SPDX-License-Identifier: Apache-2.0
/// @file
/// The C11 tier (`Tier::kC11`): the C++ memory model as RC11 (Lahav et al., PLDI'17) states it,
/// without load buffering. Every location keeps its modification order (mo) as a bounded
/// history of stores. A load reads any store of that history it may see, a store goes into
/// mo at any place coherence leaves it, and both are choices of the search (Chooser::pick_waiter,
/// so every strategy makes them and the replay string records them). Loads read only stores
/// that already ran, so no execution has a cycle of program order and reads-from: no load
/// buffering, no out-of-thin-air values (as Relacy and GenMC's RC11 mode).
///
/// Coherence by vector clocks: a thread "knows" a store when it happens before it (the writer's
/// clock entry at the store is covered), or when a read of it does (each store remembers, per
/// thread, the clock entry of the thread's first read). A load may not read a store mo-before
/// the newest store it knows (CoWR, CoRR), a store goes mo-after the newest store its thread
/// knows (CoWW, CoRW). Clock entries tick around every atomic access in this tier, so that they
/// tell accesses apart.
///
/// seq_cst: S is the order in which seq_cst operations run (they are dependent with each other
/// for the reductions, so every order of them is explored). A seq_cst store goes last in mo; a
/// seq_cst load reads the newest seq_cst store of the location or one mo-after it; a seq_cst
/// fence publishes what its thread knows to every later seq_cst fence and load (RC11's
/// psc_fence: hb;eco;hb between fences), and every load after a fence reads at least the last
/// seq_cst store that preceded the fence in S.
#include "harness/check/c11.hpp"

#include <algorithm>

namespace cpb::check::detail {
namespace {

bool acquires(std::memory_order mo) {
  return mo == std::memory_order_acquire || mo == std::memory_order_acq_rel ||
         mo == std::memory_order_seq_cst || mo == std::memory_order_consume;
}
bool releases(std::memory_order mo) {
  return mo == std::memory_order_release || mo == std::memory_order_acq_rel ||
         mo == std::memory_order_seq_cst;
}

}  // namespace

/// The location's state in this execution; its history starts with the initial value.
C11Loc& C11::loc(Engine& e, const AtomicState& a) {
  auto& locs = st(e).locs;
  if (a.id_ >= locs.size()) locs.resize(a.id_ + 1);
  C11Loc& l = locs[a.id_];
  if (l.epoch != e.epoch_) {
    l.epoch = e.epoch_;
    l.mo.resize(1);
    C11Store& init = l.mo.front();
    init.value = a.bits_;
    init.tid = -1;
    init.epoch = 0;
    init.id = 0;
    init.sc_seq = 0;
    init.rmw = false;
    init.clock.clear();
    init.read_by.clear();
    l.next_id = 1;
  }
  return l;
}

/// Whether a thread whose knowledge is `vc` joined with `k` (and `g`, when given) knows `s`.
bool C11::knows(const Engine& e, const C11Store& s, const VectorClock& vc, const VectorClock& k,
                const VectorClock* g) {
  if (s.tid < 0) return true;
  const auto covers = [&](unsigned t, std::uint32_t ep) {
    return vc[t] >= ep || k[t] >= ep || (g != nullptr && (*g)[t] >= ep);
  };
  if (covers(static_cast<unsigned>(s.tid), s.epoch)) return true;
  for (unsigned t = 0; t < e.nthreads_; ++t) {
    const std::uint32_t r = s.read_by[t];
    if (r != 0 && covers(t, r)) return true;
  }
  return false;
}

/// The oldest position of `l.mo` that the current thread may read (`sc`: a seq_cst load)
/// or place a store after.
std::size_t C11::floor(Engine& e, const C11Loc& l, bool sc) {
  auto& s = st(e);
  const auto me = static_cast<unsigned>(e.cur_);
  const VectorClock& vc = e.threads_[me].vc;
  const std::uint64_t fence = s.fence_seq[me];
  std::size_t f = 0;
  for (std::size_t i = l.mo.size(); i-- > 0;) {
    const C11Store& w = l.mo[i];
    if (knows(e, w, vc, s.known[me], sc ? &s.fences : nullptr) ||
        (w.sc_seq != 0 && (sc || w.sc_seq < fence))) {
      f = i;
      break;
    }
  }
  return f;
}

bool C11::rereads(const Engine::Thread& t, const AtomicState& a) {
  return std::any_of(t.prev_reads.begin(), t.prev_reads.end(),
                     [&](const auto& r) { return r.first == &a; });
}

/// Records that the current thread read `w` and takes its clock.
std::uint64_t C11::take(Engine& e, C11Store& w, std::memory_order mo) {
  Engine::Thread& t = e.me();
  const auto me = static_cast<unsigned>(e.cur_);
  if (w.read_by[me] == 0) w.read_by.set(me, t.vc[me]);
  if (acquires(mo)) {
    t.vc.join(w.clock);
  } else {
    t.acq_pending.join(w.clock);  // an acquire fence later joins it
  }
  auto& s = st(e);
  s.rf_id = static_cast<std::int32_t>(w.id);
  s.rf_tid = w.tid;
  return w.value;
}

std::uint64_t C11::load(Engine& e, const AtomicState& a, std::memory_order mo) {
  C11Loc& l = loc(e, a);
  Engine::Thread& t = e.me();
  e.tick(e.cur_);  // this read's own clock entry
  const std::size_t f = floor(e, l, mo == std::memory_order_seq_cst);
  // A spin loop's re-read sees the newest store: stores become visible in finite time, and
  // without this a spinning thread could read the same stale store forever.
  const auto n = static_cast<unsigned>(l.mo.size() - f);
  int k = 0;  // 0: the newest
  if (!rereads(t, a)) {
    std::array<std::uint32_t, 64> ids{};
    for (unsigned i = 0; i < std::min<unsigned>(n, ids.size()); ++i) {
      ids[i] = l.mo[l.mo.size() - 1 - i].id;
    }
    k = e.choose_read(n, ids.data());
    if (k < 0) {
      e.prune();  // returns only where the thread may not throw: it reads the newest
      k = 0;
    }
  }
  return take(e, l.mo[l.mo.size() - 1 - static_cast<unsigned>(k)], mo);
}

void C11::read_latest(Engine& e, const AtomicState& a, std::memory_order mo) {
  C11Loc& l = loc(e, a);
  e.tick(e.cur_);
  take(e, l.mo.back(), mo);
}

/// Adds a store by the current thread; `rmw`: it read the newest store and goes right after.
void C11::add(Engine& e, const AtomicState& a, std::uint64_t v, std::memory_order mo,
              VectorClock clock, bool rmw) {
  auto& s = st(e);
  C11Loc& l = loc(e, a);
  const auto me = static_cast<unsigned>(e.cur_);
  const bool sc = mo == std::memory_order_seq_cst;
  std::size_t at = l.mo.size();  // insert before this position
  if (!rmw && !sc) {
    // Any place after the newest store this thread knows, but not between a
    // read-modify-write and the store it read.
    const std::size_t f = floor(e, l, false);
    std::array<std::size_t, 64> places{};
    unsigned n = 0;
    for (std::size_t p = l.mo.size(); p > f && n < places.size(); --p) {
      if (p < l.mo.size() && l.mo[p].rmw) continue;
      places[n++] = p;
    }
    at = places[e.choose_waiter(n)];  // 0: last
  }
  C11Store w;
  w.value = v;
  w.tid = static_cast<std::int16_t>(me);
  w.epoch = e.threads_[me].vc[me];
  w.id = l.next_id++;
  w.sc_seq = sc ? ++s.sc_seq : 0;
  w.rmw = rmw;
  w.clock = std::move(clock);
  l.mo.insert(l.mo.begin() + static_cast<std::ptrdiff_t>(at), std::move(w));
  s.rf_id = static_cast<std::int32_t>(l.mo[at].id);
  s.rf_tid = -2;
  s.rf_note = at + 1 < l.mo.size() ? "placed before newer stores in mo" : nullptr;
  // The bound: the oldest stores go (the oldest kept stands in for them).
  const std::size_t keep = std::max(1U, e.cfg_.c11_history);
  if (l.mo.size() > keep) l.mo.erase(l.mo.begin(), l.mo.end() - static_cast<std::ptrdiff_t>(keep));
  e.tick(e.cur_);
  // `bits_` and `clock_` stay those of the newest store in mo (read-modify-writes and the
  // other tiers' code paths read them).
  a.bits_ = l.mo.back().value;
  a.clock_ = l.mo.back().clock;
}

void C11::store(Engine& e, const AtomicState& a, std::uint64_t v, std::memory_order mo) {
  Engine::Thread& t = e.me();
  e.tick(e.cur_);  // this store's own clock entry
  // A relaxed store synchronizes only through an earlier release fence.
  VectorClock clock = releases(mo) ? t.vc : t.rel_fence;
  add(e, a, v, mo, std::move(clock), false);
}

/// The read half: the release sequence goes on (its clock is kept for rmw_write).
void C11::rmw_read(Engine& e, const AtomicState& a, std::memory_order mo) {
  C11Loc& l = loc(e, a);
  Engine::Thread& t = e.me();
  e.tick(e.cur_);
  C11Store& w = l.mo.back();
  take(e, w, mo);
  auto& s = st(e);
  s.rmw_clock = w.clock;
  s.rmw_clock.join(releases(mo) ? t.vc : t.rel_fence);
}

void C11::rmw_write(Engine& e, const AtomicState& a, std::memory_order mo) {
  auto& s = st(e);
  const std::int32_t id = s.rf_id;
  const std::int16_t tid = s.rf_tid;
  add(e, a, a.bits_, mo, s.rmw_clock, true);
  s.rf_id = id;  // the trace shows what it read
  s.rf_tid = tid;
  s.rf_note = nullptr;
}

void C11::fence(Engine& e, std::memory_order mo) {
  if (mo != std::memory_order_seq_cst) return;
  auto& s = st(e);
  const auto me = static_cast<unsigned>(e.cur_);
  VectorClock& k = s.known[me];
  k.join(e.threads_[me].vc);
  s.fences.join(k);
  k.join(s.fences);
  s.fence_seq[me] = ++s.sc_seq;
}

// A load that may read any store it does not know to be overwritten is "reads_any": moving it
// after another thread's store to its location (one that drops no store from the history)
// keeps every store it could read, and adds one. The sleep sets use this (chooser.cpp).
void C11::classify(Engine& e, Decision& d) {
  const std::size_t keep = std::max(1U, e.cfg_.c11_history);
  const auto& locs = e.c11_->locs;
  d.stores = e.c11_stores_.data();
  d.allowed.for_each([&](unsigned t) {
    if (t >= e.nthreads_) return;  // (no flushes in this tier)
    const Op& op = e.pending_[t];
    const bool load = op.kind == OpKind::kLoad;
    if (!load && op.kind != OpKind::kStore && op.kind != OpKind::kExchange &&
        op.kind != OpKind::kRmw && op.kind != OpKind::kCas) {
      return;
    }
    const auto& a = *static_cast<const AtomicState*>(op.obj);
    // Not yet accessed in this execution: its history is the initial value alone.
    const C11Loc* l = a.id_ < locs.size() && locs[a.id_].epoch == e.epoch_ ? &locs[a.id_] : nullptr;
    if (load && op.sc == 0 && !rereads(e.threads_[t], a)) {
      d.reads_any.set(t);
      e.c11_stores_[t] = l != nullptr ? l->next_id : 1;
    } else if (!load && (l != nullptr ? l->mo.size() : 1) >= keep) {
      d.evicts.set(t);
    }
  });
}

void C11::reset(Engine& e) {
  if (!e.c11_) e.c11_ = std::make_unique<Engine::C11State>();
  Engine::C11State& s = *e.c11_;
  s.known[0].clear();
  s.fence_seq[0] = 0;
  s.fences.clear();
  s.sc_seq = 0;
  s.rf_id = -1;
  s.rf_tid = -1;
  s.rf_note = nullptr;
}

void C11::spawned(Engine& e, unsigned child, unsigned parent) {
  auto& s = st(e);
  s.known[child] = s.known[parent];
  s.fence_seq[child] = s.fence_seq[parent];
}

void C11::joined(Engine& e, unsigned joiner, unsigned target) {
  auto& s = st(e);
  s.known[joiner].join(s.known[target]);
  s.fence_seq[joiner] = std::max(s.fence_seq[joiner], s.fence_seq[target]);
}

void C11::annotate(Engine& e, Event& ev) {
  auto& s = st(e);
  ev.rf_mo = s.rf_id;
  ev.rf_tid = s.rf_tid;
  if (s.rf_note != nullptr && ev.note == nullptr) ev.note = s.rf_note;
  s.rf_id = -1;
  s.rf_tid = -1;
  s.rf_note = nullptr;
}

}  // namespace cpb::check::detail
