// SPDX-License-Identifier: Apache-2.0
/// @file
/// Baseline: Abseil's `absl::call_once`: an inline acquire load of a control word on the fast
/// path; the first caller runs the initializer, concurrent callers wait in Abseil's
/// `SpinLockWait` (spin, then futex).
///
/// Not run under ThreadSanitizer: waiters acquire the control word inside libabsl_base, which
/// is not instrumented, so TSan cannot see that the construction happened before their use
/// and reports a race. It runs under every other preset.
///
/// Progress: blocking on first access, then one acquire load.
/// When to use: in code that already uses Abseil; its fast path is inline, unlike
/// libstdc++'s `std::call_once`.
#pragma once

#include "harness/core/progress.hpp"

#include <absl/base/call_once.h>

#include <cstddef>
#include <new>
#include <string_view>

namespace cpb::patterns::singleton {

template <class T>
class AbslCallOnce {
 public:
  using value_type = T;
  static constexpr std::string_view kName = "absl_call_once";
  static constexpr Progress kProgress = Progress::kBlocking;
  static constexpr bool kBaseline = true;

  AbslCallOnce() = default;
  AbslCallOnce(const AbslCallOnce&) = delete;
  AbslCallOnce& operator=(const AbslCallOnce&) = delete;
  ~AbslCallOnce() {
    if (p_ != nullptr) p_->~T();
  }

  T& get() {
    // call_once synchronizes: the initializer's writes happen before every return.
    absl::call_once(flag_, [this] { p_ = ::new (static_cast<void*>(storage_)) T(); });
    return *p_;
  }

 private:
  absl::once_flag flag_;
  T* p_ = nullptr;
  alignas(T) std::byte storage_[sizeof(T)];
};

}  // namespace cpb::patterns::singleton
