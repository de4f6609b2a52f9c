// SPDX-License-Identifier: Apache-2.0
/// @file
/// The built-in reader-writer locks: the one list that registration, conformance tests and
/// checks are generated from. Both baselines run under every preset: `std::shared_mutex` is
/// intercepted by ThreadSanitizer, and `tbb::spin_rw_mutex` is header-only.
#pragma once

#include "harness/core/type_list.hpp"
#include "patterns/rw_lock/big_reader_lock.hpp"
#include "patterns/rw_lock/rw_spinlock.hpp"
#include "patterns/rw_lock/seqlock.hpp"
#include "patterns/rw_lock/std_shared_mutex.hpp"
#include "patterns/rw_lock/tbb_spin_rw_mutex.hpp"

namespace cpb::patterns::rw_lock {

using Impls = TypeList<StdSharedMutex, TbbSpinRwMutex, RwSpinlock<>, BigReaderLock<>, Seqlock<>>;

}  // namespace cpb::patterns::rw_lock
