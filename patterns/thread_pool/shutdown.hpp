// SPDX-License-Identifier: Apache-2.0
/// @file
/// How the own pools stop (`shutdown(Shutdown)`), and the error a submission after it gets.
#pragma once

#include <stdexcept>

namespace cpb::patterns::thread_pool {

/// What `shutdown` does with the tasks that have not started yet.
enum class Shutdown {
  kDrain,   ///< run them, and every task they submit, then stop (what the destructor does)
  kCancel,  ///< destroy them without running them (tasks already running finish; what they
            ///< submit is destroyed too), then stop; `shutdown` returns how many
};

/// Thrown by `submit` from outside the pool once `shutdown` has begun. The task was not queued.
class PoolClosed : public std::runtime_error {
 public:
  PoolClosed() : std::runtime_error("thread pool is shut down") {}
};

}  // namespace cpb::patterns::thread_pool
