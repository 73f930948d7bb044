// html.hpp — the HTML page of rfc8314-report: one self-contained file
// (inline CSS and SVG, no script, no network resource) a postmaster can
// open from disk or mail around.
#pragma once

#include <ostream>

#include "rfc8314/report.hpp"

namespace rfc8314::report {

void writeHtml(const Aggregator& a, const OutputOptions& o, std::ostream& out);

} // namespace rfc8314::report
