// SPDX-License-Identifier: Apache-2.0
#include "reports/html.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstddef>
#include <string>
#include <string_view>

namespace cpb::reports {
namespace {

using nlohmann::json;

std::size_t count(std::string_view s, std::string_view what) {
  std::size_t n = 0;
  for (auto at = s.find(what); at != std::string_view::npos; at = s.find(what, at + 1)) ++n;
  return n;
}

const std::string kHostile = "</script><script>alert(1)</script>";

json hostile_doc() {
  json doc;
  doc["context"] = {{"host_name", kHostile}};
  doc["cpbench"] = {{"schema_version", 1}, {"git_commit", "/*CPB_DATA*/ & <!-- -->"}};
  doc["benchmarks"] = json::array({{{"name", "fake/alpha/" + kHostile},
                                    {"run_type", "iteration"},
                                    {"error_occurred", true},
                                    {"error_message", kHostile}}});
  doc["checks"] = json::array();
  return doc;
}

TEST(Html, EmbedsChartJs) {
  ASSERT_GT(kChartJs.size(), 10'000U);
  const std::string html = render_html(json{{"benchmarks", json::array()}});
  EXPECT_NE(html.find("Chart"), std::string::npos);
  EXPECT_EQ(html.find("/*CPB_CHARTJS*/"), std::string::npos);
  EXPECT_EQ(html.find("/*CPB_DATA*/"), std::string::npos);
  // The library is there verbatim, up to its first script-closing sequence if any.
  const auto head = kChartJs.substr(0, std::min<std::size_t>(kChartJs.find("</"), 2000));
  EXPECT_NE(html.find(head), std::string::npos);
  EXPECT_GT(html.size(), kChartJs.size());
  EXPECT_EQ(html.rfind("<!DOCTYPE html>", 0), 0U);
}

TEST(Html, DataCannotCloseItsScriptElement) {
  const json doc = hostile_doc();
  const std::string html = render_html(doc);
  // The only closing tags are the template's own; Chart.js and the data add none.
  EXPECT_EQ(count(html, "</script"), count(kReportTemplate, "</script"));
  EXPECT_EQ(html.find("<script>alert"), std::string::npos);
  EXPECT_EQ(html.find("<!--"), std::string::npos);

  // The data element holds the document as JSON that parses back unchanged.
  const std::string open = R"(<script type="application/json" id="cpb-data">)";
  const auto begin = html.find(open);
  ASSERT_NE(begin, std::string::npos);
  const auto from = begin + open.size();
  const auto end = html.find("</script>", from);
  ASSERT_NE(end, std::string::npos);
  const std::string data = html.substr(from, end - from);
  EXPECT_EQ(data.find('<'), std::string::npos);
  EXPECT_EQ(data.find('>'), std::string::npos);
  EXPECT_EQ(data.find('&'), std::string::npos);
  EXPECT_EQ(json::parse(data), doc);
}

TEST(Html, InvalidUtf8DoesNotThrow) {
  json doc = {{"benchmarks", json::array()}, {"context", {{"host_name", "bad \xff byte"}}}};
  EXPECT_NO_THROW((void)render_html(doc));
}

}  // namespace
}  // namespace cpb::reports
