// html.hpp — the HTML page of rfc8314-report: one self-contained file
// (inline CSS and SVG, no script, no network resource) a postmaster can
// open from disk or mail around.
#pragma once

#include <cstddef>
#include <ostream>

#include "engine/tables.hpp"

namespace rfc8314::report {

// Without o.top, the users and clients tables keep the kHtmlRows busiest
// rows when either has more (the page stays small enough to open); the
// cleartext and what-if tables are always whole.
constexpr std::size_t kHtmlRows = 1000;
// The TLS-mix chart has a bar for each of the kMixUsers busiest users.
constexpr std::size_t kMixUsers = 20;
void writeHtml(const Aggregator& a, const OutputOptions& o, std::ostream& out);

} // namespace rfc8314::report
