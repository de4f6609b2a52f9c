// SPDX-License-Identifier: Apache-2.0
/// @file
/// The `rw_lock` family: reader-writer locks. The concept, the read/write sections that every
/// scenario and check goes through, the scenarios and the checks.
///
/// Two kinds of lock satisfy the family concept `RwLock`:
/// - a shared lock (`SharedLockable`): `lock/try_lock/unlock` for writers and
///   `lock_shared/try_lock_shared/unlock_shared` for readers, so `std::shared_lock` and
///   `std::unique_lock` work; readers exclude writers;
/// - an optimistic lock (`OptimisticLockable`, the seqlock): writers lock, readers do not;
///   a reader brackets its loads with `read_begin()` / `read_retry(seq)` and re-runs them when
///   a writer interfered. Its readers may overlap a writer, so the data must be atomics.
///
/// Code that should work with both goes through `read(lock, f)` and `write(lock, f)`: `f`
/// runs as a read (write) section; `read` returns what `f` returned, from a run that no writer
/// interfered with. A read section may run more than once and must only load shared data,
/// through atomics when the lock is optimistic (`Record` below does both right).
#pragma once

#include "harness/check/registered.hpp"
#include "harness/check/sync.hpp"
#include "harness/core/progress.hpp"
#include "harness/core/registry.hpp"
#include "harness/core/sync.hpp"
#include "harness/stress/history.hpp"
#include "harness/stress/linearizability.hpp"
#include "harness/stress/mutual_exclusion.hpp"
#include "harness/stress/specs.hpp"

#include <benchmark/benchmark.h>
#include <fmt/format.h>

#include <array>
#include <atomic>
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

namespace cpb::patterns::rw_lock {

/// A lock with exclusive (writer) and shared (reader) modes, usable with `std::unique_lock`
/// and `std::shared_lock`.
template <class L>
concept SharedLockable = requires(L& l) {
  { l.lock() } -> std::same_as<void>;
  { l.try_lock() } -> std::same_as<bool>;
  { l.unlock() } -> std::same_as<void>;
  { l.lock_shared() } -> std::same_as<void>;
  { l.try_lock_shared() } -> std::same_as<bool>;
  { l.unlock_shared() } -> std::same_as<void>;
};

/// A lock whose writers lock (`lock/try_lock/unlock`) and whose readers validate instead:
/// `read_begin()` returns a sequence, `read_retry(seq)` after the loads says whether they
/// must be discarded and re-run.
template <class L>
concept OptimisticLockable = requires(L& l, const L& cl, typename L::sequence s) {
  { l.lock() } -> std::same_as<void>;
  { l.try_lock() } -> std::same_as<bool>;
  { l.unlock() } -> std::same_as<void>;
  { cl.read_begin() } -> std::same_as<typename L::sequence>;
  { cl.read_retry(s) } -> std::same_as<bool>;
};

/// The family concept: a reader-writer lock of either kind, with a name and a progress claim.
template <class L>
concept RwLock = std::default_initializable<L> &&
    (SharedLockable<L> || OptimisticLockable<L>)&&requires {
  { L::kName } -> std::convertible_to<std::string_view>;
  { L::kProgress } -> std::convertible_to<Progress>;
};

/// Runs `f` as a read section of `l` and returns its result. A shared lock runs it once under
/// `std::shared_lock`; an optimistic lock runs it until no writer interfered, so `f` may run
/// several times and must only load (through atomics) what the lock protects.
template <RwLock L, class F>
auto read(L& l, F&& f) {
  if constexpr (OptimisticLockable<L>) {
    for (;;) {
      const auto seq = l.read_begin();
      auto result = f();
      if (!l.read_retry(seq)) return result;
    }
  } else {
    // Explicit calls, no RAII guard: under the model checker an abandoned execution unwinds
    // by throwing from the next atomic operation, which must not happen in a destructor.
    l.lock_shared();
    try {
      auto result = f();
      l.unlock_shared();
      return result;
    } catch (...) {
      l.unlock_shared();
      throw;
    }
  }
}

/// Runs `f` as a write section of `l` (exclusive of every other writer, and of readers for a
/// shared lock).
template <RwLock L, class F>
void write(L& l, F&& f) {
  l.lock();  // explicit calls, no RAII guard: see read()
  try {
    f();
  } catch (...) {
    l.unlock();
    throw;
  }
  l.unlock();
}

/// The data a scenario protects: kWords words that every write sets to one new value, so a
/// read that sees two different words saw a write half done (torn). Plain words under a
/// shared lock, so that a lock letting a reader in beside a writer is a data race that TSan
/// reports; relaxed atomics under an optimistic lock, whose readers overlap writers by design.
template <class L>
class Record {
 public:
  static constexpr std::size_t kWords = 4;
  static constexpr bool kAtomic = OptimisticLockable<L>;
  using Snapshot = std::array<std::uint64_t, kWords>;

  /// Inside a read section: a copy of every word.
  [[nodiscard]] Snapshot load() const {
    Snapshot s;
    for (std::size_t i = 0; i < kWords; ++i) s[i] = get(w_[i]);
    return s;
  }
  /// Inside a write section: every word := `v`.
  void store(std::uint64_t v) {
    for (auto& w : w_) put(w, v);
  }
  /// Inside a write section: every word := the first word + 1.
  void bump() { store(get(w_[0]) + 1); }

  [[nodiscard]] static bool consistent(const Snapshot& s) {
    for (std::size_t i = 1; i < kWords; ++i) {
      if (s[i] != s[0]) return false;
    }
    return true;
  }

 private:
  using Word = std::conditional_t<kAtomic, std::atomic<std::uint64_t>, std::uint64_t>;
  static std::uint64_t get(const Word& w) {
    if constexpr (kAtomic) {
      // Relaxed: the seqlock's fences order these loads (seqlock.hpp).
      return w.load(std::memory_order_relaxed);
    } else {
      return w;
    }
  }
  static void put(Word& w, std::uint64_t v) {
    if constexpr (kAtomic) {
      // Relaxed: the seqlock's release fence orders the odd sequence before these stores.
      w.store(v, std::memory_order_relaxed);
    } else {
      w = v;
    }
  }

  alignas(64) std::array<Word, kWords> w_{};
};

namespace detail {

/// Every thread loops over operations, `read_pct` percent of them reads (a copy of the
/// record, checked for tearing outside the section) and the rest writes (each word + 1),
/// spread evenly and out of phase between threads. Verification: no read was torn, and the
/// record's value equals the writes counted (a writer let in beside another loses updates).
template <RwLock L>
class Mixed final : public Fixture {
 public:
  explicit Mixed(std::int64_t read_pct) : write_pct_(100 - read_pct) {}

  void run(benchmark::State& state, bench::Meter& meter) override {
    // Bresenham: a write whenever the accumulator passes 100; the start phase differs per
    // thread, so threads do not write in lock-step.
    std::int64_t acc = (37 * state.thread_index()) % 100;
    std::uint64_t writes = 0;
    std::uint64_t torn = 0;
    meter.begin();
    for (auto _ : state) {
      acc += write_pct_;
      if (acc >= 100) {
        acc -= 100;
        meter.op([&] { write(lock_, [&] { record_.bump(); }); });
        ++writes;
      } else {
        meter.op([&] {
          const auto s = read(lock_, [&] { return record_.load(); });
          if (!Record<L>::consistent(s)) ++torn;
        });
      }
    }
    meter.end();
    // Relaxed: counts only, read after the benchmark threads joined.
    writes_.fetch_add(writes, std::memory_order_relaxed);
    torn_.fetch_add(torn, std::memory_order_relaxed);
  }

  std::string verify() override {
    // Relaxed: verify() runs after the benchmark threads joined (the join orders their adds).
    const auto torn = torn_.load(std::memory_order_relaxed);
    if (torn != 0) return fmt::format("{} reads saw a torn record (a write half done)", torn);
    const auto s = read(lock_, [&] { return record_.load(); });
    const auto writes = writes_.load(std::memory_order_relaxed);
    if (!Record<L>::consistent(s) || s[0] != writes) {
      return fmt::format("the record is {} after {} writes: writers overlapped (lost updates)",
                         s[0], writes);
    }
    return {};
  }

 private:
  L lock_;
  Record<L> record_;
  std::int64_t write_pct_;
  std::atomic<std::uint64_t> writes_{0};
  std::atomic<std::uint64_t> torn_{0};
};

// -- model checks -----------------------------------------------------------------------------

/// Two words written together under the lock: cells (race-checked) under a shared lock,
/// relaxed atomics under an optimistic one.
template <RwLock M>
struct ModelState {
  static constexpr bool kAtomic = OptimisticLockable<M>;
  using Word = std::conditional_t<kAtomic, check::Sync::atomic<int>, check::Sync::cell<int>>;

  M lock;
  Word a{0};
  Word b{0};

  static int get(const Word& w) {
    if constexpr (kAtomic) {
      // Relaxed: ordered by the seqlock's fences.
      return w.load(std::memory_order_relaxed);
    } else {
      return w.load();
    }
  }
  static void put(Word& w, int v) {
    if constexpr (kAtomic) {
      // Relaxed: ordered by the seqlock's fences.
      w.store(v, std::memory_order_relaxed);
    } else {
      w.store(v);
    }
  }
  void write_both() {
    write(lock, [&] {
      put(a, get(a) + 1);
      put(b, get(b) + 1);
    });
  }
  /// One read section; the pair it saw.
  std::pair<int, int> read_both() {
    return read(lock, [&] { return std::pair{get(a), get(b)}; });
  }
  /// A read through try_lock_shared where the lock has one (falling back to a blocking read).
  std::pair<int, int> try_read_both() {
    if constexpr (SharedLockable<M>) {
      if (lock.try_lock_shared()) {
        std::pair p{get(a), get(b)};
        lock.unlock_shared();
        return p;
      }
    }
    return read_both();
  }
};

/// One writer and two readers (one of them through try_lock_shared): a reader must see both
/// words from the same write (0,0 or 1,1), and readers must not race with the writer.
template <RwLock M>
check::TestCase readers_model(std::string name) {
  using St = ModelState<M>;
  const auto reader = [](St& s) {
    const auto [x, y] = s.read_both();
    CPB_CHECK_ASSERT(x == y);
  };
  return check::make_test<St>(std::move(name),
                              {[](St& s) { s.write_both(); }, reader,
                               [](St& s) {
                                 const auto [x, y] = s.try_read_both();
                                 CPB_CHECK_ASSERT(x == y);
                               }},
                              [](St& s) { CPB_CHECK_ASSERT(St::get(s.a) == 1); });
}

/// Two writers (one through try_lock when it succeeds) and a reader: writers must exclude each
/// other (no lost update, no race on the words), and the reader must not see a torn pair.
template <RwLock M>
check::TestCase writers_model(std::string name) {
  using St = ModelState<M>;
  return check::make_test<St>(std::move(name),
                              {[](St& s) { s.write_both(); },
                               [](St& s) {
                                 if (s.lock.try_lock()) {
                                   St::put(s.a, St::get(s.a) + 1);
                                   St::put(s.b, St::get(s.b) + 1);
                                   s.lock.unlock();
                                 } else {
                                   s.write_both();
                                 }
                               },
                               [](St& s) {
                                 const auto [x, y] = s.read_both();
                                 CPB_CHECK_ASSERT(x == y);
                               }},
                              [](St& s) {
                                CPB_CHECK_ASSERT(St::get(s.a) == 2);
                                CPB_CHECK_ASSERT(St::get(s.b) == 2);
                              });
}

// -- stress checks ----------------------------------------------------------------------------

inline stress::CheckResult engine_error(const stress::Recording& rec, const char* kind) {
  stress::CheckResult bad;
  bad.kind = kind;
  bad.seed = rec.seed;
  bad.verdict = stress::Verdict::kError;
  bad.failure = rec.engine.describe();
  return bad;
}

/// The protected record as a register: writes store unique values, reads return the value
/// read, or -1 for a torn record (which no linearization explains).
template <RwLock L>
stress::CheckResult register_stress(const CheckConfig& c) {
  struct Shared {
    L lock;
    Record<L> record;
  };
  // Shared: a hung thread is detached and may outlive this call.
  auto sh = std::make_shared<Shared>();
  auto next = std::make_shared<std::array<std::int64_t, 8>>();  // per-thread write counters
  stress::RecordOptions o;
  o.threads = 4;
  o.operations = 20'000;
  o.ops_per_round = 6;
  o.seed = c.seed;
  if (c.budget.count() > 0) o.time_cap = c.budget;
  return stress::run_linearizability(
      "register", stress::RegisterSpec{}, o,
      [sh, next](std::size_t t, stress::Rng& rng, stress::Recorder& r) {
        if (rng.chance(1, 4)) {
          const std::int64_t v = static_cast<std::int64_t>(t + 1) * 1'000'000 + ++(*next)[t];
          r.call(stress::RegisterSpec::kWrite, v, [&] {
            write(sh->lock, [&] { sh->record.store(static_cast<std::uint64_t>(v)); });
            return stress::Ret::yes();
          });
        } else {
          r.call(stress::RegisterSpec::kRead, 0, [&] {
            const auto s = read(sh->lock, [&] { return sh->record.load(); });
            return stress::Ret::of(Record<L>::consistent(s) ? static_cast<std::int64_t>(s[0]) : -1);
          });
        }
      });
}

/// Write sections (lock and try_lock) never overlap; readers run beside them.
template <RwLock L>
stress::CheckResult writer_exclusion_stress(const CheckConfig& c) {
  auto lock = std::make_shared<L>();
  stress::RecordOptions o;
  o.threads = 4;
  o.operations = 20'000;
  o.seed = c.seed;
  if (c.budget.count() > 0) o.time_cap = c.budget;
  auto rec = stress::record(o, [lock](std::size_t, stress::Rng& rng, stress::Recorder& r) {
    const auto section = [] {
      for (int i = 0; i < 16; ++i) sync::Real::pause();
    };
    const auto roll = rng.below(8);
    if (roll == 0) {
      r.try_hold(*lock, section);
    } else if (roll < 4) {
      r.hold(*lock, section);
    } else {
      read(*lock, [] { return 0; });  // readers between the writers
    }
  });
  if (!rec.engine.ok()) return engine_error(rec, "mutual_exclusion");
  return stress::check_mutual_exclusion(rec.history, "writer_exclusion", rec.seed);
}

}  // namespace detail

template <RwLock L>
struct Family {
  static constexpr std::string_view kName = "rw_lock";
  static constexpr std::string_view kDescription =
      "reader-writer locks: shared (reader count) and optimistic (seqlock) readers";
  static constexpr std::string_view kReference = "std_shared_mutex";

  static std::vector<Scenario> scenarios() {
    return {
        {"mixed",
         "every thread loops over reads (copy a 4-word record, check it is not torn) and writes "
         "(bump every word), read_pct percent reads; no work outside the sections",
         {{"read_pct",
           "share of operations that are reads, in percent",
           {50, 90, 99, 100},
           {50, 99}}},
         ThreadAxis::runners({1, 2, 4}, {1, 2}),
         64,
         [](const Point& p) -> std::unique_ptr<Fixture> {
           return std::make_unique<detail::Mixed<L>>(p.get("read_pct"));
         }},
    };
  }

  static std::vector<Check> checks() {
    std::vector<Check> checks{
        {"register",
         "4 threads read and write the protected record through the lock (a quarter writes); the "
         "history must be linearizable as a register, and a torn read never is",
         [](const CheckConfig& c) { return detail::register_stress<L>(c); },
         {}},
        {"writer_exclusion",
         "4 threads take the write lock (lock and try_lock) between read sections; no two write "
         "holds may overlap",
         [](const CheckConfig& c) { return detail::writer_exclusion_stress<L>(c); },
         {}},
    };
    if constexpr (sync::sync_templated<L>) {
      using M = sync::rebind_t<L, check::Sync>;
      checks[0].model = check::model_mode(
          [] { return detail::readers_model<M>(fmt::format("rw_lock/{}/readers", L::kName)); });
      checks[1].model = check::model_mode(
          [] { return detail::writers_model<M>(fmt::format("rw_lock/{}/writers", L::kName)); });
    }
    return checks;
  }
};

}  // namespace cpb::patterns::rw_lock
