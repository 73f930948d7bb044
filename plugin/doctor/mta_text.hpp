// mta_text.hpp — the grammar of configuration values that Postfix and
// Sendmail share: separated lists, time values, ports (number or service
// name), release numbers.  The ASCII basics (trim, lower, decimal numbers)
// are lib's text.hpp; this adds what only the doctor reads.
//
// Promises: pure (portOf also asks /etc/services for names beyond the
// well-known three), never throws for bad input: nullopt or false instead.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace rfc8314::doctor {

// Split on any of `seps`, dropping empty pieces.
std::vector<std::string> splitList(std::string_view s, std::string_view seps);
std::string join(const std::vector<std::string>& v, std::string_view sep);
// Whitespace-trimmed (line ends included).
std::string trimmed(std::string_view s);
bool startsWith(std::string_view s, std::string_view prefix);

// A decimal number below one billion (a port, a protocol, a time value).
std::optional<unsigned> number(std::string_view s);

// Postfix and Sendmail time values: a number with an optional unit
// (s, m, h, d, w); a bare number is seconds in both.
std::optional<long> parseDuration(std::string_view v);
std::string showDuration(long seconds);

// A port as written in master.cf or DaemonPortOptions: a number or a
// service name.  smtp, submission and submissions/smtps are built in so the
// answer does not depend on /etc/services.
std::optional<unsigned> portOf(std::string_view s);

// "3.7.11" or "8.17.1.9" is at least major.minor; false when unparseable.
bool versionAtLeast(std::string_view version, unsigned major, unsigned minor);

} // namespace rfc8314::doctor
