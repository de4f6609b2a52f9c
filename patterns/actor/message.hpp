// SPDX-License-Identifier: Apache-2.0
/// @file
/// The message of the Savina scenarios: a tag and two words. One plain type, so that the own
/// runtime and CAF carry exactly the same payload (CAF copies it into its mailbox element).
#pragma once

#include <cstdint>

namespace cpb::patterns::actor {

struct Msg {
  std::uint64_t tag = 0;
  std::uint64_t a = 0;
  std::uint64_t b = 0;
};

}  // namespace cpb::patterns::actor
