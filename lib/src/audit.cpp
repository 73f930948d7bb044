// audit.cpp — the audit event's two writers and the key lookups, each
// walking the one schema of audit.hpp.  See audit.hpp.
//
// Each writer goes through its table in order and spells a key's value in
// its form; a key the writer has no spelling for is a programming error the
// unit tests catch (every table key is written by some event of
// tests/test_audit.cpp).  One buffer per line (LogLine, JsonLine).
#include "rfc8314/audit.hpp"

#include "rfc8314/logfmt.hpp"

namespace rfc8314 {

namespace {

template <std::size_t N>
AuditKey keyIn(const AuditField (&fields)[N], std::string_view name) noexcept {
    for (const AuditField& f : fields)
        if (f.name == name)
            return f.key;
    return AuditKey::Count;
}

// "YYYY-MM-DDThh:mm:ssZ" of a UTC time.
std::string_view isoTime(std::time_t t, char (&buf)[32]) noexcept {
    std::tm tm{};
    gmtime_r(&t, &tm);
    return std::string_view(buf, std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm));
}

} // namespace

AuditKey auditLineKey(std::string_view name) noexcept { return keyIn(kAuditLineFields, name); }
AuditKey auditJsonKey(std::string_view name) noexcept { return keyIn(kAuditJsonFields, name); }

namespace {

// Writes line field `f` of `e` into `out`, if the event has it.
// `composite` is a scratch buffer for client= and listener=, which join
// several facts.
void addLineField(LogLine& out, const AuditField& f, const AuditEvent& e, std::string& composite) {
    const bool tls = e.tls != TlsVersion::None;
    const std::string_view none = "none", unknown = "unknown";
    switch (f.key) {
    case AuditKey::User: out.add(f.name, e.authenticated ? e.user : none); break;
    case AuditKey::Mech: out.add(f.name, e.authenticated ? e.mech : none); break;
    case AuditKey::Tls: out.add(f.name, toString(e.tls)); break;
    case AuditKey::TlsRaw:
        if (e.tls == TlsVersion::Unknown)
            out.add(f.name, e.tlsRaw);
        break;
    case AuditKey::Cipher: out.add(f.name, !tls ? none : e.cipher.empty() ? unknown : e.cipher); break;
    case AuditKey::Group:
        // none when the suite uses none (RSA key transport), unknown
        // when it does but nobody said which.
        out.add(f.name, !tls                ? none
                        : !e.group.empty()  ? e.group
                        : e.groupUnused     ? none
                                            : unknown);
        break;
    case AuditKey::Bits:
        if (tls && e.bits)
            out.add(f.name, static_cast<long long>(*e.bits));
        else
            out.add(f.name, tls ? unknown : none);
        break;
    case AuditKey::Client:
        composite.clear();
        appendClientText(composite, e.clientName, e.clientAddr, e.clientPort);
        out.add(f.name, composite);
        break;
    case AuditKey::Listener:
        composite.assign(e.listener);
        if (e.listenerPort) {
            composite += '/';
            composite += std::to_string(*e.listenerPort);
        }
        out.add(f.name, composite);
        break;
    case AuditKey::Verdict: out.add(f.name, e.verdict); break;
    case AuditKey::Reason:
        if (!e.reason.empty())
            out.add(f.name, e.reason);
        break;
    case AuditKey::Stage: out.add(f.name, toString(*e.stage)); break;
    case AuditKey::Answered: out.add(f.name, e.answered); break;
    case AuditKey::Error: out.add(f.name, e.error); break;
    case AuditKey::Bucket:
        if (e.bucket)
            out.add(f.name, static_cast<long long>(*e.bucket));
        break;
    case AuditKey::Exception:
        if (!e.exception.empty())
            out.add(f.name, e.exception);
        break;
    case AuditKey::ExemptUntil:
        if (!e.exemptUntil.empty())
            out.add(f.name, e.exemptUntil);
        break;
    case AuditKey::CleartextAuth:
        if (e.authenticated && !tls)
            out.add(f.name, "yes");
        break;
    case AuditKey::Time: case AuditKey::Host: case AuditKey::QueueId: case AuditKey::Event: case AuditKey::ClientName:
    case AuditKey::ClientAddr: case AuditKey::ClientPort: case AuditKey::ListenerPort: case AuditKey::Count:
        break; // not line keys (the queue id leads the line)
    }
}

constexpr bool headKey(AuditKey k) noexcept {
    switch (k) {
    case AuditKey::User: case AuditKey::Mech: case AuditKey::Tls: case AuditKey::TlsRaw: case AuditKey::Cipher: case AuditKey::Group:
    case AuditKey::Bits: case AuditKey::Client: case AuditKey::Listener:
        return true;
    default:
        return false;
    }
}

// auditLine writes the cached head fields in one piece, so they must
// follow each other in the table, and none of them only on a failure.
constexpr bool headKeysTogether() noexcept {
    int runs = 0;
    bool in = false;
    for (const AuditField& f : kAuditLineFields) {
        const bool c = headKey(f.key);
        if (c && f.when == AuditWhen::Failure)
            return false;
        if (c && !in)
            ++runs;
        in = c;
    }
    return runs == 1;
}
static_assert(headKeysTogether(), "the line's head fields must be one run of kAuditLineFields");

} // namespace

bool auditLineHeadKey(AuditKey k) noexcept { return headKey(k); }

void appendClientText(std::string& out, std::string_view name, std::string_view addr, std::optional<int> port) {
    out.reserve(out.size() + name.size() + addr.size() + 16); // one allocation at most ("unknown", "[]:65535")
    out += name.empty() ? std::string_view("unknown") : name;
    out += '[';
    out += addr;
    out += ']';
    if (port) {
        out += ':';
        out += std::to_string(*port);
    }
}

std::string auditLineHead(const AuditEvent& e) {
    // With the line's reserve (no queue id): the head is some 170 octets,
    // which a growing string reached in four allocations, not one.
    LogLine out{std::string_view()};
    std::string composite;
    for (const AuditField& f : kAuditLineFields)
        if (headKey(f.key))
            addLineField(out, f, e, composite);
    return out.take();
}

std::string auditLine(const AuditEvent& e) { return auditLine(e, std::string()); }

std::string auditLine(const AuditEvent& e, std::string&& buffer) {
    const bool failure = e.stage.has_value();
    const bool cached = !e.lineHead.empty();
    bool headWritten = false;
    LogLine out(e.queueId, std::move(buffer));
    std::string composite;
    for (const AuditField& f : kAuditLineFields) {
        if (f.when == AuditWhen::Failure && !failure)
            continue; // the table says when: only on a failed transaction's event
        if (cached && headKey(f.key)) {
            // The head as auditLineHead wrote it (the same walk of this
            // table), in the place of its first field.
            if (!headWritten)
                out.addFields(e.lineHead);
            headWritten = true;
            continue;
        }
        addLineField(out, f, e, composite);
    }
    return out.take();
}

std::string auditJson(const AuditEvent& e) {
    const bool tls = e.tls != TlsVersion::None;
    const bool failure = e.stage.has_value();
    JsonLine out;
    char timeBuf[32];
    for (const AuditField& f : kAuditJsonFields) {
        if (f.when == AuditWhen::Failure && !failure)
            continue; // the table says when: only on a failed transaction's event
        switch (f.key) {
        case AuditKey::Time: out.add(f.name, isoTime(e.time, timeBuf)); break;
        case AuditKey::Host: out.add(f.name, e.host); break;
        case AuditKey::QueueId: out.add(f.name, e.queueId); break;
        case AuditKey::Event: out.add(f.name, e.authenticated ? "auth" : "unauthenticated"); break;
        case AuditKey::User: out.add(f.name, e.user); break;
        case AuditKey::Mech: out.add(f.name, e.mech); break;
        case AuditKey::Tls: out.add(f.name, toString(e.tls)); break;
        case AuditKey::TlsRaw:
            if (e.tls == TlsVersion::Unknown)
                out.add(f.name, e.tlsRaw);
            break;
        case AuditKey::Cipher: out.add(f.name, tls ? e.cipher : std::string_view()); break;
        case AuditKey::Group: out.add(f.name, tls ? e.group : std::string_view()); break;
        case AuditKey::Bits: out.add(f.name, tls ? e.bits : std::nullopt); break;
        case AuditKey::ClientName: out.add(f.name, e.clientName); break;
        case AuditKey::ClientAddr: out.add(f.name, e.clientAddr); break;
        case AuditKey::ClientPort: out.add(f.name, static_cast<long long>(e.clientPort.value_or(0))); break;
        case AuditKey::Listener: out.add(f.name, e.listener); break;
        case AuditKey::ListenerPort: out.add(f.name, e.listenerPort); break;
        case AuditKey::Verdict: out.add(f.name, e.verdict); break;
        case AuditKey::Reason: out.add(f.name, e.reason.empty() ? std::string_view("none") : e.reason); break;
        case AuditKey::Bucket: out.add(f.name, static_cast<long long>(e.bucket.value_or(-1))); break;
        case AuditKey::Exception: out.add(f.name, e.exception); break;
        case AuditKey::ExemptUntil: out.add(f.name, e.exemptUntil); break;
        case AuditKey::CleartextAuth: out.add(f.name, e.authenticated && !tls ? "yes" : "no"); break;
        case AuditKey::Stage: out.add(f.name, toString(*e.stage)); break;
        case AuditKey::Answered: out.add(f.name, e.answered); break;
        case AuditKey::Error: out.add(f.name, e.error); break;
        case AuditKey::Client: case AuditKey::Count:
            break; // the line's composite: JSON has its parts
        }
    }
    return out.str();
}

} // namespace rfc8314
