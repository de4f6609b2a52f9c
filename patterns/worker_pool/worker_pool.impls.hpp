// SPDX-License-Identifier: Apache-2.0
/// @file
/// The built-in worker pools: the one list that registration, conformance tests and stress
/// checks are generated from. Each (dispatch policy x worker kind) is an implementation.
#pragma once

#include "harness/core/type_list.hpp"
#include "patterns/worker_pool/asio_strands.hpp"
#include "patterns/worker_pool/process_workers.hpp"
#include "patterns/worker_pool/thread_workers.hpp"

namespace cpb::patterns::worker_pool {

using Impls =
    TypeList<ThreadWorkers<RoundRobin>, ThreadWorkers<LeastLoaded>, ThreadWorkers<PriorityFirst>,
             ProcessWorkers<RoundRobin>, ProcessWorkers<LeastLoaded>, ProcessWorkers<PriorityFirst>,
             AsioStrands<RoundRobin>, AsioStrands<LeastLoaded>>;

}  // namespace cpb::patterns::worker_pool
