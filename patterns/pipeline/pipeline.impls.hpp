// SPDX-License-Identifier: Apache-2.0
/// @file
/// The built-in pipelines: the one list that registration, conformance tests and stress checks
/// are generated from.
#pragma once

#include "harness/core/type_list.hpp"
#include "patterns/pipeline/queue_pipeline.hpp"
#include "patterns/pipeline/tbb_pipeline.hpp"
#include "patterns/pipeline/token_pipeline.hpp"

#include <cstdint>

namespace cpb::patterns::pipeline {

using Impls = TypeList<QueuePipeline<std::uint64_t>, TokenPipeline<std::uint64_t>,
                       TbbPipeline<std::uint64_t>>;

}  // namespace cpb::patterns::pipeline
