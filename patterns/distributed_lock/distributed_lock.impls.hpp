// SPDX-License-Identifier: Apache-2.0
/// @file
/// The built-in lock clients, fenced and unfenced: the one list that registration and the typed
/// server tests are generated from.
#pragma once

#include "harness/core/type_list.hpp"
#include "patterns/distributed_lock/etcd_lock.hpp"
#include "patterns/distributed_lock/redis_lock.hpp"
#include "patterns/distributed_lock/zookeeper_lock.hpp"

namespace cpb::patterns::distributed_lock {

using Impls = TypeList<RedisLock<true>, RedisLock<false>, EtcdLock<true>, EtcdLock<false>,
                       ZooKeeperLock<true>, ZooKeeperLock<false>>;

}  // namespace cpb::patterns::distributed_lock
