// SPDX-License-Identifier: Apache-2.0
#include "patterns/actor/actor.hpp"

#include "patterns/actor/actor.impls.hpp"

CPB_REGISTER_IMPLS(actor, cpb::patterns::actor::Tested);
CPB_REGISTER_IMPLS(actor, cpb::patterns::actor::Servers);
