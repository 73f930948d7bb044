// rfc5322.hpp — a small, strict reader for RFC 5321 §4.4 Time-stamp-line
// values (the part of a Received field after "Received:"), with RFC 5322
// comments, folding and date-time, and the `tls` and `group` clauses of
// RFC 8314 §4.3 (registered as Additional-registered-clauses in §7.4).
//
// Used by the tests and the check-received tool to prove that every trace
// field the milter writes is valid, and by the syntax helpers that decide
// whether a network-supplied name may appear bare in a field.
//
// Strict on purpose: no obsolete syntax, no 8-bit bytes, no bare CR or LF,
// Opt-info clauses only in RFC 5321 order (via, with, id, for, then the
// additional registered clauses).  The only registered ones are RFC 8314's:
//   tls-cipher-clause   = CFWS "tls" FWS tls-cipher
//   tls-dh-group-clause = CFWS "group" FWS dh-group
//                         ; not to be used except immediately after tls-cipher
// so any other clause name (RFC 5321: "SHOULD NOT use unregistered names"),
// a second tls, or a group that does not follow the tls clause is refused.
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace rfc8314 {

struct ParseResult {
    bool ok = false;
    std::string error; // what and where, when !ok
    // The parsed clauses, for round-trip tests (values as written; comments
    // dropped).
    std::string from, by, via, with, id, forPath, date;
    std::vector<std::pair<std::string, std::string>> extra; // additional clauses, in order
};

// `value` is everything after "Received:", folds as CRLF or LF + WSP.
ParseResult parseTimeStampLine(std::string_view value);

// RFC 5321 Domain: sub-domain *("." sub-domain), labels of letters, digits
// and inner hyphens, 1-63 octets each, 255 in all.
bool isValidDomain(std::string_view s) noexcept;
// RFC 5321 address-literal: "[1.2.3.4]" or "[IPv6:...]" (a real address).
bool isValidAddressLiteral(std::string_view s) noexcept;
// The address-literal for a textual IPv4/IPv6 address ("[127.0.0.1]",
// "[IPv6:2001:db8::1]"), empty when `addr` is not an address.
std::string addressLiteral(std::string_view addr);
// 1*atext (RFC 5322 §3.2.3).
bool isAtom(std::string_view s) noexcept;
// RFC 5321 Mailbox: Local-part "@" ( Domain / address-literal ), ASCII only.
bool isValidMailbox(std::string_view s) noexcept;
// RFC 8314 §4.3 tls-cipher: tls-cipher-name = ALPHA *(ALPHA / DIGIT / "_"),
// or tls-cipher-hex = "0x" 4HEXDIG.
bool isValidTlsCipherValue(std::string_view s) noexcept;
// RFC 8314 §4.3 dh-group = ALPHA *(ALPHA / DIGIT / "_" / "-").
bool isValidDhGroup(std::string_view s) noexcept;

} // namespace rfc8314
