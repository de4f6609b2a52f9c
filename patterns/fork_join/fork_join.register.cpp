// SPDX-License-Identifier: Apache-2.0
#include "patterns/fork_join/fork_join.hpp"

#include "patterns/fork_join/fork_join.impls.hpp"

namespace cpb::patterns::fork_join {
namespace {

// ThreadSanitizer cannot see the synchronization inside libtbb and libgomp (uninstrumented
// shared libraries): a task built by its spawner in inline header code is handed to another
// thread through the library's own atomics, and TSan reports that hand-over as a data race. So
// a TSan build registers neither the TBB nor the OpenMP baseline (their conformance tests are
// skipped there too); every other preset runs them.
#if defined(__SANITIZE_THREAD__)
using Registered = TypeList<ForkJoinPool<>, StdAsync>;
#else
using Registered = Impls;
#endif

}  // namespace
}  // namespace cpb::patterns::fork_join

CPB_REGISTER_IMPLS(fork_join, cpb::patterns::fork_join::Registered);
