// facts.hpp — typed facts from the macros an MTA hands a milter.
//
// Postfix and Sendmail pass TLS, auth, listener and client details as string
// macros ({tls_version}, {cipher}, {auth_authen}, {daemon_port}, ...), at
// different stages and with different spellings (MTA-FACTS.md §1-§3).  This
// unit turns them into typed values once, so every decision downstream works
// on facts, not strings.
//
// Promises: never throws on any input; a missing, empty or malformed macro is
// itself a fact ("no TLS", "unknown version", "no port"), and "absent" and
// "empty" are treated alike (Sendmail sends some undefined macros empty).
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

#include "rfc8314/tls_names.hpp"

namespace rfc8314 {

// Ordered: a comparison against a configured minimum is meaningful for the
// known versions.  Unknown means "TLS is in use but the version string was
// not understood" (Sendmail built against old OpenSSL says "TLSv1/SSLv3",
// which may be anything up to TLS 1.2); it sorts last only so the values
// stay stable, and must never be compared: the policy counts it as below
// any configured minimum (policy.hpp).
enum class TlsVersion : std::uint8_t { None, SSLv3, TLSv1_0, TLSv1_1, TLSv1_2, TLSv1_3, Unknown };

// "TLSv1.3", "TLSv1.2", "TLSv1.1", "TLSv1"/"TLSv1.0", "SSLv3" (as OpenSSL
// spells them; case-insensitive, "TLS1.2"/"TLSv1_2" also accepted).  Empty
// -> None; anything else -> Unknown.
TlsVersion parseTlsVersion(std::string_view text) noexcept;
// "none", "SSLv3", "TLSv1.0", ..., "unknown".
std::string_view toString(TlsVersion v) noexcept;
// Config spelling: same as parseTlsVersion but nullopt for anything that is
// not a known version (Unknown/None are not valid minimums).
std::optional<TlsVersion> parseTlsVersionSetting(std::string_view text) noexcept;

// Read access to one stage's macros.  Names are given as the MTA documents
// them: "{cipher}" for long names, "i" or "j" for one-letter ones; an
// implementation must also find "{i}" for "i" and "cipher" for "{cipher}".
class MacroSource {
public:
    virtual ~MacroSource() = default;
    // nullopt when the MTA did not send the macro; empty values are returned
    // as they are (callers treat them like absent).
    virtual std::optional<std::string_view> get(std::string_view name) const = 0;
};

// Canonical macro name: "{x}" for names longer than one character, bare for
// one-letter names.  "cipher" -> "{cipher}", "{i}" -> "i".
std::string canonicalMacroName(std::string_view name);
// The same name into buf, NUL-terminated, for a C interface (libmilter's
// smfi_getsymval) without an allocation per look-up; false, and buf
// untouched, when it does not fit in `size` octets.
bool canonicalMacroName(std::string_view name, char* buf, std::size_t size) noexcept;

// A MacroSource backed by a map: for tests, the offline mode and replay.
class MacroMap : public MacroSource {
public:
    MacroMap() = default;
    void set(std::string_view name, std::string_view value);
    // "NAME=VALUE" as given on the command line; false when there is no '='
    // or the name is empty.
    bool setAssignment(std::string_view assignment);
    std::optional<std::string_view> get(std::string_view name) const override;
    const std::map<std::string, std::string>& all() const noexcept { return values_; }

private:
    std::map<std::string, std::string> values_;
};

// A decimal TCP port 1..65535, nothing else.
std::optional<std::uint16_t> parsePort(std::string_view text) noexcept;
// A non-negative decimal number up to 1,000,000 (bits, SSF); nullopt otherwise.
std::optional<int> parseSmallNumber(std::string_view text) noexcept;

// One client address in its canonical text, as inet_ntop writes it
// ("2001:db8::10", "192.0.2.10"), from any spelling an MTA sends: Postfix
// prefixes IPv6 addresses with "IPv6:" in {client_addr}, and the case and
// zero-compression of IPv6 text vary.  nullopt when it is no address.  The
// audit line, the JSON and the report all use this form, so one client is
// one address; the trace field writes its RFC 5321 literal (rfc5322.hpp).
std::optional<std::string> canonicalAddress(std::string_view text);
// The dotted-quad text of a 4-octet IPv4 address, as inet_ntop writes it,
// into out (at least 16 octets); returns its length.  Without inet_ntop,
// which formats through sprintf, at every connect.
std::size_t ipv4Text(const unsigned char* octets, char* out) noexcept;

struct TlsFacts {
    TlsVersion version = TlsVersion::None;
    std::string versionText;          // as sent, for the log when not understood
    std::string cipherText;           // {cipher} as sent (OpenSSL spelling)
    std::optional<CipherInfo> cipher; // resolved by CipherRegistry
    // The RFC 8314 tls clause value of `cipher` (tlsClauseValue: IANA name
    // or "0xC02F"), made once when the facts are read; empty when the
    // cipher is not understood.
    std::string clause;
    // {cipher_bits}; nullopt when absent or not a number, which is not 0:
    // a NULL cipher really has 0 bits.
    std::optional<int> bits;

    bool active() const noexcept { return version != TlsVersion::None; }
};

struct AuthFacts {
    std::string type;    // {auth_type}: mechanism, e.g. PLAIN
    std::string authen;  // {auth_authen}: the authenticated user: hostile

    bool authenticated() const noexcept { return !authen.empty() || !type.empty(); }
};

struct ListenerFacts {
    std::string name;                 // {daemon_name}
    std::string addr;                 // {daemon_addr}
    std::optional<std::uint16_t> port; // {daemon_port}
};

struct ClientFacts {
    // canonicalAddress() of what the MTA sent; the text as sent (trimmed)
    // when that is no address, so the log still shows it (escaped).
    std::string addr;
    std::string name;                 // verified reverse name; empty when unknown
    std::optional<std::uint16_t> port;
    std::string helo;                 // last HELO/EHLO argument: hostile
};

TlsFacts readTlsFacts(const MacroSource& m);
AuthFacts readAuthFacts(const MacroSource& m);
// The same into `into`, every field overwritten: read at every MAIL, so
// into strings that keep their buffers rather than new ones.
void readAuthFacts(const MacroSource& m, AuthFacts& into);
ListenerFacts readListenerFacts(const MacroSource& m);
// From {client_addr}, {client_name}, {client_port}, and `_` where those are
// missing; a name of "unknown" or an address literal "[...]" counts as no name.
ClientFacts readClientFacts(const MacroSource& m);
// The `_` macro, "[ident@]name [addr]" (Sendmail may append " (may be
// forged)", and then the name is not one): {name or "" when not a name, addr}, or {"", ""} when it holds
// no valid IPv4/IPv6 address in brackets.
std::pair<std::string, std::string> parseClientMacro(std::string_view v);
// Client name as libmilter's connect callback gives it ("unknown", "[1.2.3.4]"
// or a name): the name, or empty when it is not a name.
std::string clientNameFromConnect(std::string_view hostname);

} // namespace rfc8314
