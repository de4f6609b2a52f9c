// SPDX-License-Identifier: Apache-2.0
/// @file
/// Pieces every HTML page of cpbench shares: filling a template's markers, the embedded Chart.js,
/// and JSON that is safe inside a <script> element.
#pragma once

#include <nlohmann/json.hpp>

#include <string>
#include <string_view>

namespace cpb::reports {

extern const std::string_view kChartJs;  ///< Debian's chart.min.js, embedded at build time

/// Replaces the one occurrence of `marker` in `page`; throws std::logic_error when the template
/// lacks it.
void replace_once(std::string& page, std::string_view marker, std::string_view with);

/// Puts Chart.js where the template has /*CPB_CHARTJS*/. Call it before inserting any data: the
/// library never contains a data marker, the data may contain anything.
void embed_chartjs(std::string& page);

/// `doc` as JSON that is safe inside <script>: '<', '>' and '&' become \u escapes, which
/// JSON.parse reads back unchanged.
std::string script_safe_json(const nlohmann::json& doc);

}  // namespace cpb::reports
