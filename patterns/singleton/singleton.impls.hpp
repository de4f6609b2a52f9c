// SPDX-License-Identifier: Apache-2.0
/// @file
/// The built-in singletons: the one list that registration, conformance tests and checks are
/// generated from. `absl_call_once` is left out under ThreadSanitizer: its waiters acquire
/// inside libabsl_base, which TSan does not see (absl_call_once.hpp).
#pragma once

#include "harness/core/sync.hpp"
#include "harness/core/type_list.hpp"
#include "patterns/singleton/absl_call_once.hpp"
#include "patterns/singleton/atomic_once.hpp"
#include "patterns/singleton/dclp.hpp"
#include "patterns/singleton/function_local_static.hpp"
#include "patterns/singleton/singleton.hpp"
#include "patterns/singleton/std_call_once.hpp"

#include <type_traits>

namespace cpb::patterns::singleton {

using Payload = Widget<>;

using Impls =
    std::conditional_t<sync::kTsan,
                       TypeList<StdCallOnce<Payload>, Dclp<Payload>, AtomicOnce<Payload>,
                                FunctionLocalStatic<Payload>>,
                       TypeList<StdCallOnce<Payload>, AbslCallOnce<Payload>, Dclp<Payload>,
                                AtomicOnce<Payload>, FunctionLocalStatic<Payload>>>;

}  // namespace cpb::patterns::singleton
