// SPDX-License-Identifier: Apache-2.0
#include "workloads/io/remote_call.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <stdexcept>
#include <string>
#include <thread>

namespace cpb::workloads::io {

RemoteCall::RemoteCall(Delay kind, double mean_us, std::uint64_t seed, double alpha)
    : kind_(kind), mean_us_(mean_us), alpha_(alpha), rng_(seed) {
  if (!(mean_us > 0)) throw std::invalid_argument("RemoteCall: the mean must be positive");
  if (kind == Delay::kPareto && !(alpha > 1)) {
    throw std::invalid_argument("RemoteCall: a Pareto shape must be above 1");
  }
}

double RemoteCall::next_us() {
  std::uniform_real_distribution<double> u(0.0, 1.0);
  double x = 0;
  const double v = 1.0 - u(rng_);  // (0, 1]
  if (kind_ == Delay::kExponential) {
    x = -std::log(v) * mean_us_;
  } else {
    // Pareto with scale xm and shape a has mean a·xm/(a−1).
    const double xm = mean_us_ * (alpha_ - 1) / alpha_;
    x = xm / std::pow(v, 1 / alpha_);
  }
  return std::min(x, 100 * mean_us_);
}

double RemoteCall::call() {
  const double us = next_us();
  std::this_thread::sleep_for(std::chrono::duration<double, std::micro>(us));
  return us;
}

Delay parse_delay(std::string_view name) {
  if (name == "exponential") return Delay::kExponential;
  if (name == "pareto") return Delay::kPareto;
  throw std::invalid_argument("unknown delay distribution '" + std::string(name) +
                              "' (known: exponential, pareto)");
}

}  // namespace cpb::workloads::io
