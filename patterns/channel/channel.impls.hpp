// SPDX-License-Identifier: Apache-2.0
/// @file
/// The built-in channels: the one list that registration, conformance tests and checks are
/// generated from.
#pragma once

#include "harness/core/sync.hpp"
#include "harness/core/type_list.hpp"
#include "patterns/channel/boost_buffered.hpp"
#include "patterns/channel/boost_unbuffered.hpp"
#include "patterns/channel/deque_channel.hpp"
#include "patterns/channel/go_channel.hpp"

#include <type_traits>

namespace cpb::patterns::channel {

/// The implementations templated on the sync policy, which the model checker runs.
using ModelImpls = TypeList<GoChannel<>, DequeChannel<>>;

/// Under ThreadSanitizer the Boost channels are left out: a blocked thread switches into
/// Boost.Fiber's dispatcher fiber through Boost.Context, whose stack switches TSan does not see.
using Impls =
    std::conditional_t<sync::kTsan, TypeList<GoChannel<>, DequeChannel<>>,
                       TypeList<GoChannel<>, DequeChannel<>, BoostBuffered, BoostUnbuffered>>;

}  // namespace cpb::patterns::channel
