// SPDX-License-Identifier: Apache-2.0
/// @file
/// The built-in boundaries: the one list that registration, conformance tests and checks are
/// generated from.
#pragma once

#include "harness/core/type_list.hpp"
#include "patterns/reactive/credit_boundary.hpp"
#include "patterns/reactive/unbounded_observer.hpp"

namespace cpb::patterns::reactive {

/// The implementations templated on the sync policy, which the model checker runs.
using ModelImpls = TypeList<CreditBoundary<>>;

using Impls = TypeList<CreditBoundary<>, UnboundedObserver>;

}  // namespace cpb::patterns::reactive
