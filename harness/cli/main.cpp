// SPDX-License-Identifier: Apache-2.0
/// @file
/// `cpbench`: list, run, advise, check, report and compare. Exit codes: 0 success, 1 a failure in
/// what ran, 2 bad input.

#include "harness/cli/args.hpp"
#include "harness/core/errors.hpp"

#include <benchmark/benchmark.h>

#include <cstdio>
#include <exception>
#include <iostream>
#include <string>

namespace {

namespace cli = cpb::cli;

int execute(const cli::Invocation& inv) {
  for (const auto& p : cpb::Registry::instance().problems()) throw cpb::UsageError(p);
  switch (inv.command) {
    case cli::Command::kList:
      return cli::list(inv.list);
    case cli::Command::kRun:
      return cli::run(inv.run);
    case cli::Command::kAdvise:
      return cli::advise(inv.advise);
    case cli::Command::kCheck:
      return cli::check(inv.check);
    case cli::Command::kReport:
      return cli::report(inv.report);
    case cli::Command::kCompare:
      return cli::compare(inv.compare);
    case cli::Command::kNone:
      break;
  }
  throw cpb::UsageError("no command given");
}

}  // namespace

int main(int argc, char** argv) {
  cli::install_alloc_counting();
  int gb_argc = 1;
  benchmark::Initialize(&gb_argc, argv);
  try {
    const auto inv = cli::parse_args(argc, argv, std::cout, std::cerr);
    if (inv.exit_code) return *inv.exit_code;
    return execute(inv);
  } catch (const cpb::UsageError& e) {
    std::fprintf(stderr, "cpbench: error: %s\n", cli::one_line(e.what()).c_str());
    return 2;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "cpbench: %s\n", e.what());
    return 1;
  }
}
