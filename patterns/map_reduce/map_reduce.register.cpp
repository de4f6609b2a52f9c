// SPDX-License-Identifier: Apache-2.0
#include "patterns/map_reduce/map_reduce.hpp"

#include "patterns/map_reduce/map_reduce.impls.hpp"

#if !defined(__SANITIZE_THREAD__)
CPB_REGISTER_IMPLS(map_reduce, cpb::patterns::map_reduce::Impls);
#else
// ThreadSanitizer cannot see the synchronization inside libtbb (an uninstrumented shared
// library): TBB hands the ranges of a run to its workers through its own atomics, and TSan
// reports the hand-over as a data race. So a TSan build registers only the own engines (their
// conformance tests skip the TBB baselines too); every other preset runs all four.
CPB_REGISTER_IMPLS(map_reduce, cpb::patterns::map_reduce::OwnImpls);
#endif
