// tls_names.cpp — the cipher-suite and group registries.  See tls_names.hpp.
//
// Built once, on first use (the daemon forces that before it starts threads),
// from the linked OpenSSL's own cipher table and the generated IANA tables.
// Lookups upper-case the spelling into a stack buffer and binary-search a
// sorted vector, so the per-message path allocates nothing and makes no
// OpenSSL call.
#include "rfc8314/tls_names.hpp"

#include <openssl/ssl.h>

#include <algorithm>
#include <cstdio>
#include <memory>

namespace rfc8314 {

namespace {

constexpr std::size_t kMaxSpelling = 96;

char upper(char c) noexcept { return (c >= 'a' && c <= 'z') ? static_cast<char>(c - 'a' + 'A') : c; }
bool isAlpha(char c) noexcept { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
bool isDigit(char c) noexcept { return c >= '0' && c <= '9'; }

std::string_view trim(std::string_view s) noexcept {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t'))
        s.remove_prefix(1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t'))
        s.remove_suffix(1);
    return s;
}

// Upper-cases `s` into `buf`; empty view when it does not fit.
std::string_view upperInto(std::string_view s, char (&buf)[kMaxSpelling]) noexcept {
    if (s.size() > sizeof buf)
        return {};
    for (std::size_t i = 0; i < s.size(); ++i)
        buf[i] = upper(s[i]);
    return std::string_view(buf, s.size());
}

std::string upperCopy(std::string_view s) {
    std::string out(s);
    for (auto& c : out)
        c = upper(c);
    return out;
}

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
    return name.size() > 4 && name.substr(0, 4) == "TLS_" && isValidGroupName(name);
}

struct SslCtxFree {
    void operator()(SSL_CTX* c) const noexcept { SSL_CTX_free(c); }
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

bool isValidGroupName(std::string_view name) noexcept {
    if (name.empty() || !isAlpha(name.front()))
        return false;
    for (char c : name)
        if (!isAlpha(c) && !isDigit(c) && c != '_')
            return false;
    return true;
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
    if (code >> 8 == 0x13 && iana.size() > 4 && iana.substr(0, 4) == "TLS_")
        index("TLS13_" + std::string(iana.substr(4)), code);
}

void CipherRegistry::finish() { sortUnique(byName_); }

CipherRegistry::CipherRegistry(const std::vector<Entry>& entries) {
    for (const auto& e : entries)
        add(e.code, e.iana, e.openssl);
    finish();
}

const CipherRegistry& CipherRegistry::instance() {
    static const CipherRegistry registry = [] {
        CipherRegistry r;
        // 1. The IANA registry: names for every registered code point.
        for (std::size_t i = 0; i < iana::kCipherSuiteCount; ++i)
            r.add(iana::kCipherSuites[i].code, iana::kCipherSuites[i].name, {});
        // 2. Every suite the linked OpenSSL knows, including those disabled by
        //    default or by security level: their OpenSSL and standard names.
        std::unique_ptr<SSL_CTX, SslCtxFree> ctx(SSL_CTX_new(TLS_method()));
        if (ctx) {
            SSL_CTX_set_security_level(ctx.get(), 0);
            SSL_CTX_set_min_proto_version(ctx.get(), 0);
            SSL_CTX_set_cipher_list(ctx.get(), "ALL:COMPLEMENTOFALL:@SECLEVEL=0");
            SSL_CTX_set_ciphersuites(ctx.get(), "TLS_AES_128_GCM_SHA256:TLS_AES_256_GCM_SHA384:"
                                                "TLS_CHACHA20_POLY1305_SHA256:TLS_AES_128_CCM_SHA256:"
                                                "TLS_AES_128_CCM_8_SHA256");
            if (STACK_OF(SSL_CIPHER)* sk = SSL_CTX_get_ciphers(ctx.get())) {
                for (int i = 0; i < sk_SSL_CIPHER_num(sk); ++i) {
                    const SSL_CIPHER* c = sk_SSL_CIPHER_value(sk, i);
                    if (!c)
                        continue;
                    const auto code = static_cast<std::uint16_t>(SSL_CIPHER_get_protocol_id(c) & 0xFFFF);
                    const char* name = SSL_CIPHER_get_name(c);
                    const char* stdName = SSL_CIPHER_standard_name(c);
                    const std::string_view stdView = stdName ? stdName : "";
                    // A code point IANA does not name gets OpenSSL's standard
                    // name, when that has the IANA shape.
                    r.add(code, looksIana(stdView) ? stdView : std::string_view(), name ? name : "");
                    r.index(stdView, code);
                }
            }
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
    // Spellings OpenSSL, Postfix and Sendmail print for the same groups.
    static const std::pair<const char*, std::uint16_t> aliases[] = {
        {"P-192", 19},      {"prime192v1", 19}, {"P-224", 21},      {"P-256", 23},
        {"prime256v1", 23}, {"P-384", 24},      {"P-521", 25},      {"X25519", 29},
        {"X448", 30},       {"brainpoolP256r1tls13", 31}, {"SM2", 41},
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
    if (auto hex = parseHex(spelling, 4)) {
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
    if (it == names_.end() || !isValidGroupName(it->second))
        return std::nullopt;
    return std::string_view(it->second);
}

} // namespace rfc8314
