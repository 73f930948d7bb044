// json_line.cpp — lines of the milter's JSON audit file back into
// records.  See record.hpp (LineParser::parseJson).
//
// A scanner for exactly what the milter writes (one flat object per line)
// and no more: any nested value is Damaged, an object without the audit
// members is Foreign.  Strings without escapes are used in place.
#include <cstring>
#include <string>

#include "record.hpp"
#include "scan.hpp"

namespace rfc8314::report {

using scan::hexValue;
using scan::isDigit;
using scan::jsonString;

// Where a JSON string starting at s[i] == '"' ends (index after the closing
// quote), decoding it into buf when it holds escapes; npos when malformed.
std::size_t scan::jsonString(std::string_view s, std::size_t i, std::string& buf, std::string_view& out) {
    const std::size_t start = ++i;
    // Almost every string has no escape: find its end with memchr and
    // take it as it is.
    if (start <= s.size()) {
        const char* p = s.data() + start;
        const std::size_t left = s.size() - start;
        const void* q = std::memchr(p, '"', left);
        if (q && !std::memchr(p, '\\', static_cast<std::size_t>(static_cast<const char*>(q) - p))) {
            const std::size_t end = start + static_cast<std::size_t>(static_cast<const char*>(q) - p);
            out = s.substr(start, end - start);
            return end + 1;
        }
    }
    bool escaped = false;
    while (i < s.size() && s[i] != '"') {
        if (s[i] == '\\') {
            escaped = true;
            ++i;
        }
        ++i;
    }
    if (i >= s.size())
        return std::string_view::npos;
    const std::string_view body = s.substr(start, i - start);
    if (!escaped) {
        out = body;
        return i + 1;
    }
    buf.clear();
    auto put = [&](std::uint32_t cp) {
        if (cp < 0x80) {
            buf += static_cast<char>(cp);
        } else if (cp < 0x800) {
            buf += static_cast<char>(0xC0 | (cp >> 6));
            buf += static_cast<char>(0x80 | (cp & 0x3F));
        } else if (cp < 0x10000) {
            buf += static_cast<char>(0xE0 | (cp >> 12));
            buf += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
            buf += static_cast<char>(0x80 | (cp & 0x3F));
        } else {
            buf += static_cast<char>(0xF0 | (cp >> 18));
            buf += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
            buf += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
            buf += static_cast<char>(0x80 | (cp & 0x3F));
        }
    };
    auto hex4 = [&](std::size_t k, std::uint32_t& v) {
        if (k + 4 > body.size())
            return false;
        v = 0;
        for (std::size_t j = k; j < k + 4; ++j) {
            const int h = hexValue(body[j]);
            if (h < 0)
                return false;
            v = v * 16 + static_cast<std::uint32_t>(h);
        }
        return true;
    };
    for (std::size_t k = 0; k < body.size(); ++k) {
        const char c = body[k];
        if (c != '\\') {
            buf += c;
            continue;
        }
        const char e = body[++k];
        switch (e) {
        case '"': buf += '"'; break;
        case '\\': buf += '\\'; break;
        case '/': buf += '/'; break;
        case 'b': buf += '\b'; break;
        case 'f': buf += '\f'; break;
        case 'n': buf += '\n'; break;
        case 'r': buf += '\r'; break;
        case 't': buf += '\t'; break;
        case 'u': {
            std::uint32_t cp;
            if (!hex4(k + 1, cp))
                return std::string_view::npos;
            k += 4;
            if (cp >= 0xD800 && cp <= 0xDBFF) {
                std::uint32_t lo;
                if (k + 2 < body.size() && body[k + 1] == '\\' && body[k + 2] == 'u' &&
                    hex4(k + 3, lo) && lo >= 0xDC00 && lo <= 0xDFFF) {
                    cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
                    k += 6;
                } else {
                    cp = 0xFFFD; // a lone surrogate has no UTF-8 form
                }
            } else if (cp >= 0xDC00 && cp <= 0xDFFF) {
                cp = 0xFFFD;
            }
            put(cp);
            break;
        }
        default:
            return std::string_view::npos;
        }
    }
    out = buf;
    return i + 1;
}

// ---- JSON -------------------------------------------------------------------

LineKind LineParser::parseJson(std::string_view line, Record& r) {
    r = Record{};
    while (!line.empty() && (line.back() == '\r' || line.back() == ' ' || line.back() == '\t'))
        line.remove_suffix(1);
    std::size_t i = 0;
    while (i < line.size() && (line[i] == ' ' || line[i] == '\t'))
        ++i;
    if (i == line.size() || line[i] != '{')
        return LineKind::Foreign;
    if (line.back() != '}')
        return LineKind::Damaged;
    ++i;
    std::string_view time, event, listenerName, tlsv, cleartext;
    long long listenerPort = 0;
    bool haveVerdict = false, haveUser = false;
    std::string keyBuf;
    auto skipWs = [&] {
        while (i < line.size() && (line[i] == ' ' || line[i] == '\t'))
            ++i;
    };
    skipWs();
    if (i < line.size() && line[i] == '}')
        return LineKind::Foreign;
    while (true) {
        skipWs();
        if (i >= line.size() || line[i] != '"')
            return LineKind::Damaged;
        std::string_view key;
        i = jsonString(line, i, keyBuf, key);
        if (i == std::string_view::npos)
            return LineKind::Damaged;
        skipWs();
        if (i >= line.size() || line[i] != ':')
            return LineKind::Damaged;
        ++i;
        skipWs();
        if (i >= line.size())
            return LineKind::Damaged;
        // Where a string value of this key goes (its scratch buffer is the
        // key's own).
        const AuditKey k = auditJsonKey(key);
        std::string_view* dst = nullptr;
        if (key == "@timestamp" || key == "ecs")
            return parseEcs(line, r); // audit_format = ecs
        switch (k) {
        case AuditKey::Time: dst = &time; break;
        case AuditKey::Host: dst = &r.host; break;
        case AuditKey::QueueId: dst = &r.queueId; break;
        case AuditKey::Event: dst = &event; break;
        case AuditKey::User: dst = &r.user; haveUser = true; break;
        case AuditKey::Mech: dst = &r.mech; break;
        case AuditKey::Tls: dst = &tlsv; break;
        case AuditKey::TlsRaw: dst = &r.tlsRaw; break;
        case AuditKey::Cipher: dst = &r.cipher; break;
        case AuditKey::Group: dst = &r.group; break;
        case AuditKey::ClientAddr: dst = &r.client; break;
        case AuditKey::ClientName: dst = &r.clientName; break;
        case AuditKey::Listener: dst = &listenerName; break;
        case AuditKey::Verdict: dst = &r.verdict; haveVerdict = true; break;
        case AuditKey::Reason: dst = &r.reason; break;
        case AuditKey::Exception: dst = &r.exception; break;
        case AuditKey::ExemptUntil: dst = &r.exemptUntil; break;
        case AuditKey::CleartextAuth: dst = &cleartext; break;
        case AuditKey::Stage: dst = &r.stage; break;
        case AuditKey::Answered: dst = &r.answered; break;
        case AuditKey::Error: dst = &r.error; break;
        case AuditKey::Bits: case AuditKey::ClientPort:
        case AuditKey::ListenerPort: case AuditKey::Bucket: case AuditKey::Client:
        case AuditKey::Count:
            break; // numbers, or not read
        }
        if (line[i] == '"') {
            std::string_view v;
            std::string* buf = dst ? &scratch(k) : &keyBuf;
            i = jsonString(line, i, *buf, v);
            if (i == std::string_view::npos)
                return LineKind::Damaged;
            if (dst)
                *dst = v;
        } else {
            const std::size_t start = i;
            while (i < line.size() && line[i] != ',' && line[i] != '}' && line[i] != ' ')
                ++i;
            const std::string_view tok = line.substr(start, i - start);
            long long n = 0;
            bool neg = false, num = !tok.empty();
            for (std::size_t k = 0; k < tok.size() && num; ++k) {
                if (k == 0 && tok[k] == '-')
                    neg = true;
                else if (!isDigit(tok[k]) || k > 12)
                    num = false;
                else
                    n = n * 10 + (tok[k] - '0');
            }
            if (neg)
                n = -n;
            if (!num && tok != "true" && tok != "false" && tok != "null")
                return LineKind::Damaged; // nested or broken: not our flat object
            if (k == AuditKey::Bits) // null: not known, or no TLS; a negative is no number of bits
                r.bits = num && n >= 0 && n <= 1000000 ? std::optional<int>(static_cast<int>(n)) : std::nullopt;
            else if (num && k == AuditKey::Bucket)
                r.bucket = static_cast<int>(n);
            else if (num && k == AuditKey::ListenerPort)
                listenerPort = n;
        }
        skipWs();
        if (i < line.size() && line[i] == ',') {
            ++i;
            continue;
        }
        if (i < line.size() && line[i] == '}' && i + 1 == line.size())
            break;
        return LineKind::Damaged;
    }
    if (!haveVerdict || !haveUser)
        return LineKind::Foreign; // valid JSON, but not an audit event
    // The same normal form the syslog line has (session.cpp auditEvent).
    const bool tls = !tlsv.empty() && tlsv != "none";
    r.authenticated = event.empty() ? !r.user.empty() : event == "auth";
    if (!r.authenticated) {
        r.user = "none";
        r.mech = "none";
    }
    r.tls = tls ? tlsv : std::string_view("none");
    if (!tls) {
        r.cipher = "none";
        r.group = "none";
        r.bits.reset();
    } else {
        if (r.cipher.empty())
            r.cipher = "unknown";
        if (r.group.empty())
            r.group = "unknown";
    }
    if (r.reason == "none")
        r.reason = {};
    r.cleartextAuth = cleartext == "yes";
    if (r.clientName == "unknown")
        r.clientName = {};
    std::string& l = scratch(AuditKey::Count); // the composed "name/port"
    l.assign(listenerName);
    if (listenerPort > 0) {
        l += '/';
        l += std::to_string(listenerPort);
    }
    r.listener = l;
    if (!time.empty()) {
        r.when = scan::isoPrefix(time);
        if (r.when < 0)
            return LineKind::Damaged;
    }
    return LineKind::Audit;
}

} // namespace rfc8314::report
