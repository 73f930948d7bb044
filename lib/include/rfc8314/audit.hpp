// audit.hpp — the audit event's schema, defined once: its keys, their
// order, their types and which are optional, for both forms the milter
// writes (the syslog line "QUEUEID: key=value, ..." and the JSON object of
// audit_file), with the writers of both and the key lookups the report's
// readers use.  A key is renamed or moved here and nowhere else: the
// session writes through these tables, the report reads through them, and
// tests/test_audit.cpp checks the round trip and the man page.
//
// Promises: the writers never throw except std::bad_alloc and escape every
// value (logfmt.hpp), so nothing from the network can split or forge a
// line; the lookups never throw and answer AuditKey::Count for a key that is
// not in the schema (a newer milter's key: readers skip it).
#pragma once

#include <cstddef>
#include <cstdint>
#include <ctime>
#include <optional>
#include <string>
#include <string_view>

#include "rfc8314/facts.hpp"
#include "rfc8314/stage.hpp"

namespace rfc8314 {

// Every fact an audit event can carry, whichever form writes it.
enum class AuditKey : std::uint8_t {
    Time, Host, QueueId, Event, User, Mech, Tls, TlsRaw, Cipher, Group, Bits,
    Client, ClientName, ClientAddr, ClientPort, Listener, ListenerPort,
    Verdict, Reason, Stage, Answered, Error, Bucket, Exception, ExemptUntil, CleartextAuth,
    Count // not a key: the number of keys, and "not in the schema"
};
inline constexpr std::size_t kAuditKeyCount = static_cast<std::size_t>(AuditKey::Count);

// How a value is spelled.  Line and JSON differ where noted.
enum class AuditType : std::uint8_t {
    Text,   // a string (line: bare or quoted and escaped)
    Number, // a decimal integer (JSON: a number; listener_port: null when unknown)
    Bits,   // line: a number, "unknown" (TLS, bits not known) or "none" (cleartext); JSON: a number or null
    YesNo,  // "yes" or "no" (the line writes only "yes")
    Time    // JSON: UTC, ISO 8601 "YYYY-MM-DDThh:mm:ssZ"
};

// When a key is written.
enum class AuditWhen : std::uint8_t {
    Always,    // on every audit event of that form
    Applies,   // only when it applies (see the writer; the man page says when)
    Failure    // only on the event of a transaction the filter failed on
};

struct AuditField {
    AuditKey key;
    std::string_view name;
    AuditType type;
    AuditWhen when;
};

// The syslog line, in order, after the queue id ("QUEUEID: ") that leads it
// when known.  The Always fields are what a reader needs to call a line an
// audit line.
inline constexpr AuditField kAuditLineFields[] = {
    {AuditKey::User, "user", AuditType::Text, AuditWhen::Always},          // "none" unauthenticated
    {AuditKey::Mech, "mech", AuditType::Text, AuditWhen::Always},          // "none" unauthenticated
    {AuditKey::Tls, "tls", AuditType::Text, AuditWhen::Always},            // none, TLSv1.2, ..., unknown
    {AuditKey::TlsRaw, "tls_raw", AuditType::Text, AuditWhen::Applies},    // with tls=unknown: the MTA's text
    {AuditKey::Cipher, "cipher", AuditType::Text, AuditWhen::Always},      // IANA name, "unknown", "none"
    {AuditKey::Group, "group", AuditType::Text, AuditWhen::Always},        // IANA name, "unknown", "none"
    {AuditKey::Bits, "bits", AuditType::Bits, AuditWhen::Always},
    {AuditKey::Client, "client", AuditType::Text, AuditWhen::Always},      // name[addr]:port
    {AuditKey::Listener, "listener", AuditType::Text, AuditWhen::Always},  // name/port, "unknown"
    {AuditKey::Verdict, "verdict", AuditType::Text, AuditWhen::Always},
    {AuditKey::Reason, "reason", AuditType::Text, AuditWhen::Applies},     // not written when none
    {AuditKey::Stage, "stage", AuditType::Text, AuditWhen::Failure},
    {AuditKey::Answered, "answered", AuditType::Text, AuditWhen::Failure},
    {AuditKey::Error, "error", AuditType::Text, AuditWhen::Failure},
    {AuditKey::Bucket, "bucket", AuditType::Number, AuditWhen::Applies},
    {AuditKey::Exception, "exception", AuditType::Text, AuditWhen::Applies}, // the entry that let it through
    {AuditKey::ExemptUntil, "exempt_until", AuditType::Text, AuditWhen::Applies},
    {AuditKey::CleartextAuth, "cleartext_auth", AuditType::YesNo, AuditWhen::Applies}, // only "yes"
};

// The JSON object of audit_file, in order.
inline constexpr AuditField kAuditJsonFields[] = {
    {AuditKey::Time, "time", AuditType::Time, AuditWhen::Always},
    {AuditKey::Host, "host", AuditType::Text, AuditWhen::Always},          // host_name, else the MTA's j, else gethostname
    {AuditKey::QueueId, "queue_id", AuditType::Text, AuditWhen::Always},   // "" when not known
    {AuditKey::Event, "event", AuditType::Text, AuditWhen::Always},        // auth, unauthenticated
    {AuditKey::User, "user", AuditType::Text, AuditWhen::Always},          // "" unauthenticated
    {AuditKey::Mech, "mech", AuditType::Text, AuditWhen::Always},
    {AuditKey::Tls, "tls", AuditType::Text, AuditWhen::Always},
    {AuditKey::TlsRaw, "tls_raw", AuditType::Text, AuditWhen::Applies},
    {AuditKey::Cipher, "cipher", AuditType::Text, AuditWhen::Always},      // "" cleartext or unknown
    {AuditKey::Group, "group", AuditType::Text, AuditWhen::Always},        // "" none or unknown
    {AuditKey::Bits, "bits", AuditType::Bits, AuditWhen::Always},
    {AuditKey::ClientName, "client_name", AuditType::Text, AuditWhen::Always},
    {AuditKey::ClientAddr, "client_addr", AuditType::Text, AuditWhen::Always},
    {AuditKey::ClientPort, "client_port", AuditType::Number, AuditWhen::Always}, // 0 when unknown
    {AuditKey::Listener, "listener", AuditType::Text, AuditWhen::Always},  // the name alone
    {AuditKey::ListenerPort, "listener_port", AuditType::Number, AuditWhen::Always}, // null when unknown
    {AuditKey::Verdict, "verdict", AuditType::Text, AuditWhen::Always},
    {AuditKey::Reason, "reason", AuditType::Text, AuditWhen::Always},      // "none" when none
    {AuditKey::Bucket, "bucket", AuditType::Number, AuditWhen::Always},    // -1 when none
    {AuditKey::Exception, "exception", AuditType::Text, AuditWhen::Always}, // "" when none
    {AuditKey::ExemptUntil, "exempt_until", AuditType::Text, AuditWhen::Always}, // "" when none
    {AuditKey::CleartextAuth, "cleartext_auth", AuditType::YesNo, AuditWhen::Always},
    {AuditKey::Stage, "stage", AuditType::Text, AuditWhen::Failure},
    {AuditKey::Answered, "answered", AuditType::Text, AuditWhen::Failure},
    {AuditKey::Error, "error", AuditType::Text, AuditWhen::Failure},
};

// The key a line / JSON name stands for; AuditKey::Count when not in the schema.
AuditKey auditLineKey(std::string_view name) noexcept;
AuditKey auditJsonKey(std::string_view name) noexcept;

// One audit event's values, as facts rather than spellings: each writer
// spells them its way (the line's "none"/"unknown", JSON's "" and null).
// Views must outlive the write call only.
struct AuditEvent {
    std::time_t time = 0;
    std::string_view host;          // the JSON forms only (host_name, j, gethostname)
    std::string_view queueId;       // "" when not known yet
    bool authenticated = false;
    std::string_view user, mech;    // as the MTA gave them
    TlsVersion tls = TlsVersion::None;
    std::string_view tlsRaw;        // the MTA's text when tls is Unknown
    std::string_view cipher;        // the IANA name; "" when not understood (or cleartext)
    std::string_view group;         // the IANA group; "" when none was named
    bool groupUnused = false;       // the suite's key exchange uses no group
    std::optional<int> bits;        // nullopt: not known (or cleartext)
    std::string_view clientName;    // "" when the MTA gave none
    std::string_view clientAddr;
    std::optional<int> clientPort;
    std::string_view listener;      // the name; "unknown" when undetermined
    std::optional<int> listenerPort;
    std::string_view verdict;
    std::string_view reason;        // "" when none
    std::optional<int> bucket;
    std::string_view exception;     // the exceptions-file entry that let it through, or ""
    std::string_view exemptUntil;   // "" when no dated exception let it through
    // A transaction the filter failed on: where, where it was answered, what.
    std::optional<Stage> stage;
    std::string_view answered, error;
    // The line's first fields (auditLineHead of an event with the same
    // user, mech and connection facts), or "" to write them from the facts
    // above.  A session writes them once per connection (and user), not
    // once per line.
    std::string_view lineHead;
};

// Whether the line's field `k` is one of its head: user through listener
// (the authentication, the TLS facts, the client, the listener), the same
// for every line of a connection while the user and its TLS facts are.
bool auditLineHeadKey(AuditKey k) noexcept;
// Those fields as auditLine writes them ("user=..., ..., listener=..."),
// for AuditEvent::lineHead.
std::string auditLineHead(const AuditEvent& e);

// Appends the client as the audit line's `client` field and the warnings
// name it: "name[addr]:port", "unknown" for no name, no ":port" without one.
void appendClientText(std::string& out, std::string_view name, std::string_view addr, std::optional<int> port);
// The syslog line, queue id first when known, built in one buffer: with
// `buffer`, in that one (its text dropped, its capacity kept).
std::string auditLine(const AuditEvent& e);
std::string auditLine(const AuditEvent& e, std::string&& buffer);
// The JSON object, "{...}" without a newline.
std::string auditJson(const AuditEvent& e);

} // namespace rfc8314
