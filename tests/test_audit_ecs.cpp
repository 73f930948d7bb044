// test_audit_ecs.cpp — audit_format = ecs: the ECS writer (audit_ecs.cpp)
// and the report's ECS reader (report/engine/ecs_line.cpp).
//
// The same transaction is run through two Sessions, one writing native
// JSON and one ECS; the report's reader must make the same Record of both
// (every field it has), for every kind of TLS, cleartext, a refusal, an
// exemption window and an internal error.  Hostile values (user, the MTA's
// {j}) stay one line of valid JSON; ECS types hold (a client address that
// is not an IP never lands in source.ip); dotted keys read like nested
// objects; another program's ECS event is Foreign, broken JSON Damaged.
#include <boost/test/unit_test.hpp>

#include <string>
#include <vector>

#include "rfc8314/audit_ecs.hpp"
#include "rfc8314/config.hpp"
#include "rfc8314/session.hpp"
#include "engine/record.hpp"

using namespace rfc8314;
using namespace rfc8314::report;

namespace {

std::shared_ptr<const Config> config(const std::string& text) {
    auto r = parseConfig(text, "test.conf");
    BOOST_TEST_REQUIRE(r.config != nullptr, (r.errors.empty() ? "" : r.errors.front().str()));
    return r.config;
}

struct Case {
    const char* name;
    std::vector<std::pair<const char*, const char*>> connect, tls, mail;
    bool fail = false; // an internal error at MAIL
};

// Every audit event's JSON of the transaction, under `format`.
std::vector<std::string> events(const Case& c, const std::string& format) {
    Session s(config("audit_file = /dev/null\naudit_format = " + format + "\nexceptions_file = \n"));
    MacroMap con, tls, mail;
    for (const auto& [k, v] : c.connect) con.set(k, v);
    for (const auto& [k, v] : c.tls) tls.set(k, v);
    for (const auto& [k, v] : c.mail) mail.set(k, v);
    Clock clock;
    clock.now = 1795507501;
    std::vector<Decision> ds;
    ds.push_back(s.onConnect(con, "client.example", ""));
    ds.push_back(s.onHelo(tls, "client.example"));
    if (c.fail)
        ds.push_back(s.onFailure(Stage::Mail, "test: \"boom\"\n", clock.now));
    else
        ds.push_back(s.onMailFrom(mail, "<a@example.org>", clock));
    ds.push_back(s.onEndOfMessage(mail, clock));
    ds.push_back(s.onClose());
    std::vector<std::string> out;
    for (const auto& d : ds)
        for (const auto& e : d.logs)
            if (!e.json.empty())
                out.push_back(e.json);
    return out;
}

// A Record as text, every field, for got/want messages.
std::string show(const Record& r) {
    auto o = [](std::optional<int> b) { return b ? std::to_string(*b) : std::string("-"); };
    return "when=" + std::to_string(r.when) + " q=" + std::string(r.queueId) + " host=" + std::string(r.host) +
           " user=" + std::string(r.user) + " mech=" + std::string(r.mech) + " tls=" + std::string(r.tls) +
           " cipher=" + std::string(r.cipher) + " group=" + std::string(r.group) + " bits=" + o(r.bits) +
           " client=" + std::string(r.client) + " listener=" + std::string(r.listener) +
           " verdict=" + std::string(r.verdict) + " reason=" + std::string(r.reason) +
           " exempt=" + std::string(r.exemptUntil) + " bucket=" + std::to_string(r.bucket) +
           " auth=" + std::to_string(r.authenticated) + " clear=" + std::to_string(r.cleartextAuth);
}

std::string parsed(const std::string& line, LineKind& kind) {
    LineParser p;
    Record r;
    kind = p.parseJson(line, r);
    return kind == LineKind::Audit ? show(r) : std::string();
}

const std::vector<std::pair<const char*, const char*>> k587 = {
    {"{daemon_port}", "587"}, {"{client_addr}", "192.0.2.10"}, {"{client_port}", "50123"},
    {"{client_name}", "laptop.example"}, {"j", "mx1.example"}};
const std::vector<std::pair<const char*, const char*>> kAlice = {
    {"{auth_type}", "PLAIN"}, {"{auth_authen}", "alice"}, {"i", "4XyZ1"}};

} // namespace

BOOST_AUTO_TEST_SUITE(audit_ecs)

BOOST_AUTO_TEST_CASE(report_reads_ecs_as_it_reads_native) {
    const std::vector<Case> cases = {
        {"tls13", k587, {{"{tls_version}", "TLSv1.3"}, {"{cipher}", "TLS_AES_256_GCM_SHA384"}, {"{cipher_bits}", "256"}}, kAlice},
        {"tls12", k587, {{"{tls_version}", "TLSv1.2"}, {"{cipher}", "ECDHE-RSA-AES128-GCM-SHA256"}, {"{cipher_bits}", "128"}}, kAlice},
        {"tls10 refused", k587, {{"{tls_version}", "TLSv1"}, {"{cipher}", "AES128-SHA"}, {"{cipher_bits}", "128"}}, kAlice},
        {"sslv3 refused", k587, {{"{tls_version}", "SSLv3"}, {"{cipher}", "AES128-SHA"}, {"{cipher_bits}", "128"}}, kAlice},
        {"raw version", k587, {{"{tls_version}", "TLSv1/SSLv3"}, {"{cipher}", "AES256-SHA"}, {"{cipher_bits}", "256"}}, kAlice},
        {"bits unknown", k587, {{"{tls_version}", "TLSv1.3"}, {"{cipher}", "TLS_AES_128_GCM_SHA256"}}, kAlice},
        {"null cipher", k587, {{"{tls_version}", "TLSv1.2"}, {"{cipher}", "NULL-SHA256"}, {"{cipher_bits}", "0"}}, kAlice},
        {"cipher not understood", k587, {{"{tls_version}", "TLSv1.2"}, {"{cipher}", "NO-SUCH"}, {"{cipher_bits}", "128"}}, kAlice},
        {"cleartext", k587, {}, kAlice},
        {"unauthenticated, refused", {{"{daemon_port}", "587"}, {"{client_addr}", "198.51.100.7"}}, {}, {{"i", "Q2"}}},
        {"ipv6 and no name", {{"{daemon_port}", "465"}, {"{client_addr}", "IPv6:2001:db8::10"}},
         {{"{tls_version}", "TLSv1.3"}, {"{cipher}", "TLS_AES_256_GCM_SHA384"}, {"{cipher_bits}", "256"}}, kAlice},
        {"address not an IP", {{"{daemon_port}", "587"}, {"{client_addr}", "localhost"}}, {}, kAlice},
        {"no listener port", {{"{client_addr}", "192.0.2.1"}}, {}, kAlice},
        {"hostile user and host", {{"{daemon_port}", "587"}, {"{client_addr}", "192.0.2.9"}, {"j", "mx\"\n\x01\xff"}},
         {{"{tls_version}", "TLSv1.3"}, {"{cipher}", "TLS_AES_256_GCM_SHA384"}, {"{cipher_bits}", "256"}},
         {{"{auth_type}", "PLAIN"}, {"{auth_authen}", "a\"b\\c\nd\x7f\xc3"}, {"i", "Q3"}}},
        {"internal error", k587, {{"{tls_version}", "TLSv1.3"}, {"{cipher}", "TLS_AES_256_GCM_SHA384"}, {"{cipher_bits}", "256"}}, kAlice, true},
    };
    for (const auto& c : cases) {
        const auto native = events(c, "native"), ecs = events(c, "ecs");
        BOOST_TEST(!native.empty(), c.name << ": no audit event at all");
        BOOST_TEST(native.size() == ecs.size(), c.name << ": got " << ecs.size() << " ECS events, want " << native.size());
        for (std::size_t i = 0; i < native.size() && i < ecs.size(); ++i) {
            BOOST_TEST(ecs[i].find('\n') == std::string::npos, c.name << ": a newline in " << ecs[i]);
            LineKind kn, ke;
            const std::string want = parsed(native[i], kn), got = parsed(ecs[i], ke);
            BOOST_TEST((kn == LineKind::Audit), c.name << ": native line not read: " << native[i]);
            BOOST_TEST((ke == LineKind::Audit), c.name << ": ECS line not read: " << ecs[i]);
            BOOST_TEST(got == want, c.name << ":\n got  " << got << "\n want " << want << "\n from " << ecs[i]);
        }
    }
}

BOOST_AUTO_TEST_CASE(ecs_types_hold) {
    AuditEvent v;
    v.time = 0;
    v.host = "mx1";
    v.verdict = "accept";
    v.listener = "submission";
    v.clientAddr = "localhost"; // an MTA may pass a name: source.ip is an `ip` field
    const std::string j = ecsAuditJson(v);
    BOOST_TEST(j.find("\"source\":{}") != std::string::npos, j);
    BOOST_TEST(j.find("\"client_addr\":\"localhost\"") != std::string::npos, j);
    BOOST_TEST(j.find("\"@timestamp\":\"1970-01-01T00:00:00Z\"") == 1, j);
    v.clientAddr = "2001:db8::10";
    v.verdict = "tempfail";
    v.stage = Stage::Mail;
    v.answered = "mail";
    v.error = "x";
    const std::string f = ecsAuditJson(v);
    for (const char* want : {"\"source\":{\"ip\":\"2001:db8::10\"}", "\"type\":[\"denied\",\"error\"]",
                             "\"outcome\":\"failure\"", "\"error\":{\"message\":\"x\"}", "\"tls\":{\"established\":false}"})
        BOOST_TEST(f.find(want) != std::string::npos, "want " << want << " in " << f);
}

BOOST_AUTO_TEST_CASE(dotted_foreign_damaged) {
    const std::string nested =
        R"({"@timestamp":"2026-11-24T08:05:01Z","event":{"action":"accept","category":["network"]},)"
        R"("host":{"name":"mx1"},"user":{"name":"alice"},"source":{"ip":"192.0.2.10"},)"
        R"("destination":{"port":587},"tls":{"established":true,"version":"1.2","version_protocol":"tls",)"
        R"("cipher":"TLS_X"},"rfc8314":{"listener":"submission","authenticated":true,"mech":"PLAIN","bits":128}})";
    const std::string dotted =
        R"({"@timestamp":"2026-11-24T08:05:01Z","event.action":"accept","event.category":["network"],)"
        R"("host.name":"mx1","user.name":"alice","source.ip":"192.0.2.10","destination.port":587,)"
        R"("tls.established":true,"tls.version":"1.2","tls.version_protocol":"tls","tls.cipher":"TLS_X",)"
        R"("rfc8314.listener":"submission","rfc8314.authenticated":true,"rfc8314.mech":"PLAIN","rfc8314.bits":128})";
    LineKind k1, k2, k;
    const std::string a = parsed(nested, k1), b = parsed(dotted, k2);
    BOOST_TEST((k1 == LineKind::Audit && k2 == LineKind::Audit));
    BOOST_TEST(a == b, "nested: " << a << "\ndotted: " << b);
    BOOST_TEST(a.find("tls=TLSv1.2 cipher=TLS_X group=unknown bits=128 client=192.0.2.10 listener=submission/587") !=
                   std::string::npos, a);
    parsed(R"({"@timestamp":"2026-11-24T08:05:01Z","event":{"action":"login"},"user":{"name":"x"}})", k);
    BOOST_TEST((k == LineKind::Foreign), "another program's ECS event is Foreign");
    parsed(R"({"@timestamp":"2026-11-24T08:05:01Z","event":{"action":"accept"},"rfc8314":{"listener":)", k);
    BOOST_TEST((k == LineKind::Damaged), "a truncated event is Damaged");
    parsed(R"({"@timestamp":"x","event":{"action":"accept"},"rfc8314":{}})", k);
    BOOST_TEST((k == LineKind::Damaged), "a bad @timestamp is Damaged");
    std::string deep = R"({"@timestamp":"2026-11-24T08:05:01Z","rfc8314":)";
    for (int i = 0; i < 10000; ++i) deep += "[";
    parsed(deep, k);
    BOOST_TEST((k == LineKind::Damaged), "deep nesting is Damaged, not a stack overflow");
}

BOOST_AUTO_TEST_SUITE_END()
