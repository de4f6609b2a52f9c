// SPDX-License-Identifier: Apache-2.0
#include "harness/stress/linearizability.hpp"

#include <fmt/format.h>

#include <algorithm>

namespace cpb::stress::detail {

std::vector<std::pair<std::size_t, std::size_t>> quiescent_windows(std::span<const Op> ops) {
  std::vector<std::pair<std::size_t, std::size_t>> out;
  std::size_t begin = 0;
  std::uint64_t horizon = 0;  // the latest response so far in this window
  for (std::size_t i = 0; i < ops.size(); ++i) {
    if (i > begin && ops[i].invoke > horizon) {  // nothing pending: a cut
      out.emplace_back(begin, i);
      begin = i;
    }
    horizon = i == begin ? ops[i].response : std::max(horizon, ops[i].response);
  }
  if (begin < ops.size()) out.emplace_back(begin, ops.size());
  return out;
}

std::string explain_window(std::span<const Op> window, const Describe& describe,
                           std::span<const std::size_t> best_prefix, const std::string& best_state,
                           const std::string& start_states, std::size_t max_rows,
                           std::span<const Op> before) {
  const auto line = [&](std::size_t i) {
    return fmt::format("thread {}: {}", window[i].thread, describe(window[i]));
  };
  std::string out = fmt::format(
      "The failing window ({} operations, between two quiescent points) starts from: {}\n",
      window.size(), start_states);
  std::vector<bool> done(window.size(), false);
  for (const std::size_t i : best_prefix) done[i] = true;
  if (best_prefix.empty()) {
    out += "No operation of the window can take effect first.\n";
  } else {
    out += fmt::format("Deepest partial linearization ({} of {} operations), reaching {}:\n",
                       best_prefix.size(), window.size(), best_state);
    constexpr std::size_t kShown = 24;
    const std::size_t from = best_prefix.size() > kShown ? best_prefix.size() - kShown : 0;
    if (from > 0) out += fmt::format("  ... {} earlier operations\n", from);
    for (std::size_t k = from; k < best_prefix.size(); ++k) {
      out += fmt::format("  {:>3}. {}\n", k + 1, line(best_prefix[k]));
    }
  }
  // The operations that could come next in real time: invoked before the earliest response
  // among those not yet linearized.
  std::uint64_t first_response = ~std::uint64_t{0};
  for (std::size_t i = 0; i < window.size(); ++i) {
    if (!done[i]) first_response = std::min(first_response, window[i].response);
  }
  std::vector<std::size_t> next;
  for (std::size_t i = 0; i < window.size(); ++i) {
    if (!done[i] && window[i].invoke < first_response) next.push_back(i);
  }
  out += "None of these can take effect next (marked * below):\n";
  for (const std::size_t i : next) out += fmt::format("       {}\n", line(i));
  if (!before.empty()) {
    out += fmt::format(
        "The {} operations before it (already linearized; they led to the states above):\n",
        before.size());
    out += format_history(before, describe);
  }
  out +=
      "The failing window (one column per thread, rows in invoke order, [invoke,response] "
      "tickets):\n";
  if (window.size() <= max_rows) {
    out += format_history(window, describe, next);
  } else {
    std::vector<std::size_t> shown;
    for (const std::size_t i : next) {
      if (i < max_rows) shown.push_back(i);
    }
    out += format_history(window.first(max_rows), describe, shown);
    out += fmt::format("... {} more operations not shown\n", window.size() - max_rows);
  }
  return out;
}

}  // namespace cpb::stress::detail
