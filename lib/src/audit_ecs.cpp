// audit_ecs.cpp — audit events as Elastic Common Schema JSON.  See
// audit_ecs.hpp; the field list and types are in rfc8314-milter.conf(5).
#include "rfc8314/audit_ecs.hpp"

#include <arpa/inet.h>

#include "rfc8314/logfmt.hpp"

namespace rfc8314 {

namespace {

// Nested JSON objects written in one pass: open() a member object, add
// members, close() it.  The caller opens and closes in order; keys are ours.
class Nested {
public:
    Nested() { out_.reserve(640); out_ += '{'; }
    Nested& open(std::string_view k) {
        key(k);
        out_ += '{';
        first_ = true;
        return *this;
    }
    Nested& close() {
        out_ += '}';
        first_ = false;
        return *this;
    }
    Nested& str(std::string_view k, std::string_view v) {
        key(k);
        out_ += '"';
        out_ += jsonEscape(v);
        out_ += '"';
        return *this;
    }
    Nested& num(std::string_view k, long long v) {
        key(k);
        out_ += std::to_string(v);
        return *this;
    }
    Nested& optNum(std::string_view k, std::optional<int> v) {
        if (v)
            return num(k, *v);
        key(k);
        out_ += "null";
        return *this;
    }
    Nested& boolean(std::string_view k, bool v) {
        key(k);
        out_ += v ? "true" : "false";
        return *this;
    }
    // A JSON array of static words (event.category, event.type).
    Nested& words(std::string_view k, std::initializer_list<std::string_view> ws) {
        key(k);
        out_ += '[';
        bool first = true;
        for (auto w : ws) {
            if (!w.empty()) {
                out_ += first ? "\"" : ",\"";
                out_ += w;
                out_ += '"';
                first = false;
            }
        }
        out_ += ']';
        return *this;
    }
    std::string done() {
        out_ += '}';
        return std::move(out_);
    }

private:
    void key(std::string_view k) {
        if (!first_)
            out_ += ',';
        first_ = false;
        out_ += '"';
        out_ += k;
        out_ += "\":";
    }
    std::string out_;
    bool first_ = true;
};

// tls.version and tls.version_protocol as ECS spells them ("1.2", "tls").
struct EcsTls {
    std::string_view version, protocol;
};
EcsTls ecsTls(TlsVersion v) noexcept {
    switch (v) {
    case TlsVersion::SSLv3: return {"3.0", "ssl"};
    case TlsVersion::TLSv1_0: return {"1.0", "tls"};
    case TlsVersion::TLSv1_1: return {"1.1", "tls"};
    case TlsVersion::TLSv1_2: return {"1.2", "tls"};
    case TlsVersion::TLSv1_3: return {"1.3", "tls"};
    case TlsVersion::None:
    case TlsVersion::Unknown: break;
    }
    return {};
}

bool isIp(std::string_view a) {
    if (a.empty() || a.size() >= INET6_ADDRSTRLEN)
        return false;
    char buf[INET6_ADDRSTRLEN];
    a.copy(buf, a.size());
    buf[a.size()] = '\0';
    unsigned char bin[sizeof(struct in6_addr)];
    return inet_pton(AF_INET, buf, bin) == 1 || inet_pton(AF_INET6, buf, bin) == 1;
}

std::string isoTime(std::time_t t) {
    std::tm tm{};
    gmtime_r(&t, &tm);
    char buf[32];
    std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
    return buf;
}

} // namespace

std::string ecsAuditJson(const AuditEvent& v) {
    // The transaction went on (accepted, exempt, only reported) or was
    // refused: ECS's allowed/denied with outcome success/failure.
    const bool refused = v.verdict == "reject" || v.verdict == "tempfail";
    const bool failed = v.stage.has_value();
    const bool tls = v.tls != TlsVersion::None;
    Nested j;
    j.str("@timestamp", isoTime(v.time));
    j.open("ecs").str("version", kEcsVersion).close();
    j.open("event")
        .str("kind", "event")
        .words("category", {"network"})
        .words("type", {refused ? "denied" : "allowed", failed ? "error" : ""})
        .str("action", v.verdict)
        .str("outcome", refused ? "failure" : "success");
    if (!v.reason.empty())
        j.str("reason", v.reason);
    j.close();
    j.open("host").str("name", v.host).close();
    if (!v.queueId.empty())
        j.open("email").str("local_id", v.queueId).close();
    if (v.authenticated && !v.user.empty())
        j.open("user").str("name", v.user).close();
    const bool ip = isIp(v.clientAddr);
    j.open("source");
    if (ip)
        j.str("ip", v.clientAddr);
    if (v.clientPort)
        j.num("port", *v.clientPort);
    // Postfix says "unknown" for a client without a verified name: no domain.
    if (!v.clientName.empty() && v.clientName != "unknown")
        j.str("domain", v.clientName);
    j.close();
    if (v.listenerPort)
        j.open("destination").num("port", *v.listenerPort).close();
    j.open("tls").boolean("established", tls);
    const EcsTls t = ecsTls(v.tls);
    if (!t.version.empty())
        j.str("version", t.version).str("version_protocol", t.protocol);
    if (tls && !v.cipher.empty())
        j.str("cipher", v.cipher);
    if (tls && !v.group.empty())
        j.str("curve", v.group);
    j.close();
    if (failed)
        j.open("error").str("message", v.error).close();
    j.open("rfc8314")
        .str("listener", v.listener)
        .boolean("authenticated", v.authenticated);
    if (v.authenticated)
        j.str("mech", v.mech);
    if (v.tls == TlsVersion::Unknown && !v.tlsRaw.empty())
        j.str("tls_raw", v.tlsRaw);
    j.optNum("bits", tls ? v.bits : std::nullopt)
        .boolean("cleartext_auth", v.authenticated && !tls);
    if (!ip && !v.clientAddr.empty())
        j.str("client_addr", v.clientAddr);
    if (v.bucket && *v.bucket >= 0)
        j.num("bucket", *v.bucket);
    if (!v.exception.empty())
        j.str("exception", v.exception);
    if (!v.exemptUntil.empty())
        j.str("exempt_until", v.exemptUntil);
    if (failed)
        j.str("stage", toString(*v.stage)).str("answered", v.answered);
    j.close();
    return j.done();
}

} // namespace rfc8314
