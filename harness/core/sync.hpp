// SPDX-License-Identifier: Apache-2.0
/// @file
/// The sync policy: the environment an implementation's concurrency goes through.
///
/// Every implementation whose correctness depends on atomics, locks or condition variables is a
/// template on a policy `S`, and names its primitives through it (`typename S::template
/// atomic<T>`, `typename S::mutex`, `S::pause()` ...). `Real` maps them to the standard types at
/// zero cost; it is what benchmarks, stress tests and the TSan build run. The model checker
/// provides a Checked twin with the same surface, in which every operation is a scheduling point.
#pragma once

#include <atomic>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <shared_mutex>
#include <thread>
#include <utility>

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#endif

namespace cpb::sync {

/// True in a ThreadSanitizer build: uninstrumented baselines (libtbb) and the model checker's
/// fibers are left out there.
inline constexpr bool kTsan =
#if defined(__SANITIZE_THREAD__)
    true;
#else
    false;
#endif

/// Shared plain (non-atomic) data. In `Real` it is the value itself; the Checked twin records
/// every access and reports unordered conflicting ones as data races.
template <class T>
class Cell {
 public:
  Cell() = default;
  explicit Cell(T v) : v_(std::move(v)) {}

  [[nodiscard]] T load() const { return v_; }
  void store(T v) { v_ = std::move(v); }
  /// Direct access, for code that reads and writes in place. Counts as a write when checked.
  T& get() { return v_; }
  const T& get() const { return v_; }

 private:
  T v_{};
};

/// The real environment: standard types, no instrumentation.
struct Real {
  template <class T>
  using atomic = std::atomic<T>;
  template <class T>
  using cell = Cell<T>;
  using mutex = std::mutex;
  using shared_mutex = std::shared_mutex;
  using condition_variable = std::condition_variable;
  using thread = std::thread;

  static void fence(std::memory_order mo) { std::atomic_thread_fence(mo); }
  static void yield() { std::this_thread::yield(); }
  /// Shared nodes (queue and stack nodes, reclaimed objects) are allocated through the policy,
  /// so the checked twin can report use after free, double free and leaks.
  template <class T, class... A>
  static T* create(A&&... a) {
    return new T(std::forward<A>(a)...);
  }
  template <class T>
  static void destroy(T* p) {
    delete p;
  }
  /// This thread's instance of a `T` (default-constructed on first use): `thread_local` that
  /// the checked twin keeps per logical thread (fibers share the OS thread's thread_locals).
  template <class T>
  static T& thread_local_value() {
    static thread_local T v{};
    return v;
  }
  /// A spin-wait hint: lets the sibling hyperthread run and saves power.
  static void pause() {
#if defined(__x86_64__) || defined(__i386__)
    _mm_pause();
#elif defined(__aarch64__)
    asm volatile("yield");
#endif
  }
};

/// The deleter of an object made by `S::create`: a node that its creator owns until a CAS links
/// it, held in `owned<T, S>`, goes back through `S::destroy` if the CAS never succeeds.
template <class S>
struct Destroy {
  template <class T>
  void operator()(T* p) const {
    S::template destroy<T>(p);
  }
};
template <class T, class S>
using owned = std::unique_ptr<T, Destroy<S>>;
/// `owned<T, S>` of a fresh `S::create<T>(a...)`.
template <class T, class S, class... A>
owned<T, S> make_owned(A&&... a) {
  return owned<T, S>(S::template create<T>(std::forward<A>(a)...));
}

/// Exponential back-off for spin loops: `pause` doubling up to a cap, then `yield`, so spinning
/// code makes progress when threads outnumber cores (the common case on a 2-core CI machine).
template <class S = Real>
class Backoff {
 public:
  void operator()() {
    if (spins_ < kMaxSpins) {
      for (unsigned i = 0; i < spins_; ++i) S::pause();
      spins_ *= 2;
    } else {
      S::yield();
    }
  }
  void reset() { spins_ = 1; }

 private:
  static constexpr unsigned kMaxSpins = 64;
  unsigned spins_ = 1;
};

/// `rebind_t<T, S>`: implementation `T` with its sync policy replaced by `S`. It applies to a
/// template whose last type parameter is the policy and is instantiated with `Real`
/// (`TtasSpinlock<Real>`, `SpscRing<std::uint64_t, Real>`); `sync_templated<T>` says whether it
/// does. Families use it to run the benchmarked code under the model checker.
template <class T, class S>
struct rebind {};
template <template <class> class Tpl, class S>
struct rebind<Tpl<Real>, S> {
  using type = Tpl<S>;
};
template <template <class, class> class Tpl, class A, class S>
struct rebind<Tpl<A, Real>, S> {
  using type = Tpl<A, S>;
};
template <class T, class S>
using rebind_t = typename rebind<T, S>::type;
template <class T>
concept sync_templated = requires {
  typename rebind<T, Real>::type;
};

}  // namespace cpb::sync
