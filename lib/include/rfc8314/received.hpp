// received.hpp — the RFC 5321 §4.4 trace field for the submission hop, with
// the `tls` and `group` clauses of RFC 8314 §4.3.
//
//   from HELO (NAME [ADDR]) by HOST with ESMTPSA id QID for <RCPT>
//           tls TLS_AES_256_GCM_SHA384 group x25519; Tue, 24 Nov 2026 ...
//
// With the client hidden (trace_client = hidden) the field names no client:
//
//   from hidden.invalid by HOST with ESMTPSA id QID for <RCPT>
//           tls TLS_AES_256_GCM_SHA384 group x25519; Tue, 24 Nov 2026 ...
//
// RFC 5321 §4.4 makes From-domain mandatory in a Time-stamp-line, and the
// tls and group clauses exist only there, so the clause stays, with a name
// that says nothing: the reserved TLD .invalid (RFC 2606 §2, RFC 6761 §6.4)
// is "sure to be invalid and obvious as such", so it cannot be taken for a
// host, unlike "localhost" or our own name, which would state a false origin.
//
// Promises: whatever the input (hostile HELO, client name, queue id,
// recipient, cipher text), the result parses as a Time-stamp-line
// (rfc5322.hpp), keeps the clauses in Opt-info order, is folded at
// whitespace so lines stay within 78 octets where a token allows and never
// exceed 998.  A value that is not valid where it would go is dropped, or
// shown escaped inside a comment (the HELO), never written bare.
#pragma once

#include <ctime>
#include <string>
#include <string_view>

namespace rfc8314 {

// RFC 3848 / RFC 5321 "with" values.
enum class WithProtocol { SMTP, ESMTP, ESMTPS, ESMTPA, ESMTPSA };
WithProtocol withProtocol(bool esmtp, bool tls, bool authenticated) noexcept;
std::string_view toString(WithProtocol p) noexcept;

// The `from` of a field whose client is hidden.
inline constexpr std::string_view kHiddenClientDomain = "hidden.invalid";

// The field's values.  ReceivedInput owns them; ReceivedView only points
// at values the caller keeps (the session, once per message: nothing is
// copied for the field).
template <class Text> struct BasicReceivedInput {
    // No HELO name, client name or address in the field (helo, clientName
    // and clientAddr are then not used): `from hidden.invalid`.
    bool hideClient = false;
    Text helo;       // HELO/EHLO argument as sent: hostile
    Text clientName; // verified reverse name, or empty
    Text clientAddr; // textual IPv4/IPv6 address, or empty
    Text byHost;     // our host name
    WithProtocol with = WithProtocol::ESMTP;
    Text queueId;    // MTA queue id, or empty
    Text forRcpt;    // the single recipient (no angle brackets), or empty
    Text tls;        // tls clause value (IANA name or 0xXXXX), or empty
    Text group;      // IANA group name, or empty (only written with tls)
    std::time_t when = 0;
    int utcOffsetMinutes = 0;
};
using ReceivedInput = BasicReceivedInput<std::string>;
using ReceivedView = BasicReceivedInput<std::string_view>;

// The field value (without "Received:" and without a trailing line end),
// folded with `eol` + TAB.  libmilter wants "\n"; a raw message "\r\n".
std::string buildReceived(const ReceivedInput& in, std::string_view eol = "\r\n");
std::string buildReceived(const ReceivedView& in, std::string_view eol = "\r\n");
// The same, written into `buffer` (its text dropped, its capacity kept):
// the session hands back the buffer of its last field (Session::recycle).
std::string buildReceived(const ReceivedView& in, std::string_view eol, std::string&& buffer);

// Whether buildReceived() writes `host` as the `by` host (an RFC 5321
// Domain); any other value is written as "localhost".  The config checks the
// `hostname` setting with it, so a setting the builder would drop is refused.
bool isValidByHost(std::string_view host) noexcept;

// RFC 5322 date-time with a numeric zone: "Tue, 24 Nov 2026 09:05:01 +0100".
std::string formatDate(std::time_t when, int utcOffsetMinutes);

} // namespace rfc8314
