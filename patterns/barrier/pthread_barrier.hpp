// SPDX-License-Identifier: Apache-2.0
/// @file
/// Baseline: `pthread_barrier_t` (glibc: a counter under an internal lock; waiters sleep on a
/// futex without spinning first).
///
/// Progress: blocking.
#pragma once

#include "harness/core/progress.hpp"

#include <cstddef>
#include <pthread.h>
#include <stdexcept>
#include <string_view>

namespace cpb::patterns::barrier {

class PthreadBarrier {
 public:
  static constexpr std::string_view kName = "pthread_barrier";
  static constexpr Progress kProgress = Progress::kBlocking;
  static constexpr bool kBaseline = true;

  explicit PthreadBarrier(std::ptrdiff_t parties) {
    if (pthread_barrier_init(&b_, nullptr, static_cast<unsigned>(parties)) != 0) {
      throw std::invalid_argument("pthread_barrier_init failed");
    }
  }
  ~PthreadBarrier() { pthread_barrier_destroy(&b_); }
  PthreadBarrier(const PthreadBarrier&) = delete;
  PthreadBarrier& operator=(const PthreadBarrier&) = delete;

  void arrive_and_wait() { pthread_barrier_wait(&b_); }

 private:
  pthread_barrier_t b_;
};

}  // namespace cpb::patterns::barrier
