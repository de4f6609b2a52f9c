// SPDX-License-Identifier: Apache-2.0
/// @file
/// What an asynchronous boundary does when a producer that cannot be slowed down (a hot
/// source) offers more than the subscriber has asked for: the overflow policies, their names,
/// and the name lookup that the CLI's scenario names and the tests use.
#pragma once

#include <array>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <string_view>

namespace cpb::patterns::reactive {

enum class Overflow : std::uint8_t {
  kBuffer,      ///< queue up to the capacity, then fail the stream (onError)
  kDropNewest,  ///< queue up to the capacity, then drop the offered item
  kDropOldest,  ///< queue up to the capacity, then evict the oldest queued item
  kLatest,      ///< keep one pending item; a newer offer replaces it (onBackpressureLatest)
  kError,       ///< queue nothing beyond the subscriber's credits; else fail the stream
};

inline constexpr std::array<Overflow, 5> kOverflows{Overflow::kBuffer, Overflow::kDropNewest,
                                                    Overflow::kDropOldest, Overflow::kLatest,
                                                    Overflow::kError};

constexpr std::string_view to_string(Overflow o) {
  switch (o) {
    case Overflow::kBuffer:
      return "buffer";
    case Overflow::kDropNewest:
      return "drop_newest";
    case Overflow::kDropOldest:
      return "drop_oldest";
    case Overflow::kLatest:
      return "latest";
    case Overflow::kError:
      return "error";
  }
  return "?";
}

/// The policy called `name`; throws std::invalid_argument with a one-line message naming the
/// known policies for any other name.
inline Overflow parse_overflow(std::string_view name) {
  for (const Overflow o : kOverflows) {
    if (to_string(o) == name) return o;
  }
  std::string known;
  for (const Overflow o : kOverflows) {
    if (!known.empty()) known += ", ";
    known += to_string(o);
  }
  throw std::invalid_argument("unknown overflow policy '" + std::string(name) +
                              "' (known: " + known + ")");
}

/// What an offer did.
enum class Offered : std::uint8_t {
  kAccepted,    ///< queued (or delivered)
  kDropped,     ///< the offered item was dropped (kDropNewest)
  kEvicted,     ///< queued; an older queued item was dropped (kDropOldest, kLatest)
  kFailed,      ///< no room (kBuffer) or no credit (kError): the stream failed with onError
  kTerminated,  ///< the stream had already completed, failed or been cancelled
};

}  // namespace cpb::patterns::reactive
