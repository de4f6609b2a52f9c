// SPDX-License-Identifier: Apache-2.0
/// @file
/// Function-local static ("Meyers singleton"), per object: the code g++ emits for
/// `static T instance;` inside a function (the Itanium C++ ABI guard protocol, §3.3.2), with
/// the guard and the storage in this object instead of in static storage, so that every
/// object is a fresh instance (a true function-local static exists once per process, and a
/// first-access benchmark needs a new one per round). The fast path is the compiler's: an
/// acquire load of the guard's first byte; the slow path calls the C++ runtime's
/// `__cxa_guard_acquire` / `__cxa_guard_release` / `__cxa_guard_abort` (libstdc++: a futex
/// on the guard word; waiters sleep), exactly as a real static local does.
///
/// Not a template on the sync policy: the runtime's guard functions cannot be rebound to the
/// model checker. ThreadSanitizer intercepts them, so the `tsan` preset checks it.
///
/// Progress: blocking on first access (waiters sleep in the kernel), wait-free afterwards.
/// Memory ordering: the acquire load of the guard byte pairs with the release store that
/// `__cxa_guard_release` makes of it (C++ ABI §3.3.2).
/// When to use: a true global: write `static T x; return x;` and get this for free (C++11
/// guarantees it thread-safe). When not to use: with `-fno-threadsafe-statics`.
/// Reference: Itanium C++ ABI §3.3.2 "One-time construction API"; Meyers, Effective C++ item 4.
#pragma once

#include "harness/core/progress.hpp"

#include <cstddef>
#include <cstdint>
#include <cxxabi.h>
#include <new>
#include <string_view>

namespace cpb::patterns::singleton {

template <class T>
class FunctionLocalStatic {
 public:
  using value_type = T;
  static constexpr std::string_view kName = "function_local_static";
  static constexpr Progress kProgress = Progress::kBlocking;

  FunctionLocalStatic() = default;
  FunctionLocalStatic(const FunctionLocalStatic&) = delete;
  FunctionLocalStatic& operator=(const FunctionLocalStatic&) = delete;
  ~FunctionLocalStatic() {
    if (initialized()) object().~T();
  }

  T& get() {
    if (!initialized()) [[unlikely]] {
      if (__cxxabiv1::__cxa_guard_acquire(&guard_) != 0) {
        try {
          ::new (static_cast<void*>(storage_)) T();
        } catch (...) {
          __cxxabiv1::__cxa_guard_abort(&guard_);
          throw;
        }
        __cxxabiv1::__cxa_guard_release(&guard_);
      }
    }
    return object();
  }

 private:
  /// The compiler's inline check: the guard's first byte is non-zero once initialized.
  bool initialized() {
    // Acquire pairs with the release store of __cxa_guard_release.
    return __atomic_load_n(reinterpret_cast<char*>(&guard_), __ATOMIC_ACQUIRE) != 0;
  }
  T& object() { return *std::launder(reinterpret_cast<T*>(storage_)); }

  __cxxabiv1::__guard guard_ = 0;
  alignas(T) std::byte storage_[sizeof(T)];
};

}  // namespace cpb::patterns::singleton
