// SPDX-License-Identifier: Apache-2.0
#include "patterns/channel/channel.hpp"

#include "patterns/channel/channel.impls.hpp"

CPB_REGISTER_IMPLS(channel, cpb::patterns::channel::Impls);
