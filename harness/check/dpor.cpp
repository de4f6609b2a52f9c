// SPDX-License-Identifier: Apache-2.0
#include "harness/check/dpor.hpp"

#include <algorithm>
#include <bit>

namespace cpb::check::detail {

namespace {

struct Access {
  const void* key = nullptr;
  Role role = Role::kRead;
};

/// The objects `op` touches and how. A condition-variable wait writes the condition variable
/// (it joins its waiters) and releases the mutex; its re-acquisition acquires the mutex and
/// reads nothing else: the notify that woke it happens before it (TraceOrder::woke). A
/// blocked atomic wait touches nothing; its next load reads the atomic again.
std::size_t accesses(const Op& op, std::array<Access, 2>& out) {
  if (op.buffering == Buffering::kStore) return 0;  // memory sees it when it flushes
  const Role plain = op.write ? Role::kWrite : Role::kRead;
  switch (op.kind) {
    case OpKind::kCvWait:
      out = {Access{op.obj, Role::kWrite}, Access{op.obj2, Role::kRelease}};
      return 2;
    case OpKind::kCvReacquire:
    case OpKind::kLock:
      out[0] = {op.obj, Role::kAcquire};
      return 1;
    case OpKind::kLockShared:
      out[0] = {op.obj, Role::kAcquireShared};
      return 1;
    case OpKind::kUnlock:
      out[0] = {op.obj, Role::kRelease};
      return 1;
    case OpKind::kUnlockShared:
      out[0] = {op.obj, Role::kReleaseShared};
      return 1;
    case OpKind::kWaitBlocked:
      return 0;
    default:
      break;
  }
  std::size_t n = 0;
  for (const void* key : {op.obj, op.obj2}) {
    if (key != nullptr) out[n++] = {key, plain};
  }
  return n;
}

}  // namespace

void TraceOrder::reset(bool bounded) {
  bounded_ = bounded;
  events_.clear();
  objects_.clear();
  block_writes_.clear();
  slot_of_.fill(0);
  pid_of_.clear();
  for (auto& l : by_slot_) l.clear();
  for (auto& c : clocks_) c.clear();
  for (auto& c : wake_) c.clear();
  yields_.clear();
  std::fill(yield_seen_.begin(), yield_seen_.end(), 0);
  for (auto& l : stores_) l.clear();
  std::fill(flushed_.begin(), flushed_.end(), 0);
}

unsigned TraceOrder::slot(unsigned pid) {
  if (slot_of_[pid] != 0) return static_cast<unsigned>(slot_of_[pid] - 1);
  const auto s = static_cast<unsigned>(pid_of_.size());
  pid_of_.push_back(pid);
  slot_of_[pid] = static_cast<std::int16_t>(s + 1);
  if (by_slot_.size() <= s) {  // kept, cleared, across executions
    by_slot_.emplace_back();
    clocks_.emplace_back();
    wake_.emplace_back();
    yield_seen_.push_back(0);
    stores_.emplace_back();
    flushed_.push_back(0);
  }
  return s;
}

void TraceOrder::spawned(unsigned child, unsigned parent) {
  const unsigned p = slot(parent);
  const unsigned c = slot(child);  // may grow clocks_: before taking references
  clocks_[c] = clocks_[p];
}

TraceOrder::Object& TraceOrder::get(const void* key) {
  // A handful of objects per test: a linear search, newest first, beats hashing.
  for (auto it = objects_.rbegin(); it != objects_.rend(); ++it) {
    if (it->key == key) return *it;
  }
  Object& o = objects_.emplace_back();
  o.key = key;
  // A block freed (or handed out again) before the object's first access was written then.
  for (const BlockWrite& b : block_writes_) {
    if (!std::less_equal<>{}(b.lo, key) || !std::less<>{}(key, b.hi)) continue;
    const Event& ev = events_[b.event];
    o.written = ev.clock;
    o.read = ev.clock;
    if (o.last.size() <= ev.slot) o.last.resize(ev.slot + 1U);
    const auto e = static_cast<std::int32_t>(b.event);
    o.last[ev.slot] = {e, e, e, e};
  }
  return o;
}

void TraceOrder::conflicts(const Object& o, Role role, unsigned s,
                           std::vector<std::uint32_t>& out) const {
  const Clock& mine = clocks_[s];
  for (unsigned u = 0; u < o.last.size(); ++u) {
    if (u == s) continue;
    // A write conflicts with every access, a read only with writes, an acquisition with
    // every access but the releases it cannot run beside. A process's latest such event is
    // the only candidate: its earlier ones happen before it, so not directly before.
    const Last& l = o.last[u];
    std::int32_t e = l.access;
    if (role == Role::kRead) e = l.write;
    if (role == Role::kAcquire) e = l.not_release;
    if (role == Role::kAcquireShared) e = l.not_exclusive_release;
    // Under a preemption bound an acquisition races with the unlock too: trying to lock while
    // the holder still holds blocks, and a switch away from a blocked thread is free, which
    // can bring a schedule within the bound.
    const bool acquire = role == Role::kAcquire || role == Role::kAcquireShared;
    if (acquire && bounded_ && l.access != e && l.access >= 0 &&
        events_[static_cast<std::size_t>(l.access)].local > mine[u]) {
      out.push_back(static_cast<std::uint32_t>(l.access));
    }
    if (e >= 0 && events_[static_cast<std::size_t>(e)].local > mine[u]) {
      out.push_back(static_cast<std::uint32_t>(e));
    }
  }
}

void TraceOrder::access(Object& o, Role role, unsigned s, std::int32_t event) {
  const Clock& c = clocks_[s];
  if (o.last.size() <= s) o.last.resize(s + 1);
  Last& l = o.last[s];
  if (role != Role::kRead) {
    o.written = c;
    o.read = c;
    l.write = event;
  } else {
    o.read.join(c);
  }
  l.access = event;
  if (role != Role::kRelease && role != Role::kReleaseShared) l.not_release = event;
  if (role != Role::kRelease) l.not_exclusive_release = event;
}

void TraceOrder::yield_races(const Op& op, unsigned s) {
  const Clock& c = clocks_[s];
  // A fair yield gives way to the threads that can run, until each takes a step: which of
  // their steps come before it changes what the yielding thread may do next. It races with
  // the latest event of every other process that does not happen before it ...
  if (fair_yield(op)) {
    for (unsigned u = 0; u < by_slot_.size(); ++u) {
      if (u == s || by_slot_[u].empty()) continue;
      const std::uint32_t e = by_slot_[u].back();
      if (events_[e].local > c[u]) races_.push_back(e);
    }
  }
  // ... and with the first event of every other process after it (that event ends the giving
  // way; the process's later events follow it in program order).
  for (std::size_t i = yield_seen_[s]; i < yields_.size(); ++i) {
    const Event& y = events_[yields_[i]];
    if (y.slot != s && y.local > c[y.slot]) races_.push_back(yields_[i]);
  }
  yield_seen_[s] = yields_.size();
}

void TraceOrder::woke(unsigned waker, unsigned woken) {
  const unsigned w = slot(waker);
  const unsigned v = slot(woken);
  wake_[v].join(clocks_[w]);
}

void TraceOrder::ran(unsigned pid, const Op& op, int joined, int tag, const OnRace& on_race) {
  const unsigned s = slot(pid);
  // What made the step possible happens before it: the thread it joined, the notify that woke
  // it. Nothing before those can be reversed with the step.
  if (joined >= 0) {
    const unsigned j = slot(static_cast<unsigned>(joined));
    clocks_[s].join(clocks_[j]);
  }
  // TSO: a flush happens after the store it writes, and the steps that drain a buffer after
  // every flush of it (the buffer's earlier flushes happen before its later ones).
  if (pid >= kFlushBase) {
    const unsigned t = slot(pid - kFlushBase);
    if (flushed_[t] < stores_[t].size()) {
      clocks_[s].join(events_[stores_[t][flushed_[t]++]].clock);
    }
  } else if (op.buffering == Buffering::kDrainOwn || op.buffering == Buffering::kDrainAll) {
    if (slot_of_[kFlushBase + pid] != 0) {
      clocks_[s].join(clocks_[static_cast<unsigned>(slot_of_[kFlushBase + pid] - 1)]);
    }
  }
  Clock& c = clocks_[s];
  c.join(wake_[s]);
  wake_[s].clear();
  // Look the objects up once; by index, since a second get() may grow the vector.
  std::array<Access, 2> acc{};
  const std::size_t n = accesses(op, acc);
  std::array<std::size_t, 2> at{};
  for (std::size_t i = 0; i < n; ++i) {
    at[i] = static_cast<std::size_t>(&get(acc[i].key) - objects_.data());
  }
  races_.clear();
  acquired_.clear();
  for (std::size_t i = 0; i < n; ++i) {
    const bool acquire = acc[i].role == Role::kAcquire || acc[i].role == Role::kAcquireShared;
    conflicts(objects_[at[i]], acc[i].role, s, acquire ? acquired_ : races_);
  }
  yield_races(op, s);
  const std::uint32_t local = c.tick(s);
  for (std::size_t i = 0; i < n; ++i) {
    c.join(objects_[at[i]].written);
    if (acc[i].role != Role::kRead) c.join(objects_[at[i]].read);  // after every earlier access
  }
  const auto index = static_cast<std::uint32_t>(events_.size());
  events_.push_back({static_cast<std::uint16_t>(s), local, tag, c});
  by_slot_[s].push_back(index);
  if (op.buffering == Buffering::kStore) stores_[s].push_back(index);
  for (std::size_t i = 0; i < n; ++i) {
    access(objects_[at[i]], acc[i].role, s, static_cast<std::int32_t>(index));
  }
  if (fair_yield(op)) yields_.push_back(index);
  report(races_, index, on_race);
  // The race of an acquisition with the holder's is direct even where the holder's later
  // events come between: they are ordered before the acquisition only through its unlock,
  // which the acquisition never races with.
  for (const std::uint32_t e : acquired_) {
    if (std::find(races_.begin(), races_.end(), e) != races_.end()) continue;
    prepare(e, index);
    on_race(e);
  }
}

void TraceOrder::wrote(unsigned pid, const void* lo, const void* hi, const void* key,
                       const OnRace& on_race) {
  const unsigned s = slot(pid);
  if (by_slot_[s].empty()) return;  // before the process's first event: nothing runs beside
  const std::uint32_t me = by_slot_[s].back();
  const auto hit = [&](const Object& o) {
    return o.key == key || (std::less_equal<>{}(lo, o.key) && std::less<>{}(o.key, hi));
  };
  if (key != nullptr) get(key);
  races_.clear();
  for (const Object& o : objects_) {
    if (hit(o)) conflicts(o, Role::kWrite, s, races_);
  }
  for (const Object& o : objects_) {
    if (hit(o)) clocks_[s].join(o.read);  // after every earlier access
  }
  events_[me].clock = clocks_[s];
  for (Object& o : objects_) {
    if (hit(o)) access(o, Role::kWrite, s, static_cast<std::int32_t>(me));
  }
  block_writes_.push_back({lo, hi, me});
  report(races_, me, on_race);
}

void TraceOrder::accessed(unsigned pid, const void* key, bool write, const OnRace& on_race) {
  const unsigned s = slot(pid);
  if (by_slot_[s].empty()) return;
  const std::uint32_t me = by_slot_[s].back();
  Object& o = get(key);
  races_.clear();
  conflicts(o, write ? Role::kWrite : Role::kRead, s, races_);
  clocks_[s].join(o.written);
  if (write) clocks_[s].join(o.read);
  events_[me].clock = clocks_[s];
  access(o, write ? Role::kWrite : Role::kRead, s, static_cast<std::int32_t>(me));
  report(races_, me, on_race);
}

namespace {
constexpr std::uint32_t kNone = ~std::uint32_t{0};
}  // namespace

void TraceOrder::prepare(std::uint32_t e, std::uint32_t later) const {
  const Event& ev = events_[e];
  const unsigned racer = events_[later].slot;
  const auto n = static_cast<unsigned>(pid_of_.size());
  later_ = later;
  first_.assign(n, kNone);
  first_local_.assign(n, kNone);
  for (unsigned q = 0; q < n; ++q) {
    const auto& list = by_slot_[q];
    const auto it = std::upper_bound(list.begin(), list.end(), e);
    if (it == list.end() || *it > later) continue;
    if (q != racer && events_[*it].clock[ev.slot] >= ev.local) continue;
    first_[q] = *it;
    first_local_[q] = events_[*it].local;
  }
}

bool TraceOrder::initial(unsigned pid, bool before_later) const {
  if (slot_of_[pid] == 0) return false;
  const auto q = static_cast<unsigned>(slot_of_[pid] - 1);
  if (q >= first_.size() || first_[q] == kNone) return false;
  const Event& later = events_[later_];
  if (before_later && q != later.slot && later.clock[q] < first_local_[q]) return false;
  // No other process's first event in the reversal happens before q's.
  const Clock& c = events_[first_[q]].clock;
  for (unsigned u = 0; u < first_local_.size(); ++u) {
    if (u != q && c[u] >= first_local_[u]) return false;
  }
  return true;
}

void TraceOrder::report(std::vector<std::uint32_t>& races, std::uint32_t later,
                        const OnRace& on_race) const {
  // Only direct races count: a conflicting event that happens before another one (found
  // through the other object of the operation, or an older access of the same object) is
  // ordered before `later` through it. Newest first, each kept event's clock covers the
  // older ones it orders.
  std::sort(races.begin(), races.end(), std::greater<>());
  races.erase(std::unique(races.begin(), races.end()), races.end());
  covered_.clear();
  for (const std::uint32_t e : races) {
    const Event& ev = events_[e];
    if (covered_[ev.slot] >= ev.local) continue;
    // A race with a yield orders nothing (the yield is not a predecessor of `later`), so it
    // covers nothing.
    if (events_[later].clock[ev.slot] >= ev.local) covered_.join(ev.clock);
    prepare(e, later);
    on_race(e);
  }
}

int TraceOrder::last_switch_before(std::uint32_t event) const {
  // Between threads: the flushes of a store buffer are the memory system acting (TSO), not a
  // thread that another one preempts.
  int later = -1;  // the next thread event after e, before `event`
  for (std::uint32_t e = event; e-- > 0;) {
    if (pid_of_[events_[e].slot] >= kFlushBase) continue;
    const auto l = static_cast<std::size_t>(later);
    if (later >= 0 && events_[l].slot != events_[e].slot && events_[l].tag >= 0) return later;
    later = static_cast<int>(e);
  }
  return -1;
}

}  // namespace cpb::check::detail
