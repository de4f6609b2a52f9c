// SPDX-License-Identifier: Apache-2.0
// libFuzzer target: the command line. The input is split at line breaks into arguments (at most
// 64). Any argument list is either parsed into a command, or refused with a UsageError that
// cpbench prints as one non-empty line (exiting 2); any other exception, crash or sanitizer report
// is a bug.
#include "harness/cli/args.hpp"
#include "harness/core/errors.hpp"

#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <sstream>
#include <string>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::vector<std::string> args = {"cpbench"};
  std::string current;
  for (std::size_t i = 0; i < size && args.size() < 64; ++i) {
    const char c = static_cast<char>(data[i]);
    if (c == '\n') {
      args.push_back(std::move(current));
      current.clear();
    } else {
      current += c;
    }
  }
  if (!current.empty() && args.size() < 64) args.push_back(std::move(current));
  std::vector<const char*> argv;
  argv.reserve(args.size());
  for (const auto& a : args) argv.push_back(a.c_str());  // an argument ends at its first NUL
  std::ostringstream out;
  std::ostringstream err;
  try {
    const auto inv = cpb::cli::parse_args(static_cast<int>(argv.size()), argv.data(), out, err);
    if (!inv.exit_code && inv.command == cpb::cli::Command::kNone) std::abort();
  } catch (const cpb::UsageError& e) {
    const std::string line = cpb::cli::one_line(e.what());
    if (line.empty() || line.find('\n') != std::string::npos) std::abort();
  }
  return 0;
}
