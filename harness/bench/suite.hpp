// SPDX-License-Identifier: Apache-2.0
/// @file
/// A suite run: the calibration probe, then every case once per repetition, in a fresh shuffled
/// order each repetition (so implementations interleave and drift hits them alike), each result
/// written to the result file as soon as it arrives.
#pragma once

#include "harness/bench/plan.hpp"
#include "harness/bench/runner.hpp"
#include "reports/schema.hpp"

#include <cstdint>
#include <iosfwd>
#include <vector>

namespace cpb::bench {

struct SuiteOptions {
  RunOptions run;
  int repetitions = 1;
  bool calibrate = true;
  bool quick = false;
  bool isolate = true;     ///< each case in its own process under the watchdog
  bool progress = false;   ///< a progress line on stderr
  std::uint64_t seed = 1;  ///< order of the cases within a repetition
};

/// Runs `cases` into `out`; returns how many entries failed. A case whose fixture throws
/// UsageError or SetupError ends the run: its entry is kept, `out` finalized, and SetupError
/// rethrown naming the case (the CLI exits 2).
int run_suite(const std::vector<Case>& cases, const SuiteOptions& opt, reports::ResultFile& out);

/// The `families` block of the result file: each selected family's description and reference.
nlohmann::json families_block(const std::vector<Case>& cases);

}  // namespace cpb::bench
