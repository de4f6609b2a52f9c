// SPDX-License-Identifier: Apache-2.0
/// @file
/// Error kinds that the CLI turns into exit codes: bad input is 2, a failed run is 1.
#pragma once

#include <stdexcept>

namespace cpb {

/// The user asked for something impossible: an unknown name, a malformed value, a missing or
/// malformed file. The message is one line naming the problem.
class UsageError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

/// What a run needs is not there: a server that cannot start (its binary fails, its port is
/// taken, it never becomes ready). Thrown by a fixture's set-up, it stops `cpbench run` and
/// `check` with exit code 2, like bad input; the results measured before it are kept.
class SetupError : public UsageError {
 public:
  using UsageError::UsageError;
};

}  // namespace cpb
