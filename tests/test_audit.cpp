// test_audit.cpp — the one audit schema (rfc8314/audit.hpp): an event the
// milter's writers write, the report's readers read back with every field
// equal, in both forms, for every verdict and reason and for the events of
// transactions the filter failed on; hostile values survive the trip; every
// schema key is documented in the man page's LOGGING section; and the
// session writes through the schema.
#include <boost/test/unit_test.hpp>

#include <cctype>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "rfc8314/audit.hpp"
#include "rfc8314/policy.hpp"
#include "rfc8314/session.hpp"
#include "engine/record.hpp"

using namespace rfc8314;
namespace report = rfc8314::report;

namespace {

// Macros from a map, as the MTA would hand them to one stage.
struct MapMacros : MacroSource {
    std::map<std::string, std::string, std::less<>> m;
    std::optional<std::string_view> get(std::string_view n) const override {
        auto it = m.find(n);
        if (it == m.end())
            return std::nullopt;
        return std::string_view(it->second);
    }
};

std::string readFile(const std::string& path) {
    std::ifstream in(path);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

std::string show(const std::optional<int>& v) { return v ? std::to_string(*v) : "nullopt"; }

// The events of the round trip: every verdict with every reason the policy
// gives, the internal-error events (each failing stage, each answer, both
// actions), and the spellings that differ between the forms (cleartext,
// unknown version, unknown bits, 0 bits, no group, unknown group, no port,
// no queue id, IPv6, hostile user and error text).
std::vector<AuditEvent> events() {
    std::vector<AuditEvent> out;
    AuditEvent base;
    base.time = 1732443759; // 2024-11-24T10:22:39Z
    base.queueId = "4XyZ1";
    base.authenticated = true;
    base.user = "alice";
    base.mech = "PLAIN";
    base.tls = TlsVersion::TLSv1_3;
    base.cipher = "TLS_AES_128_GCM_SHA256";
    base.group = "x25519";
    base.bits = 128;
    base.clientName = "laptop.example";
    base.clientAddr = "192.0.2.10";
    base.clientPort = 50123;
    base.listener = "submission";
    base.listenerPort = 587;
    for (auto v : {PolicyVerdict::Accept, PolicyVerdict::Exempt, PolicyVerdict::WouldReject,
                   PolicyVerdict::Tempfail, PolicyVerdict::Reject})
        for (auto r : {PolicyReason::None, PolicyReason::Cleartext, PolicyReason::TlsVersion,
                       PolicyReason::CipherBits, PolicyReason::TlsVersionUnknown,
                       PolicyReason::CipherBitsUnknown}) {
            AuditEvent e = base;
            e.verdict = toString(v);
            if (r != PolicyReason::None)
                e.reason = toString(r);
            out.push_back(e);
        }
    for (auto stage : {Stage::Connect, Stage::Helo, Stage::Mail, Stage::Rcpt, Stage::Eom})
        for (std::string_view answered : {"mail", "eom", "none"})
            for (std::string_view verdict : {"tempfail", "accept"}) {
                AuditEvent e = base;
                e.verdict = verdict;
                e.reason = "internal-error";
                e.stage = stage;
                e.answered = answered;
                e.error = "std::bad_alloc, \"at\" step\n2";
                out.push_back(e);
            }
    AuditEvent e = base;
    e.verdict = "reject";
    e.reason = "cleartext";
    e.tls = TlsVersion::None;
    e.cipher = e.group = {};
    e.bits.reset();
    out.push_back(e); // cleartext
    e = base;
    e.verdict = "would-reject";
    e.reason = "cleartext";
    e.tls = TlsVersion::None;
    e.cipher = e.group = {};
    e.bits.reset();
    e.authenticated = true;
    out.push_back(e); // cleartext AUTH: cleartext_auth=yes
    e = base;
    e.authenticated = false;
    e.user = e.mech = {};
    e.verdict = "reject";
    e.reason = "tls-version";
    e.queueId = {};
    e.clientPort.reset();
    e.listenerPort.reset();
    e.listener = "unknown";
    e.clientName = {};
    e.clientAddr = "2001:db8::10";
    out.push_back(e); // unauthenticated, no queue id, no ports, IPv6
    e = base;
    e.tls = TlsVersion::Unknown;
    e.tlsRaw = "TLSv1/SSLv3";
    e.verdict = "reject";
    e.reason = "tls-version-unknown";
    out.push_back(e);
    e = base;
    e.bits.reset();
    e.verdict = "tempfail";
    e.reason = "cipher-bits-unknown";
    out.push_back(e);
    e = base;
    e.bits = 0; // NULL cipher: 0 is real
    e.cipher = {};
    e.group = {};
    e.verdict = "would-reject";
    e.reason = "cipher-bits";
    out.push_back(e); // cipher not understood, group unknown
    e = base;
    e.cipher = "TLS_RSA_WITH_AES_128_GCM_SHA256";
    e.group = {};
    e.groupUnused = true;
    e.verdict = "accept";
    out.push_back(e); // RSA key transport: group none
    e = base;
    e.user = "ma\xc3\xafl \"x\", user=root\r\n\x01";
    e.clientName = "evil, verdict=accept";
    e.verdict = "exempt";
    e.reason = "cipher-bits";
    e.exception = "ma\xc3\xafl \"x\", user=root\r\n\x01";
    e.exemptUntil = "2026-12-31";
    out.push_back(e);
    e = base;
    e.verdict = "exempt";
    e.reason = "tls-version";
    e.exception = "192.0.2.0/24";
    out.push_back(e); // a network exception, no end date
    e = base;
    e.verdict = "reject";
    e.reason = "tls-version";
    e.bucket = 37;
    out.push_back(e);
    return out;
}

// What the report must read from `e`, in the normal form both of its
// readers give (record.hpp).  JSON writes "" for a group that is none and
// for one that is unknown alike, so its reader cannot tell them apart: it
// reads "unknown" (`jsonForm`).
report::Record expected(const AuditEvent& e, bool jsonForm) {
    const bool tls = e.tls != TlsVersion::None;
    report::Record r;
    r.when = jsonForm ? report::civilTime(2024, 11, 24, 10, 22, 39) : -1;
    r.queueId = e.queueId;
    r.authenticated = e.authenticated;
    r.user = e.authenticated ? e.user : "none";
    r.mech = e.authenticated ? e.mech : "none";
    r.tls = toString(e.tls);
    r.tlsRaw = e.tls == TlsVersion::Unknown ? e.tlsRaw : "";
    r.cipher = !tls ? "none" : e.cipher.empty() ? "unknown" : e.cipher;
    r.group = !tls                           ? "none"
              : !e.group.empty()             ? e.group
              : e.groupUnused && !jsonForm   ? "none"
                                             : "unknown";
    r.bits = tls ? e.bits : std::nullopt;
    r.client = e.clientAddr;
    r.clientName = e.clientName == "unknown" ? std::string_view() : e.clientName;
    r.verdict = e.verdict;
    r.reason = e.reason;
    r.exception = e.exception;
    r.exemptUntil = e.exemptUntil;
    r.bucket = e.bucket.value_or(-1);
    r.cleartextAuth = e.authenticated && !tls;
    if (e.stage)
        r.stage = toString(*e.stage);
    r.answered = e.answered;
    r.error = e.error;
    return r;
}

void compare(const std::string& form, const std::string& written, const report::Record& got,
             const report::Record& want, const std::string& listener) {
    const auto ctx = form + " " + written;
    BOOST_TEST(got.when == want.when, ctx);
    BOOST_TEST(got.queueId == want.queueId, ctx);
    BOOST_TEST(got.authenticated == want.authenticated, ctx);
    BOOST_TEST(got.user == want.user, ctx);
    BOOST_TEST(got.mech == want.mech, ctx);
    BOOST_TEST(got.tls == want.tls, ctx);
    BOOST_TEST(got.tlsRaw == want.tlsRaw, ctx);
    BOOST_TEST(got.cipher == want.cipher, ctx);
    BOOST_TEST(got.group == want.group, ctx << ": got " << got.group << ", want " << want.group);
    BOOST_TEST(show(got.bits) == show(want.bits), ctx);
    BOOST_TEST(got.client == want.client, ctx);
    BOOST_TEST(got.clientName == want.clientName, ctx);
    BOOST_TEST(got.listener == listener, ctx);
    BOOST_TEST(got.verdict == want.verdict, ctx);
    BOOST_TEST(got.reason == want.reason, ctx);
    BOOST_TEST(got.exception == want.exception, ctx);
    BOOST_TEST(got.exemptUntil == want.exemptUntil, ctx);
    BOOST_TEST(got.bucket == want.bucket, ctx);
    BOOST_TEST(got.cleartextAuth == want.cleartextAuth, ctx);
    BOOST_TEST(got.stage == want.stage, ctx);
    BOOST_TEST(got.answered == want.answered, ctx);
    BOOST_TEST(got.error == want.error, ctx);
}

// The text of a man page section: from ".SH TITLE" to the next ".SH".
std::string manSection(const std::string& man, const std::string& title) {
    const auto start = man.find("\n.SH " + title + "\n");
    if (start == std::string::npos)
        return {};
    const auto end = man.find("\n.SH ", start + 1);
    return man.substr(start, end == std::string::npos ? std::string::npos : end - start);
}

bool isWordChar(char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_'; }

// Whether `word` stands alone in `text` (not as part of a longer key).
bool hasWord(std::string_view text, std::string_view word) {
    for (auto at = text.find(word); at != std::string_view::npos; at = text.find(word, at + 1)) {
        const bool before = at == 0 || !isWordChar(text[at - 1]);
        const bool after = at + word.size() == text.size() || !isWordChar(text[at + word.size()]);
        if (before && after)
            return true;
    }
    return false;
}

} // namespace

BOOST_AUTO_TEST_SUITE(audit_schema)

BOOST_AUTO_TEST_CASE(every_event_reads_back_equal_in_both_forms) {
    report::LineParser parser;
    std::set<std::string> lineKeysSeen, jsonKeysSeen;
    for (const auto& e : events()) {
        const std::string listener =
            std::string(e.listener) + (e.listenerPort ? "/" + std::to_string(*e.listenerPort) : "");
        report::Record got;

        const std::string line = auditLine(e);
        BOOST_TEST((parser.parseSyslog(line, got) == report::LineKind::Audit), line);
        compare("line", line, got, expected(e, false), listener);
        // And as syslog writes it, with date, host and tag.
        const std::string logged = "Nov 24 11:22:39 mx rfc8314-milter[42]: " + line;
        BOOST_TEST((parser.parseSyslog(logged, got) == report::LineKind::Audit), logged);
        auto want = expected(e, false);
        want.when = report::civilTime(1970, 11, 24, 11, 22, 39);
        compare("syslog", logged, got, want, listener);

        const std::string json = auditJson(e);
        BOOST_TEST((parser.parseJson(json, got) == report::LineKind::Audit), json);
        compare("json", json, got, expected(e, true), listener);

        for (const auto& f : kAuditLineFields)
            if (line.find(", " + std::string(f.name) + "=") != std::string::npos ||
                line.find(": " + std::string(f.name) + "=") != std::string::npos ||
                line.rfind(std::string(f.name) + "=", 0) == 0)
                lineKeysSeen.insert(std::string(f.name));
        for (const auto& f : kAuditJsonFields)
            if (json.find("\"" + std::string(f.name) + "\":") != std::string::npos)
                jsonKeysSeen.insert(std::string(f.name));
    }
    // Every key of the schema was written by some event above, so each was
    // read back at least once.
    for (const auto& f : kAuditLineFields)
        BOOST_TEST(lineKeysSeen.count(std::string(f.name)) == 1u, "line key never written: " << f.name);
    for (const auto& f : kAuditJsonFields)
        BOOST_TEST(jsonKeysSeen.count(std::string(f.name)) == 1u, "JSON key never written: " << f.name);
}

// The keys come out in the schema's order, Always ones on every event.
BOOST_AUTO_TEST_CASE(keys_are_written_in_schema_order) {
    for (const auto& e : events()) {
        const std::string line = auditLine(e);
        std::size_t at = 0;
        for (const auto& f : kAuditLineFields) {
            const auto pos = line.find(std::string(f.name) + "=", at);
            if (f.when == AuditWhen::Always)
                BOOST_TEST(pos != std::string::npos, line << ": no " << f.name);
            if (pos != std::string::npos && (pos == 0 || line[pos - 1] == ' '))
                at = pos;
        }
        const std::string json = auditJson(e);
        at = 0;
        for (const auto& f : kAuditJsonFields) {
            const auto pos = json.find("\"" + std::string(f.name) + "\":", at);
            if (f.when == AuditWhen::Always)
                BOOST_TEST(pos != std::string::npos, json << ": no " << f.name << " after " << at);
            if (f.when == AuditWhen::Failure)
                BOOST_TEST((pos != std::string::npos) == e.stage.has_value(), json << ": " << f.name);
            if (pos != std::string::npos)
                at = pos;
        }
    }
}

BOOST_AUTO_TEST_CASE(lookups_answer_the_schema_and_nothing_else) {
    for (const auto& f : kAuditLineFields)
        BOOST_TEST((auditLineKey(f.name) == f.key), f.name);
    for (const auto& f : kAuditJsonFields)
        BOOST_TEST((auditJsonKey(f.name) == f.key), f.name);
    for (std::string_view unknown : {"", "USER", "users", "client_addr", "time"})
        BOOST_TEST((auditLineKey(unknown) == AuditKey::Count), unknown);
    for (std::string_view unknown : {"", "client", "hostname", "verdict "})
        BOOST_TEST((auditJsonKey(unknown) == AuditKey::Count), unknown);
}

// Every key of both forms is named in rfc8314-milter(8)'s LOGGING section:
// a line key as "key=", a JSON key as a word of the JSON paragraph.
BOOST_AUTO_TEST_CASE(every_schema_key_is_in_the_man_page) {
    const auto man = readFile("man/rfc8314-milter.8");
    BOOST_REQUIRE(!man.empty());
    const auto section = manSection(man, "LOGGING");
    BOOST_REQUIRE(!section.empty());
    for (const auto& f : kAuditLineFields)
        BOOST_TEST(section.find(std::string(f.name) + "=") != std::string::npos,
                   "line key " << f.name << "= not in man/rfc8314-milter.8 LOGGING");
    const auto jsonAt = section.find(".BR audit_file");
    BOOST_REQUIRE(jsonAt != std::string::npos);
    const std::string_view jsonPart = std::string_view(section).substr(jsonAt);
    for (const auto& f : kAuditJsonFields)
        BOOST_TEST(hasWord(jsonPart, f.name),
                   "JSON key " << f.name << " not in the JSON paragraph of man/rfc8314-milter.8 LOGGING");
}

// The session writes its audit events through the schema: its line and
// JSON are the writers' for the facts it holds.
// A session writes the line's head once (auditLineHead) and hands it to
// every line of the connection: the line must be the one the facts would
// give.
BOOST_AUTO_TEST_CASE(cached_head_gives_the_same_line) {
    for (const auto& e : events()) {
        const std::string want = auditLine(e);
        AuditEvent cached = e;
        const std::string connection = auditLineHead(e);
        cached.lineHead = connection;
        BOOST_TEST(auditLine(cached) == want, "got " << auditLine(cached) << " want " << want);
        BOOST_TEST(want.find(connection) != std::string::npos, want << " lacks " << connection);
    }
}

// The cached fields follow the facts: a line after the connection's TLS
// facts changed (STARTTLS, then EHLO) states the new ones, and a new
// connection on the same Session its own client.
BOOST_AUTO_TEST_CASE(session_restates_the_connection_when_its_facts_change) {
    MapMacros mac;
    auto auditOf = [](const Decision& d) {
        for (const auto& l : d.logs)
            if (!l.summary.verdict.empty())
                return l.line;
        return std::string();
    };
    Config cfg;
    Session s(std::make_shared<const Config>(cfg));
    mac.m = {{"{daemon_port}", "25"}, {"{client_addr}", "192.0.2.10"}, {"{client_port}", "50123"}};
    s.onConnect(mac, "laptop.example", "192.0.2.10");
    s.onHelo(mac, "laptop");
    Clock c;
    c.now = 1732443759;
    mac.m["{auth_authen}"] = "alice";
    mac.m["{auth_type}"] = "PLAIN";
    mac.m["i"] = "Q1";
    const std::string first = auditOf(s.onMailFrom(mac, "<a@example.org>", c));
    BOOST_TEST(first.find("tls=none") != std::string::npos, first);
    mac.m = {{"{tls_version}", "TLSv1.3"}, {"{cipher}", "TLS_AES_128_GCM_SHA256"}, {"{cipher_bits}", "128"}};
    s.onHelo(mac, "laptop");
    mac.m["{auth_authen}"] = "alice";
    mac.m["{auth_type}"] = "PLAIN";
    mac.m["i"] = "Q2";
    const std::string second = auditOf(s.onMailFrom(mac, "<a@example.org>", c));
    BOOST_TEST(second.find("tls=TLSv1.3, cipher=TLS_AES_128_GCM_SHA256") != std::string::npos, second);
    BOOST_TEST(second.find("client=laptop.example[192.0.2.10]:50123") != std::string::npos, second);
    // Another user on the same connection: a head of its own.
    mac.m["{auth_authen}"] = "carol";
    mac.m["{auth_type}"] = "LOGIN";
    mac.m["i"] = "Q2b";
    const std::string other = auditOf(s.onMailFrom(mac, "<c@example.org>", c));
    BOOST_TEST(other.find("Q2b: user=carol, mech=LOGIN, tls=TLSv1.3") == 0u, other);
    mac.m = {{"{daemon_port}", "25"}, {"{client_addr}", "198.51.100.7"}, {"{client_port}", "40000"},
             {"{auth_authen}", "bob"}, {"{auth_type}", "PLAIN"}, {"i", "Q3"}};
    s.onConnect(mac, "other.example", "198.51.100.7");
    const std::string third = auditOf(s.onMailFrom(mac, "<b@example.org>", c));
    BOOST_TEST(third.find("client=other.example[198.51.100.7]:40000") != std::string::npos, third);
}

BOOST_AUTO_TEST_CASE(session_writes_through_the_schema) {
    MapMacros mac;
    mac.m = {{"{daemon_port}", "587"}, {"{tls_version}", "TLSv1.3"},
             {"{cipher}", "TLS_AES_128_GCM_SHA256"}, {"{cipher_bits}", "128"},
             {"{auth_authen}", "alice"}, {"{auth_type}", "PLAIN"}, {"i", "4XyZ1"},
             {"{client_addr}", "192.0.2.10"}, {"{client_port}", "50123"}};
    Session s(std::make_shared<const Config>());
    s.setAuditJson(true);
    s.onConnect(mac, "laptop.example", "192.0.2.10");
    s.onHelo(mac, "laptop");
    Clock c;
    c.now = 1732443759;
    auto d = s.onMailFrom(mac, "<a@example.org>", c);
    auto eom = s.onEndOfMessage(mac, c);
    d.logs.insert(d.logs.end(), eom.logs.begin(), eom.logs.end());
    const LogEvent* a = nullptr;
    for (const auto& l : d.logs)
        if (!l.summary.verdict.empty())
            a = &l;
    BOOST_REQUIRE(a);
    report::LineParser parser;
    report::Record got;
    BOOST_TEST((parser.parseSyslog(a->line, got) == report::LineKind::Audit), a->line);
    BOOST_TEST(got.user == "alice");
    BOOST_TEST(got.cipher == "TLS_AES_128_GCM_SHA256");
    BOOST_TEST(got.verdict == a->summary.verdict);
    BOOST_TEST((parser.parseJson(a->json, got) == report::LineKind::Audit), a->json);
    BOOST_TEST(got.user == "alice");
    BOOST_TEST(got.queueId == "4XyZ1");
    BOOST_TEST(got.verdict == a->summary.verdict);
}

BOOST_AUTO_TEST_SUITE_END()
