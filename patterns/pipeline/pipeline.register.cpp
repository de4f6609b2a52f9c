// SPDX-License-Identifier: Apache-2.0
#include "patterns/pipeline/pipeline.hpp"

#include "patterns/pipeline/pipeline.impls.hpp"

#include <cstdint>

namespace cpb::patterns::pipeline {
namespace {

// ThreadSanitizer cannot see the synchronization inside libtbb (an uninstrumented shared
// library): TBB hands an item from one filter to the next through its own atomics, and TSan
// reports that hand-over as a data race. So a TSan build registers only the own pipeline (the
// TBB baseline's tests are skipped there too); every other preset runs both.
#if defined(__SANITIZE_THREAD__)
using Registered = TypeList<QueuePipeline<std::uint64_t>, TokenPipeline<std::uint64_t>>;
#else
using Registered = Impls;
#endif

}  // namespace
}  // namespace cpb::patterns::pipeline

CPB_REGISTER_IMPLS(pipeline, cpb::patterns::pipeline::Registered);
