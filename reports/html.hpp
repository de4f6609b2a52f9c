// SPDX-License-Identifier: Apache-2.0
/// @file
/// The HTML report: one self-contained file (Chart.js and the data embedded) that opens offline.
/// The answer (the meta line, the summary and the advice) is static HTML, so a preview without
/// JavaScript shows it; the page's script adds the charts, the tables of every result and
/// check, sorting and filtering.
#pragma once

#include "reports/page.hpp"

#include <nlohmann/json.hpp>

#include <string>
#include <string_view>

namespace cpb::reports {

extern const std::string_view kReportTemplate;  ///< reports/templates/report.html

/// Text made safe inside HTML elements and attribute values.
std::string html_escape(std::string_view s);

/// The line under the title: version, build, machine, case and failure counts, calibration drift.
std::string render_meta_html(const nlohmann::json& doc);

/// The static summary of a result file's primary entries: per family, how often the best own
/// implementation beats the best baseline; per family × scenario × parameters × threads, the
/// fastest implementation, the margin over the runner-up and whether the repetition ranges are
/// apart, with baselines, oversubscription and unfair winners marked. Entries of the wrong
/// shape are skipped; it throws nothing for any JSON value.
std::string render_summary_html(const nlohmann::json& doc);

/// What the page embeds of a result file: everything but the benchmarks array, of which it keeps
/// the primary entries and the failed runs. Each primary entry gets a `page` object with what
/// the page shows from the entries left out: `items_per_second_stddev` and `_cv` (the case's
/// aggregates) and `per_thread_items` (its median repetition's). With three repetitions this is
/// a seventh of the entries. A document without a benchmarks array is returned as it is.
nlohmann::json page_data(const nlohmann::json& doc);

/// Renders a result file. The data goes in as JSON inside a script element, escaped so that no
/// string in it can close the element.
std::string render_html(const nlohmann::json& doc);

}  // namespace cpb::reports
