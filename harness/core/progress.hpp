// SPDX-License-Identifier: Apache-2.0
/// @file
/// Progress guarantees that an implementation declares as `kProgress`.
#pragma once

#include <string_view>

namespace cpb {

enum class Progress { kBlocking, kObstructionFree, kLockFree, kWaitFree };

constexpr std::string_view to_string(Progress p) {
  switch (p) {
    case Progress::kBlocking:
      return "blocking";
    case Progress::kObstructionFree:
      return "obstruction-free";
    case Progress::kLockFree:
      return "lock-free";
    case Progress::kWaitFree:
      return "wait-free";
  }
  return "unknown";
}

}  // namespace cpb
