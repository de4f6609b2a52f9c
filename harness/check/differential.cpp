// SPDX-License-Identifier: Apache-2.0
// Differential testing of the checker's reductions: generator, text form, interpreter,
// comparator, shrinker and the campaign driver shared by the gtest and `cpb_check_diff`.
#include "harness/check/differential.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <charconv>
#include <chrono>
#include <memory>
#include <mutex>
#include <optional>
#include <shared_mutex>
#include <stdexcept>
#include <thread>
#include <utility>

namespace cpb::check::diff {
namespace {

using S = Sync;
using cpb::check::to_string;  // the memory order names (diff has to_string overloads of its own)
using std::memory_order;

// ---- names ----------------------------------------------------------------------------------

constexpr std::array<std::string_view, static_cast<std::size_t>(OpCode::kCount)> kOpNames = {
    "load",
    "store",
    "exchange",
    "cas_strong",
    "cas_weak",
    "fetch_add",
    "fetch_sub",
    "fetch_and",
    "fetch_or",
    "fetch_xor",
    "wait",
    "notify_one",
    "notify_all",
    "spin_yield",
    "spin_pause",
    "cell_read",
    "cell_write",
    "lock",
    "try_lock",
    "lock_exclusive",
    "lock_shared",
    "try_lock_exclusive",
    "try_lock_shared",
    "cv_wait",
    "cv_wait_pred",
    "cv_wait_loop",
    "cv_wait_for",
    "cv_wait_for_pred",
    "cv_notify_one",
    "cv_notify_all",
    "fence",
    "yield",
    "pause",
    "spawn",
    "create",
    "take",
    "read_obj",
    "obj_load",
    "obj_store",
    "replace"};
static_assert(!kOpNames.back().empty(), "a name for every OpCode");

constexpr std::array<memory_order, 6> kAllOrders = {
    std::memory_order_relaxed, std::memory_order_consume, std::memory_order_acquire,
    std::memory_order_release, std::memory_order_acq_rel, std::memory_order_seq_cst};
constexpr std::array<memory_order, 4> kLoadOrders = {
    std::memory_order_relaxed, std::memory_order_consume, std::memory_order_acquire,
    std::memory_order_seq_cst};
constexpr std::array<memory_order, 3> kReleasing = {
    std::memory_order_release, std::memory_order_acq_rel, std::memory_order_seq_cst};
constexpr std::array<memory_order, 3> kAcquiring = {
    std::memory_order_acquire, std::memory_order_acq_rel, std::memory_order_seq_cst};
constexpr std::array<memory_order, 3> kStoreOrders = {
    std::memory_order_relaxed, std::memory_order_release, std::memory_order_seq_cst};

std::optional<memory_order> order_from(std::string_view s) {
  for (const memory_order mo : kAllOrders) {
    if (to_string(mo) == s) return mo;
  }
  return std::nullopt;
}

template <std::size_t N>
bool legal(const std::array<memory_order, N>& orders, memory_order mo) {
  return std::find(orders.begin(), orders.end(), mo) != orders.end();
}

bool is_atomic_op(OpCode op) { return op <= OpCode::kSpinPause; }
bool is_lock_block(OpCode op) { return op >= OpCode::kLock && op <= OpCode::kTryLockShared; }
bool on_shared_mutex(OpCode op) {
  return op >= OpCode::kLockExclusive && op <= OpCode::kTryLockShared;
}
bool is_block(OpCode op) { return is_lock_block(op) || op == OpCode::kSpawn; }
bool is_cv_wait(OpCode op) { return op >= OpCode::kCvWait && op <= OpCode::kCvWaitForPred; }
bool has_pred(OpCode op) {
  return op == OpCode::kCvWaitPred || op == OpCode::kCvWaitLoop || op == OpCode::kCvWaitForPred;
}

/// How many values an operation records.
int recorded(OpCode op) {
  switch (op) {
    case OpCode::kCasStrong:
    case OpCode::kCasWeak:
      return 2;
    case OpCode::kReadObj:
    case OpCode::kObjLoad:
    case OpCode::kReplace:
    case OpCode::kLoad:
    case OpCode::kExchange:
    case OpCode::kFetchAdd:
    case OpCode::kFetchSub:
    case OpCode::kFetchAnd:
    case OpCode::kFetchOr:
    case OpCode::kFetchXor:
    case OpCode::kSpinYield:
    case OpCode::kSpinPause:
    case OpCode::kCellRead:
    case OpCode::kTryLock:
    case OpCode::kTryLockExclusive:
    case OpCode::kTryLockShared:
    case OpCode::kCvWaitFor:
    case OpCode::kCvWaitForPred:
    case OpCode::kCreate:
    case OpCode::kTake:
      return 1;
    default:
      return 0;
  }
}

/// Final values: the atomics, the cells, the slot (null or not) and its object's value.
constexpr int kFinals = kAtomics + kCells + 2;

int cost(const std::vector<Stmt>& l);
int cost(const Stmt& s) { return 1 + cost(s.body) + cost(s.after); }
int cost(const std::vector<Stmt>& l) {
  int n = 0;
  for (const Stmt& s : l) n += cost(s);
  return n;
}

/// Resets the fields that `s`'s operation does not use, so that equal programs compare equal.
void normalize(std::vector<Stmt>& l);
void normalize(Stmt& s) {
  const OpCode op = s.op;
  const bool atomic = is_atomic_op(op);
  const bool uses_obj = atomic || op == OpCode::kCellRead || op == OpCode::kCellWrite ||
                        op == OpCode::kLock || op == OpCode::kTryLock || is_cv_wait(op) ||
                        op == OpCode::kCvNotifyOne || op == OpCode::kCvNotifyAll;
  const bool uses_v1 =
      (atomic && op != OpCode::kLoad && op != OpCode::kNotifyOne && op != OpCode::kNotifyAll) ||
      op == OpCode::kCellWrite || op == OpCode::kCreate || op == OpCode::kObjStore ||
      op == OpCode::kReplace;
  const bool uses_mo = (atomic && op != OpCode::kNotifyOne && op != OpCode::kNotifyAll) ||
                       op == OpCode::kFence || op == OpCode::kCreate || op == OpCode::kTake ||
                       op == OpCode::kReadObj || op == OpCode::kReplace;
  const bool cas = op == OpCode::kCasStrong || op == OpCode::kCasWeak;
  if (!uses_obj) s.obj = 0;
  if (!uses_v1) s.v1 = 0;
  if (!cas) s.v2 = 0;
  if (!uses_mo) s.mo = std::memory_order_seq_cst;
  if (!cas && op != OpCode::kCreate) s.mo2 = std::memory_order_seq_cst;
  if (!has_pred(op)) s.pred = Pred{};
  if (s.pred.cell) s.pred.mo = std::memory_order_seq_cst;
  normalize(s.body);
  normalize(s.after);
}
void normalize(std::vector<Stmt>& l) {
  for (Stmt& s : l) normalize(s);
}

// ---- generator ------------------------------------------------------------------------------

/// splitmix64: the same programs on every platform.
class Rng {
 public:
  explicit Rng(std::uint64_t seed) : s_(seed) {}
  std::uint64_t next() {
    std::uint64_t z = (s_ += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
  }
  int below(int n) { return static_cast<int>(next() % static_cast<std::uint64_t>(n)); }
  int between(int lo, int hi) { return lo + below(hi - lo + 1); }
  bool chance(int percent) { return below(100) < percent; }
  template <class T, std::size_t N>
  T pick(const std::array<T, N>& a) {
    return a[static_cast<std::size_t>(below(static_cast<int>(N)))];
  }

 private:
  std::uint64_t s_;
};

/// The locks a statement runs under.
struct Held {
  std::array<bool, kMutexes> m{};
  bool sm = false;
  int depth = 0;
  [[nodiscard]] bool any_mutex() const { return std::find(m.begin(), m.end(), true) != m.end(); }
};

/// Something a waiting statement needs another thread to do, or it may wait forever.
struct Debt {
  /// kObject: a thread that loads the slot wants an object in it, and another thread that
  /// frees it.
  enum class Kind : std::uint8_t { kCvNotify, kAtomicNotify, kAtomicWrite, kObject } kind;
  int thread = 0;
  int obj = 0;  ///< condition variable or atomic
  int value = 0;
  bool pred = false;
  Pred p;
};

/// Program sizes: `percent` of the programs have `threads` threads of `lo` to `hi`
/// statements each (a block counts its statements; the stores and notifies that end another
/// thread's waits come on top).
struct Shape {
  int percent;
  int threads;
  int lo;
  int hi;
};

const Shape& pick_shape(Tier tier, Scale scale, int dice) {
  static constexpr std::array<Shape, 2> kScCi = {{{75, 2, 2, 4}, {25, 3, 1, 1}}};
  static constexpr std::array<Shape, 2> kScLong = {{{65, 2, 3, 6}, {35, 3, 1, 2}}};
  static constexpr std::array<Shape, 2> kTsoCi = {{{85, 2, 1, 3}, {15, 3, 1, 1}}};
  static constexpr std::array<Shape, 2> kTsoLong = {{{65, 2, 3, 5}, {35, 3, 1, 2}}};
  // C11 as TSO: each load's reads-from choices multiply the schedules, as the flushes do.
  const auto& shapes = tier == Tier::kSc ? (scale == Scale::kCi ? kScCi : kScLong)
                                         : (scale == Scale::kCi ? kTsoCi : kTsoLong);
  for (const Shape& sh : shapes) {
    if (dice < sh.percent) return sh;
    dice -= sh.percent;
  }
  return shapes.back();
}

class Generator {
 public:
  Generator(std::uint64_t seed, Tier tier, Scale scale)
      : r_(seed ^ 0x5bd1e9955bd1e995ULL), tier_(tier), scale_(scale) {}

  Program run() {
    Program p;
    p.tier = tier_;
    const int spur = r_.below(100);
    p.max_spurious = spur < 55 ? 0 : (spur < 88 ? 1 : 2);
    if (tier_ == Tier::kC11) p.c11_history = r_.chance(50) ? 2 : 4;
    // The unreduced search grows with every scheduling point: two threads of one load each
    // take 19 executions, three take 1,121 (thread 0's spawns and joins interleave too).
    const Shape& sh = pick_shape(tier_, scale_, r_.below(100));
    const int nthreads = sh.threads;
    const int lo = sh.lo;
    const int hi = sh.hi;
    for (thread_ = 0; thread_ < nthreads; ++thread_) {
      p.threads.push_back(list(r_.between(lo, hi), Held{}, true));
    }
    pay_debts(p);
    for (auto& t : p.threads) normalize(t);
    return p;
  }

 private:
  enum class Cat : std::uint8_t {
    kAtomic,
    kAtomicWait,
    kAtomicNotify,
    kSpin,
    kCell,
    kLock,
    kTryLock,
    kShared,
    kCvWait,
    kCvNotify,
    kFence,
    kYield,
    kSpawn,
    kHeap,
  };

  std::vector<Stmt> list(int budget, const Held& held, bool top) {
    std::vector<Stmt> out;
    while (budget > 0) {
      Stmt s = stmt(budget, held, top);
      budget -= cost(s);
      out.push_back(std::move(s));
    }
    // Most pointers that a thread loads from the slot are used a statement or more later, when
    // another thread may have freed the object (a cell access is not a scheduling point, so
    // a use right after the load could not be preempted).
    for (std::size_t i = 0; i + 1 < out.size(); ++i) {
      if (out[i].op != OpCode::kReadObj || !r_.chance(70)) continue;
      Stmt use;
      use.op = r_.chance(60) ? OpCode::kObjLoad : OpCode::kObjStore;
      use.v1 = use.op == OpCode::kObjStore ? r_.between(4, 6) : 0;
      const int at = r_.between(static_cast<int>(i) + 2, static_cast<int>(out.size()));
      out.insert(out.begin() + at, use);
    }
    return out;
  }

  Stmt stmt(int budget, const Held& held, bool top) {
    std::vector<std::pair<Cat, int>> w;
    const bool room = budget >= 2 && held.depth < 2;
    const bool free_mutex = !held.m[0] || !held.m[1];
    if (held.any_mutex()) {
      w = {{Cat::kCell, 25},   {Cat::kCvWait, 18}, {Cat::kCvNotify, 8},
           {Cat::kAtomic, 15}, {Cat::kHeap, 3},    {Cat::kFence, 2},
           {Cat::kYield, 2},   {Cat::kSpin, 1},    {Cat::kAtomicWait, 1}};
      if (room && free_mutex) w.emplace_back(Cat::kLock, 3);
      if (room && !held.sm) w.emplace_back(Cat::kShared, 2);
    } else {
      w = {{Cat::kAtomic, 28}, {Cat::kAtomicWait, 3}, {Cat::kAtomicNotify, 3},
           {Cat::kSpin, 3},    {Cat::kCell, 4},       {Cat::kCvNotify, 4},
           {Cat::kFence, 4},   {Cat::kYield, 3},      {Cat::kHeap, 9}};
      if (room && free_mutex) {
        w.emplace_back(Cat::kLock, 12);
        w.emplace_back(Cat::kTryLock, 5);
      }
      if (room && !held.sm) w.emplace_back(Cat::kShared, 8);
      if (top && budget >= 2) w.emplace_back(Cat::kSpawn, 4);
    }
    int total = 0;
    for (const auto& [c, n] : w) total += n;
    int x = r_.below(total);
    Cat cat = w.front().first;
    for (const auto& [c, n] : w) {
      if (x < n) {
        cat = c;
        break;
      }
      x -= n;
    }
    return make(cat, budget, held);
  }

  int some_atomic() { return r_.below(kAtomics); }

  Stmt atomic_access() {
    Stmt s;
    s.obj = some_atomic();
    const int k = r_.below(100);
    if (k < 22) {
      s.op = OpCode::kLoad;
      s.mo = r_.pick(kLoadOrders);
    } else if (k < 44) {
      s.op = OpCode::kStore;
      s.v1 = r_.between(1, 3);
      s.mo = r_.pick(kStoreOrders);
    } else if (k < 54) {
      s.op = OpCode::kExchange;
      s.v1 = r_.between(0, 3);
      s.mo = r_.pick(kAllOrders);
    } else if (k < 76) {
      s.op = r_.chance(50) ? OpCode::kCasStrong : OpCode::kCasWeak;
      s.v1 = r_.between(0, 2);
      s.v2 = r_.between(1, 3);
      s.mo = r_.pick(kAllOrders);
      s.mo2 = r_.pick(kLoadOrders);
    } else {
      s.op = static_cast<OpCode>(static_cast<int>(OpCode::kFetchAdd) + r_.below(5));
      s.v1 = r_.between(1, 3);
      s.mo = r_.pick(kAllOrders);
    }
    return s;
  }

  Pred pred(int cv) {
    Pred p;
    p.cell = r_.chance(65);
    p.index = p.cell ? (r_.chance(80) ? cv : r_.below(kCells)) : some_atomic();
    p.mo = p.cell ? std::memory_order_seq_cst : r_.pick(kLoadOrders);
    return p;
  }

  Stmt make(Cat cat, int budget, const Held& held) {
    Stmt s;
    switch (cat) {
      case Cat::kAtomic:
        return atomic_access();
      case Cat::kAtomicWait:
        s.op = OpCode::kWait;
        s.obj = some_atomic();
        s.v1 = r_.chance(75) ? 0 : r_.between(1, 2);
        s.mo = r_.pick(kLoadOrders);
        debts_.push_back({Debt::Kind::kAtomicNotify, thread_, s.obj, s.v1 + 1, false, {}});
        return s;
      case Cat::kAtomicNotify:
        s.op = r_.chance(50) ? OpCode::kNotifyOne : OpCode::kNotifyAll;
        s.obj = some_atomic();
        return s;
      case Cat::kSpin:
        s.op = r_.chance(50) ? OpCode::kSpinYield : OpCode::kSpinPause;
        s.obj = some_atomic();
        s.v1 = r_.chance(80) ? 0 : r_.between(1, 2);
        s.mo = r_.pick(kLoadOrders);
        debts_.push_back({Debt::Kind::kAtomicWrite, thread_, s.obj, s.v1 + 1, false, {}});
        return s;
      case Cat::kCell: {
        // A cell is mostly accessed under its own mutex.
        int c = r_.below(kCells);
        for (int i = 0; i < kMutexes; ++i) {
          if (held.m[static_cast<std::size_t>(i)] && r_.chance(85)) c = i;
        }
        s.obj = c;
        s.op = r_.chance(50) ? OpCode::kCellRead : OpCode::kCellWrite;
        s.v1 = r_.between(1, 3);
        return s;
      }
      case Cat::kLock:
      case Cat::kTryLock: {
        int m = r_.below(kMutexes);
        if (held.m[static_cast<std::size_t>(m)]) m = 1 - m;
        s.op = cat == Cat::kLock ? OpCode::kLock : OpCode::kTryLock;
        s.obj = m;
        Held in = held;
        in.m[static_cast<std::size_t>(m)] = true;
        ++in.depth;
        s.body = list(r_.between(1, std::min(3, budget - 1)), in, false);
        return s;
      }
      case Cat::kShared: {
        const int k = r_.below(4);
        s.op = static_cast<OpCode>(static_cast<int>(OpCode::kLockExclusive) + k);
        Held in = held;
        in.sm = true;
        ++in.depth;
        s.body = list(r_.between(1, std::min(3, budget - 1)), in, false);
        return s;
      }
      case Cat::kCvWait: {
        std::vector<int> cvs;
        for (int i = 0; i < kMutexes; ++i) {
          if (held.m[static_cast<std::size_t>(i)]) cvs.push_back(i);
        }
        s.obj = cvs[static_cast<std::size_t>(r_.below(static_cast<int>(cvs.size())))];
        s.op = static_cast<OpCode>(static_cast<int>(OpCode::kCvWait) + r_.below(5));
        if (has_pred(s.op)) s.pred = pred(s.obj);
        debts_.push_back(
            {Debt::Kind::kCvNotify, thread_, s.obj, r_.between(1, 3), has_pred(s.op), s.pred});
        return s;
      }
      case Cat::kCvNotify:
        s.op = r_.chance(50) ? OpCode::kCvNotifyOne : OpCode::kCvNotifyAll;
        s.obj = r_.below(kMutexes);
        for (int i = 0; i < kMutexes; ++i) {
          if (held.m[static_cast<std::size_t>(i)] && r_.chance(80)) s.obj = i;
        }
        return s;
      case Cat::kFence:
        s.op = OpCode::kFence;
        s.mo = r_.pick(kAllOrders);
        return s;
      case Cat::kYield:
        s.op = r_.chance(50) ? OpCode::kYield : OpCode::kPause;
        return s;
      case Cat::kSpawn: {
        s.op = OpCode::kSpawn;
        s.body = list(r_.between(1, std::min(3, budget - 1)), Held{}, false);
        const int left = budget - 1 - cost(s.body);
        if (left > 0) s.after = list(r_.between(0, std::min(2, left)), Held{}, false);
        return s;
      }
      case Cat::kHeap: {
        const int k = r_.below(100);
        if (k < 28) {
          // Publication mostly with the orders it needs, so that more programs get as far as
          // a use after free than stop at a data race on the object.
          s.op = OpCode::kCreate;
          s.v1 = r_.between(1, 3);
          s.mo = r_.chance(60) ? r_.pick(kReleasing) : r_.pick(kAllOrders);
          s.mo2 = r_.pick(kLoadOrders);
        } else if (k < 50) {
          s.op = OpCode::kTake;
          s.mo = r_.chance(60) ? r_.pick(kAcquiring) : r_.pick(kAllOrders);
        } else if (k < 72) {
          s.op = OpCode::kReadObj;
          s.mo = r_.chance(60) ? std::memory_order_acquire : r_.pick(kLoadOrders);
          debts_.push_back({Debt::Kind::kObject, thread_, 0, r_.between(1, 3), false, {}});
        } else if (k < 94) {
          s.op = r_.chance(60) ? OpCode::kObjLoad : OpCode::kObjStore;
          s.v1 = r_.between(4, 6);
        } else {
          s.op = OpCode::kReplace;
          s.v1 = r_.between(1, 3);
          s.mo = r_.pick(kAllOrders);
        }
        return s;
      }
    }
    return s;
  }

  static Stmt notify(OpCode op, int obj) {
    Stmt n;
    n.op = op;
    n.obj = obj;
    return n;
  }

  static bool has_op(const std::vector<Stmt>& l, OpCode op) {
    return std::any_of(l.begin(), l.end(), [op](const Stmt& s) {
      return s.op == op || has_op(s.body, op) || has_op(s.after, op);
    });
  }

  /// A creator first in some thread (unless one exists), and a thread `t` that frees.
  void pay_object(Program& p, const Debt& d, int t) {
    const bool created = std::any_of(p.threads.begin(), p.threads.end(), [](const auto& th) {
      return has_op(th, OpCode::kCreate) || has_op(th, OpCode::kReplace);
    });
    if (!created) {
      Stmt c;
      c.op = OpCode::kCreate;
      c.v1 = d.value;
      c.mo = r_.pick(kReleasing);
      c.mo2 = std::memory_order_relaxed;
      auto& th = p.threads[static_cast<std::size_t>(r_.below(static_cast<int>(p.threads.size())))];
      th.insert(th.begin(), c);
    }
    auto& th = p.threads[static_cast<std::size_t>(t)];
    if (has_op(th, OpCode::kTake)) return;
    Stmt take;
    take.op = OpCode::kTake;
    take.mo = r_.pick(kAcquiring);
    th.insert(th.begin() + r_.below(static_cast<int>(th.size()) + 1), take);
  }

  /// Gives most waits a thread that ends them: a store to what the predicate or spin reads,
  /// and a notify, inside or outside the lock.
  void pay_debts(Program& p) {
    for (const Debt& d : debts_) {
      if (!r_.chance(80)) continue;
      int t = r_.below(static_cast<int>(p.threads.size()) - 1);
      if (t >= d.thread) ++t;
      std::vector<Stmt> sig;
      if (d.kind == Debt::Kind::kObject) {
        pay_object(p, d, t);
        continue;
      }
      if (d.kind == Debt::Kind::kCvNotify) {
        const OpCode op = r_.chance(50) ? OpCode::kCvNotifyOne : OpCode::kCvNotifyAll;
        Stmt write;
        if (d.pred && d.p.cell) {
          write.op = OpCode::kCellWrite;
          write.obj = d.p.index;
          write.v1 = d.value;
        } else if (d.pred) {
          write.op = OpCode::kStore;
          write.obj = d.p.index;
          write.v1 = d.value;
          write.mo = r_.pick(kStoreOrders);
        }
        const bool inside = r_.chance(50);
        const bool locked = (d.pred && d.p.cell) || r_.chance(60);
        Stmt lock;
        lock.op = OpCode::kLock;
        lock.obj = d.obj;
        if (d.pred) (locked ? lock.body : sig).push_back(write);
        if (locked && inside) lock.body.push_back(notify(op, d.obj));
        if (!lock.body.empty()) sig.push_back(lock);
        if (!locked || !inside) sig.push_back(notify(op, d.obj));
      } else {
        Stmt write;
        write.op = OpCode::kStore;
        write.obj = d.obj;
        write.v1 = d.value;
        write.mo = r_.pick(kStoreOrders);
        sig.push_back(write);
        if (d.kind == Debt::Kind::kAtomicNotify) {
          sig.push_back(notify(r_.chance(50) ? OpCode::kNotifyOne : OpCode::kNotifyAll, d.obj));
        }
      }
      auto& th = p.threads[static_cast<std::size_t>(t)];
      const auto at = r_.below(static_cast<int>(th.size()) + 1);
      th.insert(th.begin() + at, sig.begin(), sig.end());
    }
  }

  Rng r_;
  Tier tier_;
  Scale scale_;
  int thread_ = 0;
  std::vector<Debt> debts_;
};

// ---- text form ------------------------------------------------------------------------------

void print_list(const std::vector<Stmt>& l, std::string& out);

std::string pred_text(const Pred& p) {
  return p.cell ? fmt::format("c{}", p.index) : fmt::format("a{}:{}", p.index, to_string(p.mo));
}

void print_stmt(const Stmt& s, std::string& out) {
  const auto on = [&](std::string_view recv, std::string_view method, const std::string& args) {
    out += fmt::format("{}{}.{}({})", recv, s.obj, method, args);
  };
  const auto mo = to_string(s.mo);
  switch (s.op) {
    case OpCode::kLoad:
      return on("a", "load", std::string(mo));
    case OpCode::kStore:
    case OpCode::kExchange:
    case OpCode::kFetchAdd:
    case OpCode::kFetchSub:
    case OpCode::kFetchAnd:
    case OpCode::kFetchOr:
    case OpCode::kFetchXor:
    case OpCode::kWait:
    case OpCode::kSpinYield:
    case OpCode::kSpinPause:
      return on("a", kOpNames[static_cast<std::size_t>(s.op)], fmt::format("{},{}", s.v1, mo));
    case OpCode::kCasStrong:
    case OpCode::kCasWeak:
      return on("a", s.op == OpCode::kCasStrong ? "cas" : "cas_weak",
                fmt::format("{},{},{},{}", s.v1, s.v2, mo, to_string(s.mo2)));
    case OpCode::kNotifyOne:
      return on("a", "notify_one", "");
    case OpCode::kNotifyAll:
      return on("a", "notify_all", "");
    case OpCode::kCellRead:
      return on("c", "load", "");
    case OpCode::kCellWrite:
      return on("c", "store", fmt::format("{}", s.v1));
    case OpCode::kCvWait:
      return on("cv", "wait", "");
    case OpCode::kCvWaitPred:
      return on("cv", "wait", pred_text(s.pred));
    case OpCode::kCvWaitLoop:
      return on("cv", "wait_loop", pred_text(s.pred));
    case OpCode::kCvWaitFor:
      return on("cv", "wait_for", "");
    case OpCode::kCvWaitForPred:
      return on("cv", "wait_for", pred_text(s.pred));
    case OpCode::kCvNotifyOne:
      return on("cv", "notify_one", "");
    case OpCode::kCvNotifyAll:
      return on("cv", "notify_all", "");
    case OpCode::kFence:
      out += fmt::format("fence({})", mo);
      return;
    case OpCode::kYield:
      out += "yield()";
      return;
    case OpCode::kPause:
      out += "pause()";
      return;
    case OpCode::kCreate:
      out += fmt::format("slot.create({},{},{})", s.v1, mo, to_string(s.mo2));
      return;
    case OpCode::kTake:
      out += fmt::format("slot.take({})", mo);
      return;
    case OpCode::kReadObj:
      out += fmt::format("slot.read({})", mo);
      return;
    case OpCode::kReplace:
      out += fmt::format("slot.replace({},{})", s.v1, mo);
      return;
    case OpCode::kObjLoad:
      out += "obj.load()";
      return;
    case OpCode::kObjStore:
      out += fmt::format("obj.store({})", s.v1);
      return;
    case OpCode::kSpawn:
      out += "spawn{";
      print_list(s.body, out);
      out += "}";
      for (const Stmt& a : s.after) {
        out += ' ';
        print_stmt(a, out);
      }
      out += " join()";
      return;
    case OpCode::kLock:
    case OpCode::kTryLock:
    case OpCode::kLockExclusive:
    case OpCode::kLockShared:
    case OpCode::kTryLockExclusive:
    case OpCode::kTryLockShared: {
      const bool shared = s.op == OpCode::kLockShared || s.op == OpCode::kTryLockShared;
      const bool tried = s.op == OpCode::kTryLock || s.op == OpCode::kTryLockExclusive ||
                         s.op == OpCode::kTryLockShared;
      out += fmt::format("{}{}({}){{", tried ? "try_lock" : "lock", shared ? "_shared" : "",
                         on_shared_mutex(s.op) ? std::string("sm") : fmt::format("m{}", s.obj));
      print_list(s.body, out);
      out += "}";
      return;
    }
    case OpCode::kCount:
      break;
  }
}

void print_list(const std::vector<Stmt>& l, std::string& out) {
  for (const Stmt& s : l) {
    out += ' ';
    print_stmt(s, out);
  }
  out += ' ';
}

class Parser {
 public:
  Parser(std::string_view s, int line) : s_(s), line_(line) {}

  std::vector<Stmt> thread() { return list(End::kLine); }

 private:
  enum class End : std::uint8_t { kLine, kBrace, kJoin };

  [[noreturn]] void fail(std::string_view what) const {
    throw std::invalid_argument(fmt::format("line {} column {}: {}", line_, i_ + 1, what));
  }
  /// The statement `head` that starts at column `at` is not one the text form has.
  [[noreturn]] void unknown(std::size_t at, const std::string& head) {
    i_ = at;
    fail(fmt::format("unknown statement '{}'", head));
  }
  void ws() {
    while (i_ < s_.size() && (s_[i_] == ' ' || s_[i_] == '\t' || s_[i_] == '\r')) ++i_;
  }
  void expect(char c) {
    ws();
    if (i_ >= s_.size() || s_[i_] != c) fail(fmt::format("expected '{}'", c));
    ++i_;
  }
  std::string word() {
    ws();
    const std::size_t b = i_;
    while (i_ < s_.size() && (std::isalnum(static_cast<unsigned char>(s_[i_])) != 0 ||
                              s_[i_] == '_' || s_[i_] == '.' || s_[i_] == ':')) {
      ++i_;
    }
    if (b == i_) fail("expected a statement");
    return std::string(s_.substr(b, i_ - b));
  }
  std::vector<std::string> args() {
    expect('(');
    std::vector<std::string> a;
    ws();
    if (i_ < s_.size() && s_[i_] == ')') {
      ++i_;
      return a;
    }
    for (;;) {
      a.push_back(word());
      ws();
      if (i_ < s_.size() && s_[i_] == ',') {
        ++i_;
        continue;
      }
      expect(')');
      return a;
    }
  }

  std::vector<Stmt> list(End end) {
    std::vector<Stmt> out;
    for (;;) {
      ws();
      if (i_ >= s_.size()) {
        if (end == End::kLine) return out;
        fail(end == End::kBrace ? "missing '}'" : "spawn without join()");
      }
      if (s_[i_] == '}') {
        if (end != End::kBrace) fail("unexpected '}'");
        ++i_;
        return out;
      }
      const std::size_t at = i_;
      const std::string head = word();
      if (head == "join") {
        if (end != End::kJoin) {
          i_ = at;
          fail("join() without spawn");
        }
        expect('(');
        expect(')');
        return out;
      }
      out.push_back(stmt(head, at));
    }
  }

  int number(const std::string& a) {
    int v = 0;
    const auto [p, ec] = std::from_chars(a.data(), a.data() + a.size(), v);
    if (ec != std::errc() || p != a.data() + a.size()) fail(fmt::format("bad number '{}'", a));
    return v;
  }
  memory_order order(const std::string& a) {
    const auto mo = order_from(a);
    if (!mo) fail(fmt::format("bad memory order '{}'", a));
    return *mo;
  }
  /// "a1" -> 1 for prefix "a".
  int index(std::string_view a, std::string_view prefix) {
    if (a.substr(0, prefix.size()) != prefix || a.size() == prefix.size()) {
      fail(fmt::format("expected {}N, got '{}'", prefix, a));
    }
    return number(std::string(a.substr(prefix.size())));
  }
  Pred pred(const std::string& a) {
    Pred p;
    if (a.starts_with("c")) {
      p.cell = true;
      p.index = index(a, "c");
      return p;
    }
    const auto colon = a.find(':');
    if (!a.starts_with("a") || colon == std::string::npos) {
      fail(fmt::format("bad predicate '{}' (cN or aN:order)", a));
    }
    p.cell = false;
    p.index = index(std::string_view(a).substr(0, colon), "a");
    p.mo = order(a.substr(colon + 1));
    return p;
  }
  void arity(const std::vector<std::string>& a, std::size_t n, std::string_view what) {
    if (a.size() != n) fail(fmt::format("{} takes {} arguments", what, n));
  }

  Stmt stmt(const std::string& head, std::size_t at) {
    Stmt s;
    if (head == "spawn") {
      s.op = OpCode::kSpawn;
      expect('{');
      s.body = list(End::kBrace);
      s.after = list(End::kJoin);
      return s;
    }
    const std::vector<std::string> a = args();
    if (head == "lock" || head == "try_lock" || head == "lock_shared" ||
        head == "try_lock_shared") {
      arity(a, 1, head);
      const bool sm = a[0] == "sm";
      if (head == "lock") s.op = sm ? OpCode::kLockExclusive : OpCode::kLock;
      if (head == "try_lock") s.op = sm ? OpCode::kTryLockExclusive : OpCode::kTryLock;
      if (head == "lock_shared" || head == "try_lock_shared") {
        if (!sm) fail(fmt::format("{} takes sm", head));
        s.op = head == "lock_shared" ? OpCode::kLockShared : OpCode::kTryLockShared;
      }
      if (!sm) s.obj = index(a[0], "m");
      expect('{');
      s.body = list(End::kBrace);
      return s;
    }
    if (head == "fence") {
      arity(a, 1, head);
      s.op = OpCode::kFence;
      s.mo = order(a[0]);
      return s;
    }
    if (head == "yield" || head == "pause") {
      arity(a, 0, head);
      s.op = head == "yield" ? OpCode::kYield : OpCode::kPause;
      return s;
    }
    const auto dot = head.find('.');
    if (dot == std::string::npos) {
      unknown(at, head);
    }
    const std::string recv = head.substr(0, dot);
    const std::string method = head.substr(dot + 1);
    if (recv == "slot") {
      if (method == "create") {
        arity(a, 3, head);
        s.op = OpCode::kCreate;
        s.v1 = number(a[0]);
        s.mo = order(a[1]);
        s.mo2 = order(a[2]);
      } else if (method == "take" || method == "read") {
        arity(a, 1, head);
        s.op = method == "take" ? OpCode::kTake : OpCode::kReadObj;
        s.mo = order(a[0]);
      } else if (method == "replace") {
        arity(a, 2, head);
        s.op = OpCode::kReplace;
        s.v1 = number(a[0]);
        s.mo = order(a[1]);
      } else {
        unknown(at, head);
      }
      return s;
    }
    if (recv == "obj") {
      if (method == "load") {
        arity(a, 0, head);
        s.op = OpCode::kObjLoad;
      } else if (method == "store") {
        arity(a, 1, head);
        s.op = OpCode::kObjStore;
        s.v1 = number(a[0]);
      } else {
        unknown(at, head);
      }
      return s;
    }
    if (recv.starts_with("cv")) {
      s.obj = index(recv, "cv");
      if (method == "wait" || method == "wait_for") {
        if (a.size() > 1) fail(fmt::format("{} takes 0 or 1 arguments", head));
        const bool timed = method == "wait_for";
        if (a.empty()) {
          s.op = timed ? OpCode::kCvWaitFor : OpCode::kCvWait;
        } else {
          s.op = timed ? OpCode::kCvWaitForPred : OpCode::kCvWaitPred;
          s.pred = pred(a[0]);
        }
      } else if (method == "wait_loop") {
        arity(a, 1, head);
        s.op = OpCode::kCvWaitLoop;
        s.pred = pred(a[0]);
      } else if (method == "notify_one" || method == "notify_all") {
        arity(a, 0, head);
        s.op = method == "notify_one" ? OpCode::kCvNotifyOne : OpCode::kCvNotifyAll;
      } else {
        unknown(at, head);
      }
      return s;
    }
    if (recv.starts_with("c")) {
      s.obj = index(recv, "c");
      if (method == "load") {
        arity(a, 0, head);
        s.op = OpCode::kCellRead;
      } else if (method == "store") {
        arity(a, 1, head);
        s.op = OpCode::kCellWrite;
        s.v1 = number(a[0]);
      } else {
        unknown(at, head);
      }
      return s;
    }
    if (!recv.starts_with("a")) {
      unknown(at, head);
    }
    s.obj = index(recv, "a");
    if (method == "load") {
      arity(a, 1, head);
      s.op = OpCode::kLoad;
      s.mo = order(a[0]);
    } else if (method == "cas" || method == "cas_weak") {
      arity(a, 4, head);
      s.op = method == "cas" ? OpCode::kCasStrong : OpCode::kCasWeak;
      s.v1 = number(a[0]);
      s.v2 = number(a[1]);
      s.mo = order(a[2]);
      s.mo2 = order(a[3]);
    } else if (method == "notify_one" || method == "notify_all") {
      arity(a, 0, head);
      s.op = method == "notify_one" ? OpCode::kNotifyOne : OpCode::kNotifyAll;
    } else {
      static constexpr std::array<OpCode, 10> kValueOps = {
          OpCode::kStore,     OpCode::kExchange, OpCode::kFetchAdd, OpCode::kFetchSub,
          OpCode::kFetchAnd,  OpCode::kFetchOr,  OpCode::kFetchXor, OpCode::kWait,
          OpCode::kSpinYield, OpCode::kSpinPause};
      const auto it = std::find_if(kValueOps.begin(), kValueOps.end(), [&](OpCode op) {
        return kOpNames[static_cast<std::size_t>(op)] == method;
      });
      if (it == kValueOps.end()) {
        unknown(at, head);
      }
      arity(a, 2, head);
      s.op = *it;
      s.v1 = number(a[0]);
      s.mo = order(a[1]);
    }
    return s;
  }

  std::string_view s_;
  std::size_t i_ = 0;
  int line_;
};

// ---- validation -----------------------------------------------------------------------------

std::string check_list(const std::vector<Stmt>& l, const Held& held, int& threads);

std::string check_stmt(const Stmt& s, const Held& held, int& threads) {
  if (s.op >= OpCode::kCount) return "unknown operation";
  const auto name = kOpNames[static_cast<std::size_t>(s.op)];
  const auto bad_order = [&](memory_order mo) {
    return fmt::format("{} with memory order {}", name, to_string(mo));
  };
  if (!is_block(s.op) && (!s.body.empty() || !s.after.empty())) {
    return fmt::format("{} holds statements", name);
  }
  if (s.op != OpCode::kSpawn && !s.after.empty()) return fmt::format("{} has a join part", name);
  if (is_atomic_op(s.op) && (s.obj < 0 || s.obj >= kAtomics)) return "no such atomic";
  if ((s.op == OpCode::kCellRead || s.op == OpCode::kCellWrite) && (s.obj < 0 || s.obj >= kCells)) {
    return "no such cell";
  }
  if ((s.op == OpCode::kLock || s.op == OpCode::kTryLock || is_cv_wait(s.op) ||
       s.op == OpCode::kCvNotifyOne || s.op == OpCode::kCvNotifyAll) &&
      (s.obj < 0 || s.obj >= kMutexes)) {
    return "no such mutex or condition variable";
  }
  switch (s.op) {
    case OpCode::kLoad:
    case OpCode::kWait:
    case OpCode::kSpinYield:
    case OpCode::kSpinPause:
    case OpCode::kReadObj:
      if (!legal(kLoadOrders, s.mo)) return bad_order(s.mo);
      break;
    case OpCode::kStore:
      if (!legal(kStoreOrders, s.mo)) return bad_order(s.mo);
      break;
    case OpCode::kCasStrong:
    case OpCode::kCasWeak:
    case OpCode::kCreate:
      if (!legal(kLoadOrders, s.mo2)) return bad_order(s.mo2);
      break;
    default:
      break;
  }
  if (has_pred(s.op)) {
    if (s.pred.index < 0 || s.pred.index >= (s.pred.cell ? kCells : kAtomics)) {
      return "predicate on no such variable";
    }
    if (!s.pred.cell && !legal(kLoadOrders, s.pred.mo)) return bad_order(s.pred.mo);
  }
  if (is_cv_wait(s.op) && !held.m[static_cast<std::size_t>(s.obj)]) {
    return fmt::format("cv{} waits without holding m{}", s.obj, s.obj);
  }
  Held in = held;
  ++in.depth;
  if (s.op == OpCode::kLock || s.op == OpCode::kTryLock) {
    if (held.m[static_cast<std::size_t>(s.obj)]) return fmt::format("m{} taken twice", s.obj);
    in.m[static_cast<std::size_t>(s.obj)] = true;
  } else if (on_shared_mutex(s.op)) {
    if (held.sm) return "sm taken twice";
    in.sm = true;
  }
  if (s.op == OpCode::kSpawn) {
    if (++threads > static_cast<int>(kMaxThreads) - 1) return "too many threads";
    std::string e = check_list(s.body, Held{}, threads);
    if (e.empty()) e = check_list(s.after, held, threads);
    return e;
  }
  return check_list(s.body, in, threads);
}

std::string check_list(const std::vector<Stmt>& l, const Held& held, int& threads) {
  for (const Stmt& s : l) {
    std::string e = check_stmt(s, held, threads);
    if (!e.empty()) return e;
  }
  return {};
}

// ---- features -------------------------------------------------------------------------------

void count_list(const std::vector<Stmt>& l, const Held& held,
                std::map<std::string, std::uint64_t>& counts) {
  for (const Stmt& s : l) {
    const std::string name(kOpNames[static_cast<std::size_t>(s.op)]);
    ++counts[name];
    switch (s.op) {
      case OpCode::kCasStrong:
      case OpCode::kCasWeak:
      case OpCode::kCreate:
        ++counts[fmt::format("{}.success.{}", name, to_string(s.mo))];
        ++counts[fmt::format("{}.failure.{}", name, to_string(s.mo2))];
        break;
      case OpCode::kLoad:
      case OpCode::kStore:
      case OpCode::kExchange:
      case OpCode::kFetchAdd:
      case OpCode::kFetchSub:
      case OpCode::kFetchAnd:
      case OpCode::kFetchOr:
      case OpCode::kFetchXor:
      case OpCode::kWait:
      case OpCode::kSpinYield:
      case OpCode::kSpinPause:
      case OpCode::kFence:
      case OpCode::kTake:
      case OpCode::kReadObj:
      case OpCode::kReplace:
        ++counts[fmt::format("{}.{}", name, to_string(s.mo))];
        break;
      case OpCode::kCvNotifyOne:
      case OpCode::kCvNotifyAll:
        ++counts[fmt::format("{}.{}", name,
                             held.m[static_cast<std::size_t>(s.obj)] ? "locked" : "unlocked")];
        break;
      default:
        break;
    }
    if (has_pred(s.op)) {
      ++counts[s.pred.cell ? std::string("pred.cell")
                           : fmt::format("pred.atomic.{}", to_string(s.pred.mo))];
    }
    Held in = held;
    if (s.op == OpCode::kLock || s.op == OpCode::kTryLock) {
      in.m[static_cast<std::size_t>(s.obj)] = true;
    }
    count_list(s.body, s.op == OpCode::kSpawn ? Held{} : in, counts);
    count_list(s.after, held, counts);
  }
}

// ---- the interpreter ------------------------------------------------------------------------

struct Obj {
  explicit Obj(int x) : v(x) {}
  S::cell<int> v;
};

/// The shared state, built fresh in every execution.
struct World {
  std::array<S::atomic<int>, kAtomics> a{};
  std::array<S::cell<int>, kCells> c{};
  std::array<S::mutex, kMutexes> m;
  S::shared_mutex sm;
  std::array<S::condition_variable, kMutexes> cv;
  S::atomic<Obj*> slot{nullptr};
};

/// A statement with the first of its fixed record slots.
struct Node {
  const Stmt* s = nullptr;
  int slot = 0;
  std::vector<Node> body;
  std::vector<Node> after;
};

std::vector<Node> compile(const std::vector<Stmt>& l, int& next) {
  std::vector<Node> out;
  out.reserve(l.size());
  for (const Stmt& s : l) {
    Node n;
    n.s = &s;
    n.slot = next;
    next += recorded(s.op);
    n.body = compile(s.body, next);
    n.after = compile(s.after, next);
    out.push_back(std::move(n));
  }
  return out;
}

struct Compiled {
  Program program;
  std::vector<std::vector<Node>> threads;
  int slots = 0;
};

/// Runs statements on one logical thread.
class Runner {
 public:
  Runner(World& w, std::vector<int>& rec) : w_(w), rec_(rec) {}

  void run(const std::vector<Node>& l) {
    for (const Node& n : l) step(n);
  }

 private:
  int& at(const Node& n, int k = 0) { return rec_[static_cast<std::size_t>(n.slot + k)]; }
  S::atomic<int>& atom(int i) { return w_.a[static_cast<std::size_t>(i)]; }
  bool holds(const Pred& p) {
    if (p.cell) return w_.c[static_cast<std::size_t>(p.index)].load() != 0;
    return atom(p.index).load(p.mo) != 0;
  }
  std::unique_lock<S::mutex>& lock_of(int m) { return *locks_[static_cast<std::size_t>(m)]; }
  template <class Lock>
  void locked(const Node& n, Lock& lk, bool record) {
    if (record) at(n) = lk.owns_lock() ? 1 : 0;
    if (lk.owns_lock()) run(n.body);
  }

  void step(const Node& n) {
    const Stmt& s = *n.s;
    switch (s.op) {
      case OpCode::kLoad:
        at(n) = atom(s.obj).load(s.mo);
        return;
      case OpCode::kStore:
        atom(s.obj).store(s.v1, s.mo);
        return;
      case OpCode::kExchange:
        at(n) = atom(s.obj).exchange(s.v1, s.mo);
        return;
      case OpCode::kCasStrong:
      case OpCode::kCasWeak: {
        int e = s.v1;
        const bool ok = s.op == OpCode::kCasStrong
                            ? atom(s.obj).compare_exchange_strong(e, s.v2, s.mo, s.mo2)
                            : atom(s.obj).compare_exchange_weak(e, s.v2, s.mo, s.mo2);
        at(n) = ok ? 1 : 0;
        at(n, 1) = e;
        return;
      }
      case OpCode::kFetchAdd:
        at(n) = atom(s.obj).fetch_add(s.v1, s.mo);
        return;
      case OpCode::kFetchSub:
        at(n) = atom(s.obj).fetch_sub(s.v1, s.mo);
        return;
      case OpCode::kFetchAnd:
        at(n) = atom(s.obj).fetch_and(s.v1, s.mo);
        return;
      case OpCode::kFetchOr:
        at(n) = atom(s.obj).fetch_or(s.v1, s.mo);
        return;
      case OpCode::kFetchXor:
        at(n) = atom(s.obj).fetch_xor(s.v1, s.mo);
        return;
      case OpCode::kWait:
        atom(s.obj).wait(s.v1, s.mo);
        return;
      case OpCode::kNotifyOne:
        atom(s.obj).notify_one();
        return;
      case OpCode::kNotifyAll:
        atom(s.obj).notify_all();
        return;
      case OpCode::kSpinYield:
      case OpCode::kSpinPause: {
        int x = 0;
        while ((x = atom(s.obj).load(s.mo)) == s.v1) {
          if (s.op == OpCode::kSpinYield) {
            S::yield();
          } else {
            S::pause();
          }
        }
        at(n) = x;
        return;
      }
      case OpCode::kCellRead:
        at(n) = w_.c[static_cast<std::size_t>(s.obj)].load();
        return;
      case OpCode::kCellWrite:
        w_.c[static_cast<std::size_t>(s.obj)].store(s.v1);
        return;
      case OpCode::kLock:
      case OpCode::kTryLock: {
        const auto m = static_cast<std::size_t>(s.obj);
        std::unique_lock<S::mutex> lk = s.op == OpCode::kLock
                                            ? std::unique_lock<S::mutex>(w_.m[m])
                                            : std::unique_lock<S::mutex>(w_.m[m], std::try_to_lock);
        std::unique_lock<S::mutex>* prev = std::exchange(locks_[m], &lk);
        locked(n, lk, s.op == OpCode::kTryLock);
        locks_[m] = prev;
        return;
      }
      case OpCode::kLockExclusive: {
        std::unique_lock<S::shared_mutex> lk(w_.sm);
        locked(n, lk, false);
        return;
      }
      case OpCode::kTryLockExclusive: {
        std::unique_lock<S::shared_mutex> lk(w_.sm, std::try_to_lock);
        locked(n, lk, true);
        return;
      }
      case OpCode::kLockShared: {
        std::shared_lock<S::shared_mutex> lk(w_.sm);
        locked(n, lk, false);
        return;
      }
      case OpCode::kTryLockShared: {
        std::shared_lock<S::shared_mutex> lk(w_.sm, std::try_to_lock);
        locked(n, lk, true);
        return;
      }
      case OpCode::kCvWait:
        w_.cv[static_cast<std::size_t>(s.obj)].wait(lock_of(s.obj));
        return;
      case OpCode::kCvWaitPred:
        w_.cv[static_cast<std::size_t>(s.obj)].wait(lock_of(s.obj), [&] { return holds(s.pred); });
        return;
      case OpCode::kCvWaitLoop:
        while (!holds(s.pred)) w_.cv[static_cast<std::size_t>(s.obj)].wait(lock_of(s.obj));
        return;
      case OpCode::kCvWaitFor:
        at(n) = w_.cv[static_cast<std::size_t>(s.obj)].wait_for(
                    lock_of(s.obj), std::chrono::milliseconds(1)) == std::cv_status::timeout
                    ? 1
                    : 0;
        return;
      case OpCode::kCvWaitForPred:
        at(n) = w_.cv[static_cast<std::size_t>(s.obj)].wait_for(
                    lock_of(s.obj), std::chrono::milliseconds(1), [&] { return holds(s.pred); })
                    ? 1
                    : 0;
        return;
      case OpCode::kCvNotifyOne:
        w_.cv[static_cast<std::size_t>(s.obj)].notify_one();
        return;
      case OpCode::kCvNotifyAll:
        w_.cv[static_cast<std::size_t>(s.obj)].notify_all();
        return;
      case OpCode::kFence:
        S::fence(s.mo);
        return;
      case OpCode::kYield:
        S::yield();
        return;
      case OpCode::kPause:
        S::pause();
        return;
      case OpCode::kSpawn: {
        S::thread child([&w = w_, &rec = rec_, &body = n.body] { Runner(w, rec).run(body); });
        run(n.after);
        child.join();
        return;
      }
      case OpCode::kCreate: {
        Obj* o = S::create<Obj>(s.v1);
        Obj* e = nullptr;
        const bool ok = w_.slot.compare_exchange_strong(e, o, s.mo, s.mo2);
        at(n) = ok ? 1 : 0;
        if (!ok) S::destroy(o);
        return;
      }
      case OpCode::kTake: {
        Obj* p = w_.slot.exchange(nullptr, s.mo);
        at(n) = p != nullptr ? 1 : 0;
        S::destroy(p);
        return;
      }
      case OpCode::kReadObj:
        p_ = w_.slot.load(s.mo);
        at(n) = p_ != nullptr ? 1 : 0;
        return;
      case OpCode::kObjLoad:
        if (p_ != nullptr) at(n) = p_->v.load();
        return;
      case OpCode::kObjStore:
        if (p_ != nullptr) p_->v.store(s.v1);
        return;
      case OpCode::kReplace: {
        Obj* old = w_.slot.exchange(S::create<Obj>(s.v1), s.mo);
        at(n) = old != nullptr ? 1 : 0;
        return;
      }
      case OpCode::kCount:
        return;
    }
  }

  World& w_;
  std::vector<int>& rec_;
  std::array<std::unique_lock<S::mutex>*, kMutexes> locks_{};
  Obj* p_ = nullptr;  ///< the pointer that the last slot.read loaded
};

// ---- searches and comparisons ---------------------------------------------------------------

constexpr std::uint32_t bit(FailureKind k) { return 1U << static_cast<unsigned>(k); }

/// The state is the outcome's when the execution ran to its end without undefined behaviour
/// (it met no failure, or only a deadlock or leak, which end an execution). A data race or
/// memory error makes the values read from plain memory undefined (and cell accesses are not
/// scheduling points: the reductions keep their order with atomics only where a race would
/// be reported anyway), so those outcomes are their kinds alone.
bool keeps_state(std::uint32_t failures) {
  return (failures & ~(bit(FailureKind::kDeadlock) | bit(FailureKind::kLeak))) == 0;
}

/// A data race on a cell and a use after free are one outcome: which of the two an execution
/// meets depends on the order of a free and a plain access inside steps (neither is a
/// scheduling point), which sleep sets cannot see before the steps run. Both are undefined
/// behaviour, and any search that meets one of them reports the program.
std::uint32_t memory_errors_as_one(std::uint32_t failures) {
  if ((failures & bit(FailureKind::kUseAfterFree)) == 0) return failures;
  return (failures & ~bit(FailureKind::kUseAfterFree)) | bit(FailureKind::kDataRace);
}

struct Reached {
  unsigned min_preemptions = 0;
  int first_bound = 0;
};

struct Search {
  std::map<Outcome, Reached> outcomes;
  /// The failures of executions that a sleep set cut short after a failure: not outcomes (the
  /// execution did not reach its end), but each must be one the unreduced search meets.
  std::uint32_t truncated = 0;
  std::uint64_t executions = 0;
  bool finished = false;
};

/// One DFS of `p`: no reduction when both flags are off; `bound` < 0: unbounded, else
/// iterative up to it. `limit`: the most executions.
Search search(const Program& p, bool dpor, bool sleep_sets, int bound, std::uint64_t limit) {
  std::vector<int> rec;
  const TestCase test = make_test(p, &rec);
  Search out;
  Config c;
  c.strategy = Strategy::kDfs;
  c.tier = p.tier;
  c.max_spurious = p.max_spurious;
  c.c11_history = p.c11_history;
  c.preemption_bound = bound;
  c.iterative = bound >= 0;
  c.dpor = dpor;
  c.sleep_sets = sleep_sets;
  c.stop_on_failure = false;
  c.check_determinism = false;
  c.max_executions = limit;
  c.max_seconds = 0;
  c.on_execution = [&](const ExecutionInfo& e) {
    const std::uint32_t failures = memory_errors_as_one(e.failures);
    if (e.truncated) {
      out.truncated |= failures;
      return;
    }
    Outcome o{failures, keeps_state(failures) ? rec : std::vector<int>{}};
    const auto [it, fresh] =
        out.outcomes.try_emplace(std::move(o), Reached{e.preemptions, e.bound});
    if (!fresh) {
      it->second.min_preemptions = std::min(it->second.min_preemptions, e.preemptions);
      it->second.first_bound = std::min(it->second.first_bound, e.bound);
    }
  };
  const Result r = explore(c, test);
  out.executions = r.executions;
  out.finished = r.executions < limit;
  return out;
}

Search unreduced(const Program& p, const Options& opt) {
  return search(p, false, false, -1, opt.cap);
}

/// The reduction `c` on `p`, compared with the unreduced search `u`: a mismatch or nothing.
std::optional<Mismatch> check_reduction(const Program& p, const Search& u, const Comparison& c,
                                        const Options& opt, std::uint64_t* executions) {
  const bool dpor = c.reduction == Reduction::kDporSleep || c.reduction == Reduction::kDpor;
  const bool sleep = c.reduction == Reduction::kDporSleep || c.reduction == Reduction::kSleep;
  const std::uint64_t limit = 4 * opt.cap;
  const Search r = search(p, dpor, sleep, c.bound, limit);
  if (executions != nullptr) *executions += r.executions;
  Mismatch m;
  m.program = p;
  m.comparison = c;
  if (!r.finished) m.note = fmt::format("the reduction did not finish in {} executions", limit);
  std::uint32_t met = 0;
  for (const auto& entry : u.outcomes) met |= entry.first.failures;
  if ((r.truncated & ~met) != 0) {
    m.only_reduced.push_back(fmt::format("{}  (in an execution cut short by a sleep set)",
                                         to_string(Outcome{r.truncated & ~met, {}})));
  }
  if (c.bound < 0) {
    for (const auto& [o, at] : u.outcomes) {
      if (!r.outcomes.contains(o)) {
        m.only_unreduced.push_back(
            fmt::format("{}  (fewest preemptions {})", to_string(o), at.min_preemptions));
      }
    }
    for (const auto& [o, at] : r.outcomes) {
      if (!u.outcomes.contains(o)) {
        m.only_reduced.push_back(
            fmt::format("{}  (fewest preemptions {})", to_string(o), at.min_preemptions));
      }
    }
  } else {
    for (const auto& [o, at] : u.outcomes) {
      const unsigned need = at.min_preemptions;
      const auto it = r.outcomes.find(o);
      const bool within = need <= static_cast<unsigned>(c.bound);
      if (it == r.outcomes.end()) {
        if (within) {
          m.only_unreduced.push_back(
              fmt::format("{}  (needs {} preemptions; not reached)", to_string(o), need));
        }
      } else if (!within) {
        m.only_reduced.push_back(fmt::format("{}  (needs {} preemptions; reached at bound {})",
                                             to_string(o), need, it->second.first_bound));
      } else if (static_cast<unsigned>(it->second.first_bound) > need) {
        m.only_unreduced.push_back(fmt::format("{}  (needs {} preemptions; first at bound {})",
                                               to_string(o), need, it->second.first_bound));
      } else if (static_cast<unsigned>(it->second.first_bound) < need) {
        m.only_reduced.push_back(fmt::format("{}  (needs {} preemptions; reached at bound {})",
                                             to_string(o), need, it->second.first_bound));
      }
    }
    for (const auto& [o, at] : r.outcomes) {
      if (!u.outcomes.contains(o)) {
        m.only_reduced.push_back(fmt::format("{}  (never without reduction; reached at bound {})",
                                             to_string(o), at.first_bound));
      }
    }
  }
  if (m.only_unreduced.empty() && m.only_reduced.empty() && m.note.empty()) return std::nullopt;
  m.shrunk = p;
  m.shrunk_only_unreduced = m.only_unreduced;
  m.shrunk_only_reduced = m.only_reduced;
  return m;
}

constexpr std::array<Reduction, 3> kReductions = {Reduction::kDporSleep, Reduction::kDpor,
                                                  Reduction::kSleep};

// ---- shrinking ------------------------------------------------------------------------------

/// Visits statements in pre-order; `f(list, i)` returns true to stop.
template <class F>
bool visit(std::vector<Stmt>& l, int& n, F&& f) {
  for (std::size_t i = 0; i < l.size(); ++i) {
    if (n-- == 0) return f(l, i);
    if (visit(l[i].body, n, f) || visit(l[i].after, n, f)) return true;
  }
  return false;
}

int count_stmts(const std::vector<Stmt>& l) {
  int n = 0;
  for (const Stmt& s : l) n += 1 + count_stmts(s.body) + count_stmts(s.after);
  return n;
}

/// The programs one step smaller than `p`, most shrinking first.
std::vector<Program> candidates(const Program& p) {
  std::vector<Program> out;
  if (p.threads.size() > 1) {
    for (std::size_t t = 0; t < p.threads.size(); ++t) {
      Program q = p;
      q.threads.erase(q.threads.begin() + static_cast<std::ptrdiff_t>(t));
      out.push_back(std::move(q));
    }
  }
  for (std::size_t t = 0; t < p.threads.size(); ++t) {
    const int n = count_stmts(p.threads[t]);
    for (int k = 0; k < n; ++k) {
      Program q = p;
      int at = k;
      visit(q.threads[t], at, [](std::vector<Stmt>& l, std::size_t i) {
        l.erase(l.begin() + static_cast<std::ptrdiff_t>(i));
        return true;
      });
      out.push_back(std::move(q));
    }
    for (int k = 0; k < n; ++k) {
      Program q = p;
      int at = k;
      bool block = false;
      visit(q.threads[t], at, [&block](std::vector<Stmt>& l, std::size_t i) {
        if (!is_block(l[i].op)) return true;
        block = true;
        std::vector<Stmt> inner = std::move(l[i].body);
        for (Stmt& a : l[i].after) inner.push_back(std::move(a));
        l.erase(l.begin() + static_cast<std::ptrdiff_t>(i));
        l.insert(l.begin() + static_cast<std::ptrdiff_t>(i), inner.begin(), inner.end());
        return true;
      });
      if (block) out.push_back(std::move(q));
    }
  }
  if (p.max_spurious > 0) {
    Program q = p;
    --q.max_spurious;
    out.push_back(std::move(q));
  }
  return out;
}

}  // namespace

// ---- public ---------------------------------------------------------------------------------

std::string_view to_string(OpCode op) {
  return op < OpCode::kCount ? kOpNames[static_cast<std::size_t>(op)] : "?";
}

std::string_view to_string(Reduction r) {
  switch (r) {
    case Reduction::kDporSleep:
      return "dpor+sleep";
    case Reduction::kDpor:
      return "dpor";
    case Reduction::kSleep:
      return "sleep";
    case Reduction::kNone:
      return "none";
  }
  return "?";
}

std::string_view to_string(Scale s) { return s == Scale::kCi ? "ci" : "long"; }

Program generate(std::uint64_t seed, Tier tier, Scale scale) {
  return Generator(seed, tier, scale).run();
}

std::string to_text(const Program& p) {
  std::string out = fmt::format("tier={} spurious={}", to_string(p.tier), p.max_spurious);
  out += p.tier == Tier::kC11 ? fmt::format(" history={}\n", p.c11_history) : "\n";
  for (std::size_t t = 0; t < p.threads.size(); ++t) {
    std::string line;
    print_list(p.threads[t], line);
    while (!line.empty() && line.back() == ' ') line.pop_back();
    out += fmt::format("t{}:{}\n", t + 1, line);
  }
  return out;
}

Program parse(std::string_view text) {
  Program p;
  bool header = false;
  int lineno = 0;
  while (!text.empty()) {
    const auto nl = text.find('\n');
    std::string_view line = text.substr(0, nl);
    text = nl == std::string_view::npos ? std::string_view() : text.substr(nl + 1);
    ++lineno;
    while (!line.empty() && (line.front() == ' ' || line.front() == '\t')) line.remove_prefix(1);
    while (!line.empty() && (line.back() == ' ' || line.back() == '\r')) line.remove_suffix(1);
    if (line.empty() || line.front() == '#') continue;
    if (!header) {
      header = true;
      std::size_t i = 0;
      while (i < line.size()) {
        const auto sp = line.find(' ', i);
        const std::string_view kv =
            line.substr(i, sp == std::string_view::npos ? std::string_view::npos : sp - i);
        i = sp == std::string_view::npos ? line.size() : sp + 1;
        if (kv.empty()) continue;
        if (kv == "tier=sc") {
          p.tier = Tier::kSc;
        } else if (kv == "tier=tso") {
          p.tier = Tier::kTso;
        } else if (kv == "tier=c11") {
          p.tier = Tier::kC11;
        } else if (kv.starts_with("spurious=") && kv.size() == 10 && kv[9] >= '0' && kv[9] <= '9') {
          p.max_spurious = static_cast<unsigned>(kv[9] - '0');
        } else if (kv.starts_with("history=") && kv.size() == 9 && kv[8] >= '1' && kv[8] <= '9') {
          p.c11_history = static_cast<unsigned>(kv[8] - '0');
        } else {
          throw std::invalid_argument(fmt::format(
              "line {}: bad header field '{}' (tier=sc|tso|c11 spurious=N history=N)", lineno, kv));
        }
      }
      continue;
    }
    const auto colon = line.find(':');
    if (line.front() != 't' || colon == std::string_view::npos) {
      throw std::invalid_argument(fmt::format("line {}: expected 'tN: statements'", lineno));
    }
    p.threads.push_back(Parser(line.substr(colon + 1), lineno).thread());
  }
  if (!header) throw std::invalid_argument("empty program");
  if (std::string e = validate(p); !e.empty()) throw std::invalid_argument(e);
  return p;
}

std::string validate(const Program& p) {
  int threads = static_cast<int>(p.threads.size());
  if (threads > static_cast<int>(kMaxThreads) - 1) return "too many threads";
  for (const auto& t : p.threads) {
    std::string e = check_list(t, Held{}, threads);
    if (!e.empty()) return e;
  }
  return {};
}

void count_features(const Program& p, std::map<std::string, std::uint64_t>& counts) {
  ++counts[fmt::format("spurious.{}", p.max_spurious)];
  for (const auto& t : p.threads) count_list(t, Held{}, counts);
}

std::vector<std::string> expected_features() {
  std::vector<std::string> out;
  for (std::size_t i = 0; i < kOpNames.size(); ++i) out.emplace_back(kOpNames[i]);
  const auto with = [&out](std::string_view op, const auto& orders, std::string_view infix = "") {
    for (const memory_order mo : orders)
      out.push_back(fmt::format("{}{}.{}", op, infix, to_string(mo)));
  };
  for (const auto* op : {"load", "wait", "spin_yield", "spin_pause", "read_obj"}) {
    with(op, kLoadOrders);
  }
  with("store", kStoreOrders);
  for (const auto* op : {"exchange", "fetch_add", "fetch_sub", "fetch_and", "fetch_or", "fetch_xor",
                         "fence", "take", "replace"}) {
    with(op, kAllOrders);
  }
  for (const auto* op : {"cas_strong", "cas_weak", "create"}) {
    with(op, kAllOrders, ".success");
    with(op, kLoadOrders, ".failure");
  }
  with("pred.atomic", kLoadOrders);
  out.emplace_back("pred.cell");
  for (const auto* op : {"cv_notify_one", "cv_notify_all"}) {
    out.push_back(fmt::format("{}.locked", op));
    out.push_back(fmt::format("{}.unlocked", op));
  }
  for (int k = 0; k <= 2; ++k) out.push_back(fmt::format("spurious.{}", k));
  return out;
}

TestCase make_test(const Program& p, std::vector<int>* record) {
  auto c = std::make_shared<Compiled>();
  c->program = p;
  for (const auto& t : c->program.threads) c->threads.push_back(compile(t, c->slots));
  return TestCase{"differential", [c, record] {
                    std::vector<int>& rec = *record;
                    rec.assign(static_cast<std::size_t>(c->slots + kFinals), kUnset);
                    std::optional<World> world(std::in_place);
                    World& w = *world;
                    {
                      std::vector<S::thread> ts;
                      ts.reserve(c->threads.size());
                      for (const auto& t : c->threads) {
                        ts.emplace_back([&w, &rec, &t] { Runner(w, rec).run(t); });
                      }
                      for (S::thread& t : ts) t.join();
                    }
                    std::size_t f = static_cast<std::size_t>(c->slots);
                    for (auto& a : w.a) rec[f++] = a.load();
                    for (auto& cell : w.c) rec[f++] = cell.load();
                    Obj* o = w.slot.load();
                    rec[f++] = o != nullptr ? 1 : 0;
                    if (o != nullptr) rec[f] = o->v.load();
                    S::destroy(o);
                    const NoThrow no_throw;
                    world.reset();
                  }};
}

std::string to_string(const Outcome& o) {
  std::string out = o.failures == 0 ? "none" : "";
  for (unsigned k = 0; k < 32; ++k) {
    if ((o.failures >> k & 1U) == 0) continue;
    if (!out.empty()) out += '+';
    out += cpb::check::to_string(static_cast<FailureKind>(k));
  }
  if (o.state.empty()) return out;
  out += " [";
  const std::size_t finals = o.state.size() - static_cast<std::size_t>(kFinals);
  for (std::size_t i = 0; i < o.state.size(); ++i) {
    if (i == finals) out += i == 0 ? "| " : " |";
    if (i != 0) out += ' ';
    out += o.state[i] == kUnset ? std::string("_") : fmt::format("{}", o.state[i]);
  }
  out += ']';
  return out;
}

std::string Mismatch::report() const {
  const std::string bound = comparison.bound < 0 ? std::string("unbounded")
                                                 : fmt::format("iterative 0..{}", comparison.bound);
  std::string out =
      fmt::format("MISMATCH tier={} reduction={} bound={} seed={:#x}\n", to_string(program.tier),
                  to_string(comparison.reduction), bound, seed);
  const auto side = [&out](const char* title, const std::vector<std::string>& lines,
                           std::string_view who) {
    if (lines.empty()) return;
    out += fmt::format("  {} {}:\n", title, who);
    for (const std::string& l : lines) out += fmt::format("    {}\n", l);
  };
  const auto block = [&](const Program& p, const std::vector<std::string>& u,
                         const std::vector<std::string>& r) {
    std::string text = to_text(p);
    std::size_t b = 0;
    while (b < text.size()) {
      const auto e = text.find('\n', b);
      out += "    " + text.substr(b, e - b + 1);
      b = e + 1;
    }
    side("only without", u, "reduction");
    side("only with", r, to_string(comparison.reduction));
  };
  if (!note.empty()) out += fmt::format("  {}\n", note);
  out += "  program:\n";
  block(program, only_unreduced, only_reduced);
  if (was_shrunk) {
    out += "  shrunk:\n";
    block(shrunk, shrunk_only_unreduced, shrunk_only_reduced);
  } else {
    out += "  (not shrunk)\n";
  }
  return out;
}

std::optional<Mismatch> compare_one(const Program& p, const Comparison& c, const Options& opt) {
  const Search u = unreduced(p, opt);
  if (!u.finished) return std::nullopt;
  return check_reduction(p, u, c, opt, nullptr);
}

ProgramResult compare(const Program& p, const Options& opt, std::uint64_t seed) {
  ProgramResult out;
  const Search u = unreduced(p, opt);
  out.executions = u.executions;
  out.unreduced = u.executions;
  if (!u.finished) {
    out.skipped = true;
    return out;
  }
  for (const auto& [o, at] : u.outcomes) {
    if (o.failures == 0) ++out.kinds[FailureKind::kNone];
    for (unsigned k = 0; k < 32; ++k) {
      if ((o.failures >> k & 1U) != 0) ++out.kinds[static_cast<FailureKind>(k)];
    }
  }
  const int k = u.executions <= opt.small ? 3 : 2;
  // C11 runs without DPOR, and a bounded search without sleep sets (explore.cpp): its one
  // reduction is the unbounded sleep sets.
  const bool c11 = p.tier == Tier::kC11;
  for (const Reduction red : kReductions) {
    if (c11 && red != Reduction::kSleep) continue;
    for (const int bound : {-1, k}) {
      if (c11 && bound >= 0) continue;
      if (auto m = check_reduction(p, u, {red, bound}, opt, &out.executions)) {
        m->seed = seed;
        out.mismatches.push_back(std::move(*m));
      }
    }
  }
  return out;
}

Program shrink(const Program& p, const Comparison& c, const Options& opt) {
  Program best = p;
  for (bool progress = true; progress;) {
    progress = false;
    for (Program& q : candidates(best)) {
      if (!validate(q).empty() || !compare_one(q, c, opt)) continue;
      best = std::move(q);
      progress = true;
      break;
    }
  }
  return best;
}

void shrink_mismatch(Mismatch& m, const Options& opt) {
  m.shrunk = shrink(m.program, m.comparison, opt);
  if (auto again = compare_one(m.shrunk, m.comparison, opt)) {
    m.shrunk_only_unreduced = std::move(again->only_unreduced);
    m.shrunk_only_reduced = std::move(again->only_reduced);
  }
  m.was_shrunk = true;
}

std::uint64_t program_seed(std::uint64_t seed, std::uint64_t k) {
  return Rng(seed * 0x2545f4914f6cdd1dULL + k).next();
}

std::string CampaignResult::summary(Tier tier) const {
  std::string kinds_text;
  for (const auto& [k, n] : kinds) {
    kinds_text +=
        fmt::format("{}{} {}", kinds_text.empty() ? "" : ", ", cpb::check::to_string(k), n);
  }
  return fmt::format(
      "differential {}: {} programs, {} skips, {} executions, {} mismatches, {:.1f} s "
      "(unreduced outcomes: {})",
      to_string(tier), programs, skips, executions, mismatches.size(), seconds, kinds_text);
}

std::string CampaignResult::report() const {
  std::string out;
  std::vector<std::string> seen;  // reduction, bound and shrunk program of each one printed
  std::map<std::string, std::vector<std::uint64_t>> others;  // seeds by tier, reduction, bound
  for (const Mismatch& m : mismatches) {
    const std::string key = fmt::format("{} {}\n{}", to_string(m.comparison.reduction),
                                        m.comparison.bound, to_text(m.shrunk));
    if (!m.was_shrunk || std::find(seen.begin(), seen.end(), key) != seen.end()) {
      const std::string bound = m.comparison.bound < 0
                                    ? std::string("unbounded")
                                    : fmt::format("iterative 0..{}", m.comparison.bound);
      others[fmt::format("tier={} reduction={} bound={}", to_string(m.program.tier),
                         to_string(m.comparison.reduction), bound)]
          .push_back(m.seed);
      continue;
    }
    seen.push_back(key);
    out += fmt::format("#{} ", seen.size()) + m.report();
  }
  if (!others.empty()) out += "not shown (not shrunk, or shrunk to a program shown):\n";
  for (const auto& [what, seeds] : others) {
    out += fmt::format("  {} mismatches {}, seeds", seeds.size(), what);
    for (std::size_t i = 0; i < seeds.size() && i < 4; ++i) out += fmt::format(" {:#x}", seeds[i]);
    out += seeds.size() > 4 ? " ...\n" : "\n";
  }
  return out;
}

namespace {

/// Runs `f(i)` for i = 0, 1, ... on `jobs` threads while `more()` says so; every index below
/// the last one taken is run.
template <class F, class More>
void parallel(unsigned jobs, F&& f, More&& more) {
  std::atomic<std::uint64_t> next{0};
  const auto work = [&] {
    while (more()) f(next.fetch_add(1));
  };
  std::vector<std::thread> ts;
  for (unsigned j = 1; j < jobs; ++j) ts.emplace_back(work);
  work();
  for (std::thread& t : ts) t.join();
}

}  // namespace

CampaignResult run_campaign(const CampaignOptions& o) {
  const auto start = std::chrono::steady_clock::now();
  const auto elapsed = [&start] {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  };
  std::mutex mu;
  std::vector<std::optional<ProgramResult>> results;
  std::uint64_t compared = 0;
  std::uint64_t skips = 0;
  std::uint64_t executions = 0;
  std::uint64_t found = 0;
  const std::uint64_t step = std::max<std::uint64_t>(1, o.programs / 10);
  Options opt = o.options;
  parallel(
      std::max(1U, o.jobs),
      [&](std::uint64_t k) {
        const std::uint64_t seed = program_seed(o.seed, k);
        ProgramResult r = compare(generate(seed, o.tier, o.scale), opt, seed);
        for (Mismatch& m : r.mismatches) m.scale = o.scale;
        const std::lock_guard g(mu);
        if (results.size() <= k) results.resize(k + 1);
        (r.skipped ? skips : compared) += 1;
        executions += r.executions;
        found += r.mismatches.size();
        results[k] = std::move(r);
        if (o.progress != nullptr && !results[k]->skipped && compared % step == 0) {
          *o.progress << fmt::format(
                             "differential {}: {}/{} programs, {} skips, {} executions, {} "
                             "mismatches, {:.1f} s",
                             to_string(o.tier), compared, o.programs, skips, executions, found,
                             elapsed())
                      << std::endl;
        }
      },
      [&] {
        const std::lock_guard g(mu);
        return compared < o.programs;
      });
  // The first `programs` compared programs in seed order, whatever the jobs finished first.
  CampaignResult out;
  for (auto& r : results) {
    if (out.programs == o.programs) break;
    if (!r) continue;
    out.executions += r->executions;
    if (r->skipped) {
      ++out.skips;
      continue;
    }
    ++out.programs;
    for (const auto& [k, n] : r->kinds) out.kinds[k] += n;
    for (Mismatch& m : r->mismatches) out.mismatches.push_back(std::move(m));
  }
  if (opt.shrink) {
    const std::size_t n = std::min(o.max_shrunk, out.mismatches.size());
    std::atomic<std::size_t> taken{0};
    parallel(
        std::max(1U, o.jobs),
        [&](std::uint64_t i) {
          if (i < n) shrink_mismatch(out.mismatches[i], opt);
        },
        [&] { return taken.fetch_add(1) < n; });
  }
  out.seconds = elapsed();
  return out;
}

}  // namespace cpb::check::diff
