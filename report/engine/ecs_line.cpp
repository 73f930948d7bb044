// ecs_line.cpp — the milter's ECS audit events (audit_format = ecs) back
// into records.  See record.hpp (LineParser::parseEcs) and the mapping in
// rfc8314-milter.conf(5).
//
// A small JSON reader: objects are walked with the dotted path of each
// member, so an event written with nested objects (as the milter writes
// it) and one whose pipeline flattened it to dotted keys read alike.
// Arrays are skipped (event.category, event.type: nothing the report
// counts).  An object without event.action or without any rfc8314.* member
// is Foreign (another program's ECS event); broken JSON is Damaged.
#include <functional>
#include <optional>
#include <string>

#include "record.hpp"
#include "scan.hpp"
#include "rfc8314/facts.hpp"

namespace rfc8314::report {

namespace {

// The members the report reads, each with its own scratch buffer.
enum EcsField { ETime, EQueue, EHost, EUser, EMech, ETlsVersion, ETlsProtocol, ECipher, ECurve,
                ESourceIp, EClientAddr, EListener, EAction, EReason, EExempt, ECount };

EcsField fieldOf(std::string_view path) noexcept {
    static constexpr std::pair<std::string_view, EcsField> names[] = {
        {"@timestamp", ETime},           {"email.local_id", EQueue},
        {"host.name", EHost},            {"user.name", EUser},
        {"rfc8314.mech", EMech},         {"tls.version", ETlsVersion},
        {"tls.version_protocol", ETlsProtocol}, {"tls.cipher", ECipher},
        {"tls.curve", ECurve},           {"source.ip", ESourceIp},
        {"rfc8314.client_addr", EClientAddr}, {"rfc8314.listener", EListener},
        {"event.action", EAction},       {"event.reason", EReason},
        {"rfc8314.exempt_until", EExempt},
    };
    for (const auto& [n, f] : names)
        if (n == path)
            return f;
    return ECount;
}

// "TLSv1.2" (the native spelling, facts.hpp toString) from ECS's
// tls.version_protocol and tls.version; "unknown" when TLS was
// established with a version ECS could not name.
std::string_view nativeTls(std::string_view protocol, std::string_view version) noexcept {
    for (auto v : {TlsVersion::SSLv3, TlsVersion::TLSv1_0, TlsVersion::TLSv1_1, TlsVersion::TLSv1_2,
                   TlsVersion::TLSv1_3}) {
        const std::string_view n = toString(v); // "SSLv3", "TLSv1.2"
        const bool ssl = v == TlsVersion::SSLv3;
        if (protocol == (ssl ? "ssl" : "tls") && version == (ssl ? std::string_view("3.0") : n.substr(4)))
            return n;
    }
    return toString(TlsVersion::Unknown);
}

} // namespace

LineKind LineParser::parseEcs(std::string_view line, Record& r) {
    r = Record{};
    std::string_view v[ECount];
    std::optional<long long> bits, destPort, bucket;
    bool established = false, authenticated = false, cleartext = false, ours = false;
    std::size_t i = 0;
    std::string keyBuf;
    std::string& path = ecsPath_;
    path.clear();
    auto ws = [&] {
        while (i < line.size() && (line[i] == ' ' || line[i] == '\t' || line[i] == '\r'))
            ++i;
    };
    // A scalar at line[i] for `path`: strings kept when the report reads
    // them, numbers and booleans read in place.
    auto scalar = [&]() -> bool {
        if (line[i] == '"') {
            const EcsField f = fieldOf(path);
            std::string_view s;
            i = scan::jsonString(line, i, f == ECount ? keyBuf : ecsScratch_[f], s);
            if (i == std::string_view::npos)
                return false;
            if (f != ECount)
                v[f] = s;
            return true;
        }
        const std::size_t start = i;
        while (i < line.size() && line[i] != ',' && line[i] != '}' && line[i] != ']' && line[i] != ' ')
            ++i;
        const std::string_view tok = line.substr(start, i - start);
        if (tok == "true" || tok == "false" || tok == "null") {
            const bool b = tok == "true";
            if (path == "tls.established") established = b;
            else if (path == "rfc8314.authenticated") authenticated = b;
            else if (path == "rfc8314.cleartext_auth") cleartext = b;
            return true;
        }
        if (tok.empty() || tok.size() > 12)
            return false;
        long long n = 0;
        for (std::size_t k = tok[0] == '-' ? 1 : 0; k < tok.size(); ++k) {
            if (!scan::isDigit(tok[k]))
                return false; // no fractions or exponents in our events
            n = n * 10 + (tok[k] - '0');
        }
        if (tok[0] == '-')
            n = -n;
        if (path == "rfc8314.bits") bits = n;
        else if (path == "destination.port") destPort = n;
        else if (path == "rfc8314.bucket") bucket = n;
        return true;
    };
    // Depth-first over values; depth bounded so a hostile line cannot
    // exhaust the stack.
    std::function<bool(int)> value;
    value = [&](int depth) -> bool {
        ws();
        if (i >= line.size() || depth > 8)
            return false;
        if (line[i] == '[') {
            ++i;
            ws();
            if (i < line.size() && line[i] == ']') {
                ++i;
                return true;
            }
            const std::size_t keep = path.size();
            path += "[]"; // no member of an array is read
            while (true) {
                if (!value(depth + 1))
                    return false;
                ws();
                if (i < line.size() && line[i] == ',') {
                    ++i;
                    continue;
                }
                path.resize(keep);
                if (i < line.size() && line[i] == ']') {
                    ++i;
                    return true;
                }
                return false;
            }
        }
        if (line[i] != '{')
            return scalar();
        ++i;
        ws();
        if (i < line.size() && line[i] == '}') {
            ++i;
            return true;
        }
        const std::size_t keep = path.size();
        while (true) {
            ws();
            if (i >= line.size() || line[i] != '"')
                return false;
            std::string_view key;
            i = scan::jsonString(line, i, keyBuf, key);
            if (i == std::string_view::npos)
                return false;
            path.resize(keep);
            if (keep > 0)
                path += '.';
            path += key;
            if (depth == 0 && (key == "rfc8314" || key.substr(0, 8) == "rfc8314."))
                ours = true;
            ws();
            if (i >= line.size() || line[i] != ':')
                return false;
            ++i;
            if (!value(depth + 1))
                return false;
            ws();
            if (i < line.size() && line[i] == ',') {
                ++i;
                continue;
            }
            path.resize(keep);
            if (i < line.size() && line[i] == '}') {
                ++i;
                return true;
            }
            return false;
        }
    };
    ws();
    if (i >= line.size() || line[i] != '{')
        return LineKind::Foreign;
    if (!value(0))
        return LineKind::Damaged;
    ws();
    if (i != line.size())
        return LineKind::Damaged;
    if (!ours || v[EAction].empty())
        return LineKind::Foreign; // an ECS event, but not the milter's audit event

    // The same normal form as the native readers (json_line.cpp).
    r.queueId = v[EQueue];
    r.host = v[EHost];
    r.authenticated = authenticated;
    r.user = authenticated ? v[EUser] : std::string_view("none");
    r.mech = authenticated ? v[EMech] : std::string_view("none");
    if (established) {
        r.tls = nativeTls(v[ETlsProtocol], v[ETlsVersion]);
        r.cipher = v[ECipher].empty() ? std::string_view("unknown") : v[ECipher];
        r.group = v[ECurve].empty() ? std::string_view("unknown") : v[ECurve];
        if (bits && *bits >= 0 && *bits <= 1000000)
            r.bits = static_cast<int>(*bits);
    } else {
        r.tls = r.cipher = r.group = "none";
    }
    r.client = !v[ESourceIp].empty() ? v[ESourceIp] : v[EClientAddr];
    std::string& l = scratch(AuditKey::Listener);
    l.assign(v[EListener]);
    if (destPort && *destPort > 0) {
        l += '/';
        l += std::to_string(*destPort);
    }
    r.listener = l;
    r.verdict = v[EAction];
    r.reason = v[EReason];
    r.exemptUntil = v[EExempt];
    r.bucket = bucket ? static_cast<int>(*bucket) : -1;
    r.cleartextAuth = cleartext;
    if (!v[ETime].empty()) {
        r.when = scan::isoPrefix(v[ETime]);
        if (r.when < 0)
            return LineKind::Damaged;
    }
    return LineKind::Audit;
}

} // namespace rfc8314::report
