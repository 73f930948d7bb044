// policy.hpp — the submission policy of RFC 8314 §4.1 and RFC 8997: refuse
// authenticated submission over cleartext or over TLS that is too old or too
// weak, per listener and per user, in stages.
//
// A listener's policy says what is required (TLS for auth, a minimum TLS
// version, minimum cipher bits) and what happens to a transaction that falls
// short: report (log only, verdict would-reject), tempfail or reject.  The
// enforced action applies only from `enforce_from` on and only to the share
// of users picked by `rollout_percent` (a stable hash of salt and user name);
// everyone else is reported.  Per-user exceptions with an expiry let legacy
// clients through (verdict exempt).
//
// Identical denial (RFC 8314 §4.1): on a listener that requires TLS for auth,
// an unauthenticated MAIL over cleartext gets the same reply as an
// authenticated one, so the reply never tells whether credentials were given
// or valid.
//
// Promises: evaluate() is pure (facts, policy, date in; PolicyResult out),
// never throws, and makes no system calls.  It is the one implementation of
// the policy: the milter calls it per transaction, the report's what-if
// per audit record.
#pragma once

#include <cstdint>
#include <ctime>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "rfc8314/facts.hpp"

namespace rfc8314 {

enum class PolicyAction { Report, Tempfail, Reject };
enum class PolicyVerdict { Accept, Exempt, WouldReject, Tempfail, Reject };
// TlsVersionUnknown: TLS is in use but {tls_version} was not understood
// (Sendmail with old OpenSSL says "TLSv1/SSLv3"): it counts as below any
// configured minimum.  CipherBitsUnknown: TLS is in use, a minimum of bits
// is configured and {cipher_bits} is missing or not a number: it counts as
// below it.  Missing facts count against the client, never for it.
enum class PolicyReason { None, Cleartext, TlsVersion, CipherBits, TlsVersionUnknown, CipherBitsUnknown };

std::string_view toString(PolicyAction) noexcept;
std::string_view toString(PolicyVerdict) noexcept;
std::string_view toString(PolicyReason) noexcept;
std::optional<PolicyAction> parsePolicyAction(std::string_view) noexcept;

// A calendar day, comparable; parsed from YYYY-MM-DD.
struct Day {
    int value = 0; // yyyymmdd
    static std::optional<Day> parse(std::string_view text) noexcept;
    static Day fromTime(std::time_t t) noexcept; // UTC day
    std::string str() const;
    friend bool operator<(Day a, Day b) noexcept { return a.value < b.value; }
    friend bool operator<=(Day a, Day b) noexcept { return a.value <= b.value; }
    friend bool operator==(Day a, Day b) noexcept { return a.value == b.value; }
};

struct SmtpReply {
    std::string code;  // "530"
    std::string xcode; // "5.7.0"
    std::string text;
    // "530 5.7.0 Text ..." -> reply; nullopt (with why) when malformed.
    static std::optional<SmtpReply> parse(std::string_view text, std::string* why = nullptr);
    std::string str() const;
};

// The replies used when a listener sets none.  They say what to change and
// nothing about the account.
SmtpReply defaultReply(PolicyAction action);

// A default-constructed policy is off and requires nothing.  The
// compiled-in defaults (TLS for auth, TLS 1.2, 128 bits, reject) are the
// listener keys' defaults in the config key table: Config::defaultPolicy().
struct ListenerPolicy {
    bool enabled = false;
    bool requireTlsForAuth = false;
    TlsVersion minTlsVersion = TlsVersion::None;
    int minCipherBits = 0;
    PolicyAction action = PolicyAction::Report;
    std::optional<Day> enforceFrom;       // before it: report only
    int rolloutPercent = 0;               // 0..100
    std::optional<SmtpReply> reply;       // default: defaultReply(action)
};

// One line of the exceptions file.
struct PolicyException {
    std::string user;     // exact user name, or "" when domain is set
    std::string domain;   // "@example.org" entries: lower-case domain without '@'
    std::optional<Day> until; // last day the exception holds (inclusive)
    std::string comment;
    int line = 0;
};

struct ExceptionList {
    std::string file;
    std::vector<PolicyException> entries;
    // First entry matching the user (exact, case-insensitive; or the domain
    // after the last '@'), expired or not.
    const PolicyException* find(std::string_view user) const noexcept;
};

struct ExceptionLoad {
    ExceptionList list;
    // "file:line: ..." for each malformed line.  The line is left out of
    // `list`, but loadConfig() treats every one as a configuration error: the
    // daemon does not start (exit 78) and a reload keeps the running config.
    std::vector<std::string> errors;
    std::vector<std::string> warnings; // "file:line: ... expired on ..." (kept, inactive)
};

// Parses the exceptions file format:
//   user [until YYYY-MM-DD] [# comment]
//   @domain [until YYYY-MM-DD] [# comment]
ExceptionLoad parseExceptions(std::string_view text, std::string_view fileName, Day today);
ExceptionLoad loadExceptions(const std::string& path, Day today);

// Stable rollout bucket 0..99 for a user: FNV-1a 64 of salt + '\0' + the
// lower-cased user name.
int rolloutBucket(std::string_view salt, std::string_view user) noexcept;

struct PolicyInput {
    const TlsFacts* tls = nullptr;
    const AuthFacts* auth = nullptr;
    Day today;
    std::string_view salt;
    const ExceptionList* exceptions = nullptr;
};

struct PolicyResult {
    PolicyVerdict verdict = PolicyVerdict::Accept;
    PolicyReason reason = PolicyReason::None;
    std::optional<int> bucket;           // when rollout was consulted
    std::optional<SmtpReply> reply;      // for Tempfail and Reject
    const PolicyException* exception = nullptr; // for Exempt
};

PolicyResult evaluate(const ListenerPolicy& policy, const PolicyInput& in);

} // namespace rfc8314
