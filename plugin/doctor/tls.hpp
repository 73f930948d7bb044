// tls.hpp — what the MTA's TLS settings mean for RFC 8314 and RFC 8997:
// which protocol versions a Postfix protocol list or Sendmail's
// ServerSSLOptions leave enabled, and whether a server certificate, as read
// from its file, is one an MSP may present (RFC 8314 §4.4).
//
// Promises: pure.  The certificate facts come from certs.hpp (which reads
// the file with OpenSSL); here they are only judged, at the time they were
// read, so a table of cases needs no file and no clock.
#pragma once

#include <ctime>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "finding.hpp"
#include "rfc8314/facts.hpp"

namespace rfc8314::doctor {

// ---- protocol versions -----------------------------------------------------------

// The versions a setting leaves enabled, of TLS 1.0 to 1.3 (SSLv2/SSLv3 are
// gone from the OpenSSL the MTAs link).
struct ProtocolSet {
    bool understood = true;
    std::string bad;                 // the first token not understood
    std::vector<TlsVersion> enabled; // ascending
};

// smtpd_tls_protocols / smtpd_tls_mandatory_protocols, both syntaxes:
// exclusions and inclusions ("!SSLv2, !SSLv3, !TLSv1", "TLSv1.2 TLSv1.3")
// and bounds (">=TLSv1.2", "<=TLSv1.3", ">=0x0303"), separated by blanks,
// commas or colons; names case-insensitive.  Empty: every version.
ProtocolSet parsePostfixProtocols(std::string_view value);
// ServerSSLOptions: "+NAME", "-NAME", "NAME" or numbers, applied to
// Sendmail's defaults (which turn off no TLS version).
ProtocolSet parseSendmailSslOptions(std::string_view value);
// The value with TLS 1.0 and 1.1 turned off (tokens that turned them on
// again dropped), as a ServerSSLOptions fix.
std::string sendmailSslOptionsWithout11(std::string_view value);
// TLS 1.0 and 1.1 among `s.enabled`; empty when neither is.
std::vector<TlsVersion> deprecatedVersions(const ProtocolSet& s);
// "TLSv1.0 and TLSv1.1", "TLSv1.0".
std::string versionList(const std::vector<TlsVersion>& v);
// The Postfix value that allows only TLS 1.2 and later, in the syntax the
// release understands (bounds since 3.6).
std::string postfixProtocolsFix(std::string_view mailVersion);

// ---- certificates ------------------------------------------------------------------

struct CertFacts {
    std::string error;         // non-empty: the file could not be read or holds no certificate
    bool notPermitted = false; // the error is a permission the doctor's user lacks
    int count = 0;             // certificates in the file
    std::time_t notBefore = 0; // latest notBefore of them
    std::time_t notAfter = 0;  // earliest notAfter of them
    std::string subject;       // of the first (the server's own) certificate
    std::time_t checkedAt = 0; // when the file was read
};

// Within this many days of its end a certificate is reported as due.
inline constexpr long kCertWarnDays = 14;

// One finding for the certificate file `path` named by `setting` (e.g.
// "smtpd_tls_cert_file"), as `who` presents it; nullopt facts = not read.
Finding judgeCertificate(const std::string& who, const std::string& setting,
                         const std::string& path, const std::optional<CertFacts>& facts);

// "2026-06-01 12:00:00 UTC".
std::string utcTime(std::time_t t);

} // namespace rfc8314::doctor
