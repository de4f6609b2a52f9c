// SPDX-License-Identifier: Apache-2.0
/// @file
/// GoogleTest glue: `cpb::testing::ToGTest<Impls>` turns a family's TypeList into the type list
/// of a TYPED_TEST_SUITE, so adding an implementation to the list enrols it in every test.
#pragma once

#include "harness/core/sync.hpp"
#include "harness/core/type_list.hpp"

#include <gtest/gtest.h>

#include <string>
#include <tuple>
#include <type_traits>
#include <utility>

namespace cpb::testing {

template <class L>
struct ToGTestT;
template <class... T>
struct ToGTestT<TypeList<T...>> {
  using type = ::testing::Types<T...>;
};
template <class L>
using ToGTest = typename ToGTestT<L>::type;

/// `SyncTemplated<Impls>`: the implementations of a family's TypeList that are templates on the
/// sync policy (those the model checker runs), as the type list of a TYPED_TEST_SUITE.
template <class Tuple>
struct TupleToGTestT;
template <class... T>
struct TupleToGTestT<std::tuple<T...>> {
  using type = ::testing::Types<T...>;
};
template <class L>
struct SyncTemplatedT;
template <class... T>
struct SyncTemplatedT<TypeList<T...>> {
  using type = typename TupleToGTestT<decltype(std::tuple_cat(
      std::declval<
          std::conditional_t<sync::sync_templated<T>, std::tuple<T>, std::tuple<>>>()...))>::type;
};
template <class L>
using SyncTemplated = typename SyncTemplatedT<L>::type;

/// Names typed tests by the implementation's `kName` instead of a number.
struct ImplName {
  template <class T>
  static std::string GetName(int /*index*/) {
    return std::string(T::kName);
  }
};

/// True in a ThreadSanitizer build.
inline constexpr bool kTsan = sync::kTsan;

}  // namespace cpb::testing
