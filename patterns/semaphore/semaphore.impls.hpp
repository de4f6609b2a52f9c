// SPDX-License-Identifier: Apache-2.0
/// @file
/// The built-in semaphores: the one list that registration, conformance tests and checks are
/// generated from.
#pragma once

#include "harness/core/type_list.hpp"
#include "patterns/semaphore/atomic_semaphore.hpp"
#include "patterns/semaphore/condvar_semaphore.hpp"
#include "patterns/semaphore/posix_semaphore.hpp"
#include "patterns/semaphore/std_counting_semaphore.hpp"

namespace cpb::patterns::semaphore {

/// The own implementations (templates on the sync policy, model-checked).
using OwnImpls = TypeList<AtomicSemaphore<>, CondvarSemaphore<>>;

using Impls = TypeList<StdCountingSemaphore, AtomicSemaphore<>, CondvarSemaphore<>, PosixSemaphore>;

}  // namespace cpb::patterns::semaphore
