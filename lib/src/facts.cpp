// facts.cpp — macro strings to typed facts.  See facts.hpp for the promises.
// Nothing here throws on input: every parse returns an optional or a fallback
// value, so a malformed macro can never take a milter callback down.
#include "rfc8314/facts.hpp"

#include "text.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>

#include <cctype>
#include <cstring>

namespace rfc8314 {

namespace {

using text::iequals;
using text::parseDecimal;
std::string_view trim(std::string_view s) noexcept { return text::trimBlanks(s); }

// The macro's value, trimmed; empty when absent.  The view lives as long
// as the stage's macros.
std::string_view view(const MacroSource& m, std::string_view name) {
    auto v = m.get(name);
    return v ? trim(*v) : std::string_view();
}

std::string value(const MacroSource& m, std::string_view name) { return std::string(view(m, name)); }

} // namespace

TlsVersion parseTlsVersion(std::string_view text) noexcept {
    text = trim(text);
    if (text.empty())
        return TlsVersion::None;
    if (auto v = parseTlsVersionSetting(text))
        return *v;
    return TlsVersion::Unknown;
}

std::optional<TlsVersion> parseTlsVersionSetting(std::string_view text) noexcept {
    text = trim(text);
    struct Spelling {
        std::string_view text;
        TlsVersion version;
    };
    static constexpr Spelling spellings[] = {
        {"SSLv3", TlsVersion::SSLv3},     {"SSL3", TlsVersion::SSLv3},
        {"TLSv1", TlsVersion::TLSv1_0},   {"TLSv1.0", TlsVersion::TLSv1_0},
        {"TLS1.0", TlsVersion::TLSv1_0},  {"TLSv1_0", TlsVersion::TLSv1_0},
        {"TLSv1.1", TlsVersion::TLSv1_1}, {"TLS1.1", TlsVersion::TLSv1_1},
        {"TLSv1_1", TlsVersion::TLSv1_1}, {"TLSv1.2", TlsVersion::TLSv1_2},
        {"TLS1.2", TlsVersion::TLSv1_2},  {"TLSv1_2", TlsVersion::TLSv1_2},
        {"TLSv1.3", TlsVersion::TLSv1_3}, {"TLS1.3", TlsVersion::TLSv1_3},
        {"TLSv1_3", TlsVersion::TLSv1_3},
    };
    for (const auto& s : spellings) {
        if (iequals(text, s.text))
            return s.version;
    }
    return std::nullopt;
}

std::string_view toString(TlsVersion v) noexcept {
    switch (v) {
    case TlsVersion::None: return "none";
    case TlsVersion::SSLv3: return "SSLv3";
    case TlsVersion::TLSv1_0: return "TLSv1.0";
    case TlsVersion::TLSv1_1: return "TLSv1.1";
    case TlsVersion::TLSv1_2: return "TLSv1.2";
    case TlsVersion::TLSv1_3: return "TLSv1.3";
    case TlsVersion::Unknown: return "unknown";
    }
    return "unknown";
}

namespace {

// canonicalMacroName's rule: the name without braces, and whether it is
// written with them.
std::string_view macroCore(std::string_view name, bool& braces) noexcept {
    if (name.size() >= 2 && name.front() == '{' && name.back() == '}')
        name = name.substr(1, name.size() - 2);
    braces = name.size() != 1;
    return name;
}

} // namespace

std::string canonicalMacroName(std::string_view name) {
    bool braces = false;
    name = macroCore(name, braces);
    if (!braces)
        return std::string(name);
    std::string out;
    out.reserve(name.size() + 2);
    out += '{';
    out += name;
    out += '}';
    return out;
}

bool canonicalMacroName(std::string_view name, char* buf, std::size_t size) noexcept {
    bool braces = false;
    name = macroCore(name, braces);
    const std::size_t need = name.size() + (braces ? 2 : 0) + 1;
    if (need > size)
        return false;
    char* p = buf;
    if (braces)
        *p++ = '{';
    std::memcpy(p, name.data(), name.size());
    p += name.size();
    if (braces)
        *p++ = '}';
    *p = '\0';
    return true;
}

void MacroMap::set(std::string_view name, std::string_view value) {
    values_[canonicalMacroName(name)] = std::string(value);
}

bool MacroMap::setAssignment(std::string_view assignment) {
    auto eq = assignment.find('=');
    if (eq == std::string_view::npos || eq == 0)
        return false;
    set(assignment.substr(0, eq), assignment.substr(eq + 1));
    return true;
}

std::optional<std::string_view> MacroMap::get(std::string_view name) const {
    auto it = values_.find(canonicalMacroName(name));
    if (it == values_.end())
        return std::nullopt;
    return std::string_view(it->second);
}

std::optional<std::uint16_t> parsePort(std::string_view text) noexcept {
    auto n = parseDecimal(text, 65535);
    if (!n || *n == 0)
        return std::nullopt;
    return static_cast<std::uint16_t>(*n);
}

std::optional<int> parseSmallNumber(std::string_view text) noexcept {
    auto n = parseDecimal(text, 1000000);
    if (!n)
        return std::nullopt;
    return static_cast<int>(*n);
}

std::optional<std::string> canonicalAddress(std::string_view text) {
    text = trim(text);
    if (text.size() > 5 && iequals(text.substr(0, 5), "IPv6:"))
        text.remove_prefix(5);
    char in[INET6_ADDRSTRLEN + 1] = {};
    if (text.empty() || text.size() >= sizeof in)
        return std::nullopt;
    text.copy(in, text.size());
    unsigned char bin[sizeof(struct in6_addr)];
    char out[INET6_ADDRSTRLEN] = {};
    const int family = inet_pton(AF_INET, in, bin) == 1    ? AF_INET
                       : inet_pton(AF_INET6, in, bin) == 1 ? AF_INET6
                                                           : 0;
    if (family == AF_INET)
        return std::string(out, ipv4Text(bin, out));
    if (family == 0 || !inet_ntop(family, bin, out, sizeof out))
        return std::nullopt;
    return std::string(out);
}

std::size_t ipv4Text(const unsigned char* octets, char* out) noexcept {
    char* p = out;
    for (int i = 0; i < 4; ++i) {
        if (i)
            *p++ = '.';
        const unsigned v = octets[i];
        if (v >= 100)
            *p++ = static_cast<char>('0' + v / 100);
        if (v >= 10)
            *p++ = static_cast<char>('0' + v / 10 % 10);
        *p++ = static_cast<char>('0' + v % 10);
    }
    *p = '\0';
    return static_cast<std::size_t>(p - out);
}

TlsFacts readTlsFacts(const MacroSource& m) {
    TlsFacts t;
    t.versionText = value(m, "{tls_version}");
    t.cipherText = value(m, "{cipher}");
    t.version = parseTlsVersion(t.versionText);
    // A cipher without a version still means the session is encrypted.
    if (t.version == TlsVersion::None && !t.cipherText.empty())
        t.version = TlsVersion::Unknown;
    if (!t.cipherText.empty())
        t.cipher = CipherRegistry::instance().lookup(t.cipherText);
    if (t.cipher)
        t.clause = tlsClauseValue(*t.cipher);
    t.bits = parseSmallNumber(view(m, "{cipher_bits}"));
    return t;
}

AuthFacts readAuthFacts(const MacroSource& m) {
    AuthFacts a;
    readAuthFacts(m, a);
    return a;
}

void readAuthFacts(const MacroSource& m, AuthFacts& into) {
    into.type.assign(view(m, "{auth_type}"));
    into.authen.assign(view(m, "{auth_authen}"));
}

ListenerFacts readListenerFacts(const MacroSource& m) {
    ListenerFacts l;
    l.name = value(m, "{daemon_name}");
    l.addr = value(m, "{daemon_addr}");
    l.port = parsePort(view(m, "{daemon_port}"));
    return l;
}

std::string clientNameFromConnect(std::string_view hostname) {
    hostname = trim(hostname);
    if (hostname.empty() || iequals(hostname, "unknown") || hostname.front() == '[')
        return {};
    return std::string(hostname);
}

std::pair<std::string, std::string> parseClientMacro(std::string_view v) {
    // "[ident@]name [addr]" optionally followed by " (may be forged)".
    v = trim(v);
    const auto open = v.find(" [");
    const auto close = open == std::string_view::npos ? open : v.find(']', open + 2);
    if (close == std::string_view::npos)
        return {};
    auto canonical = canonicalAddress(v.substr(open + 2, close - open - 2));
    if (!canonical)
        return {};
    std::string addr = std::move(*canonical);
    // Sendmail marks a name whose forward lookup did not match: not a name.
    if (v.substr(close + 1).find("may be forged") != std::string_view::npos)
        return {std::string(), addr};
    auto name = v.substr(0, open);
    if (auto at = name.rfind('@'); at != std::string_view::npos)
        name.remove_prefix(at + 1);
    return {clientNameFromConnect(name), addr};
}

ClientFacts readClientFacts(const MacroSource& m) {
    ClientFacts c;
    c.addr = value(m, "{client_addr}");
    if (auto canonical = canonicalAddress(c.addr))
        c.addr = std::move(*canonical);
    const auto nameMacro = m.get("{client_name}"); // once: each look-up is a linear search
    c.name = nameMacro ? clientNameFromConnect(*nameMacro) : std::string();
    c.port = parsePort(view(m, "{client_port}"));
    // An MTA that ignores smfi_setsymlist may still pass `_` (both do by
    // default at connect): name and address from there fill what is missing.
    // A {client_name} of "unknown" says there is no verified name; only an
    // absent one lets `_` speak for the name.
    const bool nameAbsent = !nameMacro;
    if (c.addr.empty() || nameAbsent) {
        auto [name, addr] = parseClientMacro(view(m, "_"));
        if (c.addr.empty())
            c.addr = addr;
        if (nameAbsent && !addr.empty() && c.addr == addr)
            c.name = name;
    }
    return c;
}

} // namespace rfc8314
