// audit_ecs.hpp — one audit event as an Elastic Common Schema (ECS) JSON
// line, for `audit_format = ecs`.
//
// The session hands over the event's facts (AuditEvent of audit.hpp, the
// same facts the native line and JSON are written from); this writes them under ECS names as
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

#include "rfc8314/audit.hpp"
#include "rfc8314/facts.hpp"

namespace rfc8314 {

// The ECS version the events conform to (ecs.version).
inline constexpr std::string_view kEcsVersion = "8.17.0";

// The event as one ECS JSON object, without a trailing newline.
std::string ecsAuditJson(const AuditEvent& e);

} // namespace rfc8314
