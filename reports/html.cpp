// SPDX-License-Identifier: Apache-2.0
#include "reports/html.hpp"

#include "reports/advice.hpp"

#include <stdexcept>

namespace cpb::reports {
namespace {

void replace_once(std::string& s, std::string_view marker, std::string_view with) {
  const auto at = s.find(marker);
  if (at == std::string::npos) {
    throw std::logic_error("report template lacks " + std::string(marker));
  }
  s.replace(at, marker.size(), with);
}

/// JSON that is safe inside <script>: '<', '>' and '&' become \u escapes, which JSON.parse reads
/// back unchanged.
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

}  // namespace

std::string html_escape(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (char c : s) {
    switch (c) {
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '&':
        out += "&amp;";
        break;
      case '"':
        out += "&quot;";
        break;
      default:
        out += c;
    }
  }
  return out;
}

std::string render_html(const nlohmann::json& doc) {
  std::string html(kReportTemplate);
  std::string chart(kChartJs);
  // The library must not end its own script element early.
  for (auto at = chart.find("</script"); at != std::string::npos; at = chart.find("</script", at)) {
    chart.replace(at, 2, "<\\/");
  }
  // Chart.js first: the data may contain any text, the library never contains the data marker.
  replace_once(html, "/*CPB_CHARTJS*/", chart);
  // Static, so a preview without JavaScript shows the answer.
  std::string advice;
  if (doc.contains("advice")) {
    try {
      advice = render_advice_html(doc["advice"]);
    } catch (const nlohmann::json::exception&) {  // a file edited by hand, or damaged
      advice = "<p class=\"err\">This file's advice block is malformed; it is not shown.</p>";
    }
  }
  replace_once(html, "<!--CPB_ADVICE-->", advice);
  replace_once(html, "/*CPB_DATA*/", script_safe_json(doc));
  return html;
}

}  // namespace cpb::reports
