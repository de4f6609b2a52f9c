// SPDX-License-Identifier: Apache-2.0
/// @file
/// Baseline: a POSIX unnamed semaphore (`sem_t`, glibc: an atomic count with a waiter count;
/// `sem_post` makes the futex wake-up syscall only when someone waits). `release(n)` posts `n`
/// times (POSIX has no multi-post).
///
/// Progress: blocking.
#pragma once

#include "harness/core/progress.hpp"

#include <cerrno>
#include <cstddef>
#include <semaphore.h>
#include <stdexcept>
#include <string_view>

namespace cpb::patterns::semaphore {

class PosixSemaphore {
 public:
  static constexpr std::string_view kName = "posix_semaphore";
  static constexpr Progress kProgress = Progress::kBlocking;
  static constexpr bool kBaseline = true;

  explicit PosixSemaphore(std::ptrdiff_t initial) {
    if (sem_init(&s_, 0, static_cast<unsigned>(initial)) != 0) {
      throw std::invalid_argument("sem_init failed (count above SEM_VALUE_MAX?)");
    }
  }
  ~PosixSemaphore() { sem_destroy(&s_); }
  PosixSemaphore(const PosixSemaphore&) = delete;
  PosixSemaphore& operator=(const PosixSemaphore&) = delete;

  void acquire() {
    while (sem_wait(&s_) != 0 && errno == EINTR) {
    }
  }
  bool try_acquire() { return sem_trywait(&s_) == 0; }
  void release(std::ptrdiff_t n = 1) {
    for (std::ptrdiff_t i = 0; i < n; ++i) sem_post(&s_);
  }

 private:
  sem_t s_;
};

}  // namespace cpb::patterns::semaphore
