// SPDX-License-Identifier: Apache-2.0
/// @file
/// The privileged fault path of issue 14: iptables rules in a network namespace of our own,
/// used only where this machine allows it (distributed-anchors §6). Where it does not, the
/// check that uses it (etcd_cluster's `partition_netns`) reports verdict "skipped" with what
/// is missing, never a pass. The unprivileged path is the peer proxy (link_proxy.hpp).
///
/// What it needs, checked in this order by netns_faults_unavailable():
///   1. `unshare` (util-linux) and `ip` (iproute2) on PATH;
///   2. an `iptables` binary: $CPB_IPTABLES, else `iptables` on PATH or in /usr/sbin, /sbin;
///   3. CAP_SYS_ADMIN, to move a harness thread into the namespace with setns(2) (the etcd
///      members it starts and its client sockets are then inside; root has it);
///   4. `unshare -rn` (user and network namespaces) with `lo` up and an iptables rule added in
///      it (nf_tables or legacy xtables in the kernel, CAP_NET_ADMIN in the namespace).
/// `tc ... netem` (delay and loss) is probed on its own (netem_unavailable()): the check does
/// not need it; this VM's kernel lacks sch_netem.
#pragma once

#include "patterns/distributed_lock/process.hpp"

#include <memory>
#include <string>
#include <vector>

namespace cpb::patterns::consensus {

/// `name` found in $PATH (then in `extra` directories); empty when it is nowhere.
std::string find_binary(const std::string& name, const std::vector<std::string>& extra = {});

/// The iptables binary (see the file comment); empty when there is none.
std::string iptables_binary();

/// Empty when the iptables path can run here; else what is missing, in one line, e.g. "no
/// iptables binary (install iptables, or set CPB_IPTABLES)".
std::string netns_faults_unavailable();

/// Empty when `tc qdisc add dev lo root netem` works in a fresh namespace; else why not.
std::string netem_unavailable();

/// Runs `argv` (no shell), waits, and returns its exit status with its output (stdout and
/// stderr) in `output`; -1 when it could not be started.
int run_command(const std::vector<std::string>& argv, std::string& output);

/// A user + network namespace of our own with `lo` up, held open by a sleeping `unshare -rn`
/// child (SIGKILLed on destruction, and by the kernel if the harness dies). enter() moves the
/// calling thread into it: what that thread then starts (sockets, processes, threads) is
/// inside; the rest of the harness is not. Needs what netns_faults_unavailable() checks.
class NetNamespace {
 public:
  NetNamespace();
  ~NetNamespace();
  NetNamespace(const NetNamespace&) = delete;
  NetNamespace& operator=(const NetNamespace&) = delete;
  /// setns(2) of the calling thread; throws ServerError on failure.
  void enter() const;

 private:
  distributed_lock::TempDir dir_;
  std::unique_ptr<distributed_lock::Process> holder_;
};

}  // namespace cpb::patterns::consensus
