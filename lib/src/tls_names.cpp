// tls_names.cpp — the cipher-suite and group registries.  See tls_names.hpp.
//
// Built once, on first use (the daemon forces that before it starts threads),
// from the linked OpenSSL's own cipher table, the generated IANA tables and a
// short list of OpenSSL spellings of suites that OpenSSL has since dropped
// (an MTA linked against an older OpenSSL still reports them).
// Lookups upper-case the spelling into a stack buffer and binary-search a
// sorted vector, so the per-message path allocates nothing and makes no
// OpenSSL call.
#include "rfc8314/tls_names.hpp"

#include "rfc8314/rfc5322.hpp"
#include "text.hpp"

#include <openssl/err.h>
#include <openssl/ssl.h>

#include <algorithm>
#include <cstdio>
#include <memory>

namespace rfc8314 {

namespace {

constexpr std::size_t kMaxSpelling = 96;

using text::isDigit;
std::string_view trim(std::string_view s) noexcept { return text::trimBlanks(s); }

// Upper-cases `s` into `buf`; empty view when it does not fit.
std::string_view upperInto(std::string_view s, char (&buf)[kMaxSpelling]) noexcept {
    if (s.size() > sizeof buf)
        return {};
    for (std::size_t i = 0; i < s.size(); ++i)
        buf[i] = text::toUpper(s[i]);
    return std::string_view(buf, s.size());
}

std::string upperCopy(std::string_view s) { return text::upper(s); }

int hexDigit(char c) noexcept {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

// "0xHH..." with exactly `digits` hex digits.
std::optional<unsigned> parseHex(std::string_view s, std::size_t digits) noexcept {
    if (s.size() != digits + 2 || s[0] != '0' || (s[1] != 'x' && s[1] != 'X'))
        return std::nullopt;
    unsigned v = 0;
    for (std::size_t i = 2; i < s.size(); ++i) {
        const int d = hexDigit(s[i]);
        if (d < 0)
            return std::nullopt;
        v = v << 4 | static_cast<unsigned>(d);
    }
    return v;
}

// "0xC02F", "0xC0,0x2F", "{0xC0,0x2F}", "0xC0, 0x2F".
std::optional<std::uint16_t> parseCodePoint(std::string_view s) noexcept {
    if (s.size() >= 2 && s.front() == '{' && s.back() == '}')
        s = trim(s.substr(1, s.size() - 2));
    if (auto v = parseHex(s, 4))
        return static_cast<std::uint16_t>(*v);
    const auto comma = s.find(',');
    if (comma == std::string_view::npos)
        return std::nullopt;
    auto hi = parseHex(trim(s.substr(0, comma)), 2);
    auto lo = parseHex(trim(s.substr(comma + 1)), 2);
    if (!hi || !lo)
        return std::nullopt;
    return static_cast<std::uint16_t>(*hi << 8 | *lo);
}

template <typename Vec>
const typename Vec::value_type* findName(const Vec& v, std::string_view key) noexcept {
    auto it = std::lower_bound(v.begin(), v.end(), key,
                               [](const auto& e, std::string_view k) { return std::string_view(e.first) < k; });
    if (it == v.end() || it->first != key)
        return nullptr;
    return &*it;
}

template <typename Vec> void sortUnique(Vec& v) {
    // Stable: when two codes claim one spelling, the first added (the IANA
    // registry's own name) wins.
    std::stable_sort(v.begin(), v.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
    v.erase(std::unique(v.begin(), v.end(), [](const auto& a, const auto& b) { return a.first == b.first; }),
            v.end());
}

bool looksIana(std::string_view name) noexcept {
    return name.size() > 4 && name.substr(0, 4) == "TLS_" && isValidTlsCipherValue(name);
}

bool endsWith(std::string_view s, std::string_view tail) noexcept {
    return s.size() >= tail.size() && s.substr(s.size() - tail.size()) == tail;
}

// TLS 1.3 suites are named without the key exchange ("TLS_AES_256_GCM_SHA384",
// "TLS_SM4_GCM_SM3"); the signalling values are not suites at all.
bool isTls13Style(std::string_view iana) noexcept {
    return iana.size() > 4 && iana.substr(0, 4) == "TLS_" && iana.find("_WITH_") == std::string_view::npos &&
           !endsWith(iana, "_SCSV");
}

// OpenSSL names of suites removed from (or compiled out of) current OpenSSL
// releases: 3DES, RC4, single DES, export and static-ECDH suites.  Sending
// MTAs linked against OpenSSL 1.0.x/1.1.x still report them, and the linked
// OpenSSL can no longer tell us their code points.
struct LegacySpelling {
    const char* openssl;
    std::uint16_t code;
};
constexpr LegacySpelling kLegacySpellings[] = {
    {"EXP-RC4-MD5", 0x0003},
    {"RC4-MD5", 0x0004},
    {"RC4-SHA", 0x0005},
    {"EXP-RC2-CBC-MD5", 0x0006},
    {"IDEA-CBC-SHA", 0x0007},
    {"EXP-DES-CBC-SHA", 0x0008},
    {"DES-CBC-SHA", 0x0009},
    {"DES-CBC3-SHA", 0x000A},
    {"DH-DSS-DES-CBC3-SHA", 0x000D},
    {"DH-RSA-DES-CBC3-SHA", 0x0010},
    {"EXP-EDH-DSS-DES-CBC-SHA", 0x0011},
    {"EDH-DSS-DES-CBC-SHA", 0x0012},
    {"EDH-DSS-DES-CBC3-SHA", 0x0013},
    {"DHE-DSS-DES-CBC3-SHA", 0x0013},
    {"EXP-EDH-RSA-DES-CBC-SHA", 0x0014},
    {"EDH-RSA-DES-CBC-SHA", 0x0015},
    {"EDH-RSA-DES-CBC3-SHA", 0x0016},
    {"DHE-RSA-DES-CBC3-SHA", 0x0016},
    {"EXP-ADH-RC4-MD5", 0x0017},
    {"ADH-RC4-MD5", 0x0018},
    {"EXP-ADH-DES-CBC-SHA", 0x0019},
    {"ADH-DES-CBC-SHA", 0x001A},
    {"ADH-DES-CBC3-SHA", 0x001B},
    {"PSK-RC4-SHA", 0x008A},
    {"PSK-3DES-EDE-CBC-SHA", 0x008B},
    {"DHE-PSK-3DES-EDE-CBC-SHA", 0x008F},
    {"RSA-PSK-3DES-EDE-CBC-SHA", 0x0093},
    {"ECDH-ECDSA-RC4-SHA", 0xC002},
    {"ECDH-ECDSA-DES-CBC3-SHA", 0xC003},
    {"ECDH-ECDSA-AES128-SHA", 0xC004},
    {"ECDH-ECDSA-AES256-SHA", 0xC005},
    {"ECDHE-ECDSA-RC4-SHA", 0xC007},
    {"ECDHE-ECDSA-DES-CBC3-SHA", 0xC008},
    {"ECDH-RSA-RC4-SHA", 0xC00C},
    {"ECDH-RSA-DES-CBC3-SHA", 0xC00D},
    {"ECDH-RSA-AES128-SHA", 0xC00E},
    {"ECDH-RSA-AES256-SHA", 0xC00F},
    {"ECDHE-RSA-RC4-SHA", 0xC011},
    {"ECDHE-RSA-DES-CBC3-SHA", 0xC012},
    {"AECDH-RC4-SHA", 0xC016},
    {"AECDH-DES-CBC3-SHA", 0xC017},
    {"SRP-3DES-EDE-CBC-SHA", 0xC01A},
    {"SRP-RSA-3DES-EDE-CBC-SHA", 0xC01B},
    {"SRP-DSS-3DES-EDE-CBC-SHA", 0xC01C},
    {"ECDHE-PSK-3DES-EDE-CBC-SHA", 0xC034},
};

struct SslCtxFree {
    void operator()(SSL_CTX* c) const noexcept { SSL_CTX_free(c); }
};
struct SslFree {
    void operator()(SSL* s) const noexcept { SSL_free(s); }
};

} // namespace

std::string cipherCodeText(std::uint16_t code) {
    char buf[8];
    std::snprintf(buf, sizeof buf, "0x%04X", static_cast<unsigned>(code));
    return buf;
}

std::string tlsClauseValue(const CipherInfo& c) {
    return c.iana.empty() ? cipherCodeText(c.code) : std::string(c.iana);
}

namespace {

// Which groups a suite's key exchange draws from, by its IANA name.
enum class GroupFamily { None, Elliptic, FiniteField, Any };

GroupFamily groupFamily(const CipherInfo& c) noexcept {
    const std::string_view n = c.iana;
    if (isTls13Style(n))
        return GroupFamily::Any;
    if (n.substr(0, 10) == "TLS_ECDHE_")
        return GroupFamily::Elliptic;
    if (n.substr(0, 8) == "TLS_DHE_")
        return GroupFamily::FiniteField;
    return GroupFamily::None;
}

} // namespace

bool groupFitsCipher(const CipherInfo& cipher, std::uint16_t group) noexcept {
    const bool explicitCurve = group == 0xFF01 || group == 0xFF02;
    switch (groupFamily(cipher)) {
    case GroupFamily::Any: return !explicitCurve;
    case GroupFamily::Elliptic:
        return (group >= 1 && group <= 0xFF && !(group >= 31 && group <= 33)) || explicitCurve;
    case GroupFamily::FiniteField: return group >= 0x100 && group <= 0x1FF;
    case GroupFamily::None: return false;
    }
    return false;
}

bool cipherUsesGroup(const CipherInfo& cipher) noexcept {
    return groupFamily(cipher) != GroupFamily::None;
}

void CipherRegistry::index(std::string_view spelling, std::uint16_t code) {
    spelling = trim(spelling);
    if (spelling.empty() || spelling.size() > kMaxSpelling || spelling == "(NONE)")
        return;
    byName_.emplace_back(upperCopy(spelling), code);
}

void CipherRegistry::add(std::uint16_t code, std::string_view iana, std::string_view spelling) {
    auto it = byCode_.find(code);
    if (it == byCode_.end()) {
        names_.emplace_back(iana);
        byCode_.emplace(code, names_.size() - 1);
    } else if (names_[it->second].empty() && !iana.empty()) {
        names_[it->second] = std::string(iana);
    }
    index(iana, code);
    index(spelling, code);
    // rustls spells the TLS 1.3 suites TLS13_AES_256_GCM_SHA384.
    if (isTls13Style(iana))
        index("TLS13_" + std::string(iana.substr(4)), code);
}

void CipherRegistry::finish() { sortUnique(byName_); }

CipherRegistry::CipherRegistry(const std::vector<Entry>& entries) {
    for (const auto& e : entries)
        add(e.code, e.iana, e.openssl);
    finish();
}

namespace {

// One suite as the linked OpenSSL knows it.
void addOpenssl(std::vector<CipherRegistry::Entry>& out, const SSL_CIPHER* c) {
    if (!c)
        return;
    const auto code = static_cast<std::uint16_t>(SSL_CIPHER_get_protocol_id(c) & 0xFFFF);
    const char* name = SSL_CIPHER_get_name(c);
    const char* stdName = SSL_CIPHER_standard_name(c);
    out.push_back({code, stdName ? stdName : "", name ? name : ""});
}

// Every suite in the linked libssl's built-in table.  The cipher list
// enumeration only yields suites whose algorithms are usable right now; the
// code point probe also finds those that are compiled in but unavailable
// (GOST without its engine), whose names an MTA with that engine reports.
std::vector<CipherRegistry::Entry> opensslSuites() {
    std::vector<CipherRegistry::Entry> out;
    std::unique_ptr<SSL_CTX, SslCtxFree> ctx(SSL_CTX_new(TLS_method()));
    if (!ctx)
        return out;
    SSL_CTX_set_security_level(ctx.get(), 0);
    SSL_CTX_set_min_proto_version(ctx.get(), 0);
    SSL_CTX_set_cipher_list(ctx.get(), "ALL:COMPLEMENTOFALL:@SECLEVEL=0");
    SSL_CTX_set_ciphersuites(ctx.get(), "TLS_AES_128_GCM_SHA256:TLS_AES_256_GCM_SHA384:"
                                        "TLS_CHACHA20_POLY1305_SHA256:TLS_AES_128_CCM_SHA256:"
                                        "TLS_AES_128_CCM_8_SHA256");
    if (STACK_OF(SSL_CIPHER)* sk = SSL_CTX_get_ciphers(ctx.get()))
        for (int i = 0; i < sk_SSL_CIPHER_num(sk); ++i)
            addOpenssl(out, sk_SSL_CIPHER_value(sk, i));
    std::unique_ptr<SSL, SslFree> ssl(SSL_new(ctx.get()));
    if (ssl) {
        for (unsigned code = 0; code <= 0xFFFF; ++code) {
            const unsigned char wire[2] = {static_cast<unsigned char>(code >> 8),
                                           static_cast<unsigned char>(code & 0xFF)};
            addOpenssl(out, SSL_CIPHER_find(ssl.get(), wire));
        }
    }
    ERR_clear_error(); // leave no stale errors for the caller's next SSL call
    return out;
}

} // namespace

const CipherRegistry& CipherRegistry::instance() {
    static const CipherRegistry registry = [] {
        CipherRegistry r;
        try {
            // 1. The IANA registry: names for every registered code point.
            for (std::size_t i = 0; i < iana::kCipherSuiteCount; ++i)
                r.add(iana::kCipherSuites[i].code, iana::kCipherSuites[i].name, {});
            // 2. The linked OpenSSL: its own and its standard names.  A code
            //    point IANA does not name gets OpenSSL's standard name when
            //    that has the IANA shape; the standard name is always indexed
            //    (it may differ from the registry's spelling).
            for (const auto& e : opensslSuites()) {
                r.add(e.code, looksIana(e.iana) ? std::string_view(e.iana) : std::string_view(), e.openssl);
                r.index(e.iana, e.code);
            }
            // 3. Spellings of suites OpenSSL no longer has.
            for (const auto& l : kLegacySpellings)
                r.add(l.code, {}, l.openssl);
        } catch (...) {
            // Out of memory while building: keep what was added; lookups of
            // the rest fail soft (nullopt or the bare code point).
        }
        r.finish();
        return r;
    }();
    return registry;
}

std::optional<CipherInfo> CipherRegistry::byCode(std::uint16_t code) const noexcept {
    auto it = byCode_.find(code);
    if (it == byCode_.end() || it->second >= names_.size())
        return std::nullopt;
    return CipherInfo{code, names_[it->second]};
}

std::optional<CipherInfo> CipherRegistry::lookup(std::string_view name) const noexcept {
    name = trim(name);
    if (name.empty())
        return std::nullopt;
    char buf[kMaxSpelling];
    const auto key = upperInto(name, buf);
    if (!key.empty()) {
        if (const auto* e = findName(byName_, key))
            return byCode(e->second);
    }
    if (auto code = parseCodePoint(name)) {
        if (auto known = byCode(*code))
            return known;
        return CipherInfo{*code, {}};
    }
    return std::nullopt;
}

GroupRegistry::GroupRegistry() {
    for (std::size_t i = 0; i < iana::kGroupCount; ++i) {
        names_.emplace(iana::kGroups[i].code, iana::kGroups[i].name);
        byName_.emplace_back(upperCopy(iana::kGroups[i].name), iana::kGroups[i].code);
    }
    // Spellings OpenSSL, Postfix, Sendmail, BoringSSL and Go print for the
    // same groups (NIST names, ANSI X9.62 names, Go's CurveID names).
    static const std::pair<const char*, std::uint16_t> aliases[] = {
        {"P-192", 19},      {"prime192v1", 19}, {"P-224", 21},      {"P-256", 23},
        {"prime256v1", 23}, {"CurveP256", 23},  {"P-384", 24},      {"CurveP384", 24},
        {"P-521", 25},      {"CurveP521", 25},  {"SM2", 41},
    };
    for (const auto& [alias, code] : aliases)
        if (names_.count(code))
            byName_.emplace_back(upperCopy(alias), code);
    sortUnique(byName_);
}

const GroupRegistry& GroupRegistry::instance() {
    static const GroupRegistry registry;
    return registry;
}

std::optional<std::uint16_t> GroupRegistry::code(std::string_view spelling) const noexcept {
    spelling = trim(spelling);
    // "ECDHE (prime256v1)", "DHE (ffdhe2048)": the group is in parentheses.
    if (auto open = spelling.find('('); open != std::string_view::npos && spelling.back() == ')')
        spelling = trim(spelling.substr(open + 1, spelling.size() - open - 2));
    if (spelling.empty())
        return std::nullopt;
    char buf[kMaxSpelling];
    const auto key = upperInto(spelling, buf);
    if (!key.empty()) {
        if (const auto* e = findName(byName_, key))
            return e->second;
    }
    unsigned v = 0;
    if (spelling.size() > 2 && spelling[0] == '0' && (spelling[1] == 'x' || spelling[1] == 'X')) {
        // "0x1D" as well as the full "0x001D".
        if (spelling.size() > 6)
            return std::nullopt;
        const auto hex = parseHex(spelling, spelling.size() - 2);
        if (!hex)
            return std::nullopt;
        v = *hex;
    } else {
        if (spelling.size() > 5)
            return std::nullopt;
        for (char c : spelling) {
            if (!isDigit(c))
                return std::nullopt;
            v = v * 10 + static_cast<unsigned>(c - '0');
        }
    }
    if (v > 0xFFFF || !names_.count(static_cast<std::uint16_t>(v)))
        return std::nullopt;
    return static_cast<std::uint16_t>(v);
}

std::optional<std::string_view> GroupRegistry::ianaName(std::string_view spelling) const noexcept {
    auto c = code(spelling);
    if (!c)
        return std::nullopt;
    auto it = names_.find(*c);
    if (it == names_.end() || !isValidDhGroup(it->second))
        return std::nullopt;
    return std::string_view(it->second);
}

} // namespace rfc8314
