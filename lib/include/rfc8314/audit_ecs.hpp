// audit_ecs.hpp — one audit event as an Elastic Common Schema (ECS) JSON
// line, for `audit_format = ecs`.
//
// The session hands over the event's values (AuditValues, the same values
// its native JSON line is made of); this writes them under ECS names as
// nested objects — {"tls":{"version":"1.2"}}, not "tls.version" — which is
// the document shape ECS's guidelines ask for and what Filebeat, Logstash
// and Vector pass to Elasticsearch without a de-dot step.  What ECS has no
// field for goes under "rfc8314".  The mapping is documented in
// rfc8314-milter.conf(5) and checked against ECS's field types by
// tests/integration/test_ecs.sh.
//
// Promises: one line of valid UTF-8 JSON, no newline; every string goes
// through jsonEscape (user names, host and client names come from the
// network); a value that is not of its ECS field's type is never written
// there (a client address that is not an IP goes to rfc8314.client_addr,
// never to source.ip, whose `ip` mapping would refuse the whole document).
// Throws only std::bad_alloc.
#pragma once

#include <ctime>
#include <optional>
#include <string>
#include <string_view>

#include "rfc8314/facts.hpp"

namespace rfc8314 {

// The ECS version the events conform to (ecs.version).
inline constexpr std::string_view kEcsVersion = "8.17.0";

struct AuditValues {
    std::time_t when = 0;
    std::string_view host;     // host_name, the MTA's {j}, or gethostname
    std::string_view queueId;  // empty when not known yet
    bool authenticated = false;
    std::string_view user;     // {auth_authen}
    std::string_view mech;     // {auth_type}
    TlsVersion tls = TlsVersion::None;
    std::string_view tlsRaw;   // {tls_version} as sent, when not understood
    std::string_view cipher;   // the tls clause value (IANA name or 0xC02F); empty: not understood
    std::string_view group;    // IANA group name; empty: none or not known
    std::optional<int> bits;   // {cipher_bits}; nullopt: unknown or cleartext
    std::string_view clientName;
    std::string_view clientAddr;
    std::optional<int> clientPort;
    std::string_view listener; // name, "unknown" when undetermined
    std::optional<int> listenerPort;
    std::string_view verdict;  // accept exempt would-reject tempfail reject
    std::string_view reason;   // empty: none
    int bucket = -1;           // rollout bucket, -1: none
    std::string_view exception; // the matched exception entry, as the native line's `exception`
    std::string_view exemptUntil;
    bool cleartextAuth = false;
    // A transaction the filter failed on: the stage, where it was answered
    // and what went wrong; all empty otherwise.
    std::string_view stage, answered, error;
};

// The event as one ECS JSON object, without a trailing newline.
std::string ecsAuditJson(const AuditValues& v);

} // namespace rfc8314
