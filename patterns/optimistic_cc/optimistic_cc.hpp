// SPDX-License-Identifier: Apache-2.0
/// @file
/// The `optimistic_cc` family: transactional key-value stores that run transactions without
/// locks and validate them at commit (optimistic concurrency control). The store concept, the
/// bank-transfer workload, its scenarios and checks are shared with `pessimistic_cc` and live in
/// transactions.hpp.
#pragma once

#include "patterns/optimistic_cc/transactions.hpp"

#include <string_view>
#include <vector>

namespace cpb::patterns::optimistic_cc {

template <transactions::Store St>
struct Family {
  static constexpr std::string_view kName = "optimistic_cc";
  static constexpr std::string_view kDescription =
      "optimistic concurrency control: versioned records, validate at commit, retry";
  static constexpr std::string_view kReference = "global_mutex";

  static std::vector<Scenario> scenarios() { return transactions::scenarios<St>(kName); }
  static std::vector<Check> checks() { return transactions::checks<St>(kName); }
};

}  // namespace cpb::patterns::optimistic_cc
