// SPDX-License-Identifier: Apache-2.0
/// @file
/// The HTML report: one self-contained file (Chart.js and the data embedded) that opens offline.
#pragma once

#include <nlohmann/json.hpp>

#include <string>
#include <string_view>

namespace cpb::reports {

extern const std::string_view kChartJs;         ///< Debian's chart.min.js, embedded at build time
extern const std::string_view kReportTemplate;  ///< reports/templates/report.html

/// Text made safe inside HTML elements and attribute values.
std::string html_escape(std::string_view s);

/// Renders a result file. The data goes in as JSON inside a script element, escaped so that no
/// string in it can close the element.
std::string render_html(const nlohmann::json& doc);

}  // namespace cpb::reports
