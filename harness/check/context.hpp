// SPDX-License-Identifier: Apache-2.0
/// @file
/// Fibers for the model checker: stacks, a context switch, and the sanitizer annotations that let
/// AddressSanitizer and ThreadSanitizer follow a stack switch.
///
/// On x86-64 the switch is six pushes, a stack-pointer swap and six pops (a few nanoseconds, no
/// system call). Elsewhere it falls back to `swapcontext`, which is correct but about 200 times
/// slower because it saves the signal mask with a system call.
#pragma once

#include <cstddef>
#include <memory>
#include <vector>

namespace cpb::check::detail {

/// One mmap'ed stack with a guard page below it. Reused across executions.
class Stack {
 public:
  explicit Stack(std::size_t size);
  ~Stack();
  Stack(const Stack&) = delete;
  Stack& operator=(const Stack&) = delete;

  [[nodiscard]] void* bottom() const { return usable_; }
  [[nodiscard]] std::size_t size() const { return size_; }

 private:
  void* map_ = nullptr;
  std::size_t map_size_ = 0;
  void* usable_ = nullptr;
  std::size_t size_ = 0;
};

/// A suspended execution context: a fiber, or the host (the OS thread's own stack).
struct Context {
  void* sp_ = nullptr;    ///< saved stack pointer (x86-64 switch)
  void* uctx_ = nullptr;  ///< ucontext_t (fallback switch)
  const void* stack_bottom_ = nullptr;
  std::size_t stack_size_ = 0;
  void* fake_stack_ = nullptr;  ///< ASan fake-stack handle while suspended
  void* tsan_fiber_ = nullptr;  ///< TSan fiber handle (null for the host until first use)
  bool owns_tsan_fiber_ = false;

  Context() = default;
  ~Context();
  Context(const Context&) = delete;
  Context& operator=(const Context&) = delete;
};

/// Prepares `ctx` to start `entry(arg)` on `stack` at the next switch into it. `entry` must
/// never return: it ends by switching away for good (`switch_context(..., true)`).
void make_context(Context& ctx, Stack& stack, void (*entry)(void*), void* arg);

/// Binds `host` to the calling OS thread's current stack (the scheduler side).
void init_host_context(Context& host);

/// Suspends `from` and resumes `to`. `from_exits`: `from` will never be resumed (its fiber has
/// finished), so sanitizers may drop its state.
void switch_context(Context& from, Context& to, bool from_exits = false);

/// Must be the first call in a fiber's entry function (completes the sanitizer hand-over).
void on_fiber_entry(Context& self);

}  // namespace cpb::check::detail
