// SPDX-License-Identifier: Apache-2.0
/// @file
/// The built-in MapReduce engines: the one list that registration, conformance tests and
/// stress checks are generated from.
#pragma once

#include "harness/core/type_list.hpp"
#include "patterns/map_reduce/shuffle_engine.hpp"
#include "patterns/map_reduce/tbb_concurrent_hash_map.hpp"
#include "patterns/map_reduce/tbb_parallel_reduce.hpp"

namespace cpb::patterns::map_reduce {

using Impls = TypeList<ShuffleEngine<Combiner>, ShuffleEngine<NoCombiner>, TbbParallelReduce,
                       TbbConcurrentHashMap>;
/// The engines templated on the sync policy (the model checker runs them).
using OwnImpls = TypeList<ShuffleEngine<Combiner>, ShuffleEngine<NoCombiner>>;

}  // namespace cpb::patterns::map_reduce
