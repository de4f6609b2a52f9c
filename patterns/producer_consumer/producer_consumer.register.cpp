// SPDX-License-Identifier: Apache-2.0
#include "patterns/producer_consumer/producer_consumer.hpp"

#include "patterns/producer_consumer/producer_consumer.impls.hpp"

CPB_REGISTER_IMPLS(producer_consumer, cpb::patterns::producer_consumer::Impls);
