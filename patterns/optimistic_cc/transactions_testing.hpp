// SPDX-License-Identifier: Apache-2.0
/// @file
/// Test helpers for the transactional-store families: `OwnImpls<Impls>`, the implementations of
/// a family's TypeList that are templates on the sync policy (the ones the model checker can
/// run), as a GoogleTest type list. Used by the `*.model.cpp` of `optimistic_cc` and
/// `pessimistic_cc`.
#pragma once

#include "harness/core/sync.hpp"
#include "harness/core/type_list.hpp"

#include <gtest/gtest.h>

#include <tuple>
#include <type_traits>
#include <utility>

namespace cpb::patterns::transactions {

/// `OwnImpls<Impls>`: the implementations of a TypeList that are templates on the sync policy
/// (the ones the model checker can run), as a GoogleTest type list.
template <class L>
struct OwnOf;
template <class... T>
struct OwnOf<TypeList<T...>> {
  using tuple = decltype(std::tuple_cat(
      std::declval<std::conditional_t<sync::sync_templated<T>, std::tuple<T>, std::tuple<>>>()...));
};
template <class Tuple>
struct TupleTypes;
template <class... T>
struct TupleTypes<std::tuple<T...>> {
  using type = ::testing::Types<T...>;
};
template <class L>
using OwnImpls = typename TupleTypes<typename OwnOf<L>::tuple>::type;

}  // namespace cpb::patterns::transactions
