// SPDX-License-Identifier: Apache-2.0
#include "patterns/singleton/singleton.hpp"

#include "patterns/singleton/singleton.impls.hpp"

CPB_REGISTER_IMPLS(singleton, cpb::patterns::singleton::Impls);
