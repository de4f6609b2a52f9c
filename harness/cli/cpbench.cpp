// SPDX-License-Identifier: Apache-2.0
// The cpbench executable: main() and the built-in implementations come from cpbench::main.
// A plug-in is the same executable with more implementations linked in (cpb_add_plugin).
