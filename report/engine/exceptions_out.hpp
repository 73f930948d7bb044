// exceptions_out.hpp — an exceptions file for rfc8314-milter that exempts
// every user the audit trail shows submitting below a rule, until a date
// (rfc8314-report --emit-exceptions): Google's "new clients first" stage,
// where users already on old clients keep working for a while and any
// user not in the logs is held to the rule at once.
//
// Promises: the file reads back through the milter's own parser
// (parseExceptions in lib/src/policy.cpp) as exactly the users written,
// with no error: a name that needs quoting is quoted as that parser reads
// it, and a name the format cannot hold (a control byte, a leading '@',
// which would make it a domain entry, the empty name) is left out, said
// in a comment line and returned to the caller.  Every comment is
// printable ASCII (values from the log escaped as the audit line escapes
// them), so no comment can break its line.
#pragma once

#include <optional>
#include <ostream>
#include <string>
#include <string_view>
#include <vector>

#include "aggregate.hpp"

namespace rfc8314::report {

// The user as the first word of an exceptions line: bare when the parser
// reads it whole, else "..." with '"' and '\' escaped by '\'.  nullopt,
// with the reason in *why, when the format cannot hold it.
std::optional<std::string> exceptionsUserWord(std::string_view user, std::string* why = nullptr);

// Writes the file: a comment head (the rule, the period, the date), then
// one line per user below the rule (Aggregator::keepDetail), by name:
//   USER until YYYY-MM-DD # last seen TIME from ADDR (NAME) with TLS; N of M transactions below the rule (...)
// Returns the users left out (their ids).
std::vector<std::uint32_t> writeExceptions(const Aggregator& a, Day until, std::ostream& out);

} // namespace rfc8314::report
