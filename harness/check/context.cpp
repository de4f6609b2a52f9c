// SPDX-License-Identifier: Apache-2.0
#include "harness/check/context.hpp"

#include <cstdint>
#include <cstdlib>
#include <new>
#include <stdexcept>
#include <sys/mman.h>
#include <unistd.h>

#if defined(__has_feature)
#if __has_feature(address_sanitizer)
#define CPB_CHECK_ASAN 1
#endif
#if __has_feature(thread_sanitizer)
#define CPB_CHECK_TSAN 1
#endif
#endif
#if defined(__SANITIZE_ADDRESS__)
#define CPB_CHECK_ASAN 1
#endif
#if defined(__SANITIZE_THREAD__)
#define CPB_CHECK_TSAN 1
#endif

#if defined(CPB_CHECK_ASAN)
#include <sanitizer/asan_interface.h>
#include <sanitizer/common_interface_defs.h>
#endif
#if defined(CPB_CHECK_TSAN)
#include <sanitizer/tsan_interface.h>
#endif

#if defined(__x86_64__) && !defined(CPB_CHECK_FORCE_UCONTEXT)
#define CPB_CHECK_ASM_SWITCH 1
#else
#include <ucontext.h>
#endif

#if defined(CPB_CHECK_ASM_SWITCH)
// save_sp: where to store the suspended side's stack pointer; new_sp: the side to resume. The
// callee-saved registers of the System V ABI are pushed on the suspended stack.
extern "C" void cpb_check_switch_stack(void** save_sp, void* new_sp);
// First frame of a fresh fiber: calls r13(r12) and never returns.
extern "C" void cpb_check_fiber_trampoline();
asm(R"(
.text
.globl cpb_check_switch_stack
.hidden cpb_check_switch_stack
.type cpb_check_switch_stack,@function
.p2align 4
cpb_check_switch_stack:
  pushq %rbp
  pushq %rbx
  pushq %r12
  pushq %r13
  pushq %r14
  pushq %r15
  movq %rsp, (%rdi)
  movq %rsi, %rsp
  popq %r15
  popq %r14
  popq %r13
  popq %r12
  popq %rbx
  popq %rbp
  ret
.size cpb_check_switch_stack,.-cpb_check_switch_stack
.globl cpb_check_fiber_trampoline
.hidden cpb_check_fiber_trampoline
.type cpb_check_fiber_trampoline,@function
.p2align 4
cpb_check_fiber_trampoline:
  movq %r12, %rdi
  callq *%r13
  ud2
.size cpb_check_fiber_trampoline,.-cpb_check_fiber_trampoline
)");
#endif

namespace cpb::check::detail {

namespace {

/// The context that the last switch left, so the side that resumes can tell the sanitizer
/// which stack it came from.
thread_local Context* tl_from = nullptr;

#if defined(CPB_CHECK_TSAN)
/// TSan fiber handles are recycled, never destroyed: creating and destroying many of them
/// crashes GCC 12's TSan runtime, and a handful per OS thread is all the checker needs.
thread_local std::vector<void*> tl_tsan_fibers;
#endif

void finish_switch([[maybe_unused]] Context& self) {
#if defined(CPB_CHECK_ASAN)
  const void* bottom = nullptr;
  std::size_t size = 0;
  __sanitizer_finish_switch_fiber(self.fake_stack_, &bottom, &size);
  if (tl_from != nullptr && tl_from->stack_bottom_ == nullptr) {
    tl_from->stack_bottom_ = bottom;
    tl_from->stack_size_ = size;
  }
#endif
}

#if !defined(CPB_CHECK_ASM_SWITCH)
struct UcontextStart {
  void (*entry)(void*);
  void* arg;
};
void ucontext_trampoline(unsigned hi, unsigned lo) {
  auto* start = reinterpret_cast<UcontextStart*>((std::uintptr_t{hi} << 32) | std::uintptr_t{lo});
  start->entry(start->arg);
  std::abort();  // entry never returns
}
#endif

}  // namespace

Stack::Stack(std::size_t size) {
  const auto page = static_cast<std::size_t>(::sysconf(_SC_PAGESIZE));
  size_ = (size + page - 1) / page * page;
  map_size_ = size_ + page;
  map_ = ::mmap(nullptr, map_size_, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK,
                -1, 0);
  if (map_ == MAP_FAILED) throw std::bad_alloc();
  ::mprotect(map_, page, PROT_NONE);  // guard page: a stack overflow faults instead of corrupting
  usable_ = static_cast<char*>(map_) + page;
}

Stack::~Stack() { ::munmap(map_, map_size_); }

Context::~Context() {
#if defined(CPB_CHECK_TSAN)
  if (owns_tsan_fiber_) tl_tsan_fibers.push_back(tsan_fiber_);
#endif
#if !defined(CPB_CHECK_ASM_SWITCH)
  delete static_cast<ucontext_t*>(uctx_);
#endif
}

void make_context(Context& ctx, Stack& stack, void (*entry)(void*), void* arg) {
  ctx.stack_bottom_ = stack.bottom();
  ctx.stack_size_ = stack.size();
  ctx.fake_stack_ = nullptr;
#if defined(CPB_CHECK_ASAN)
  // Frames abandoned by an earlier fiber on this stack may have left poisoned redzones.
  __asan_unpoison_memory_region(stack.bottom(), stack.size());
#endif
#if defined(CPB_CHECK_TSAN)
  if (ctx.tsan_fiber_ == nullptr) {
    if (tl_tsan_fibers.empty()) {
      ctx.tsan_fiber_ = __tsan_create_fiber(0);
    } else {
      ctx.tsan_fiber_ = tl_tsan_fibers.back();
      tl_tsan_fibers.pop_back();
    }
    ctx.owns_tsan_fiber_ = true;
  }
#endif
  auto top = reinterpret_cast<std::uintptr_t>(stack.bottom()) + stack.size();
  top &= ~std::uintptr_t{15};
#if defined(CPB_CHECK_ASM_SWITCH)
  // Frame popped by cpb_check_switch_stack: r15 r14 r13 r12 rbx rbp, then the return address.
  // After `ret` the stack pointer is top - 16, 16-byte aligned, as the trampoline's call needs.
  auto* frame = reinterpret_cast<void**>(top - 72);
  frame[0] = nullptr;                                               // r15
  frame[1] = nullptr;                                               // r14
  frame[2] = reinterpret_cast<void*>(entry);                        // r13
  frame[3] = arg;                                                   // r12
  frame[4] = nullptr;                                               // rbx
  frame[5] = nullptr;                                               // rbp
  frame[6] = reinterpret_cast<void*>(&cpb_check_fiber_trampoline);  // return address
  frame[7] = nullptr;
  ctx.sp_ = frame;
#else
  auto* uc = static_cast<ucontext_t*>(ctx.uctx_);
  if (uc == nullptr) {
    uc = new ucontext_t{};
    ctx.uctx_ = uc;
  }
  // The start record lives at the top of the fiber's own stack.
  top -= 64;
  auto* start = reinterpret_cast<UcontextStart*>(top);
  start->entry = entry;
  start->arg = arg;
  ::getcontext(uc);
  uc->uc_stack.ss_sp = stack.bottom();
  uc->uc_stack.ss_size = top - reinterpret_cast<std::uintptr_t>(stack.bottom());
  uc->uc_link = nullptr;
  const auto bits = reinterpret_cast<std::uintptr_t>(start);
  ::makecontext(uc, reinterpret_cast<void (*)()>(&ucontext_trampoline), 2,
                static_cast<unsigned>(bits >> 32), static_cast<unsigned>(bits & 0xffffffffU));
#endif
}

void init_host_context(Context& host) {
#if defined(CPB_CHECK_TSAN)
  host.tsan_fiber_ = __tsan_get_current_fiber();
  host.owns_tsan_fiber_ = false;
#endif
#if !defined(CPB_CHECK_ASM_SWITCH)
  if (host.uctx_ == nullptr) host.uctx_ = new ucontext_t{};
#endif
  (void)host;
}

void switch_context(Context& from, Context& to, [[maybe_unused]] bool from_exits) {
  tl_from = &from;
#if defined(CPB_CHECK_ASAN)
  __sanitizer_start_switch_fiber(from_exits ? nullptr : &from.fake_stack_, to.stack_bottom_,
                                 to.stack_size_);
#endif
#if defined(CPB_CHECK_TSAN)
  // Flag 0: the switch synchronizes the two fibers, so TSan sees no race between logical
  // threads, which only ever run one at a time.
  __tsan_switch_to_fiber(to.tsan_fiber_, 0);
#endif
#if defined(CPB_CHECK_ASM_SWITCH)
  cpb_check_switch_stack(&from.sp_, to.sp_);
#else
  ::swapcontext(static_cast<ucontext_t*>(from.uctx_), static_cast<ucontext_t*>(to.uctx_));
#endif
  finish_switch(from);
}

void on_fiber_entry(Context& self) { finish_switch(self); }

}  // namespace cpb::check::detail
