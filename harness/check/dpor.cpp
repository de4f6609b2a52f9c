// SPDX-License-Identifier: Apache-2.0
#include "harness/check/dpor.hpp"

#include <algorithm>
#include <bit>

namespace cpb::check::detail {

namespace {

/// How an operation touches one object, as the happens-before order sees it.
enum class Role : std::uint8_t {
  kRead,
  kWrite,
  /// A lock that blocks while the lock is held: no unlock of the same lock can run beside it,
  /// so the two are never reversed; the race is with the holder's own acquisition.
  kAcquire,
  /// An unlock, or the unlock inside a condition-variable wait: a write that a blocking
  /// acquisition does not race with.
  kRelease,
};
struct Access {
  const void* key = nullptr;
  Role role = Role::kRead;
};

/// The objects `op` touches and how. A condition-variable wait writes the condition variable
/// (it joins its waiters) and releases the mutex; its re-acquisition acquires the mutex and
/// reads nothing else: the notify that woke it happens before it (TraceOrder::woke). A
/// blocked atomic wait touches nothing; its next load reads the atomic again.
std::size_t accesses(const Op& op, std::array<Access, 2>& out) {
  const Role plain = op.write ? Role::kWrite : Role::kRead;
  switch (op.kind) {
    case OpKind::kCvWait:
      out = {Access{op.obj, Role::kWrite}, Access{op.obj2, Role::kRelease}};
      return 2;
    case OpKind::kCvReacquire:
    case OpKind::kLock:
    case OpKind::kLockShared:
      out[0] = {op.obj, Role::kAcquire};
      return 1;
    case OpKind::kUnlock:
    case OpKind::kUnlockShared:
      out[0] = {op.obj, Role::kRelease};
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

void TraceOrder::reset() {
  events_.clear();
  for (auto& l : by_thread_) l.clear();
  objects_.clear();
  for (auto& c : clocks_) c.clear();
  for (auto& c : wake_) c.clear();
}

void TraceOrder::spawned(unsigned child, unsigned parent) { clocks_[child] = clocks_[parent]; }

TraceOrder::Object& TraceOrder::get(const void* key) {
  // A handful of objects per test: a linear search, newest first, beats hashing.
  for (auto it = objects_.rbegin(); it != objects_.rend(); ++it) {
    if (it->key == key) return *it;
  }
  Object& o = objects_.emplace_back();
  o.key = key;
  o.last_write.fill(-1);
  o.last_access.fill(-1);
  o.last_not_release.fill(-1);
  return o;
}

void TraceOrder::conflicts(const Object& o, bool write, bool acquire, unsigned tid,
                           std::vector<std::uint32_t>& out) const {
  for (unsigned u = 0; u < kMaxThreads; ++u) {
    if (u == tid) continue;
    // A write conflicts with every access, a read only with writes. A thread's latest such
    // event is the only candidate: its earlier ones happen before it, so not directly before.
    const std::int32_t e =
        acquire ? o.last_not_release[u] : (write ? o.last_access[u] : o.last_write[u]);
    if (e >= 0 && events_[static_cast<std::size_t>(e)].local > clocks_[tid].c[u]) {
      out.push_back(static_cast<std::uint32_t>(e));
    }
  }
}

void TraceOrder::access(Object& o, bool write, bool release, unsigned tid, std::int32_t event) {
  const VectorClock& c = clocks_[tid];
  if (write) {
    o.written = c;
    o.read = c;
    o.last_write[tid] = event;
  } else {
    o.read.join(c);
  }
  o.last_access[tid] = event;
  if (!release) o.last_not_release[tid] = event;
}

void TraceOrder::woke(unsigned waker, unsigned woken) { wake_[woken].join(clocks_[waker]); }

void TraceOrder::ran(unsigned tid, const Op& op, int joined, int tag, const OnRace& on_race) {
  VectorClock& c = clocks_[tid];
  // What made the step possible happens before it: the thread it joined, the notify that woke
  // it. Nothing before those can be reversed with the step.
  if (joined >= 0) c.join(clocks_[static_cast<unsigned>(joined)]);
  c.join(wake_[tid]);
  wake_[tid].clear();
  // Look the objects up once; by index, since a second get() may grow the vector.
  std::array<Access, 2> acc{};
  const std::size_t n = accesses(op, acc);
  std::array<std::size_t, 2> at{};
  for (std::size_t i = 0; i < n; ++i) {
    at[i] = static_cast<std::size_t>(&get(acc[i].key) - objects_.data());
  }
  races_.clear();
  for (std::size_t i = 0; i < n; ++i) {
    conflicts(objects_[at[i]], acc[i].role != Role::kRead, acc[i].role == Role::kAcquire, tid,
              races_);
  }
  const std::uint32_t local = ++c.c[tid];
  for (std::size_t i = 0; i < n; ++i) {
    c.join(objects_[at[i]].written);
    if (acc[i].role != Role::kRead) c.join(objects_[at[i]].read);  // after every earlier access
  }
  const auto index = static_cast<std::uint32_t>(events_.size());
  events_.push_back({static_cast<std::uint8_t>(tid), local, tag, c});
  by_thread_[tid].push_back(index);
  for (std::size_t i = 0; i < n; ++i) {
    access(objects_[at[i]], acc[i].role != Role::kRead, acc[i].role == Role::kRelease, tid,
           static_cast<std::int32_t>(index));
  }
  report(races_, index, on_race);
}

void TraceOrder::wrote(unsigned tid, const void* lo, const void* hi, const void* key,
                       const OnRace& on_race) {
  if (by_thread_[tid].empty()) return;  // before the thread's first event: nothing runs beside
  const std::uint32_t me = by_thread_[tid].back();
  const auto hit = [&](const Object& o) {
    return o.key == key || (std::less_equal<>{}(lo, o.key) && std::less<>{}(o.key, hi));
  };
  if (key != nullptr) get(key);
  races_.clear();
  for (const Object& o : objects_) {
    if (hit(o)) conflicts(o, true, false, tid, races_);
  }
  for (const Object& o : objects_) {
    if (hit(o)) clocks_[tid].join(o.read);  // after every earlier access
  }
  events_[me].clock = clocks_[tid];
  for (Object& o : objects_) {
    if (hit(o)) access(o, true, false, tid, static_cast<std::int32_t>(me));
  }
  report(races_, me, on_race);
}

std::uint32_t TraceOrder::initials(std::uint32_t e, std::uint32_t later) const {
  const Event& ev = events_[e];
  const unsigned racer = events_[later].tid;
  // Per thread, its first event after e, if that does not happen after e: the events of the
  // reversed order that the thread can start with (the later ones follow it in program order).
  std::array<std::uint32_t, kMaxThreads> first{};
  std::uint32_t present = 0;
  for (unsigned q = 0; q < kMaxThreads; ++q) {
    const auto& list = by_thread_[q];
    const auto it = std::upper_bound(list.begin(), list.end(), e);
    if (it == list.end() || *it > later) continue;
    // The racing thread's first event is in the sequence even where it is `later`, which
    // happens after e only through the race itself.
    if (q != racer && events_[*it].clock.c[ev.tid] >= ev.local) continue;
    first[q] = *it;
    present |= 1U << q;
  }
  std::uint32_t out = 0;
  for (std::uint32_t m = present; m != 0; m &= m - 1) {
    const auto q = static_cast<unsigned>(std::countr_zero(m));
    bool initial = true;
    for (std::uint32_t n = present & ~(1U << q); n != 0 && initial; n &= n - 1) {
      const auto u = static_cast<unsigned>(std::countr_zero(n));
      initial = events_[first[q]].clock.c[u] < events_[first[u]].local;
    }
    if (initial) out |= 1U << q;
  }
  return out;
}

void TraceOrder::report(const std::vector<std::uint32_t>& races, std::uint32_t later,
                        const OnRace& on_race) const {
  for (std::size_t i = 0; i < races.size(); ++i) {
    if (std::find(races.begin(), races.begin() + static_cast<std::ptrdiff_t>(i), races[i]) !=
        races.begin() + static_cast<std::ptrdiff_t>(i)) {
      continue;  // found through both objects of the operation
    }
    on_race(races[i], initials(races[i], later));
  }
}

int TraceOrder::last_switch_before(std::uint32_t event) const {
  for (std::uint32_t e = event; e-- > 1;) {
    if (events_[e].tid != events_[e - 1].tid && events_[e].tag >= 0) return static_cast<int>(e);
  }
  return -1;
}

}  // namespace cpb::check::detail
