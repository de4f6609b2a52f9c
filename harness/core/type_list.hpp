// SPDX-License-Identifier: Apache-2.0
/// @file
/// `TypeList`: the one list of a family's built-in implementations, from which registration,
/// conformance tests and checks are all generated (house style §3.1).
#pragma once

#include "harness/core/registry.hpp"

namespace cpb {

template <class... T>
struct TypeList {};

namespace detail {
template <template <class> class Family, class... T>
bool register_all(TypeList<T...> /*list*/, const char* file, int line) {
  return (register_impl<Family, T>(file, line) && ...);
}
}  // namespace detail
}  // namespace cpb

/// Registers every type of the TypeList `list` in family `family`.
#define CPB_REGISTER_IMPLS(family, list)                                            \
  [[maybe_unused]] static const bool CPB_DETAIL_CAT(cpb_registered_, __COUNTER__) = \
      ::cpb::detail::register_all<::cpb::patterns::family::Family>(list{}, __FILE__, __LINE__)
