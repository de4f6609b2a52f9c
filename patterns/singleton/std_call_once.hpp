// SPDX-License-Identifier: Apache-2.0
/// @file
/// Baseline (the reference): `std::call_once` on a `std::once_flag`, the standard's tool for
/// lazy initialization. In libstdc++ 12 every call goes through `pthread_once` with the
/// callable passed in thread-local variables (`__once_callable`), so even after the first
/// call each `get()` costs a call into libc and two thread-local stores: the steady-state
/// price of the portable answer.
///
/// Progress: blocking on first access (waiters sleep in pthread_once), then a libc call.
/// When to use: lazy initialization of anything that is not a static local; exceptions from
/// the initializer let another caller retry.
#pragma once

#include "harness/core/progress.hpp"

#include <cstddef>
#include <mutex>
#include <new>
#include <string_view>

namespace cpb::patterns::singleton {

template <class T>
class StdCallOnce {
 public:
  using value_type = T;
  static constexpr std::string_view kName = "std_call_once";
  static constexpr Progress kProgress = Progress::kBlocking;
  static constexpr bool kBaseline = true;

  StdCallOnce() = default;
  StdCallOnce(const StdCallOnce&) = delete;
  StdCallOnce& operator=(const StdCallOnce&) = delete;
  ~StdCallOnce() {
    if (p_ != nullptr) p_->~T();
  }

  T& get() {
    // call_once synchronizes: the initializer's writes (the object, p_) happen before the
    // return of every call_once on the same flag.
    std::call_once(flag_, [this] { p_ = ::new (static_cast<void*>(storage_)) T(); });
    return *p_;
  }

 private:
  std::once_flag flag_;
  T* p_ = nullptr;
  alignas(T) std::byte storage_[sizeof(T)];
};

}  // namespace cpb::patterns::singleton
