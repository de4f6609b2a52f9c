// SPDX-License-Identifier: Apache-2.0
// libFuzzer target: the result-file reader and everything that reads what it accepts. Any input
// is either refused with a UsageError of one line (which cpbench prints, exiting 2) or read, and
// then finalize, the HTML report, compare, the trends and advise must take it without any other
// exception, crash or sanitizer report.
#include "harness/core/errors.hpp"
#include "reports/advice.hpp"
#include "reports/compare.hpp"
#include "reports/history.hpp"
#include "reports/html.hpp"
#include "reports/schema.hpp"

#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <string_view>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  nlohmann::json doc;
  try {
    doc = cpb::reports::parse_result(text, "input.json");
  } catch (const cpb::UsageError& e) {
    if (std::strchr(e.what(), '\n') != nullptr) std::abort();  // the message must be one line
    return 0;
  }
  cpb::reports::finalize(doc);
  (void)cpb::reports::render_html(doc);
  const auto c = cpb::reports::compare(doc, doc, {});
  (void)cpb::reports::render_compare_html(c);
  (void)cpb::reports::render_trend_html(cpb::reports::trends({{"a", doc}, {"b", doc}}, {}));
  (void)cpb::reports::advise(doc, cpb::reports::Goal::parse("throughput"));
  return 0;
}
