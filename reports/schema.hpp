// SPDX-License-Identifier: Apache-2.0
/// @file
/// The result file: Google Benchmark's JSON layout (`context`, `benchmarks`) with our fields on
/// each entry and top-level `cpbench` and `checks` blocks. reports/SCHEMA.md documents it.
#pragma once

#include <nlohmann/json.hpp>

#include <string>
#include <string_view>

namespace cpb::reports {

inline constexpr int kSchemaVersion = 1;

/// Google Benchmark's `context` block for this machine and process.
nlohmann::json machine_context();

/// The `cpbench` block: version, commit, compiler, flags, preset, sanitizers.
nlohmann::json build_info();

/// Writes `content` to `path` through a temporary file in the same folder and a rename, so a
/// reader never sees half a file. Throws std::runtime_error naming the path on failure.
void write_atomically(const std::string& path, const std::string& content);

/// Fails with UsageError (one line) when `path` cannot be written: missing folder, no permission.
void check_writable(const std::string& path);

/// Reads a result file. Throws UsageError when it is missing, is not JSON, lacks the
/// `benchmarks` array, or has a field that cpbench reads with another type than SCHEMA.md gives
/// (`threads` a string, `params` an array ...): one line naming the entry and the field.
nlohmann::json read_result_file(const std::string& path);

/// The same for text already in memory; `what` names it in messages.
nlohmann::json parse_result(std::string_view text, const std::string& what);

/// Adds aggregate entries (mean, median, stddev, cv over repetitions, as Google Benchmark names
/// them) and, on the median entry of each case (or its only entry), the ratio of its throughput
/// to the family's reference baseline at the same scenario, parameters and threads, and its
/// speed-up over the fewest threads the same implementation ran. Idempotent.
void finalize(nlohmann::json& doc);

/// A result file that is rewritten, atomically, each time an entry is added.
class ResultFile {
 public:
  ResultFile(std::string path, nlohmann::json doc);
  void add(nlohmann::json entry);
  void add_check(nlohmann::json check);                    ///< an entry of the `checks` block
  void set(const std::string& key, nlohmann::json value);  ///< a key of the `cpbench` block
  void finalize();
  [[nodiscard]] const nlohmann::json& doc() const { return doc_; }
  [[nodiscard]] const std::string& path() const { return path_; }

 private:
  void flush();
  std::string path_;
  nlohmann::json doc_;
};

}  // namespace cpb::reports
