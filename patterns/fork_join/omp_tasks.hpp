// SPDX-License-Identifier: Apache-2.0
/// @file
/// Baseline: OpenMP tasks (the compiler's runtime; GCC's libgomp here).
///
/// How it maps onto the `ForkJoin` concept:
/// - `run(root)` opens a `#pragma omp parallel num_threads(N)` region in which one thread
///   (`#pragma omp single`) runs the root; the other N - 1 threads of the team wait at the end
///   of the `single` and run the tasks it creates.
/// - `invoke(a, b)` is `#pragma omp task` around `a()`, `b()` in the caller, then
///   `#pragma omp taskwait`: the usual OpenMP fib.
/// - An exception may not leave an OpenMP task or region, so each is caught where it is thrown
///   and rethrown after the `taskwait` (`a`'s first) or after the region.
/// - The constructor runs one empty region so that the team's threads exist before timing.
/// No tuning (no `if`, `final` or `mergeable` clauses, default `OMP_WAIT_POLICY`).
///
/// Progress: blocking (libgomp's threads spin for a while, then sleep on a futex).
/// Memory ordering: OpenMP's; `taskwait` and the region's end are flushes.
/// Not run under ThreadSanitizer: libgomp is not instrumented (see fork_join.register.cpp).
/// When to use: code that is already OpenMP; loops with `parallel for` more than recursion.
/// Reference: OpenMP 5.2 §12.5 (`task`), §15.5 (`taskwait`); performance-anchors §2.1 (libomp
/// at 2 threads 2.3x slower than at 1 in libfork's fib).
#pragma once

#include "harness/core/progress.hpp"

#include <cstddef>
#include <exception>
#include <stdexcept>
#include <string_view>

namespace cpb::patterns::fork_join {

class OmpTasks {
 public:
  static constexpr std::string_view kName = "omp_tasks";
  static constexpr Progress kProgress = Progress::kBlocking;
  static constexpr bool kBaseline = true;
  static constexpr bool kCutoff = false;

  /// A team of `workers` threads (>= 1), counting the caller of run(); starts the team.
  explicit OmpTasks(std::size_t workers)
      : n_(workers != 0 ? static_cast<int>(workers)
                        : throw std::invalid_argument("workers must be >= 1")) {
#pragma omp parallel num_threads(n_)
    {}
  }

  template <class F>
  void run(F&& root) {
    std::exception_ptr error;
    auto* f = &root;
    std::exception_ptr* e = &error;
#pragma omp parallel num_threads(n_) default(none) firstprivate(f, e)
#pragma omp single
    {
      try {
        (*f)();
      } catch (...) {
        *e = std::current_exception();
      }
    }
    if (error) std::rethrow_exception(error);
  }

  template <class A, class B>
  void invoke(A&& a, B&& b) {
    std::exception_ptr ea;
    std::exception_ptr eb;
    auto* fa = &a;
    std::exception_ptr* pea = &ea;
#pragma omp task default(none) firstprivate(fa, pea)
    {
      try {
        (*fa)();
      } catch (...) {
        *pea = std::current_exception();
      }
    }
    try {
      b();
    } catch (...) {
      eb = std::current_exception();
    }
#pragma omp taskwait
    if (ea) std::rethrow_exception(ea);
    if (eb) std::rethrow_exception(eb);
  }

 private:
  int n_;
};

}  // namespace cpb::patterns::fork_join
