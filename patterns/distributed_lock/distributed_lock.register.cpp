// SPDX-License-Identifier: Apache-2.0
#include "patterns/distributed_lock/distributed_lock.hpp"

namespace dl = cpb::patterns::distributed_lock;

CPB_REGISTER_IMPL(distributed_lock, dl::RedisLock<true>);
CPB_REGISTER_IMPL(distributed_lock, dl::RedisLock<false>);
CPB_REGISTER_IMPL(distributed_lock, dl::EtcdLock<true>);
CPB_REGISTER_IMPL(distributed_lock, dl::EtcdLock<false>);
CPB_REGISTER_IMPL(distributed_lock, dl::ZooKeeperLock<true>);
CPB_REGISTER_IMPL(distributed_lock, dl::ZooKeeperLock<false>);
