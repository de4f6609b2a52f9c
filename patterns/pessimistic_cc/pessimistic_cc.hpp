// SPDX-License-Identifier: Apache-2.0
/// @file
/// The `pessimistic_cc` family: transactional key-value stores that lock what a transaction
/// touches before touching it (two-phase locking). The store concept, the bank-transfer
/// workload, its scenarios and checks are shared with `optimistic_cc`: they live in
/// patterns/optimistic_cc/transactions.hpp, included here.
#pragma once

#include "patterns/optimistic_cc/transactions.hpp"

#include <string_view>
#include <vector>

namespace cpb::patterns::pessimistic_cc {

template <transactions::Store St>
struct Family {
  static constexpr std::string_view kName = "pessimistic_cc";
  static constexpr std::string_view kDescription =
      "pessimistic concurrency control: two-phase locking (ordered acquisition, wait-die)";
  static constexpr std::string_view kReference = "global_mutex";

  static std::vector<Scenario> scenarios() { return transactions::scenarios<St>(kName); }
  static std::vector<Check> checks() { return transactions::checks<St>(kName); }
};

}  // namespace cpb::patterns::pessimistic_cc
