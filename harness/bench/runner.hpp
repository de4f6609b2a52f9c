// SPDX-License-Identifier: Apache-2.0
/// @file
/// Runs one benchmark case on Google Benchmark and measures what it lacks: throughput from wall
/// time, sampled latency percentiles, per-thread counts with a fairness index, and placement.
///
/// `run_isolated` runs the case in a forked child process under a watchdog, so that a crash or a
/// hang in one implementation is recorded for that case and the suite goes on.
#pragma once

#include "harness/bench/plan.hpp"

#include <nlohmann/json.hpp>

namespace cpb::bench {

struct RunOptions {
  double min_time_s = 0.1;  ///< Google Benchmark's min time per trial
  double warmup_s = 0.02;   ///< discarded warm-up before the measured trials
  double timeout_s = 60;    ///< the watchdog: a case running longer is killed and recorded
  bool pin = true;          ///< pin benchmark threads
};

/// Runs `c` in this process and returns its result entry (our fields plus Google Benchmark's
/// timing fields, without the naming fields the suite adds). Errors inside the benchmark are
/// reported in the entry (`error_occurred`, `error_message`), not thrown; a fixture whose set-up
/// throws UsageError (bad input) or SetupError gives an entry with `setup_error`. A label the
/// benchmark set
/// (`State::SetLabel`, e.g. the server's version) is the entry's `label`.
nlohmann::json run_here(const Case& c, const RunOptions& opt);

/// Runs `c` in a forked child with a watchdog. A crash, a hang past `timeout_s`, or an exception
/// becomes an entry with `error_occurred` and a message saying which.
nlohmann::json run_isolated(const Case& c, const RunOptions& opt);

}  // namespace cpb::bench
