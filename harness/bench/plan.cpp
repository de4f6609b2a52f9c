// SPDX-License-Identifier: Apache-2.0
#include "harness/bench/plan.hpp"

#include "harness/core/errors.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <regex>

namespace cpb::bench {
namespace {

template <class Names>
std::string join(const Names& names) {
  std::vector<std::string> v(names.begin(), names.end());
  std::sort(v.begin(), v.end());
  v.erase(std::unique(v.begin(), v.end()), v.end());
  return fmt::format("{}", fmt::join(v, ", "));
}

std::vector<std::vector<std::pair<std::string, std::int64_t>>> param_points(const Scenario& s,
                                                                            const Selection& sel) {
  std::vector<std::vector<std::pair<std::string, std::int64_t>>> points{{}};
  for (const auto& axis : s.params) {
    std::vector<std::int64_t> values = axis.values;
    if (sel.quick) values = axis.quick.empty() ? std::vector{axis.values.front()} : axis.quick;
    for (const auto& [name, override_values] : sel.params) {
      if (name != axis.name) continue;
      for (auto v : override_values) {
        if (v < axis.min || v > axis.max) {
          throw UsageError(
              fmt::format("--param {}: {} is out of range for scenario {} (allowed: {} to {})",
                          name, v, s.name, axis.min, axis.max));
        }
      }
      values = override_values;
    }
    std::vector<std::vector<std::pair<std::string, std::int64_t>>> next;
    for (const auto& p : points) {
      for (auto v : values) {
        auto q = p;
        q.emplace_back(axis.name, v);
        next.push_back(std::move(q));
      }
    }
    points = std::move(next);
  }
  return points;
}

std::vector<int> thread_counts(const Scenario& s, const Selection& sel) {
  const auto& axis = s.threads;
  if (axis.kind == ThreadAxis::Kind::kFixed) return axis.values;
  if (sel.threads) return *sel.threads;
  if (sel.quick && !axis.quick.empty()) return axis.quick;
  return axis.values;
}

}  // namespace

std::regex compile_regex(const std::string& what, const std::string& re) {
  try {
    return std::regex(re, std::regex::ECMAScript);
  } catch (const std::regex_error& e) {
    throw UsageError(
        fmt::format("--{}: '{}' is not a valid regular expression ({})", what, re, e.what()));
  }
}

std::string case_name(const ImplInfo& impl, const Scenario& s, const Point& p) {
  std::string name = fmt::format("{}/{}/{}", impl.family, impl.name, s.name);
  for (const auto& [k, v] : p.params) name += fmt::format("/{}:{}", k, v);
  return name + fmt::format("/threads:{}", p.threads);
}

std::vector<const ImplInfo*> select_impls(const Registry& reg, const std::string& family_re,
                                          const std::string& impl_re) {
  const auto fam = compile_regex("family", family_re);
  const auto imp = compile_regex("impl", impl_re);
  std::vector<std::string> families;
  for (const auto& f : reg.families()) families.push_back(f.name);
  const auto family_matches = [&](const std::string& f) { return std::regex_match(f, fam); };
  if (std::none_of(families.begin(), families.end(), family_matches)) {
    throw UsageError(
        fmt::format("--family '{}' matches no family (known: {})", family_re, join(families)));
  }
  std::vector<std::string> names;
  std::vector<const ImplInfo*> out;
  for (const auto& i : reg.impls()) {
    if (!family_matches(i.family)) continue;
    names.push_back(i.name);
    if (std::regex_match(i.name, imp)) out.push_back(&i);
  }
  if (out.empty()) {
    throw UsageError(
        fmt::format("--impl '{}' matches no implementation of the selected "
                    "families (known: {})",
                    impl_re, join(names)));
  }
  return out;
}

std::vector<Case> plan(const Registry& reg, const Selection& sel) {
  const auto impls = select_impls(reg, sel.family, sel.impl);
  const auto scen_re = compile_regex("scenario", sel.scenario);
  const auto filter_re =
      compile_regex("filter", sel.filter.empty() ? std::string(".*") : sel.filter);
  std::vector<std::string> scenario_names;
  for (const auto& [name, values] : sel.params) {
    if (values.empty()) throw UsageError(fmt::format("--param {}: no values given", name));
  }

  std::vector<Case> cases;
  int family_index = 0;
  for (const ImplInfo* impl_ptr : impls) {
    const ImplInfo& impl = *impl_ptr;
    for (const auto& s : impl.scenarios) {
      scenario_names.push_back(s.name);
      if (!std::regex_match(s.name, scen_re)) continue;
      int instance = 0;
      for (const auto& params : param_points(s, sel)) {
        for (int t : thread_counts(s, sel)) {
          Case c{&impl, &s, Point{params, t}, {}, family_index, instance++};
          c.name = case_name(impl, s, c.point);
          if (!std::regex_search(c.name, filter_re)) continue;
          cases.push_back(std::move(c));
        }
      }
      ++family_index;
    }
  }
  for (const auto& [name, values] : sel.params) {
    const bool known = std::any_of(cases.begin(), cases.end(), [&](const Case& c) {
      return std::any_of(c.point.params.begin(), c.point.params.end(),
                         [&](const auto& kv) { return kv.first == name; });
    });
    if (!known && !cases.empty()) {
      std::vector<std::string> axes;
      for (const auto& c : cases) {
        for (const auto& kv : c.point.params) axes.push_back(kv.first);
      }
      throw UsageError(
          fmt::format("--param '{}' is not a parameter of the selected scenarios "
                      "(known: {})",
                      name, axes.empty() ? std::string("none") : join(axes)));
    }
  }
  if (cases.empty()) {
    throw UsageError(fmt::format(
        "the selection matches no benchmark (scenarios of the selected implementations: {})",
        join(scenario_names)));
  }
  return cases;
}

}  // namespace cpb::bench
