// SPDX-License-Identifier: Apache-2.0
/// @file
/// What the `optimistic_cc` and `pessimistic_cc` families share: the transactional key-value
/// store concept (`Store`), the bank-transfer workload with its conflict-rate axes, the
/// benchmark fixture, and the checks (money is conserved; concurrent snapshots see the total).
/// Both families include this header; it lives here, in namespace
/// `cpb::patterns::transactions`, because the two families differ only in their
/// implementations. Each family header turns these into its own `Family<T>`.
///
/// The store: a fixed number of accounts (keys 0..n-1), each an int64 balance, and multi-key
/// transactions. A transaction is a body run as one serializable unit:
///
/// ```cpp
/// const Key keys[] = {from, to};
/// store.execute(keys, [&](auto& tx) {
///   tx.put(from, tx.get(from) - amount);
///   tx.put(to, tx.get(to) + amount);
/// });
/// ```
#pragma once

#include "harness/check/registered.hpp"
#include "harness/check/sync.hpp"
#include "harness/core/progress.hpp"
#include "harness/core/registry.hpp"
#include "harness/core/sync.hpp"
#include "harness/stress/history.hpp"
#include "harness/stress/result.hpp"

#include <benchmark/benchmark.h>
#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <concepts>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <numeric>
#include <span>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

namespace cpb::patterns::transactions {

using Key = std::uint32_t;
using Balance = std::int64_t;

namespace detail {

/// A vector that keeps its first `N` elements inline: the read and write sets of a transfer
/// never touch the heap. Trivially copyable elements only.
template <class T, std::size_t N>
class SmallVec {
 public:
  void push_back(const T& v) {
    if (size_ < N) {
      inline_[size_] = v;
    } else {
      if (size_ == N) heap_.assign(inline_.begin(), inline_.end());
      heap_.push_back(v);
    }
    ++size_;
  }
  void clear() {
    size_ = 0;
    heap_.clear();
  }
  T* begin() { return size_ <= N ? inline_.data() : heap_.data(); }
  T* end() { return begin() + size_; }
  const T* begin() const { return size_ <= N ? inline_.data() : heap_.data(); }
  const T* end() const { return begin() + size_; }
  T& operator[](std::size_t i) { return begin()[i]; }
  const T& operator[](std::size_t i) const { return begin()[i]; }
  [[nodiscard]] std::size_t size() const { return size_; }
  [[nodiscard]] bool empty() const { return size_ == 0; }
  /// Keeps the first `n` elements.
  void resize_down(std::size_t n) {
    if (n <= N && size_ > N) std::copy_n(heap_.begin(), n, inline_.begin());
    if (n <= N) heap_.clear();
    if (n > N) heap_.resize(n);
    size_ = n;
  }

 private:
  std::array<T, N> inline_;  // not zeroed: only the first size_ elements are ever read
  std::vector<T> heap_;
  std::size_t size_ = 0;
};

/// Sorts a short range by `less` (insertion sort: read and write sets hold a few keys, where a
/// general sort's set-up costs more than the sort).
template <class T, class Less>
void sort_small(T* first, T* last, Less less) {
  for (T* i = first + (first != last ? 1 : 0); i < last; ++i) {
    T v = *i;
    T* j = i;
    for (; j > first && less(v, *(j - 1)); --j) *j = *(j - 1);
    *j = v;
  }
}

/// A body the concept checks `execute` against.
struct ProbeBody {
  template <class Tx>
  void operator()(Tx& tx) const {
    tx.put(0, tx.get(0));
  }
};

}  // namespace detail

/// A transactional store of `size()` int64 accounts.
///
/// `execute(keys, body)` runs `body(tx)` as one serializable transaction and returns how many
/// attempts it took: 1 when it committed at once, one more for each abort and retry.
/// - `keys` names every key the body may touch (any order, duplicates allowed). A store that
///   locks ahead (ordered two-phase locking) locks exactly these; others may ignore it.
/// - The body reads with `tx.get(k)` and writes with `tx.put(k, v)`. It may run several times,
///   so it must be a function of what it reads, and its effects outside the store must be
///   assignments that the last (committed) run overwrites.
/// - In an attempt that will abort, reads may be inconsistent (an optimistic store finds out at
///   commit) or 0 (a wait-die transaction that died): the body must not loop or index on them.
///
/// `peek(k)` reads a balance without synchronisation, for verification when no transaction
/// runs. Stores are built with the number of accounts and each account's initial balance.
template <class St>
concept Store = std::constructible_from<St, std::size_t, Balance> &&
    requires(St& s, const St& cs, std::span<const Key> keys, detail::ProbeBody body, Key k) {
  { cs.size() } -> std::same_as<std::size_t>;
  { s.execute(keys, body) } -> std::same_as<std::uint32_t>;
  { cs.peek(k) } -> std::same_as<Balance>;
  { St::kName } -> std::convertible_to<std::string_view>;
  { St::kProgress } -> std::convertible_to<Progress>;
};

// -- the workload -------------------------------------------------------------------------------

/// Each account starts with this balance.
inline constexpr Balance kInitialBalance = 1000;
/// The hot set: the first `kHotSet` accounts.
inline constexpr std::size_t kHotSet = 8;

/// Moves `amount` from `from` to `to` in one transaction; returns the attempts it took.
template <class St>
std::uint32_t transfer(St& store, Key from, Key to, Balance amount) {
  const std::array<Key, 2> keys{from, to};
  return store.execute(std::span<const Key>(keys), [from, to, amount](auto& tx) {
    tx.put(from, tx.get(from) - amount);
    tx.put(to, tx.get(to) + amount);
  });
}

/// Reads every account of `all` in one (read-only) transaction into `out`; returns the attempts.
template <class St>
std::uint32_t snapshot(St& store, std::span<const Key> all, std::span<Balance> out) {
  return store.execute(all, [all, out](auto& tx) {
    for (std::size_t i = 0; i < all.size(); ++i) out[i] = tx.get(all[i]);
  });
}

/// Picks transfer accounts: with probability `hot_pct`% from the hot set, else uniformly from
/// all accounts; the two accounts of a transfer differ.
class KeyPicker {
 public:
  KeyPicker(std::size_t accounts, std::uint64_t hot_pct)
      : accounts_(accounts), hot_(std::min(kHotSet, accounts)), hot_pct_(hot_pct) {}

  Key pick(stress::Rng& rng) const {
    const bool hot = hot_pct_ > 0 && rng.below(100) < hot_pct_;
    return static_cast<Key>(rng.below(hot ? hot_ : accounts_));
  }
  std::array<Key, 2> pick_two(stress::Rng& rng) const {
    const Key a = pick(rng);
    Key b = pick(rng);
    while (b == a) b = pick(rng);
    return {a, b};
  }

 private:
  std::size_t accounts_;
  std::size_t hot_;
  std::uint64_t hot_pct_;
};

/// The sum of all balances, read with `peek` (no transaction may run).
template <Store St>
Balance total(const St& store) {
  Balance sum = 0;
  for (std::size_t k = 0; k < store.size(); ++k) sum += store.peek(static_cast<Key>(k));
  return sum;
}

// -- the benchmark fixture ----------------------------------------------------------------------

namespace detail {

/// A second thread, alive but asleep for the fixture's lifetime: glibc's mutex skips its atomic
/// instructions while a process has a single thread (performance-anchors §0.4), which would
/// flatter a mutex-based baseline in the 1-thread cases.
class Sleeper {
 public:
  Sleeper()
      : thread_([this] {
          std::unique_lock lk(m_);
          cv_.wait(lk, [this] { return done_; });
        }) {}
  ~Sleeper() {
    {
      std::lock_guard lk(m_);
      done_ = true;
    }
    cv_.notify_one();
    thread_.join();
  }
  Sleeper(const Sleeper&) = delete;
  Sleeper& operator=(const Sleeper&) = delete;

 private:
  std::mutex m_;
  std::condition_variable cv_;
  bool done_ = false;
  std::thread thread_;
};

/// Every thread loops { pick two accounts (uniform, or hot-skewed), transfer 1..10 between them
/// in one transaction }. One item per committed transfer. The attempts each transfer took are
/// counted: counters `commits` and `aborts` (attempts - commits).
template <Store St>
class Transfers final : public Fixture {
 public:
  Transfers(std::string_view family, const Point& p)
      : name_(fmt::format("{}/{}/transfer/accounts:{}/hot_pct:{}/threads:{}", family, St::kName,
                          p.get("accounts"), p.get("hot_pct"), p.threads)),
        accounts_(static_cast<std::size_t>(p.get("accounts"))),
        picker_(accounts_, static_cast<std::uint64_t>(p.get("hot_pct"))),
        store_(accounts_, kInitialBalance),
        tallies_(static_cast<std::size_t>(p.threads)) {
    for (std::size_t t = 0; t < tallies_.size(); ++t) tallies_[t].rng = stress::Rng(mix(t));
  }

  void run(benchmark::State& state, bench::Meter& meter) override {
    Tally& me = tallies_[static_cast<std::size_t>(state.thread_index())];
    std::uint64_t commits = 0;
    std::uint64_t attempts = 0;
    meter.begin();
    for (auto _ : state) {
      meter.op([&] {
        const auto [from, to] = picker_.pick_two(me.rng);
        const auto amount = static_cast<Balance>(1 + me.rng.below(10));
        attempts += transfer(store_, from, to, amount);
        ++commits;
      });
    }
    meter.end();
    me.commits += commits;
    // Google Benchmark sums these over threads; the result file carries them as `counters`.
    state.counters["commits"] = static_cast<double>(commits);
    state.counters["aborts"] = static_cast<double>(attempts - commits);
  }

  std::string verify() override {
    std::uint64_t commits = 0;
    for (const auto& t : tallies_) commits += t.commits;
    const Balance expected = static_cast<Balance>(accounts_) * kInitialBalance;
    const Balance got = total(store_);
    if (got != expected) {
      return fmt::format(
          "money was not conserved: the accounts hold {} in total after {} transfers, not {} "
          "(a lost update or a torn transaction)",
          got, commits, expected);
    }
    return {};
  }

 private:
  struct alignas(64) Tally {
    stress::Rng rng{1};
    std::uint64_t commits = 0;
  };
  static std::uint64_t mix(std::size_t t) { return stress::mix64(0x7a11 + t); }

  Sleeper sleeper_;
  std::string name_;
  std::size_t accounts_;
  KeyPicker picker_;
  St store_;
  std::vector<Tally> tallies_;
};

}  // namespace detail

/// The scenarios of a transactional-store family.
template <Store St>
std::vector<Scenario> scenarios(std::string_view family) {
  return {
      {"transfer",
       "every thread transfers 1..10 between two accounts in one transaction, picked uniformly "
       "(hot_pct 0) or hot_pct% of the time from a hot set of 8 accounts; conflicts grow with "
       "fewer accounts, more skew and more threads. 1 item per committed transfer",
       {{"accounts", "number of accounts (keys)", {16, 1024, 65536}, {16, 65536}},
        {"hot_pct", "percent of account picks from the 8-account hot set", {0, 80}, {0}}},
       ThreadAxis::runners({1, 2, 4}, {1, 2}),
       64,
       [family](const Point& p) -> std::unique_ptr<Fixture> {
         return std::make_unique<detail::Transfers<St>>(family, p);
       }},
  };
}

// -- checks -------------------------------------------------------------------------------------

namespace detail {

/// Stress: 8 accounts, 4 threads. Thread 0 audits: it reads every account in one read-only
/// transaction and the committed snapshot must sum to the initial total (a store that is not
/// serializable, e.g. optimistic reads never validated, shows a torn total). Threads 1-3
/// transfer at random. At the end the total is checked once more.
/// What the conservation stress check's threads share.
template <Store St>
struct ConservationShared {
  static constexpr std::size_t kAccounts = 8;
  St store{kAccounts, kInitialBalance};
  std::array<Key, kAccounts> all{};
  KeyPicker picker{kAccounts, 0};
  std::atomic<std::uint64_t> snapshots{0};
  std::atomic<std::uint64_t> transfers{0};
  std::atomic<std::uint64_t> attempts{0};
  std::atomic<std::uint64_t> torn{0};
  std::atomic<Balance> first_torn{0};
};

template <Store St>
stress::CheckResult conservation_stress(const std::string& name, const CheckConfig& c) {
  using Shared = ConservationShared<St>;
  constexpr std::size_t kAccounts = Shared::kAccounts;
  constexpr std::size_t kThreads = 4;
  // Shared: a hung thread is detached and may outlive this call.
  auto sh = std::make_shared<Shared>();
  std::iota(sh->all.begin(), sh->all.end(), Key{0});
  const Balance expected = static_cast<Balance>(kAccounts) * kInitialBalance;

  stress::RecordOptions o;
  o.threads = kThreads;
  o.operations = 40'000;
  o.ops_per_round = 32;
  o.seed = c.seed;
  o.time_cap = c.budget.count() > 0 ? c.budget : std::chrono::milliseconds(2000);
  // The counters are statistics read after the threads joined: relaxed.
  const stress::Recording rec =
      stress::record(o, [sh, expected](std::size_t t, stress::Rng& rng, stress::Recorder&) {
        if (t == 0) {
          std::array<Balance, kAccounts> seen{};
          const std::uint32_t a = snapshot(sh->store, sh->all, seen);
          sh->attempts.fetch_add(a, std::memory_order_relaxed);
          sh->snapshots.fetch_add(1, std::memory_order_relaxed);
          const Balance sum = std::accumulate(seen.begin(), seen.end(), Balance{0});
          if (sum != expected && sh->torn.fetch_add(1, std::memory_order_relaxed) == 0) {
            sh->first_torn.store(sum, std::memory_order_relaxed);
          }
        } else {
          const auto [from, to] = sh->picker.pick_two(rng);
          const std::uint32_t a =
              transfer(sh->store, from, to, static_cast<Balance>(1 + rng.below(10)));
          sh->attempts.fetch_add(a, std::memory_order_relaxed);
          sh->transfers.fetch_add(1, std::memory_order_relaxed);
        }
      });

  stress::CheckResult r;
  r.name = name;
  r.kind = "invariant";
  r.seed = rec.seed;
  r.budget_ms = o.time_cap.count();
  r.elapsed_ms = rec.elapsed_ms;
  const auto snapshots = sh->snapshots.load(std::memory_order_relaxed);
  const auto transfers = sh->transfers.load(std::memory_order_relaxed);
  const auto commits = snapshots + transfers;
  r.samples = commits;
  r.stats = {{"snapshots", static_cast<std::int64_t>(snapshots)},
             {"transfers", static_cast<std::int64_t>(transfers)},
             {"aborts", static_cast<std::int64_t>(sh->attempts.load() - commits)},
             {"torn_snapshots", static_cast<std::int64_t>(sh->torn.load())},
             {"rounds", static_cast<std::int64_t>(rec.rounds)}};
  if (!rec.engine.ok()) {
    r.verdict = stress::Verdict::kError;
    r.failure = fmt::format("{}: {}; seed {:#x}, replay with {}", name, rec.engine.describe(),
                            rec.seed, stress::replay_hint(rec.seed));
    return r;
  }
  const Balance end_total = total(sh->store);
  if (sh->torn.load() != 0 || end_total != expected) {
    r.verdict = stress::Verdict::kFail;
    r.failure = fmt::format(
        "{}: money not conserved: {} of {} committed snapshots saw a total other than {} (first: "
        "{}), and the accounts end with {}; seed {:#x}, replay with {}",
        name, sh->torn.load(), snapshots, expected, sh->first_torn.load(), end_total, rec.seed,
        stress::replay_hint(rec.seed));
    r.details = fmt::format("{} transfers and {} snapshots committed over {} rounds", transfers,
                            snapshots, rec.rounds);
  }
  return r;
}

}  // namespace detail

/// Model check: 3 accounts of 100, 2 threads. Thread 1 moves 5 from account 0 to 1; thread 2
/// moves 7 from account 2 to 0, then reads all three in one transaction. The snapshot must sum
/// to 300 and see thread 1's transfer whole or not at all; at the end the balances are exactly
/// 102, 105, 93 (a lost update on account 0 breaks this). `M` is the store rebound to
/// `check::Sync`.
template <class M>
check::TestCase conservation_model(std::string name) {
  struct State {
    M store{3, 100};
  };
  return check::make_test<State>(
      std::move(name),
      {[](State& s) { transfer(s.store, 0, 1, 5); },
       [](State& s) {
         transfer(s.store, 2, 0, 7);
         static constexpr std::array<Key, 3> kAll{0, 1, 2};
         std::array<Balance, 3> seen{};
         snapshot(s.store, kAll, seen);
         CPB_CHECK_ASSERT(seen[0] + seen[1] + seen[2] == 300);
         CPB_CHECK_ASSERT(seen[2] == 93);
         // Thread 1's transfer is atomic: both of its effects, or neither.
         CPB_CHECK_ASSERT((seen[0] == 102 && seen[1] == 105) || (seen[0] == 107 && seen[1] == 100));
       }},
      [](State& s) {
        CPB_CHECK_ASSERT(s.store.peek(0) == 102);
        CPB_CHECK_ASSERT(s.store.peek(1) == 105);
        CPB_CHECK_ASSERT(s.store.peek(2) == 93);
      });
}

/// The checks of a transactional-store family: the conservation stress check, and for a store
/// templated on the sync policy the model check on the same code.
template <Store St>
std::vector<Check> checks(std::string_view family) {
  const std::string name = fmt::format("{}/{}/conservation", family, St::kName);
  std::vector<Check> checks{
      {"conservation",
       "8 accounts: 3 threads transfer, 1 thread takes read-only snapshots of all accounts; "
       "every committed snapshot and the final state must hold the initial total",
       [name](const CheckConfig& c) { return detail::conservation_stress<St>(name, c); },
       {}}};
  if constexpr (sync::sync_templated<St>) {
    checks[0].model = check::model_mode(
        [name] { return conservation_model<sync::rebind_t<St, check::Sync>>(name); });
  }
  return checks;
}

}  // namespace cpb::patterns::transactions
