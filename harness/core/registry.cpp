// SPDX-License-Identifier: Apache-2.0
#include "harness/core/registry.hpp"

#include <stdexcept>

namespace cpb {

std::int64_t Point::get(std::string_view name) const {
  for (const auto& [k, v] : params) {
    if (k == name) return v;
  }
  throw std::out_of_range("no parameter named " + std::string(name));
}

Registry& Registry::instance() {
  static Registry r;
  return r;
}

void Registry::add_family(FamilyInfo f) {
  if (family(f.name) == nullptr) families_.push_back(std::move(f));
}

void Registry::add_impl(ImplInfo impl) {
  if (this->impl(impl.family, impl.name) != nullptr) {
    problems_.push_back("implementation " + impl.family + "/" + impl.name +
                        " is registered twice (again at " + impl.source + ")");
    return;
  }
  impls_.push_back(std::move(impl));
}

const FamilyInfo* Registry::family(std::string_view name) const {
  for (const auto& f : families_) {
    if (f.name == name) return &f;
  }
  return nullptr;
}

const ImplInfo* Registry::impl(std::string_view family, std::string_view name) const {
  for (const auto& i : impls_) {
    if (i.family == family && i.name == name) return &i;
  }
  return nullptr;
}

}  // namespace cpb
