// SPDX-License-Identifier: Apache-2.0
// cpb_check_diff: long differential runs of the checker's reductions against the search without
// reduction (issue 10). Exit 0: no mismatch; 1: a mismatch (each printed with its shrunk
// program); 2: bad arguments.
//
//   cpb_check_diff --tier sc|tso|c11 --programs N [--seed S] [--jobs J] [--cap C] [--scale ci|long]
//                  [--shrink K]
// --scale long (the default) generates larger programs than the gtest (ci); --shrink K shrinks
// the first K mismatches (16).
//   cpb_check_diff --tier sc|tso|c11 --only SEED   (one program, by its generator seed)
//   cpb_check_diff --file PROGRAM.txt          (one program in the text form, under its tier)
#include "harness/check/differential.hpp"

#include <fmt/format.h>

#include <cerrno>
#include <cstdint>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <optional>
#include <sstream>
#include <stdexcept>
#include <string>
#include <string_view>

namespace {

namespace diff = cpb::check::diff;

constexpr std::string_view kUsage =
    "usage: cpb_check_diff --tier sc|tso|c11 (--programs N | --only SEED) [--seed S] [--jobs J] "
    "[--cap C] [--scale ci|long] [--shrink K] | --file PROGRAM.txt [--cap C]";

[[noreturn]] void usage(std::string_view why) {
  std::cerr << "cpb_check_diff: " << why << " (" << kUsage << ")\n";
  std::exit(2);
}

std::uint64_t number(std::string_view flag, const char* text) {
  errno = 0;
  char* end = nullptr;
  const unsigned long long v = std::strtoull(text, &end, 0);  // 0x... for seeds
  if (errno != 0 || end == text || *end != '\0' || text[0] == '-') {
    usage(fmt::format("{} needs a non-negative number, got '{}'", flag, text));
  }
  return v;
}

}  // namespace

int main(int argc, char** argv) {
  diff::CampaignOptions o;
  o.scale = diff::Scale::kLong;
  std::optional<cpb::check::Tier> tier;
  std::optional<std::uint64_t> only;
  std::optional<std::string> file;
  bool have_programs = false;
  for (int i = 1; i < argc; ++i) {
    const std::string_view flag = argv[i];
    if (flag == "--help" || flag == "-h") {
      std::cout << kUsage << "\n";
      return 0;
    }
    if (i + 1 >= argc) usage(fmt::format("{} needs a value", flag));
    const char* value = argv[++i];
    if (flag == "--tier") {
      const std::string_view v = value;
      if (v != "sc" && v != "tso" && v != "c11") {
        usage(fmt::format("--tier is sc, tso or c11, got '{}'", v));
      }
      tier = v == "sc"    ? cpb::check::Tier::kSc
             : v == "tso" ? cpb::check::Tier::kTso
                          : cpb::check::Tier::kC11;
    } else if (flag == "--programs") {
      o.programs = number(flag, value);
      have_programs = true;
    } else if (flag == "--seed") {
      o.seed = number(flag, value);
    } else if (flag == "--jobs") {
      o.jobs = static_cast<unsigned>(number(flag, value));
      if (o.jobs == 0 || o.jobs > 256) usage("--jobs is 1 to 256");
    } else if (flag == "--cap") {
      o.options.cap = number(flag, value);
      if (o.options.cap == 0) usage("--cap must be positive");
    } else if (flag == "--shrink") {
      o.max_shrunk = number(flag, value);
    } else if (flag == "--only") {
      only = number(flag, value);
    } else if (flag == "--scale") {
      const std::string_view v = value;
      if (v != "ci" && v != "long") usage(fmt::format("--scale is ci or long, got '{}'", v));
      o.scale = v == "ci" ? diff::Scale::kCi : diff::Scale::kLong;
    } else if (flag == "--file") {
      file = value;
    } else {
      usage(fmt::format("unknown option '{}'", flag));
    }
  }
  if (static_cast<int>(have_programs) + static_cast<int>(only.has_value()) +
          static_cast<int>(file.has_value()) !=
      1) {
    usage("give one of --programs, --only and --file");
  }
  if (!tier && !file) usage("--tier is required");

  if (only || file) {
    diff::Program p;
    if (file) {
      std::ifstream in(*file);
      if (!in) usage(fmt::format("cannot read '{}'", *file));
      std::stringstream text;
      text << in.rdbuf();
      try {
        p = diff::parse(text.str());
      } catch (const std::invalid_argument& e) {
        usage(fmt::format("{}: {}", *file, e.what()));
      }
    } else {
      p = diff::generate(*only, *tier, o.scale);
    }
    std::cout << diff::to_text(p);
    diff::ProgramResult r = diff::compare(p, o.options, only.value_or(0));
    if (r.skipped) {
      std::cout << fmt::format("skipped: the unreduced search needs more than {} executions\n",
                               o.options.cap);
      return 0;
    }
    for (std::size_t i = 0; i < r.mismatches.size(); ++i) {
      diff::Mismatch& m = r.mismatches[i];
      m.scale = o.scale;
      if (i < o.max_shrunk) diff::shrink_mismatch(m, o.options);
      std::cout << m.report();
    }
    std::cout << fmt::format("{} executions ({} without reduction), {} mismatches\n", r.executions,
                             r.unreduced, r.mismatches.size());
    return r.mismatches.empty() ? 0 : 1;
  }

  o.tier = *tier;
  o.progress = &std::cout;
  const diff::CampaignResult r = diff::run_campaign(o);
  std::cout << r.report() << r.summary(o.tier) << "\n";
  return r.mismatches.empty() ? 0 : 1;
}
