// SPDX-License-Identifier: Apache-2.0
/// @file
/// Baseline (the reference of both `optimistic_cc` and `pessimistic_cc`): one `std::mutex` held
/// for the whole transaction over a plain array of balances. Trivially serializable, never
/// aborts, and no two transactions ever run at once, conflicting or not.
///
/// Progress: blocking (waiters sleep in the kernel after glibc's short spin).
/// When to use: the default for a small store, or when transactions are short and threads few;
/// anything finer must beat it on this workload to be worth its complexity.
#pragma once

#include "harness/core/progress.hpp"
#include "patterns/optimistic_cc/transactions.hpp"

#include <cstddef>
#include <cstdint>
#include <mutex>
#include <span>
#include <string_view>
#include <vector>

namespace cpb::patterns::transactions {

class GlobalMutex {
 public:
  static constexpr std::string_view kName = "global_mutex";
  static constexpr Progress kProgress = Progress::kBlocking;
  static constexpr bool kBaseline = true;

  GlobalMutex(std::size_t accounts, Balance initial) : balances_(accounts, initial) {}

  [[nodiscard]] std::size_t size() const { return balances_.size(); }
  [[nodiscard]] Balance peek(Key k) const { return balances_[k]; }

  class Tx {
   public:
    explicit Tx(std::vector<Balance>& b) : b_(b) {}
    [[nodiscard]] Balance get(Key k) const { return b_[k]; }
    void put(Key k, Balance v) { b_[k] = v; }

   private:
    std::vector<Balance>& b_;
  };

  template <class F>
  std::uint32_t execute(std::span<const Key> /*keys*/, F&& body) {
    std::lock_guard lock(m_);
    Tx tx(balances_);
    body(tx);
    return 1;
  }

 private:
  std::mutex m_;
  std::vector<Balance> balances_;
};

}  // namespace cpb::patterns::transactions
