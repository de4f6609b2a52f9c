// SPDX-License-Identifier: Apache-2.0
/// @file
/// Selection: turns the registry and the user's filters into the list of benchmark cases.
#pragma once

#include "harness/core/registry.hpp"

#include <optional>
#include <regex>
#include <string>
#include <vector>

namespace cpb::bench {

struct Selection {
  std::string family = ".*";  ///< regexes, matched against the whole name
  std::string impl = ".*";
  std::string scenario = ".*";
  std::string filter;  ///< optional regex searched in the full benchmark name
  std::optional<std::vector<int>> threads;
  /// `--param name=v1,v2`: overrides a parameter axis wherever a scenario has it.
  std::vector<std::pair<std::string, std::vector<std::int64_t>>> params;
  bool quick = false;
};

/// One benchmark: an implementation, a scenario, and a point of its matrix.
struct Case {
  const ImplInfo* impl = nullptr;
  const Scenario* scenario = nullptr;
  Point point;
  std::string name;  ///< family/impl/scenario/param:value.../threads:N
  int family_index = 0;
  int instance_index = 0;
};

/// The cases `sel` selects, in registry order. Throws UsageError when a regex is malformed or
/// matches nothing, naming what is known.
std::vector<Case> plan(const Registry& reg, const Selection& sel);

/// `re` compiled (ECMAScript); throws UsageError naming the flag `--<what>` when it is malformed.
std::regex compile_regex(const std::string& what, const std::string& re);

/// The registered implementations whose family and name fully match the regexes. Throws
/// UsageError when a regex is malformed or either matches nothing, naming what is known.
std::vector<const ImplInfo*> select_impls(const Registry& reg, const std::string& family_re,
                                          const std::string& impl_re);

/// `family/impl/scenario/p:v/threads:N`.
std::string case_name(const ImplInfo& impl, const Scenario& s, const Point& p);

}  // namespace cpb::bench
