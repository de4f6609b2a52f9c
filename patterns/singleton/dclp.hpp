// SPDX-License-Identifier: Apache-2.0
/// @file
/// Double-checked locking: `get()` loads the published pointer with acquire and returns it
/// when set; otherwise it takes a mutex, checks again, constructs the object in place and
/// publishes its address with a release store. After the first call every access is one
/// acquire load (a plain `mov` on x86) and a predictable branch.
///
/// Progress: blocking on first access (the constructing thread holds a mutex; the others
/// sleep on it), wait-free afterwards.
/// Memory ordering: the release store of the pointer pairs with the acquire load of the fast
/// path: a thread that sees the pointer sees the constructed object. The re-check under the
/// mutex is relaxed: the mutex orders it after the constructing thread's store. With a
/// relaxed (or plain) fast-path load the object's fields race with their construction: the
/// classic DCLP bug (Meyers & Alexandrescu 2004; corpus entry 5), caught by the model check.
/// When to use: a lazily built object read on a hot path, where `std::call_once`'s per-call
/// cost shows. When not to use: when a function-local static does the job (it is the same
/// algorithm, written by the compiler).
/// Reference: Schmidt & Harrison, "Double-checked locking", PLoP 1996; Meyers & Alexandrescu,
/// "C++ and the perils of double-checked locking", DDJ 2004; Preshing, "Double-checked
/// locking is fixed in C++11", 2013.
#pragma once

#include "harness/core/progress.hpp"
#include "harness/core/sync.hpp"

#include <atomic>
#include <cstddef>
#include <mutex>
#include <new>
#include <string_view>

namespace cpb::patterns::singleton {

template <class T, class S = sync::Real>
class Dclp {
 public:
  using value_type = T;
  static constexpr std::string_view kName = "dclp";
  static constexpr Progress kProgress = Progress::kBlocking;

  Dclp() = default;
  Dclp(const Dclp&) = delete;
  Dclp& operator=(const Dclp&) = delete;
  ~Dclp() {
    // Relaxed: destruction happens after every user is done (the owner's responsibility).
    if (T* p = instance_.load(std::memory_order_relaxed)) p->~T();
  }

  T& get() {
    // Acquire pairs with the release store below: the object's construction is visible.
    T* p = instance_.load(std::memory_order_acquire);
    if (p == nullptr) [[unlikely]] {
      p = construct();
    }
    return *p;
  }

 private:
  T* construct() {
    std::lock_guard<typename S::mutex> guard(m_);
    // Relaxed: the mutex orders this after a previous constructor's store.
    T* p = instance_.load(std::memory_order_relaxed);
    if (p == nullptr) {
      p = ::new (static_cast<void*>(storage_)) T();
      // Release pairs with the fast path's acquire load.
      instance_.store(p, std::memory_order_release);
    }
    return p;
  }

  typename S::template atomic<T*> instance_{nullptr};
  typename S::mutex m_;
  alignas(T) std::byte storage_[sizeof(T)];
};

}  // namespace cpb::patterns::singleton
