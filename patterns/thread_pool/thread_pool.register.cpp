// SPDX-License-Identifier: Apache-2.0
#include "patterns/thread_pool/thread_pool.hpp"

#include "patterns/thread_pool/thread_pool.impls.hpp"

#include <type_traits>

namespace cpb::patterns::thread_pool {
namespace {

/// `In` without `Drop`.
template <class Drop, class In, class Out = TypeList<>>
struct Without {
  using type = Out;
};
template <class Drop, class T, class... Rest, class... Out>
struct Without<Drop, TypeList<T, Rest...>, TypeList<Out...>>
    : Without<Drop, TypeList<Rest...>,
              std::conditional_t<std::is_same_v<T, Drop>, TypeList<Out...>, TypeList<Out..., T>>> {
};

// ThreadSanitizer cannot see the synchronization inside libtbb (an uninstrumented shared
// library): TBB hands a task, built by the submitter in inline header code, to a worker through
// its own atomics, and TSan reports that hand-over as a data race. So a TSan build does not
// register the TBB baseline (its conformance tests are skipped there too); every other preset
// runs it.
#if defined(__SANITIZE_THREAD__)
using Registered = Without<TbbTaskArena, Impls>::type;
#else
using Registered = Impls;
#endif

}  // namespace
}  // namespace cpb::patterns::thread_pool

CPB_REGISTER_IMPLS(thread_pool, cpb::patterns::thread_pool::Registered);
