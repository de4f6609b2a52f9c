// SPDX-License-Identifier: Apache-2.0
/// @file
/// The command line, parsed and checked before anything runs: `parse_args` turns argv into one
/// command with its options, or throws UsageError with a one-line message (exit code 2). It
/// reads no file and runs nothing, so the fuzz target (tests/fuzz/cli_args_fuzz.cpp) can call it
/// on any input.
#pragma once

#include "harness/cli/commands.hpp"

#include <iosfwd>

namespace cpb::cli {

enum class Command { kNone, kList, kRun, kAdvise, kCheck, kReport, kCompare };

struct Invocation {
  Command command = Command::kNone;
  /// Set when the parser already answered (--help, --version): exit with this code.
  std::optional<int> exit_code;
  ListOptions list;
  RunOptions run;
  AdviseOptions advise;
  CheckOptions check;
  ReportOptions report;
  CompareOptions compare;
};

/// Parses and checks the arguments. Help and version text go to `out`. Throws UsageError (one
/// line) on an unknown command or option, a malformed or out-of-range value.
Invocation parse_args(int argc, const char* const* argv, std::ostream& out, std::ostream& err);

/// `s` with its line breaks as spaces and no trailing space: a message for one line.
std::string one_line(std::string s);

}  // namespace cpb::cli
