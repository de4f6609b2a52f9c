// SPDX-License-Identifier: Apache-2.0
#include "harness/bench/pinning.hpp"

#include <pthread.h>
#include <sched.h>

namespace cpb::bench {

const std::vector<int>& allowed_cpus() {
  static const std::vector<int> cpus = [] {
    std::vector<int> v;
    cpu_set_t set;
    CPU_ZERO(&set);
    if (sched_getaffinity(0, sizeof(set), &set) == 0) {
      for (int c = 0; c < CPU_SETSIZE; ++c) {
        if (CPU_ISSET(c, &set)) v.push_back(c);
      }
    }
    if (v.empty()) v.push_back(0);
    return v;
  }();
  return cpus;
}

int pin_current_thread(int index) {
  const auto& cpus = allowed_cpus();
  const int cpu = cpus[static_cast<std::size_t>(index) % cpus.size()];
  cpu_set_t set;
  CPU_ZERO(&set);
  CPU_SET(cpu, &set);
  return pthread_setaffinity_np(pthread_self(), sizeof(set), &set) == 0 ? cpu : -1;
}

int current_cpu() { return sched_getcpu(); }

}  // namespace cpb::bench
