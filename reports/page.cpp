// SPDX-License-Identifier: Apache-2.0
#include "reports/page.hpp"

#include <stdexcept>

namespace cpb::reports {

void replace_once(std::string& page, std::string_view marker, std::string_view with) {
  const auto at = page.find(marker);
  if (at == std::string::npos) {
    throw std::logic_error("report template lacks " + std::string(marker));
  }
  page.replace(at, marker.size(), with);
}

void embed_chartjs(std::string& page) {
  std::string chart(kChartJs);
  // The library must not end its own script element early.
  for (auto at = chart.find("</script"); at != std::string::npos; at = chart.find("</script", at)) {
    chart.replace(at, 2, "<\\/");
  }
  replace_once(page, "/*CPB_CHARTJS*/", chart);
}

std::string script_safe_json(const nlohmann::json& doc) {
  const std::string raw = doc.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  std::string out;
  out.reserve(raw.size());
  for (char c : raw) {
    if (c == '<') {
      out += "\\u003c";
    } else if (c == '>') {
      out += "\\u003e";
    } else if (c == '&') {
      out += "\\u0026";
    } else {
      out += c;
    }
  }
  return out;
}

}  // namespace cpb::reports
