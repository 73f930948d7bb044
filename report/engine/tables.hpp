// tables.hpp — the report's tables, and their text, CSV and JSON
// renderings (the HTML page, report/html.cpp, renders the same tables).
//
// Promises: every format is made from one table model, so a column cannot
// be in one format and missing from another; rows of the per-user tables
// are made one at a time while writing, so no table of a million users is
// ever held as text.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <ostream>
#include <string>
#include <string_view>
#include <vector>

#include "aggregate.hpp"

namespace rfc8314::report {

// Output.  `table` selects one section ("" = all): summary, days, ciphers,
// users, clients, cleartext, whatif.  `top` > 0 keeps only the busiest N
// rows of users and clients.  Names from the log are shown escaped in text
// (escapeLogValue), raw in CSV (RFC 4180 quoting) and JSON (jsonEscape).
struct OutputOptions {
    std::string table;
    std::size_t top = 0;
};
bool validTable(std::string_view name) noexcept;

// The table model every tabular format renders from.
struct Column {
    std::string name;
    bool number = false;   // right-aligned in text
    bool optional = false; // dropped from text when zero in every row
};
struct Table {
    std::string id;    // summary, days, ...
    std::string title; // heading
    std::string note;  // a sentence under the heading, may be empty
    std::vector<Column> cols;
    std::vector<std::vector<std::string>> rows; // made up front (small tables)
    // Then `lazyCount` rows made on demand, one at a time (users, clients,
    // cleartext, whatif: one row per user), so rendering a table never
    // holds every row as text.  lazyRow may refer to the Aggregator: the
    // table lives no longer than it.
    std::size_t lazyCount = 0;
    std::function<void(std::size_t, std::vector<std::string>&)> lazyRow;

    std::size_t rowCount() const noexcept { return rows.size() + lazyCount; }
    void forEachRow(const std::function<void(const std::vector<std::string>&)>& f) const;
};
// `text`: names escaped as the log writes them (for a terminal); else raw.
std::vector<Table> buildTables(const Aggregator& a, const OutputOptions& o, bool text);
void writeText(const Aggregator& a, const OutputOptions& o, std::ostream& out);
void writeCsv(const Aggregator& a, const OutputOptions& o, std::ostream& out);
void writeJson(const Aggregator& a, const OutputOptions& o, std::ostream& out);

// Row order shared by every format: users and clients by name, or the
// busiest `top` by count (then name).
std::vector<std::uint32_t> entityOrder(const EntityTable& v, const Dict& names, std::size_t top);
// Names of a tally, most frequent first.
std::vector<std::string_view> tallyNames(const Tally& t, const Dict& names);
std::vector<std::string_view> tlsNames(const Count (&tls)[kTlsCount]);
// The column (and JSON key) of a TLS version's share of a user's or an
// address's transactions: pct_cleartext, pct_sslv3, pct_tls1_0 ...
// pct_tls1_3, pct_tls_unknown.
std::string_view tlsShareColumn(TlsVersion v) noexcept;
// The users of the what-if table: below the rule at all (refused, exempt
// or outside the rollout), most refused first, then most below, then name.
std::vector<std::uint32_t> whatIfUsers(const Aggregator& a);

} // namespace rfc8314::report
