// tls.cpp — TLS versions and certificates judged (see tls.hpp).
#include "tls.hpp"

#include <openssl/ssl.h>

#include <algorithm>
#include <cctype>
#include <cstdint>
#include <cstdlib>

#include "mta_text.hpp"
#include "text.hpp"

namespace rfc8314::doctor {
namespace {

constexpr TlsVersion kVersions[] = {TlsVersion::TLSv1_0, TlsVersion::TLSv1_1, TlsVersion::TLSv1_2,
                                    TlsVersion::TLSv1_3};

// Postfix's names: "TLSv1" is TLS 1.0.  SSLv2/SSLv3 are known but never
// enabled here; None means "known name, no version we count".
std::optional<TlsVersion> postfixName(std::string_view name) {
    const std::string l = text::lower(name);
    if (l == "sslv2" || l == "sslv3")
        return TlsVersion::None;
    if (l == "tlsv1")
        return TlsVersion::TLSv1_0;
    if (l == "tlsv1.1")
        return TlsVersion::TLSv1_1;
    if (l == "tlsv1.2")
        return TlsVersion::TLSv1_2;
    if (l == "tlsv1.3")
        return TlsVersion::TLSv1_3;
    return std::nullopt;
}

// A bound: a name or a hexadecimal protocol number ("0303", "0x303").
std::optional<TlsVersion> postfixBound(std::string_view s) {
    if (auto v = postfixName(s))
        return v;
    std::string h = text::lower(s);
    if (startsWith(h, "0x"))
        h = h.substr(2);
    if (h.empty() || h.size() > 4 || !std::all_of(h.begin(), h.end(), [](char c) {
            return std::isxdigit(static_cast<unsigned char>(c));
        }))
        return std::nullopt;
    const unsigned long n = std::strtoul(h.c_str(), nullptr, 16);
    switch (n) {
    case 0x0300: return TlsVersion::SSLv3;
    case 0x0301: return TlsVersion::TLSv1_0;
    case 0x0302: return TlsVersion::TLSv1_1;
    case 0x0303: return TlsVersion::TLSv1_2;
    case 0x0304: return TlsVersion::TLSv1_3;
    default: return n > 0x0304 ? TlsVersion::Unknown : TlsVersion::None;
    }
}

} // namespace

ProtocolSet parsePostfixProtocols(std::string_view value) {
    ProtocolSet out;
    std::vector<TlsVersion> include, exclude;
    TlsVersion min = TlsVersion::None, max = TlsVersion::Unknown;
    for (const auto& tok : splitList(value, " \t,:")) {
        std::optional<TlsVersion> v;
        if (startsWith(tok, ">=")) {
            if ((v = postfixBound(tok.substr(2))))
                min = *v;
        } else if (startsWith(tok, "<=")) {
            if ((v = postfixBound(tok.substr(2))))
                max = *v;
        } else if (tok[0] == '!') {
            if ((v = postfixName(tok.substr(1))))
                exclude.push_back(*v);
        } else if ((v = postfixName(tok))) {
            include.push_back(*v);
        }
        if (!v && out.understood) {
            out.understood = false;
            out.bad = tok;
        }
    }
    for (TlsVersion v : kVersions) {
        if (!include.empty() && std::find(include.begin(), include.end(), v) == include.end())
            continue;
        if (std::find(exclude.begin(), exclude.end(), v) != exclude.end())
            continue;
        if (v < min || v > max)
            continue;
        out.enabled.push_back(v);
    }
    return out;
}

namespace {

struct SslOptionBit {
    const char* name;
    std::uint64_t bit;
    TlsVersion version;
};

const SslOptionBit kNoVersionOptions[] = {
    {"SSL_OP_NO_TLSv1", SSL_OP_NO_TLSv1, TlsVersion::TLSv1_0},
    {"SSL_OP_NO_TLSv1_1", SSL_OP_NO_TLSv1_1, TlsVersion::TLSv1_1},
    {"SSL_OP_NO_TLSv1_2", SSL_OP_NO_TLSv1_2, TlsVersion::TLSv1_2},
    {"SSL_OP_NO_TLSv1_3", SSL_OP_NO_TLSv1_3, TlsVersion::TLSv1_3},
};

// A ServerSSLOptions token: sign (+1 set, -1 clear) and the option bits it
// names; nullopt for a name Sendmail would not know either (it warns and
// skips it).
std::optional<std::pair<int, std::uint64_t>> sslToken(std::string_view tok) {
    int sign = 1;
    if (!tok.empty() && (tok[0] == '+' || tok[0] == '-')) {
        sign = tok[0] == '+' ? 1 : -1;
        tok.remove_prefix(1);
    }
    if (tok.empty())
        return std::nullopt;
    if (text::isDigit(tok[0])) {
        char* end = nullptr;
        const std::string s(tok);
        const unsigned long long n = std::strtoull(s.c_str(), &end, 0);
        if (end == nullptr || *end != '\0')
            return std::nullopt;
        return std::make_pair(sign, static_cast<std::uint64_t>(n));
    }
    for (const auto& o : kNoVersionOptions)
        if (text::iequals(tok, o.name))
            return std::make_pair(sign, o.bit);
    if (startsWith(tok, "SSL_OP_"))
        return std::make_pair(sign, std::uint64_t{0}); // another option: no version bit
    return std::nullopt;
}

} // namespace

ProtocolSet parseSendmailSslOptions(std::string_view value) {
    ProtocolSet out;
    std::uint64_t bits = 0;
    for (const auto& tok : splitList(value, " \t,")) {
        auto t = sslToken(tok);
        if (!t) {
            if (out.understood) {
                out.understood = false;
                out.bad = tok;
            }
            continue;
        }
        if (t->first > 0)
            bits |= t->second;
        else
            bits &= ~t->second;
    }
    for (const auto& o : kNoVersionOptions)
        if ((bits & o.bit) == 0)
            out.enabled.push_back(o.version);
    return out;
}

std::string sendmailSslOptionsWithout11(std::string_view value) {
    std::vector<std::string> keep;
    for (const auto& tok : splitList(value, " \t,")) {
        auto t = sslToken(tok);
        if (t && t->first < 0 && (t->second & (SSL_OP_NO_TLSv1 | SSL_OP_NO_TLSv1_1)) != 0)
            continue;
        keep.push_back(tok);
    }
    const auto now = parseSendmailSslOptions(join(keep, " "));
    for (const auto& o : kNoVersionOptions) {
        if (o.version > TlsVersion::TLSv1_1)
            break;
        if (std::find(now.enabled.begin(), now.enabled.end(), o.version) != now.enabled.end())
            keep.push_back(std::string("+") + o.name);
    }
    return join(keep, " ");
}

std::vector<TlsVersion> deprecatedVersions(const ProtocolSet& s) {
    std::vector<TlsVersion> out;
    for (TlsVersion v : s.enabled)
        if (v < TlsVersion::TLSv1_2)
            out.push_back(v);
    return out;
}

std::string versionList(const std::vector<TlsVersion>& v) {
    std::string out;
    for (std::size_t i = 0; i < v.size(); ++i) {
        if (i > 0)
            out += i + 1 == v.size() ? " and " : ", ";
        out += std::string(toString(v[i]));
    }
    return out;
}

std::string postfixProtocolsFix(std::string_view mailVersion) {
    return versionAtLeast(mailVersion, 3, 6) ? ">=TLSv1.2" : "!SSLv2, !SSLv3, !TLSv1, !TLSv1.1";
}

std::string utcTime(std::time_t t) {
    struct tm tm {};
    if (!gmtime_r(&t, &tm))
        return "?";
    char buf[32];
    std::strftime(buf, sizeof buf, "%Y-%m-%d %H:%M:%S UTC", &tm);
    return buf;
}

Finding judgeCertificate(const std::string& who, const std::string& setting,
                         const std::string& path, const std::optional<CertFacts>& facts) {
    const std::string what = who + ": " + setting + " " + path;
    if (!facts)
        return warning(what + ": not checked");
    if (facts->notPermitted)
        return warning(what + ": not checked (" + facts->error + ")");
    if (!facts->error.empty())
        return error(what + ": " + facts->error +
                     ": the MTA cannot present a certificate, so no client can start TLS "
                     "(RFC 8314 §4.4: an MSP must keep a valid server certificate)");
    const long secondsLeft = static_cast<long>(facts->notAfter - facts->checkedAt);
    if (facts->notAfter <= facts->checkedAt)
        return error(what + ": expired at " + utcTime(facts->notAfter) +
                     "; clients that check certificates refuse it (RFC 8314 §4.4: an MSP must "
                     "keep a valid server certificate): renew it and reload the MTA");
    if (facts->notBefore > facts->checkedAt)
        return error(what + ": not valid before " + utcTime(facts->notBefore) +
                     "; clients that check certificates refuse it until then");
    if (secondsLeft < kCertWarnDays * 86400)
        return warning(what + ": expires at " + utcTime(facts->notAfter) + ", in less than " +
                       std::to_string(kCertWarnDays) + " days: renew it and reload the MTA");
    return ok(what + ": valid until " + utcTime(facts->notAfter) +
              (facts->subject.empty() ? std::string() : " (" + facts->subject + ")"));
}

} // namespace rfc8314::doctor
