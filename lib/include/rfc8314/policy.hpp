// policy.hpp — the submission policy of RFC 8314 §4.1 and RFC 8997: refuse
// authenticated submission over cleartext or over TLS that is too old or too
// weak, per listener and per user, in stages.
//
// A listener's policy says what is required (TLS for auth, a minimum TLS
// version, minimum cipher bits) and what happens to a transaction that falls
// short: report (log only, verdict would-reject), tempfail or reject.  The
// enforced action applies only from `enforce_from` on and only to the share
// of users picked by `rollout_percent` (a stable hash of salt and user name);
// everyone else is reported.  Exceptions with an expiry let legacy clients
// through (verdict exempt): per user or domain, or per client network
// (printers, scanners, appliances), whatever the credentials.
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

#include <array>
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

// A client address as the policy compares it: IPv4 or IPv6 in network byte
// order.  An IPv4-mapped IPv6 address (::ffff:192.0.2.7) is the IPv4 address
// it maps: one host, whichever socket family the MTA accepted it on.
struct ClientAddress {
    bool v6 = false;
    std::array<unsigned char, 16> bytes{}; // IPv4: the first 4
    // The canonical text (inet_ntop's, "192.0.2.7", "2001:db8::7") or
    // Postfix's {client_addr} form for IPv6 ("IPv6:2001:db8::7"), blanks
    // around it allowed; nullopt for anything else (empty, a name, a zone
    // index, "unknown").
    static std::optional<ClientAddress> parse(std::string_view text) noexcept;
};

// A client network of the exceptions file: an IPv4 or IPv6 prefix whose host
// bits are zero; a single address is the prefix of full length.
struct ClientNetwork {
    bool v6 = false;
    std::array<unsigned char, 16> bytes{}; // the network; IPv4: the first 4
    int prefix = 0;                        // 0..32 (IPv4) or 0..128 (IPv6)
    // "192.0.2.0/24", "2001:db8::/48", "192.0.2.7", "2001:db8::7" (also as
    // "IPv6:2001:db8::/48").  Refused, with the reason in *why: a prefix
    // length out of range or not plain decimal, host bits set (the entry
    // is ambiguous: a network or one host?), an IPv4-mapped IPv6 network
    // (write the IPv4 one: clients are compared as IPv4), anything that is
    // no address.
    static std::optional<ClientNetwork> parse(std::string_view text, std::string* why = nullptr);
    // Always with the prefix length: "192.0.2.7/32", "2001:db8::/48".
    std::string str() const;
    bool contains(const ClientAddress& a) const noexcept;
};

// One line of the exceptions file: a user, a domain or a client network.
struct PolicyException {
    std::string user;     // exact user name, or "" when domain or network is set
    std::string domain;   // "@example.org" entries: lower-case domain without '@'
    std::optional<ClientNetwork> network; // "192.0.2.0/24" entries
    std::optional<Day> until; // last day the exception holds (inclusive)
    std::string comment;
    int line = 0;
    // The entry as the audit line names it: "alice@example.org",
    // "@example.org" or "192.0.2.0/24".
    std::string text() const;
    bool activeOn(Day today) const noexcept { return !until || today <= *until; }
};

struct ExceptionList {
    std::string file;
    std::vector<PolicyException> entries;
    // First user or domain entry matching the user (exact, case-insensitive;
    // or the domain after the last '@'), expired or not.
    const PolicyException* find(std::string_view user) const noexcept;
    // First network entry holding the client address (as ClientAddress::parse
    // reads it) and, when `activeOn` is given, not expired on that day, so an
    // expired /24 does not hide a live /32 inside it; null for an address it
    // cannot read.
    const PolicyException* findNetwork(std::string_view clientAddr,
                                       std::optional<Day> activeOn = std::nullopt) const noexcept;
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
//   192.0.2.0/24 [until YYYY-MM-DD] [# comment]    (also 2001:db8::/48, and
//                                                   single addresses)
// An unquoted first word that looks like an address (digits and dots with a
// dot, hex digits and colons with a colon, a '/' after such a head, a
// leading '[' or "IPv6:") is a network and must parse as one; a user whose
// name looks like that is written in double quotes.
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
    // The client's address as the session holds it (canonical) or as
    // Postfix spells IPv6 ("IPv6:2001:db8::10"); empty or unreadable: no
    // network entry can match.
    std::string_view clientAddr{};
};

struct PolicyResult {
    PolicyVerdict verdict = PolicyVerdict::Accept;
    PolicyReason reason = PolicyReason::None;
    std::optional<int> bucket;           // when rollout was consulted
    std::optional<SmtpReply> reply;      // for Tempfail and Reject
    const PolicyException* exception = nullptr; // for Exempt: the entry that matched
};

// A network exception holds for every transaction from the network,
// authenticated or not: the answer then depends on the address alone, so it
// is one answer whatever the credentials (RFC 8314 §4.1), and devices that
// send without AUTH (let in by the MTA's own network rules) are covered.
// It is consulted before the user entries; an expired network entry does
// not hide a user entry.

PolicyResult evaluate(const ListenerPolicy& policy, const PolicyInput& in);

} // namespace rfc8314
