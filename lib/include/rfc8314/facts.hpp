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

// Ordered: a comparison against a configured minimum is meaningful.
// Unknown means "TLS is in use but the version string was not understood"
// (e.g. a future "TLSv1.4"); it sorts above every known version.
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

struct TlsFacts {
    TlsVersion version = TlsVersion::None;
    std::string versionText;          // as sent, for the log when not understood
    std::string cipherText;           // {cipher} as sent (OpenSSL spelling)
    std::optional<CipherInfo> cipher; // resolved by CipherRegistry
    std::optional<int> bits;          // {cipher_bits}

    bool active() const noexcept { return version != TlsVersion::None; }
    // The RFC 8314 tls clause value: IANA name, "0xC02F", or empty.
    std::string clauseValue() const;
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
    std::string addr;                 // textual address, "127.0.0.1" / "2001:db8::1"
    std::string name;                 // verified reverse name; empty when unknown
    std::optional<std::uint16_t> port;
    std::string helo;                 // last HELO/EHLO argument: hostile
};

TlsFacts readTlsFacts(const MacroSource& m);
AuthFacts readAuthFacts(const MacroSource& m);
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
