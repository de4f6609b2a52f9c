// SPDX-License-Identifier: Apache-2.0
/// @file
/// The built-in proactors: the one list that registration, conformance tests and stress checks
/// are generated from.
#pragma once

#include "harness/core/type_list.hpp"
#include "patterns/proactor/asio_proactor.hpp"
#include "patterns/proactor/uring_proactor.hpp"

namespace cpb::patterns::proactor {

using Impls = TypeList<UringProactor, AsioProactor>;

}  // namespace cpb::patterns::proactor
