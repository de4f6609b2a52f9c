// SPDX-License-Identifier: Apache-2.0
#include "patterns/reactor/reactor.hpp"

#include "patterns/reactor/reactor.impls.hpp"

CPB_REGISTER_IMPLS(reactor, cpb::patterns::reactor::Impls);
