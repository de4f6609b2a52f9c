// SPDX-License-Identifier: Apache-2.0
// A user's lock, registered into the built-in mutex family from outside the repository.
#include "harness/core/registry.hpp"
#include "patterns/mutex/mutex.hpp"

#include <atomic>
#include <string_view>
#include <thread>

namespace acme {

class BackoffSpinlock {
 public:
  static constexpr std::string_view kName = "acme_backoff_spinlock";
  static constexpr cpb::Progress kProgress = cpb::Progress::kBlocking;

  void lock() {
    // Acquire pairs with the release store in unlock().
    while (locked_.exchange(true, std::memory_order_acquire)) std::this_thread::yield();
  }
  bool try_lock() { return !locked_.exchange(true, std::memory_order_acquire); }  // as lock()
  void unlock() { locked_.store(false, std::memory_order_release); }  // pairs with the exchange

 private:
  std::atomic<bool> locked_{false};
};

}  // namespace acme

CPB_REGISTER_IMPL(mutex, acme::BackoffSpinlock);
