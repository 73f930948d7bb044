// policy.cpp — submission policy decisions and the exceptions file.  See
// policy.hpp.  Pure functions: no clock, no I/O except loadExceptions().
// Addresses are read with inet_pton and written with inet_ntop (library
// code, no system call), so a network prints as the audit line's addresses do.
#include "rfc8314/policy.hpp"

#include "text.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>

#include <cctype>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <sstream>

namespace rfc8314 {

std::string_view toString(PolicyAction a) noexcept {
    switch (a) {
    case PolicyAction::Report: return "report";
    case PolicyAction::Tempfail: return "tempfail";
    case PolicyAction::Reject: return "reject";
    }
    return "report";
}

std::string_view toString(PolicyVerdict v) noexcept {
    switch (v) {
    case PolicyVerdict::Accept: return "accept";
    case PolicyVerdict::Exempt: return "exempt";
    case PolicyVerdict::WouldReject: return "would-reject";
    case PolicyVerdict::Tempfail: return "tempfail";
    case PolicyVerdict::Reject: return "reject";
    }
    return "accept";
}

std::string_view toString(PolicyReason r) noexcept {
    switch (r) {
    case PolicyReason::None: return "none";
    case PolicyReason::Cleartext: return "cleartext";
    case PolicyReason::TlsVersion: return "tls-version";
    case PolicyReason::CipherBits: return "cipher-bits";
    case PolicyReason::TlsVersionUnknown: return "tls-version-unknown";
    case PolicyReason::CipherBitsUnknown: return "cipher-bits-unknown";
    }
    return "none";
}

std::optional<PolicyAction> parsePolicyAction(std::string_view s) noexcept {
    if (s == "report")
        return PolicyAction::Report;
    if (s == "tempfail")
        return PolicyAction::Tempfail;
    if (s == "reject")
        return PolicyAction::Reject;
    return std::nullopt;
}

namespace {

bool allDigits(std::string_view s) {
    for (char c : s)
        if (c < '0' || c > '9')
            return false;
    return !s.empty();
}

int toInt(std::string_view s) {
    int n = 0;
    for (char c : s)
        n = n * 10 + (c - '0');
    return n;
}

using text::iequals;
using text::lower;

bool isHex(char c) { return text::isDigit(c) || (text::toLower(c) >= 'a' && text::toLower(c) <= 'f'); }

// Without a leading "IPv6:" (any case), as Postfix writes IPv6 clients.
std::string_view withoutIpv6Tag(std::string_view s, bool* had = nullptr) {
    const bool tagged = s.size() > 5 && iequals(s.substr(0, 5), "IPv6:");
    if (had)
        *had = tagged;
    return tagged ? s.substr(5) : s;
}

// inet_pton of either family: 4 or 16 bytes into `out`, or 0.
int readAddress(std::string_view s, std::array<unsigned char, 16>& out) {
    char in[INET6_ADDRSTRLEN + 1] = {};
    if (s.empty() || s.size() >= sizeof in)
        return 0;
    s.copy(in, s.size());
    out.fill(0);
    if (inet_pton(AF_INET, in, out.data()) == 1)
        return 4;
    if (inet_pton(AF_INET6, in, out.data()) == 1)
        return 16;
    return 0;
}

bool isV4Mapped(const std::array<unsigned char, 16>& b) {
    for (int i = 0; i < 10; ++i)
        if (b[i] != 0)
            return false;
    return b[10] == 0xff && b[11] == 0xff;
}

// The bits of byte `i` that lie inside a prefix of `prefix` bits.
unsigned char prefixMask(int prefix, int i) {
    const int keep = prefix - 8 * i;
    return static_cast<unsigned char>(keep >= 8 ? 0xffu : keep <= 0 ? 0u : (0xffu << (8 - keep)) & 0xffu);
}

// Whether an unquoted first word of the exceptions file is meant as an
// address or network (and so must parse as one) rather than a user name.
bool looksLikeNetwork(std::string_view w) {
    bool tagged = false;
    w = withoutIpv6Tag(w, &tagged);
    if (tagged || (!w.empty() && w.front() == '['))
        return true;
    const auto slash = w.find('/');
    const auto head = w.substr(0, slash);
    if (head.empty())
        return false;
    bool digitsDots = true, hexColons = true, dot = false, colon = false;
    for (char c : head) {
        dot = dot || c == '.';
        colon = colon || c == ':';
        digitsDots = digitsDots && (text::isDigit(c) || c == '.');
        hexColons = hexColons && (isHex(c) || c == ':' || c == '.');
    }
    if (digitsDots && (dot || slash != std::string_view::npos))
        return true;
    return hexColons && colon;
}

} // namespace

std::optional<ClientAddress> ClientAddress::parse(std::string_view text) noexcept {
    bool tagged = false;
    const auto s = withoutIpv6Tag(text::trimBlanks(text), &tagged);
    ClientAddress a;
    const int n = readAddress(s, a.bytes);
    if (n == 0 || (tagged && n != 16)) // "IPv6:192.0.2.7" is nobody's spelling
        return std::nullopt;
    a.v6 = n == 16;
    if (a.v6 && isV4Mapped(a.bytes)) {
        // One host, one address: compared as the IPv4 address it maps.
        std::memmove(a.bytes.data(), a.bytes.data() + 12, 4);
        std::fill(a.bytes.begin() + 4, a.bytes.end(), 0);
        a.v6 = false;
    }
    return a;
}

std::optional<ClientNetwork> ClientNetwork::parse(std::string_view text, std::string* why) {
    auto fail = [&](std::string msg) -> std::optional<ClientNetwork> {
        if (why)
            *why = std::move(msg);
        return std::nullopt;
    };
    bool tagged = false;
    const auto s = withoutIpv6Tag(text, &tagged);
    const auto slash = s.find('/');
    const auto head = s.substr(0, slash);
    ClientNetwork n;
    const int bytes = readAddress(head, n.bytes);
    if (bytes == 0)
        return fail("not an IPv4 or IPv6 address or network (want 192.0.2.0/24, 2001:db8::/48 "
                    "or a single address)");
    n.v6 = bytes == 16;
    if (tagged && !n.v6)
        return fail("IPv6: before an IPv4 address");
    const int maxBits = n.v6 ? 128 : 32;
    n.prefix = maxBits;
    if (slash != std::string_view::npos) {
        const auto len = s.substr(slash + 1);
        const auto v = text::parseDecimal(len, 128);
        // Plain decimal only: no blanks, no sign, no leading zero.
        if (!v || len.size() > 3 || len != text::trimBlanks(len) || (len.size() > 1 && len[0] == '0') ||
            static_cast<int>(*v) > maxBits)
            return fail(std::string("prefix length must be 0..") + (n.v6 ? "128" : "32") +
                        " for an " + (n.v6 ? "IPv6" : "IPv4") + " network");
        n.prefix = static_cast<int>(*v);
    }
    ClientNetwork net = n; // with the host bits cleared
    for (int i = 0; i < bytes; ++i)
        net.bytes[i] = static_cast<unsigned char>(n.bytes[i] & prefixMask(n.prefix, i));
    if (net.bytes != n.bytes) {
        ClientNetwork host = n;
        host.prefix = maxBits;
        std::string hostText = host.str();
        hostText.resize(hostText.rfind('/'));
        // Refused, not widened: an exemption must not cover more than the
        // writer may have meant.
        return fail("host bits set: write " + net.str() + " for the network, or " + hostText +
                    " for the one address");
    }
    if (n.v6 && isV4Mapped(n.bytes) && n.prefix >= 96) {
        ClientNetwork v4;
        std::memcpy(v4.bytes.data(), n.bytes.data() + 12, 4);
        v4.prefix = n.prefix - 96;
        return fail("an IPv4-mapped IPv6 network: write it as IPv4, " + v4.str() +
                    " (clients are compared as IPv4)");
    }
    return n;
}

std::string ClientNetwork::str() const {
    char out[INET6_ADDRSTRLEN] = {};
    if (!inet_ntop(v6 ? AF_INET6 : AF_INET, bytes.data(), out, sizeof out))
        return "?";
    return std::string(out) + "/" + std::to_string(prefix);
}

bool ClientNetwork::contains(const ClientAddress& a) const noexcept {
    if (a.v6 != v6)
        return false;
    for (int i = 0; 8 * i < prefix; ++i)
        if (((a.bytes[i] ^ bytes[i]) & prefixMask(prefix, i)) != 0)
            return false;
    return true;
}

std::string PolicyException::text() const {
    if (network)
        return network->str();
    if (!domain.empty())
        return "@" + domain;
    return user;
}

std::optional<Day> Day::parse(std::string_view t) noexcept {
    if (t.size() != 10 || t[4] != '-' || t[7] != '-')
        return std::nullopt;
    auto y = t.substr(0, 4), m = t.substr(5, 2), d = t.substr(8, 2);
    if (!allDigits(y) || !allDigits(m) || !allDigits(d))
        return std::nullopt;
    int yy = toInt(y), mm = toInt(m), dd = toInt(d);
    static const int days[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (yy < 1970 || mm < 1 || mm > 12 || dd < 1 || dd > days[mm - 1])
        return std::nullopt;
    const bool leap = (yy % 4 == 0 && yy % 100 != 0) || yy % 400 == 0;
    if (mm == 2 && dd == 29 && !leap)
        return std::nullopt;
    return Day{yy * 10000 + mm * 100 + dd};
}

Day Day::fromTime(std::time_t t) noexcept {
    std::tm tm{};
    gmtime_r(&t, &tm);
    return Day{(tm.tm_year + 1900) * 10000 + (tm.tm_mon + 1) * 100 + tm.tm_mday};
}

std::string Day::str() const {
    char buf[16];
    std::snprintf(buf, sizeof buf, "%04d-%02d-%02d", value / 10000, (value / 100) % 100,
                  value % 100);
    return buf;
}

std::optional<SmtpReply> SmtpReply::parse(std::string_view text, std::string* why) {
    auto fail = [&](const char* msg) -> std::optional<SmtpReply> {
        if (why)
            *why = msg;
        return std::nullopt;
    };
    while (!text.empty() && text.front() == ' ')
        text.remove_prefix(1);
    if (text.size() < 4 || !allDigits(text.substr(0, 3)) || text[3] != ' ')
        return fail("want CODE X.Y.Z TEXT, e.g. 530 5.7.0 Encryption required");
    SmtpReply r;
    r.code = std::string(text.substr(0, 3));
    if (r.code[0] != '4' && r.code[0] != '5')
        return fail("the code must be 4xx or 5xx");
    text.remove_prefix(4);
    auto sp = text.find(' ');
    auto x = text.substr(0, sp);
    // Enhanced status code: class.subject.detail, class equal to the code's.
    auto d1 = x.find('.');
    auto d2 = d1 == std::string_view::npos ? d1 : x.find('.', d1 + 1);
    if (d1 != 1 || d2 == std::string_view::npos || x[0] != r.code[0] ||
        !allDigits(x.substr(2, d2 - 2)) || !allDigits(x.substr(d2 + 1)) || d2 - 2 > 3 ||
        x.size() - d2 - 1 > 3)
        return fail("want an enhanced status code of the same class, e.g. 5.7.0 after 530");
    r.xcode = std::string(x);
    if (sp == std::string_view::npos)
        return fail("the reply needs a text");
    auto rest = text.substr(sp + 1);
    if (rest.empty())
        return fail("the reply needs a text");
    if (rest.size() > 400)
        return fail("the text is longer than 400 characters");
    for (char c : rest) {
        auto u = static_cast<unsigned char>(c);
        if (u < 0x20 || u > 0x7e)
            return fail("the text may hold printable ASCII only");
        if (c == '%')
            return fail("the text may not contain '%' (libmilter treats it as a format)");
    }
    r.text = std::string(rest);
    return r;
}

std::string SmtpReply::str() const { return code + " " + xcode + " " + text; }

SmtpReply defaultReply(PolicyAction action) {
    const std::string text =
        "Encryption required: enable SSL/TLS (or STARTTLS) with TLS 1.2 or newer in your mail program";
    if (action == PolicyAction::Tempfail)
        return {"451", "4.7.0", text};
    return {"530", "5.7.0", text};
}

const PolicyException* ExceptionList::find(std::string_view user) const noexcept {
    auto at = user.rfind('@');
    std::string_view domain = at == std::string_view::npos ? std::string_view() : user.substr(at + 1);
    for (const auto& e : entries) {
        if (!e.user.empty() && iequals(e.user, user))
            return &e;
        if (!e.domain.empty() && !domain.empty() && iequals(e.domain, domain))
            return &e;
    }
    return nullptr;
}

const PolicyException* ExceptionList::findNetwork(std::string_view clientAddr,
                                                  std::optional<Day> activeOn) const noexcept {
    std::optional<ClientAddress> addr; // read at the first network entry only
    for (const auto& e : entries) {
        if (!e.network || (activeOn && !e.activeOn(*activeOn)))
            continue;
        if (!addr && !(addr = ClientAddress::parse(clientAddr)))
            return nullptr;
        if (e.network->contains(*addr))
            return &e;
    }
    return nullptr;
}

ExceptionLoad parseExceptions(std::string_view text, std::string_view fileName, Day today) {
    ExceptionLoad out;
    out.list.file = std::string(fileName);
    const std::string file(fileName);
    int lineNo = 0;
    std::size_t pos = 0;
    while (pos <= text.size()) {
        auto nl = text.find('\n', pos);
        auto line = text.substr(pos, nl == std::string_view::npos ? std::string_view::npos : nl - pos);
        pos = nl == std::string_view::npos ? text.size() + 1 : nl + 1;
        ++lineNo;
        if (!line.empty() && line.back() == '\r')
            line.remove_suffix(1);
        auto where = file + ":" + std::to_string(lineNo) + ": ";
        PolicyException e;
        e.line = lineNo;
        // Comment: everything after an unquoted '#'.
        std::size_t i = 0;
        auto skipSpace = [&] {
            while (i < line.size() && (line[i] == ' ' || line[i] == '\t'))
                ++i;
        };
        skipSpace();
        if (i == line.size() || line[i] == '#')
            continue;
        std::string name;
        const bool quoted = line[i] == '"';
        if (quoted) {
            ++i;
            bool closed = false;
            while (i < line.size()) {
                char c = line[i++];
                if (c == '\\' && i < line.size()) {
                    name += line[i++];
                } else if (c == '"') {
                    closed = true;
                    break;
                } else {
                    name += c;
                }
            }
            if (!closed) {
                out.errors.push_back(where + "unterminated quoted user name");
                continue;
            }
        } else {
            while (i < line.size() && line[i] != ' ' && line[i] != '\t' && line[i] != '#')
                name += line[i++];
        }
        bool bad = false;
        for (char c : name) {
            auto u = static_cast<unsigned char>(c);
            if (u < 0x20 || u == 0x7f) {
                out.errors.push_back(where + "control character in user name");
                bad = true;
                break;
            }
        }
        if (bad)
            continue;
        if (name.empty() || name == "@") {
            out.errors.push_back(where + "empty user name");
            continue;
        }
        if (!quoted && looksLikeNetwork(name)) {
            std::string why;
            e.network = ClientNetwork::parse(name, &why);
            if (!e.network) {
                out.errors.push_back(where + "bad network \"" + name.substr(0, 60) + "\": " + why);
                continue;
            }
        } else if (name.front() == '@') {
            e.domain = lower(name.substr(1));
        } else {
            e.user = name;
        }
        skipSpace();
        if (i < line.size() && line[i] != '#') {
            auto start = i;
            while (i < line.size() && line[i] != ' ' && line[i] != '\t')
                ++i;
            auto word = line.substr(start, i - start);
            if (word != "until") {
                out.errors.push_back(where + "want 'until YYYY-MM-DD' or '# comment' after the " +
                                     (e.network ? "network" : "user") + ", got \"" +
                                     std::string(word.substr(0, 40)) + "\"");
                continue;
            }
            skipSpace();
            start = i;
            while (i < line.size() && line[i] != ' ' && line[i] != '\t' && line[i] != '#')
                ++i;
            auto date = line.substr(start, i - start);
            e.until = Day::parse(date);
            if (!e.until) {
                out.errors.push_back(where + "bad date \"" + std::string(date.substr(0, 20)) +
                                     "\", want YYYY-MM-DD");
                continue;
            }
            skipSpace();
        }
        if (i < line.size()) {
            if (line[i] != '#') {
                out.errors.push_back(where + "unexpected text after the date");
                continue;
            }
            ++i;
            skipSpace();
            e.comment = std::string(line.substr(i));
        }
        if (e.until && *e.until < today)
            out.warnings.push_back(where + "exception for " + e.text() + " expired on " +
                                   e.until->str());
        out.list.entries.push_back(std::move(e));
    }
    return out;
}

ExceptionLoad loadExceptions(const std::string& path, Day today) {
    std::ifstream in(path, std::ios::binary);
    if (!in) {
        ExceptionLoad out;
        out.list.file = path;
        out.errors.push_back(path + ": cannot read the exceptions file");
        return out;
    }
    std::ostringstream ss;
    ss << in.rdbuf();
    return parseExceptions(ss.str(), path, today);
}

int rolloutBucket(std::string_view salt, std::string_view user) noexcept {
    std::uint64_t h = 14695981039346656037ull;
    auto mix = [&h](unsigned char c) {
        h ^= c;
        h *= 1099511628211ull;
    };
    for (char c : salt)
        mix(static_cast<unsigned char>(c));
    mix(0);
    for (char c : user)
        mix(static_cast<unsigned char>(text::toLower(c)));
    return static_cast<int>(h % 100);
}

PolicyResult evaluate(const ListenerPolicy& p, const PolicyInput& in) {
    PolicyResult r;
    if (!p.enabled || !in.tls || !in.auth)
        return r;
    const bool auth = in.auth->authenticated();
    const bool tls = in.tls->active();
    if (!tls) {
        if (!p.requireTlsForAuth)
            return r;
        r.reason = PolicyReason::Cleartext;
    } else {
        if (!auth)
            return r;
        const TlsVersion v = in.tls->version;
        const bool minVersion = p.minTlsVersion != TlsVersion::None;
        if (minVersion && v == TlsVersion::Unknown)
            r.reason = PolicyReason::TlsVersionUnknown;
        else if (minVersion && v < p.minTlsVersion)
            r.reason = PolicyReason::TlsVersion;
        else if (p.minCipherBits > 0 && !in.tls->bits)
            r.reason = PolicyReason::CipherBitsUnknown;
        else if (in.tls->bits && *in.tls->bits < p.minCipherBits)
            r.reason = PolicyReason::CipherBits;
        else
            return r;
    }

    PolicyAction action = p.action;
    if (p.enforceFrom && in.today < *p.enforceFrom)
        action = PolicyAction::Report;
    if (in.exceptions) {
        // Network entries hold whatever the credentials (policy.hpp).
        if (const auto* e = in.exceptions->findNetwork(in.clientAddr, in.today)) {
            r.verdict = PolicyVerdict::Exempt;
            r.exception = e;
            return r;
        }
    }
    if (auth) {
        if (in.exceptions) {
            if (const auto* e = in.exceptions->find(in.auth->authen); e && e->activeOn(in.today)) {
                r.verdict = PolicyVerdict::Exempt;
                r.exception = e;
                return r;
            }
        }
        if (action != PolicyAction::Report && p.rolloutPercent < 100) {
            r.bucket = rolloutBucket(in.salt, in.auth->authen);
            if (*r.bucket >= p.rolloutPercent)
                action = PolicyAction::Report;
        }
    }
    // Unauthenticated cleartext: no user, so no user exception and no rollout
    // bucket; it gets whatever an enforced user would get, which keeps the
    // reply identical whatever the credentials were.  A configured reply of
    // the wrong class is refused by the config reader; the fallback to
    // defaultReply() below only guards a policy built in code.
    switch (action) {
    case PolicyAction::Report:
        r.verdict = PolicyVerdict::WouldReject;
        break;
    case PolicyAction::Tempfail:
        r.verdict = PolicyVerdict::Tempfail;
        r.reply = p.reply && p.reply->code[0] == '4' ? *p.reply : defaultReply(action);
        break;
    case PolicyAction::Reject:
        r.verdict = PolicyVerdict::Reject;
        r.reply = p.reply && p.reply->code[0] == '5' ? *p.reply : defaultReply(action);
        break;
    }
    return r;
}

} // namespace rfc8314
