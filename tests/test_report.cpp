// test_report.cpp — rfc8314-report's reading and folding of audit lines:
// every line shape the milter writes is read back exactly, foreign and
// damaged lines are told apart and never fatal, values escaped by
// escapeLogValue come back byte for byte, years are assigned across a
// Dec->Jan rollover, the what-if decides as the milter's evaluate() does
// (unknown bits and 0 bits included), and every spelling of one client
// address is one client.
#include <boost/test/unit_test.hpp>

#include <algorithm>
#include <fstream>
#include <iterator>
#include <map>
#include <optional>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "rfc8314/logfmt.hpp"
#include "rfc8314/policy.hpp"
#include "engine/exceptions_out.hpp"
#include "engine/notices.hpp"
#include "engine/record.hpp"
#include "engine/scan.hpp"
#include "engine/tables.hpp"

using namespace rfc8314;
using namespace rfc8314::report;

namespace rfc8314::report {
std::ostream& operator<<(std::ostream& o, LineKind k) {
    static const char* names[] = {"Audit", "Foreign", "Other", "Damaged"};
    return o << names[static_cast<int>(k)];
}
} // namespace rfc8314::report

namespace {

const std::string kMsg =
    "4XyZ1: user=alice, mech=PLAIN, tls=TLSv1.2, cipher=TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256, "
    "group=x25519, bits=128, client=laptop.example[192.0.2.10]:50123, listener=submission/587, "
    "verdict=accept";

struct Parsed {
    LineKind kind;
    CivilTime when = -1;
    std::string queueId, user, mech, tls, cipher, group, client, listener, verdict, reason, exempt;
    std::optional<int> bits;
    int bucket = -1;
    bool authenticated = false, cleartext = false;
};

Parsed parse(const std::string& line, bool json = false, YearRule years = {2024, 12}) {
    LineParser p;
    p.setYearRule(years);
    Record r;
    Parsed o;
    o.kind = json ? p.parseJson(line, r) : p.parseSyslog(line, r);
    if (o.kind != LineKind::Audit)
        return o;
    o.when = r.when;
    o.queueId = std::string(r.queueId);
    o.user = std::string(r.user);
    o.mech = std::string(r.mech);
    o.tls = std::string(r.tls);
    o.cipher = std::string(r.cipher);
    o.group = std::string(r.group);
    o.client = std::string(r.client);
    o.listener = std::string(r.listener);
    o.verdict = std::string(r.verdict);
    o.reason = std::string(r.reason);
    o.exempt = std::string(r.exemptUntil);
    o.bits = r.bits;
    o.bucket = r.bucket;
    o.authenticated = r.authenticated;
    o.cleartext = r.cleartextAuth;
    return o;
}

// Feed lines (syslog) to an aggregator as the command does.
void feed(Aggregator& a, const std::vector<std::string>& lines, YearRule years = {2024, 12}) {
    LineParser p;
    p.setYearRule(years);
    Record r;
    for (const auto& l : lines) {
        ++a.counts.lines;
        switch (p.parseSyslog(l, r)) {
        case LineKind::Audit: a.add(r); break;
        case LineKind::Foreign: ++a.counts.foreign; break;
        case LineKind::Other: ++a.counts.other; break;
        case LineKind::Damaged: ++a.counts.damaged; break;
        }
    }
}

// An audit line as the milter writes it; `bits` as spelt on the line
// ("128", "0", "unknown", "none").
std::string auditSpelt(const std::string& user, const std::string& tls, const std::string& cipher,
                       const std::string& bits, const std::string& verdict, const std::string& extra = "",
                       const std::string& stamp = "Nov 24 11:22:39", const std::string& addr = "192.0.2.10") {
    LogLine l("Q1");
    l.add("user", user).add("mech", user == "none" ? "none" : "PLAIN").add("tls", tls).add("cipher", cipher)
        .add("group", tls == "none" ? "none" : "x25519").add("bits", bits)
        .add("client", "h.example[" + addr + "]:1").add("listener", "submission/587").add("verdict", verdict);
    return stamp + " mx rfc8314-milter[1]: " + l.str() + extra;
}

std::string audit(const std::string& user, const std::string& tls, const std::string& cipher, int bits,
                  const std::string& verdict, const std::string& extra = "",
                  const std::string& stamp = "Nov 24 11:22:39", const std::string& addr = "192.0.2.10") {
    return auditSpelt(user, tls, cipher, std::to_string(bits), verdict, extra, stamp, addr);
}

} // namespace

BOOST_AUTO_TEST_SUITE(report)

BOOST_AUTO_TEST_CASE(unescape_round_trip) {
    const std::vector<std::string> values = {
        "alice", "", "two words", "alice, verdict=accept", "quote\"d", "back\\slash",
        "line\nbreak\r\tTab", std::string("nul\0byte", 8), "\x01\x1f\x7f", "\xc3\xa9t\xc3\xa9",
        "\xff\xfe", "a=b", "x\\x41", "\"", "\\"};
    for (const auto& v : values) {
        const std::string written = escapeLogValue(v);
        std::string back;
        BOOST_TEST_CONTEXT("value written as " << written) {
            BOOST_TEST(unescapeLogValue(written, back));
            BOOST_TEST(back == v);
        }
    }
    // Every byte value, as one value.
    std::string all;
    for (int c = 0; c < 256; ++c)
        all += static_cast<char>(c);
    std::string back;
    BOOST_TEST(unescapeLogValue(escapeLogValue(all), back));
    BOOST_TEST(back == all);
}

BOOST_AUTO_TEST_CASE(unescape_rejects_malformed) {
    for (const std::string bad : {"\"open", "\"bad\\q\"", "\"short\\x4\"", "\"hex\\xzz\"", "\"in\"side\"",
                                  "\"trailing\\\"", "\""}) {
        std::string out;
        BOOST_TEST(!unescapeLogValue(bad, out), bad);
    }
}

BOOST_AUTO_TEST_CASE(syslog_good_lines) {
    const auto p = parse("Nov 24 11:22:39 host rfc8314-milter[123]: " + kMsg);
    BOOST_REQUIRE(p.kind == LineKind::Audit);
    BOOST_TEST(p.when == civilTime(2024, 11, 24, 11, 22, 39));
    BOOST_TEST(p.queueId == "4XyZ1");
    BOOST_TEST(p.user == "alice");
    BOOST_TEST(p.mech == "PLAIN");
    BOOST_TEST(p.tls == "TLSv1.2");
    BOOST_TEST(p.cipher == "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256");
    BOOST_TEST(p.group == "x25519");
    BOOST_TEST((p.bits == 128));
    BOOST_TEST(p.client == "192.0.2.10");
    BOOST_TEST(p.listener == "submission/587");
    BOOST_TEST(p.verdict == "accept");
    BOOST_TEST(p.reason == "");
    BOOST_TEST(p.authenticated);
    BOOST_TEST(!p.cleartext);

    // Space-padded day, no queue id, every optional key.
    const auto q = parse("Dec  4 01:02:03 host rfc8314-milter[9]: user=bob, mech=LOGIN, tls=none, "
                         "cipher=none, group=none, bits=0, client=unknown[2001:db8::1]:25, "
                         "listener=submission/587, verdict=reject, reason=cleartext, bucket=37, "
                         "exempt_until=2027-01-31, cleartext_auth=yes");
    BOOST_REQUIRE(q.kind == LineKind::Audit);
    BOOST_TEST(q.when == civilTime(2024, 12, 4, 1, 2, 3));
    BOOST_TEST(q.queueId == "");
    BOOST_TEST(q.client == "2001:db8::1");
    BOOST_TEST(q.reason == "cleartext");
    BOOST_TEST(q.bucket == 37);
    BOOST_TEST(q.exempt == "2027-01-31");
    BOOST_TEST(q.cleartext);

    // RFC 3339 stamps (rsyslog on Debian 12, journalctl -o short-iso).
    const auto r = parse("2025-01-02T03:04:05.123456+01:00 host rfc8314-milter[1]: " + kMsg);
    BOOST_REQUIRE(r.kind == LineKind::Audit);
    BOOST_TEST(r.when == civilTime(2025, 1, 2, 3, 4, 5));
    BOOST_TEST(parse("2025-01-02T03:04:05+0100 host rfc8314-milter[1]: " + kMsg).kind == LineKind::Audit);
    BOOST_TEST(parse("2025-01-02T03:04:05Z host rfc8314-milter[1]: " + kMsg).kind == LineKind::Audit);

    // The milter's stderr and journalctl -o cat: no date.
    const auto s = parse("rfc8314-milter[123]: " + kMsg);
    BOOST_REQUIRE(s.kind == LineKind::Audit);
    BOOST_TEST(s.when == -1);
    const auto c = parse(kMsg);
    BOOST_REQUIRE(c.kind == LineKind::Audit);
    BOOST_TEST(c.user == "alice");
    BOOST_TEST(parse(kMsg.substr(7)).kind == LineKind::Audit); // "user=..." without queue id
    BOOST_TEST(parse("Nov 24 11:22:39 host rfc8314-milter[1]: " + kMsg + "\r").kind == LineKind::Audit);
    // A key from a newer milter is skipped.
    BOOST_TEST(parse(kMsg + ", future_key=42").kind == LineKind::Audit);
    // Unauthenticated refusal.
    const auto u = parse("Nov 24 11:22:39 h rfc8314-milter[1]: user=none, mech=none, tls=none, cipher=none, "
                         "group=none, bits=0, client=x[192.0.2.9], listener=submission/587, "
                         "verdict=reject, reason=cleartext");
    BOOST_REQUIRE(u.kind == LineKind::Audit);
    BOOST_TEST(!u.authenticated);
}

// Every timestamp shape syslog daemons and journalctl write in front of
// the tag, as a table: the prefix, and the date it must give (-1: the line
// is not taken for ours, it is Foreign).
BOOST_AUTO_TEST_CASE(timestamp_shapes) {
    struct Case {
        std::string prefix;
        CivilTime want;
    };
    const CivilTime t = civilTime(2024, 11, 24, 11, 22, 39);
    const std::vector<Case> cases = {
        // rsyslog/syslog-ng traditional, journalctl -o short
        {"Nov 24 11:22:39 host ", t},
        {"Nov  4 11:22:39 host ", civilTime(2024, 11, 4, 11, 22, 39)},
        {"Nov 24 11:22:39 ", t}, // no host name
        // journalctl -o short-precise
        {"Nov 24 11:22:39.123456 host ", t},
        {"Nov 24 11:22:39. host ", t},
        // RFC 3339: rsyslog on Debian 12, journalctl -o short-iso, short-iso-precise
        {"2024-11-24T11:22:39+0100 host ", t},
        {"2024-11-24T11:22:39.123456+01:00 host ", t},
        {"2024-11-24T11:22:39Z host ", t},
        {"2024-11-24 11:22:39 host ", t},
        // journalctl -o short-full
        {"Sun 2024-11-24 11:22:39 CET host ", t},
        {"Sun 2024-11-24 11:22:39 +03 host ", t},
        // journalctl -o short-unix (UTC)
        {"1732447359.123456 host ", civilTime(2024, 11, 24, 11, 22, 39)},
        // not dates: the line is then not a syslog line of ours
        {"Nov 24 11:22:39.12x host ", -1},
        {"Nov 24 25:22:39 host ", -1},
        {"Nov 31 11:22:39 host ", -1},
        {"Sun 2024-11-24 11:22:39 host ", t},   // no zone, but a host: still read
        {"Sun 2024-11-24 11:22:39 ", -1},       // neither zone nor host
        {"Sun 2024-13-24 11:22:39 CET host ", -1},
        {"Xyz 2024-11-24 11:22:39 CET host ", -1},
        {"1732447359 host ", -1},               // no fraction: just a number
        {"17324.5 host ", -1},                  // too short for an epoch
        {"2024-11-24T11:22:39+0100host ", -1},
    };
    for (const auto& c : cases) {
        const auto p = parse(c.prefix + "rfc8314-milter[1]: " + kMsg);
        BOOST_TEST_CONTEXT("prefix '" << c.prefix << "'") {
            if (c.want < 0) {
                BOOST_TEST(p.kind == LineKind::Foreign);
            } else {
                BOOST_TEST(p.kind == LineKind::Audit);
                BOOST_TEST(p.when == c.want);
                BOOST_TEST(p.user == "alice");
            }
        }
    }
}

BOOST_AUTO_TEST_CASE(syslog_quoted_values) {
    const std::vector<std::string> users = {"j doe", "evil, verdict=accept", "tab\there", "quo\"te",
                                            "\xc3\xa9l\xc3\xa8ve", std::string("n\0l", 3), "line\nbreak"};
    for (const auto& u : users) {
        LogLine l("Q");
        l.add("user", u).add("mech", "PLAIN").add("tls", "TLSv1.3").add("cipher", "TLS_AES_128_GCM_SHA256")
            .add("group", "x25519").add("bits", 128).add("client", "we ird[192.0.2.1]:2")
            .add("listener", "submission/587").add("verdict", "accept");
        const auto p = parse("Nov 24 11:22:39 host rfc8314-milter[1]: " + l.str());
        BOOST_TEST_CONTEXT(l.str()) {
            BOOST_REQUIRE(p.kind == LineKind::Audit);
            BOOST_TEST(p.user == u);
            BOOST_TEST(p.client == "192.0.2.1");
            BOOST_TEST(p.verdict == "accept");
        }
    }
}

BOOST_AUTO_TEST_CASE(foreign_other_damaged) {
    struct Case {
        std::string line;
        LineKind want;
    };
    const std::vector<Case> cases = {
        {"", LineKind::Foreign},
        {"Nov 24 11:22:39 host postfix/smtpd[7]: connect from unknown[192.0.2.1]", LineKind::Foreign},
        {"Nov 24 11:22:39 host other[1]: " + kMsg, LineKind::Foreign},
        {"Nov 24 11:22:39 host rfc8314-milterX[1]: " + kMsg, LineKind::Foreign},
        {"random text", LineKind::Foreign},
        {"Feb 30 11:22:39 host rfc8314-milter[1]: " + kMsg, LineKind::Foreign},
        {"Nov 24 11:22:39 host rfc8314-milter[1]: starting (version 0.1.0)", LineKind::Other},
        {"Nov 24 11:22:39 host rfc8314-milter[1]: warning=\"AUTH succeeded\", listener=submission/587",
         LineKind::Other},
        // Truncated by syslog inside a quoted value / before verdict.
        {"Nov 24 11:22:39 host rfc8314-milter[1]: Q: user=\"j do", LineKind::Damaged},
        {"Nov 24 11:22:39 host rfc8314-milter[1]: " + kMsg.substr(0, 120), LineKind::Damaged},
        {"Nov 24 11:22:39 host rfc8314-milter[1]: " + kMsg.substr(0, kMsg.size() - 16), LineKind::Damaged},
        {"Nov 24 11:22:39 host rfc8314-milter[1]: Q: user=\"bad\\q\", mech=x", LineKind::Damaged},
        {"Nov 24 11:22:39 host rfc8314-milter[1]: Q: user=a mech=b", LineKind::Damaged},
        {"Nov 24 11:22:39 host rfc8314-milter[1]: Q: user=a, bits=12x", LineKind::Damaged},
        {"Nov 24 11:22:39 host rfc8314-milter[1]: Q: user=a", LineKind::Damaged},
    };
    for (const auto& c : cases)
        BOOST_TEST(static_cast<int>(parse(c.line).kind) == static_cast<int>(c.want), c.line);
}

BOOST_AUTO_TEST_CASE(json_lines) {
    const std::string good =
        "{\"time\":\"2024-11-24T10:22:39Z\",\"queue_id\":\"4XyZ1\",\"event\":\"auth\",\"user\":\"al\\\"ice\\u00e9\","
        "\"mech\":\"PLAIN\",\"tls\":\"TLSv1.2\",\"cipher\":\"TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256\","
        "\"group\":\"\",\"bits\":128,\"client_name\":\"laptop.example\",\"client_addr\":\"192.0.2.10\","
        "\"client_port\":50123,\"listener\":\"submission\",\"listener_port\":587,\"verdict\":\"accept\","
        "\"reason\":\"none\",\"bucket\":-1,\"exempt_until\":\"\",\"cleartext_auth\":\"no\"}";
    const auto p = parse(good, true);
    BOOST_REQUIRE(p.kind == LineKind::Audit);
    BOOST_TEST(p.when == civilTime(2024, 11, 24, 10, 22, 39));
    BOOST_TEST(p.user == "al\"ice\xc3\xa9");
    BOOST_TEST(p.group == "unknown");
    BOOST_TEST(p.listener == "submission/587");
    BOOST_TEST(p.client == "192.0.2.10");
    BOOST_TEST((p.bits == 128));
    BOOST_TEST(p.reason == "");
    BOOST_TEST(p.bucket == -1);
    BOOST_TEST(p.authenticated);

    const auto r = parse("{\"time\":\"2024-11-24T10:22:39Z\",\"event\":\"refused\",\"user\":\"\",\"mech\":\"\","
                         "\"tls\":\"none\",\"cipher\":\"\",\"bits\":0,\"client_addr\":\"192.0.2.9\","
                         "\"listener\":\"submission\",\"listener_port\":587,\"verdict\":\"reject\","
                         "\"reason\":\"cleartext\",\"cleartext_auth\":\"no\"}", true);
    BOOST_REQUIRE(r.kind == LineKind::Audit);
    BOOST_TEST(!r.authenticated);
    BOOST_TEST(r.user == "none");
    BOOST_TEST(r.cipher == "none");
    BOOST_TEST(r.reason == "cleartext");

    // The milter's own JsonLine output reads back.
    JsonLine j;
    j.add("time", "2024-11-24T10:22:39Z").add("event", "auth").add("user", "tab\there").add("mech", "PLAIN")
        .add("tls", "none").add("verdict", "reject").add("cleartext_auth", "yes").add("client_addr", "::1");
    const auto q = parse(j.str(), true);
    BOOST_REQUIRE(q.kind == LineKind::Audit);
    BOOST_TEST(q.user == "tab\there");
    BOOST_TEST(q.cleartext);

    // The JSON file given where syslog is expected: recognised by its brace.
    for (const std::string& line : {good, j.str()}) {
        const auto viaSyslog = parse(line, false);
        const auto viaJson = parse(line, true);
        BOOST_TEST(viaSyslog.kind == LineKind::Audit);
        BOOST_TEST(viaSyslog.when == viaJson.when);
        BOOST_TEST(viaSyslog.user == viaJson.user);
        BOOST_TEST(viaSyslog.listener == viaJson.listener);
        BOOST_TEST(viaSyslog.cleartext == viaJson.cleartext);
    }
    BOOST_TEST(parse("{\"event\":\"start\",\"version\":\"0.1.0\"}", false).kind == LineKind::Foreign);
    BOOST_TEST(parse("{\"user\":\"a\",\"verdict\":\"acc", false).kind == LineKind::Damaged);

    BOOST_TEST(static_cast<int>(parse("not json", true).kind) == static_cast<int>(LineKind::Foreign));
    BOOST_TEST(static_cast<int>(parse("{\"a\":1}", true).kind) == static_cast<int>(LineKind::Foreign));
    BOOST_TEST(static_cast<int>(parse("{}", true).kind) == static_cast<int>(LineKind::Foreign));
    BOOST_TEST(static_cast<int>(parse("{\"user\":\"a\",\"verdict\":\"acc", true).kind) ==
               static_cast<int>(LineKind::Damaged));
    BOOST_TEST(static_cast<int>(parse("{\"user\":\"a\",\"verdict\":{\"x\":1}}", true).kind) ==
               static_cast<int>(LineKind::Damaged));
    BOOST_TEST(static_cast<int>(parse("{\"user\":\"a\",\"verdict\":\"x\",\"time\":\"yesterday\"}", true).kind) ==
               static_cast<int>(LineKind::Damaged));
    BOOST_TEST(static_cast<int>(parse("{\"user\":\"a\\q\",\"verdict\":\"x\"}", true).kind) ==
               static_cast<int>(LineKind::Damaged));
}

BOOST_AUTO_TEST_CASE(year_rollover) {
    // A log that ends in January 2025: December lines are 2024.
    const YearRule jan{2025, 1};
    BOOST_TEST(parse("Dec 31 23:59:59 h rfc8314-milter[1]: " + kMsg, false, jan).when ==
               civilTime(2024, 12, 31, 23, 59, 59));
    BOOST_TEST(parse("Jan  1 00:00:01 h rfc8314-milter[1]: " + kMsg, false, jan).when ==
               civilTime(2025, 1, 1, 0, 0, 1));
    // Whole year given: everything in it.
    BOOST_TEST(parse("Dec 31 23:59:59 h rfc8314-milter[1]: " + kMsg, false, {2024, 12}).when ==
               civilTime(2024, 12, 31, 23, 59, 59));
    // Feb 29 exists only in leap years.
    BOOST_TEST(parse("Feb 29 12:00:00 h rfc8314-milter[1]: " + kMsg, false, {2024, 12}).kind == LineKind::Audit);
    BOOST_TEST(parse("Feb 29 12:00:00 h rfc8314-milter[1]: " + kMsg, false, {2025, 12}).kind == LineKind::Foreign);

    // Rotated files read newest first still give one ordered span.
    Aggregator a;
    feed(a, {audit("alice", "TLSv1.3", "TLS_AES_128_GCM_SHA256", 128, "accept", "", "Jan  2 08:00:00")}, jan);
    feed(a, {audit("alice", "TLSv1.3", "TLS_AES_128_GCM_SHA256", 128, "accept", "", "Dec 30 08:00:00")}, jan);
    BOOST_TEST(formatTime(a.first) == "2024-12-30 08:00:00");
    BOOST_TEST(formatTime(a.last) == "2025-01-02 08:00:00");
    BOOST_TEST(a.days.size() == 2u);
    BOOST_TEST(a.days.begin()->first == 20241230);
}

BOOST_AUTO_TEST_CASE(civil_time) {
    BOOST_TEST(civilTime(1970, 1, 1, 0, 0, 0) == 0);
    BOOST_TEST(civilTime(2000, 3, 1, 0, 0, 0) == 951868800);
    BOOST_TEST(civilDay(civilTime(2024, 2, 29, 23, 59, 59)) == 20240229);
    BOOST_TEST(formatTime(civilTime(2024, 12, 31, 1, 2, 3)) == "2024-12-31 01:02:03");
    BOOST_TEST(formatTime(-1) == "-");
    BOOST_TEST(formatTime(0) == "1970-01-01 00:00:00");
    BOOST_TEST(formatTime(civilTime(9999, 12, 31, 23, 59, 59)) == "9999-12-31 23:59:59");
    BOOST_TEST(formatTime(civilTime(10000, 1, 1, 0, 0, 0)) == "10000-01-01 00:00:00");
    BOOST_TEST(formatTime(civilTime(2024, 2, 29, 9, 5, 7)) == "2024-02-29 09:05:07");
    BOOST_TEST(formatDay(20250101) == "2025-01-01");
}

BOOST_AUTO_TEST_CASE(aggregation) {
    Aggregator a;
    feed(a, {
                audit("alice", "TLSv1.3", "TLS_AES_128_GCM_SHA256", 128, "accept", "", "Nov 24 10:00:00"),
                audit("alice", "TLSv1.2", "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256", 128, "accept", "",
                      "Nov 25 10:00:00", "192.0.2.11"),
                audit("alice", "none", "none", 0, "reject", ", reason=cleartext, cleartext_auth=yes",
                      "Nov 25 11:00:00"),
                audit("bob", "TLSv1.0", "TLS_RSA_WITH_3DES_EDE_CBC_SHA", 112, "tempfail", ", reason=tls-version",
                      "Nov 24 09:00:00"),
                audit("none", "none", "none", 0, "reject", ", reason=cleartext", "Nov 24 12:00:00"),
                "Nov 24 12:00:01 mx postfix/smtpd[3]: disconnect",
                "Nov 24 12:00:02 mx rfc8314-milter[3]: Q: user=\"trunc",
                "rfc8314-milter[3]: " + kMsg,
            });
    BOOST_TEST(a.counts.lines == 8u);
    BOOST_TEST(a.counts.audit == 6u);
    BOOST_TEST(a.counts.foreign == 1u);
    BOOST_TEST(a.counts.damaged == 1u);
    BOOST_TEST(a.counts.undated == 1u);
    BOOST_TEST(a.counts.unauthenticated == 1u);
    BOOST_TEST(a.users.size() == 2u); // alice, bob ("none" is not a user)
    const Entity& alice = a.users[a.userNames.id("alice")];
    BOOST_TEST(alice.count == 4u);
    BOOST_TEST(alice.cleartext == 1u);
    BOOST_TEST(formatTime(alice.first) == "2024-11-24 10:00:00");
    BOOST_TEST(formatTime(alice.last) == "2024-11-25 11:00:00");
    BOOST_TEST(alice.tls[static_cast<int>(TlsVersion::TLSv1_3)] == 1u);
    BOOST_TEST(alice.tls[static_cast<int>(TlsVersion::TLSv1_2)] == 2u); // one undated
    BOOST_TEST(alice.tls[static_cast<int>(TlsVersion::None)] == 1u);
    BOOST_TEST(alice.verdicts[VReject] == 1u);
    BOOST_TEST(a.clients.size() == 2u);
    const Entity& c10 = a.clients[a.clientNames.id("192.0.2.10")];
    BOOST_TEST(c10.count == 5u);
    BOOST_TEST(c10.peers().size() == 2u);
    BOOST_TEST(a.days.size() == 2u);
    BOOST_TEST(a.days.at(20241124).count == 3u);
    BOOST_TEST(a.days.at(20241124).refused[reasonIndex(PolicyReason::TlsVersion)] == 1u);
    BOOST_TEST(a.days.at(20241124).refused[reasonIndex(PolicyReason::Cleartext)] == 1u);
    BOOST_TEST(a.days.at(20241125).verdicts[VReject] == 1u);
    BOOST_TEST(a.verdictTotals[VAccept] == 3u);
    BOOST_TEST(a.cipherTotals[a.ciphers.id("none")] == 2u);
}

// The what-if is the milter's own evaluate(): for every record shape (TLS
// version known, old or unparseable; bits a number, 0, unknown or none;
// authenticated or not) and every proposed policy, the report refuses
// exactly when evaluate() on the facts the line states refuses, for the
// reason it gives.  The expected facts are built here from the table, not
// by the report's own reader, so a misread line (unknown bits taken for 0,
// 0 taken for unknown) fails.
BOOST_AUTO_TEST_CASE(what_if_is_evaluate) {
    struct Line {
        std::string tls, bits; // as spelt on the audit line
        bool auth;
        TlsVersion version;    // what the line states
        std::optional<int> factBits;
    };
    const std::vector<Line> lines = {
        {"TLSv1.3", "256", true, TlsVersion::TLSv1_3, 256},
        {"TLSv1.2", "128", true, TlsVersion::TLSv1_2, 128},
        {"TLSv1.2", "112", true, TlsVersion::TLSv1_2, 112},
        {"TLSv1.2", "0", true, TlsVersion::TLSv1_2, 0},           // NULL-SHA256: 0 is a real value
        {"TLSv1.2", "unknown", true, TlsVersion::TLSv1_2, std::nullopt},
        {"TLSv1.1", "256", true, TlsVersion::TLSv1_1, 256},
        {"TLSv1", "128", true, TlsVersion::TLSv1_0, 128},
        {"SSLv3", "128", true, TlsVersion::SSLv3, 128},
        {"tlsv1.2", "128", true, TlsVersion::TLSv1_2, 128},
        {"TLSv1.4", "256", true, TlsVersion::Unknown, 256},       // a version newer than the milter
        {"TLSv1/SSLv3", "128", true, TlsVersion::Unknown, 128}, // Sendmail on old OpenSSL
        {"unknown", "unknown", true, TlsVersion::Unknown, std::nullopt},
        {"none", "none", true, TlsVersion::None, std::nullopt},
        {"none", "0", true, TlsVersion::None, std::nullopt},      // an old milter's cleartext
        {"TLSv1.0", "0", false, TlsVersion::TLSv1_0, 0},
        {"none", "none", false, TlsVersion::None, std::nullopt},
    };
    std::vector<WhatIfPolicy> policies;
    for (bool req : {false, true})
        for (TlsVersion v : {TlsVersion::None, TlsVersion::TLSv1_2, TlsVersion::TLSv1_3})
            for (int bits : {0, 1, 128, 256}) {
                WhatIfPolicy p;
                p.requireTls = req;
                p.minTls = v;
                p.minBits = bits;
                if (p.active())
                    policies.push_back(p);
            }
    int refusals = 0;
    for (const WhatIfPolicy& p : policies) {
        for (const Line& l : lines) {
            const std::string user = l.auth ? "alice" : "none";
            Aggregator a(p);
            feed(a, {auditSpelt(user, l.tls, l.tls == "none" ? "none" : "TLS_X", l.bits, "accept")});
            BOOST_REQUIRE(a.counts.audit == 1u);
            TlsFacts tls;
            tls.version = l.version;
            tls.versionText = l.tls;
            tls.bits = l.factBits;
            AuthFacts auth;
            if (l.auth) {
                auth.type = "PLAIN";
                auth.authen = user;
            }
            PolicyInput in;
            in.tls = &tls;
            in.auth = &auth;
            const PolicyResult want = evaluate(p.listenerPolicy(), in);
            const bool refused = want.verdict != PolicyVerdict::Accept;
            refusals += refused;
            // Per user 32-bit counts (Count), the totals 64-bit.
            std::uint64_t by[RCount];
            if (l.auth)
                std::copy(std::begin(a.users[0].seldom().whatIf), std::end(a.users[0].seldom().whatIf), by);
            else
                std::copy(std::begin(a.whatIfUnauthBy), std::end(a.whatIfUnauthBy), by);
            BOOST_TEST_CONTEXT(p.str() << " on tls=" << l.tls << ", bits=" << l.bits << (l.auth ? "" : ", unauthenticated")
                               << ": evaluate() says " << toString(want.verdict) << "/" << toString(want.reason)) {
                BOOST_TEST(a.whatIfTotal == (refused ? 1u : 0u));
                BOOST_TEST(a.whatIfUnauth == (refused && !l.auth ? 1u : 0u));
                BOOST_TEST(by[RNone] == (refused && l.auth ? 1u : 0u));
                if (refused)
                    BOOST_TEST(by[reasonIndex(want.reason)] == 1u);
            }
        }
    }
    BOOST_TEST(refusals > 100); // the table does exercise refusals
    WhatIfPolicy shown;
    shown.minTls = TlsVersion::TLSv1_2;
    shown.minBits = 128;
    BOOST_TEST(shown.str() == "--min-tls TLSv1.2 --min-bits 128");
}

// Issue 12 item 4: the milter refuses NULL-SHA256 (0 bits) under a minimum
// of bits, and the report of that very log must count the refusal: 0 bits
// are 0 bits, not "unknown".
BOOST_AUTO_TEST_CASE(what_if_counts_a_null_cipher) {
    WhatIfPolicy p;
    p.minBits = 128;
    Aggregator a(p);
    feed(a, {audit("alice", "TLSv1.2", "TLS_RSA_WITH_NULL_SHA256", 0, "reject", ", reason=cipher-bits")});
    BOOST_TEST(a.whatIfTotal == 1u);
    BOOST_TEST(a.users[0].seldom().whatIf[reasonIndex(PolicyReason::CipherBits)] == 1u);
    std::ostringstream text;
    OutputOptions o;
    o.table = "whatif";
    writeText(a, o, text);
    BOOST_TEST(text.str().find("would refuse 1 of 1 transactions (100.0%) of 1 users") != std::string::npos,
               text.str());
}

// Every reason evaluate() gives has its own slot and column in the report
// (kReasons), named as the policy names it.  Fails when the policy gains a
// reason the report does not list yet.
BOOST_AUTO_TEST_CASE(evaluate_reasons_have_columns) {
    std::vector<TlsFacts> facts;
    for (TlsVersion v : {TlsVersion::None, TlsVersion::SSLv3, TlsVersion::TLSv1_0, TlsVersion::TLSv1_1,
                         TlsVersion::TLSv1_2, TlsVersion::TLSv1_3, TlsVersion::Unknown})
        for (std::optional<int> bits : {std::optional<int>(), std::optional<int>(0), std::optional<int>(56),
                                        std::optional<int>(256)}) {
            TlsFacts t;
            t.version = v;
            t.versionText = v == TlsVersion::Unknown ? "TLSv1/SSLv3" : std::string(toString(v));
            t.bits = bits;
            facts.push_back(t);
        }
    AuthFacts user;
    user.type = "PLAIN";
    user.authen = "alice";
    const AuthFacts nobody;
    const AuthFacts* const auths[] = {&user, &nobody};
    std::set<int> seen;
    for (const TlsFacts& t : facts)
        for (const AuthFacts* auth : auths) {
            WhatIfPolicy p;
            p.requireTls = true;
            p.minTls = TlsVersion::TLSv1_2;
            p.minBits = 128;
            PolicyInput in;
            in.tls = &t;
            in.auth = auth;
            const PolicyResult r = evaluate(p.listenerPolicy(), in);
            if (r.reason == PolicyReason::None)
                continue;
            const int k = reasonIndex(r.reason);
            seen.insert(k);
            BOOST_TEST(k != ROther, "evaluate() gave reason " << toString(r.reason)
                                        << ", which has no column in the report: add it to kReasons "
                                           "(report/engine/aggregate.hpp)");
            BOOST_TEST(reasonLabel(k) == toString(r.reason));
        }
    BOOST_TEST(seen.size() >= 3u);
    for (int k = 0; k < VOther; ++k)
        BOOST_TEST(verdictLabel(k) == toString(kVerdicts[k]));
    BOOST_TEST(verdictLabel(VOther) == "other");
    BOOST_TEST(reasonLabel(RNone) == "none");
    BOOST_TEST(reasonLabel(ROther) == "other");
}

// How the bits are spelt, in syslog and JSON (FORMATS.md), and what the
// record says: a number (0 included), unknown, or no TLS at all.
BOOST_AUTO_TEST_CASE(bits_spellings) {
    struct Case {
        std::string line;
        bool json;
        std::optional<int> want;
    };
    const std::string pre = "Nov 24 11:22:39 h rfc8314-milter[1]: user=a, mech=PLAIN, ";
    const std::string post = ", client=x[192.0.2.1], listener=submission/587, verdict=accept";
    const std::string jpre = "{\"event\":\"auth\",\"user\":\"a\",\"mech\":\"PLAIN\",\"client_addr\":\"192.0.2.1\","
                             "\"verdict\":\"accept\",";
    const std::vector<Case> cases = {
        {pre + "tls=TLSv1.2, cipher=X, group=x25519, bits=128" + post, false, 128},
        {pre + "tls=TLSv1.2, cipher=TLS_RSA_WITH_NULL_SHA256, group=none, bits=0" + post, false, 0},
        {pre + "tls=TLSv1.2, cipher=unknown, group=unknown, bits=unknown" + post, false, std::nullopt},
        {pre + "tls=none, cipher=none, group=none, bits=none" + post, false, std::nullopt},
        {pre + "tls=none, cipher=none, group=none, bits=0" + post, false, std::nullopt}, // old cleartext
        {jpre + "\"tls\":\"TLSv1.2\",\"bits\":256}", true, 256},
        {jpre + "\"tls\":\"TLSv1.2\",\"bits\":0}", true, 0},
        {jpre + "\"tls\":\"TLSv1.2\",\"bits\":null}", true, std::nullopt},
        {jpre + "\"tls\":\"TLSv1.2\"}", true, std::nullopt},
        {jpre + "\"tls\":\"TLSv1.2\",\"bits\":-1}", true, std::nullopt},
        {jpre + "\"tls\":\"none\",\"bits\":null}", true, std::nullopt},
        {jpre + "\"tls\":\"none\",\"bits\":0}", true, std::nullopt}, // an old milter's cleartext
    };
    for (const auto& c : cases) {
        const auto p = parse(c.line, c.json);
        BOOST_TEST_CONTEXT(c.line) {
            BOOST_REQUIRE(p.kind == LineKind::Audit);
            BOOST_TEST(p.bits.has_value() == c.want.has_value());
            BOOST_TEST(p.bits.value_or(-1) == c.want.value_or(-1));
        }
    }
    BOOST_TEST(parse(pre + "tls=TLSv1.2, cipher=X, group=x25519, bits=unknow" + post).kind == LineKind::Damaged);
    BOOST_TEST(parse(pre + "tls=TLSv1.2, cipher=X, group=x25519, bits=-1" + post).kind == LineKind::Damaged);
}

// Issue 12 item 5: one client, one canonical spelling, whatever wrote it.
BOOST_AUTO_TEST_CASE(address_spellings) {
    struct Case {
        std::string spelled, want;
    };
    const std::vector<Case> cases = {
        {"192.0.2.10", "192.0.2.10"},
        {"2001:db8::10", "2001:db8::10"},
        {"IPv6:2001:db8::10", "2001:db8::10"},           // Postfix's {client_addr}
        {"ipv6:2001:db8::10", "2001:db8::10"},           // the tag is case-blind (RFC 5321)
        {"2001:DB8::10", "2001:db8::10"},
        {"2001:0db8:0000:0000:0000:0000:0000:0010", "2001:db8::10"},
        {"2001:db8:0:0:1:0:0:1", "2001:db8::1:0:0:1"},    // the first longest run is compressed
        {"2001:db8:2d47:d2e9::0", "2001:db8:2d47:d2e9::"},
        {"::1", "::1"},
        {"IPv6:::1", "::1"},
        {"0:0:0:0:0:0:0:1", "::1"},
        {"::ffff:192.0.2.5", "::ffff:192.0.2.5"},        // IPv4-mapped stays IPv6, as inet_ntop has it
        {"IPv6:::ffff:192.0.2.5", "::ffff:192.0.2.5"},
        {"::ffff:c000:0205", "::ffff:192.0.2.5"},
        {"::192.0.2.5", "::192.0.2.5"},                   // IPv4-compatible is not IPv4-mapped
        {"::c000:205", "::192.0.2.5"},
        // Not addresses: kept as written.
        {"unknown", "unknown"},
        {"", ""},
        {"IPv6:", "IPv6:"},
        {"IPv6:192.0.2.1", "192.0.2.1"},
        {" 192.0.2.1\t", "192.0.2.1"},
        {"192.0.2.010", "192.0.2.010"},
        {"fe80::1%eth0", "fe80::1%eth0"},
        {"2001:db8::10 x", "2001:db8::10 x"},
        {std::string(200, '1'), std::string(200, '1')},
    };
    for (const auto& c : cases)
        BOOST_TEST(rfc8314::canonicalAddress(c.spelled).value_or(c.spelled) == c.want, "'" << c.spelled << "'");
}

// Old and new milters' lines for the same clients give one row per client,
// and the rows carry the canonical spelling.
BOOST_AUTO_TEST_CASE(one_row_per_client) {
    Aggregator a;
    feed(a, {
                audit("alice", "TLSv1.3", "TLS_AES_128_GCM_SHA256", 128, "accept", "", "Nov 24 10:00:00",
                      "IPv6:2001:db8::10"),
                audit("alice", "TLSv1.3", "TLS_AES_128_GCM_SHA256", 128, "accept", "", "Nov 24 10:00:01",
                      "2001:db8::10"),
                audit("bob", "TLSv1.3", "TLS_AES_128_GCM_SHA256", 128, "accept", "", "Nov 24 10:00:02",
                      "2001:DB8:0:0:0:0:0:10"),
                audit("bob", "TLSv1.3", "TLS_AES_128_GCM_SHA256", 128, "accept", "", "Nov 24 10:00:03",
                      "IPv6:2001:db8::10"),
                audit("carol", "TLSv1.3", "TLS_AES_128_GCM_SHA256", 128, "accept", "", "Nov 24 10:00:04",
                      "IPv6:192.0.2.7"),
                audit("carol", "TLSv1.3", "TLS_AES_128_GCM_SHA256", 128, "accept", "", "Nov 24 10:00:05",
                      "192.0.2.7"),
            });
    const std::string json = "{\"event\":\"auth\",\"user\":\"dave\",\"mech\":\"PLAIN\",\"tls\":\"TLSv1.3\","
                             "\"client_addr\":\"IPv6:2001:db8::10\",\"verdict\":\"accept\"}";
    LineParser p;
    Record r;
    BOOST_REQUIRE(p.parseJson(json, r) == LineKind::Audit);
    a.add(r);
    BOOST_TEST(a.clients.size() == 2u);
    BOOST_TEST(a.clientNames.find("IPv6:2001:db8::10") == Dict::kMissing);
    const std::uint32_t six = a.clientNames.find("2001:db8::10");
    BOOST_REQUIRE(six != Dict::kMissing);
    BOOST_TEST(a.clients[six].count == 5u);
    BOOST_TEST(a.clients[six].peers().size() == 3u);
    const std::uint32_t four = a.clientNames.find("192.0.2.7");
    BOOST_REQUIRE(four != Dict::kMissing);
    BOOST_TEST(a.clients[four].count == 2u);
    std::ostringstream csv;
    OutputOptions o;
    o.table = "clients";
    writeCsv(a, o, csv);
    BOOST_TEST(csv.str().find("IPv6:") == std::string::npos, csv.str());
    BOOST_TEST(csv.str().find("\r\n192.0.2.7,2,1,") != std::string::npos, csv.str());
    BOOST_TEST(csv.str().find("\r\n2001:db8::10,5,3,") != std::string::npos, csv.str());
}

BOOST_AUTO_TEST_CASE(output_shapes) {
    WhatIfPolicy q;
    q.requireTls = true;
    Aggregator a(q);
    feed(a, {
                audit("alice", "TLSv1.3", "TLS_AES_128_GCM_SHA256", 128, "accept"),
                audit("j, \"doe\"", "none", "none", 0, "reject", ", reason=cleartext, cleartext_auth=yes"),
            });
    std::ostringstream csv;
    OutputOptions o;
    o.table = "cleartext";
    writeCsv(a, o, csv);
    BOOST_TEST(csv.str() == "user,transactions,first,last\r\n\"j, \"\"doe\"\"\",1,2024-11-24 11:22:39,"
                            "2024-11-24 11:22:39\r\n");

    std::ostringstream users;
    o.table = "users";
    writeCsv(a, o, users);
    const std::string u = users.str();
    // The TLS mix (issue 16 item 4): a share per version, cleartext first.
    BOOST_TEST(u.rfind("user,transactions,first,last,tls,pct_cleartext,pct_sslv3,pct_tls1_0,pct_tls1_1,"
                       "pct_tls1_2,pct_tls1_3,pct_tls_unknown,ciphers,groups,mechs,listeners,accept,exempt,"
                       "would_reject,tempfail,reject,other,cleartext_auth,whatif_refused\r\n", 0) == 0u, u);
    BOOST_TEST(u.find("alice,1,2024-11-24 11:22:39,2024-11-24 11:22:39,TLSv1.3,0.0,0.0,0.0,0.0,0.0,100.0,0.0,"
                      "TLS_AES_128_GCM_SHA256,x25519,PLAIN,submission/587,1,0,0,0,0,0,0,0\r\n") != std::string::npos, u);
    BOOST_TEST(u.find("\"j, \"\"doe\"\"\",1,2024-11-24 11:22:39,2024-11-24 11:22:39,none,100.0,0.0,0.0,0.0,0.0,0.0,0.0,")
               != std::string::npos, u);

    std::ostringstream all;
    writeCsv(a, OutputOptions{}, all);
    BOOST_TEST(all.str().find("\r\n\r\nday,transactions,") != std::string::npos);

    std::ostringstream js;
    writeJson(a, OutputOptions{}, js);
    const std::string j = js.str();
    BOOST_TEST(j.front() == '{');
    for (const char* key : {"\"summary\":", "\"days\":", "\"ciphers\":", "\"users\":", "\"clients\":",
                            "\"cleartext\":", "\"whatif\":"})
        BOOST_TEST(j.find(key) != std::string::npos, key);
    BOOST_TEST(j.find("{\"user\":\"j, \\\"doe\\\"\",\"transactions\":1,") != std::string::npos);
    BOOST_TEST(j.find("\"policy\":{\"require_tls\":true,\"min_tls\":null,\"min_bits\":null,\"exceptions\":null,"
                      "\"as_of\":null,\"rollout_percent\":100,\"listeners\":[]}") != std::string::npos, j);
    BOOST_TEST(j.find("\"pct_cleartext\":0.0,\"pct_sslv3\":0.0,\"pct_tls1_0\":0.0,\"pct_tls1_1\":0.0,"
                      "\"pct_tls1_2\":0.0,\"pct_tls1_3\":100.0,\"pct_tls_unknown\":0.0") != std::string::npos, j);
    // Braces and brackets balance outside strings.
    int depth = 0;
    bool inString = false;
    for (std::size_t i = 0; i < j.size(); ++i) {
        if (inString) {
            if (j[i] == '\\')
                ++i;
            else if (j[i] == '"')
                inString = false;
        } else if (j[i] == '"') {
            inString = true;
        } else if (j[i] == '{' || j[i] == '[') {
            ++depth;
        } else if (j[i] == '}' || j[i] == ']') {
            BOOST_TEST(--depth >= 0);
        }
    }
    BOOST_TEST(depth == 0);

    std::ostringstream text;
    writeText(a, OutputOptions{}, text);
    const std::string t = text.str();
    BOOST_TEST(t.find("\nAUTHENTICATED OVER CLEARTEXT: password exposed, change advised\n") != std::string::npos);
    BOOST_TEST(t.find("MUST") == std::string::npos); // RFC 8314 4.1 says SHOULD, and only if compromised
    BOOST_TEST(t.find("\"j, \\\"doe\\\"\"") != std::string::npos); // escaped as the log has it
    BOOST_TEST(t.find("WHAT IF --require-tls") != std::string::npos);
    BOOST_TEST(t.find("would refuse 1 of 2 transactions (50.0%) of 1 users") != std::string::npos);
}

// A Tally keeps its first pair inline and the rest on the heap: counts and
// first-seen order must not depend on where a pair lives.
BOOST_AUTO_TEST_CASE(tally_inline_and_spilled) {
    struct Case {
        std::vector<std::uint32_t> bumps;
        Pairs want;
    };
    const std::vector<Case> cases = {
        {{}, {}},
        {{7}, {{7, 1}}},
        {{7, 7, 7}, {{7, 3}}},
        {{0, 0}, {{0, 2}}}, // id 0 is a real id, not "empty"
        {{3, 5}, {{3, 1}, {5, 1}}},
        {{3, 5, 3, 5, 5, 9}, {{3, 2}, {5, 3}, {9, 1}}},
        {{5, 3, 3, 3}, {{5, 1}, {3, 3}}},
    };
    for (const auto& c : cases) {
        Tally t;
        for (auto id : c.bumps)
            t.bump(id);
        BOOST_TEST(t.size() == c.want.size());
        BOOST_TEST((t.pairs() == c.want));
    }
}

// The interning table: one id per distinct byte string, stable names while
// it grows (through rehashing and new arena chunks), any bytes allowed.
BOOST_AUTO_TEST_CASE(dict_interning) {
    Dict d;
    BOOST_TEST(d.find("alice") == Dict::kMissing); // no slots yet
    const std::string big(100000, 'x'); // longer than an arena chunk
    const std::vector<std::string> names = {"", "a", "alice", "alicf", "user000001@example.org",
                                            std::string("n\0l", 3), std::string("n\0m", 3), big,
                                            big + "y", "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256"};
    std::vector<std::uint32_t> ids;
    for (const auto& n : names)
        ids.push_back(d.id(n));
    for (int i = 0; i < 20000; ++i) // many grows of the slot array
        d.id("user" + std::to_string(i) + "@example.org");
    BOOST_TEST(d.size() == names.size() + 20000);
    for (std::size_t k = 0; k < names.size(); ++k) {
        BOOST_TEST(ids[k] == k);
        BOOST_TEST(d.id(names[k]) == ids[k]);
        BOOST_TEST(d.name(ids[k]) == names[k]);
    }
    for (int i = 0; i < 20000; i += 997) {
        const std::string n = "user" + std::to_string(i) + "@example.org";
        BOOST_TEST(d.name(d.id(n)) == n);
    }
    BOOST_TEST(d.size() == names.size() + 20000);
    // find() looks up without interning.
    for (std::size_t k = 0; k < names.size(); ++k)
        BOOST_TEST(d.find(names[k]) == ids[k]);
    BOOST_TEST(d.find("user20000@example.org") == Dict::kMissing);
    BOOST_TEST(d.find(big + "z") == Dict::kMissing);
    BOOST_TEST(d.size() == names.size() + 20000);
}

// Names compared and hashed a word at a time (the last word overlapping
// the one before, short names from smaller loads): names of every length
// up to five words that differ in one byte only, at every position, are
// different names, and the hash a caller made once finds the same id.
BOOST_AUTO_TEST_CASE(dict_names_differing_in_one_byte) {
    Dict d;
    std::vector<std::string> names;
    for (std::size_t len = 0; len <= 40; ++len) {
        const std::string base(len, 'a');
        names.push_back(base);
        for (std::size_t at = 0; at < len; ++at) {
            std::string n = base;
            n[at] = 'b';
            names.push_back(n);
        }
    }
    for (std::size_t k = 0; k < names.size(); ++k)
        BOOST_TEST(d.id(names[k]) == k, "got a shared id for '" << names[k] << "'");
    BOOST_TEST(d.size() == names.size());
    for (std::size_t k = 0; k < names.size(); ++k) {
        BOOST_TEST(d.find(names[k]) == k, "got " << d.find(names[k]) << ", want " << k << " for '" << names[k] << "'");
        BOOST_TEST(d.find(names[k], Dict::hash(names[k])) == k);
        BOOST_TEST(d.id(names[k], Dict::hash(names[k])) == k);
    }
    BOOST_TEST(d.find(std::string(41, 'a')) == Dict::kMissing);
    BOOST_TEST(d.find(std::string(40, 'c')) == Dict::kMissing);
}

// The word-at-a-time scan for the end of a value: the first of either
// byte from any start, in strings of every length around a word, against
// a byte-by-byte search; bytes with the high bit set are no match.
BOOST_AUTO_TEST_CASE(find_either_matches_bytewise) {
    auto slow = [](std::string_view s, std::size_t i, char a, char b) {
        for (; i < s.size(); ++i)
            if (s[i] == a || s[i] == b)
                return i;
        return s.size();
    };
    std::vector<std::string> texts;
    for (std::size_t len = 0; len <= 24; ++len) {
        texts.emplace_back(len, 'x');
        texts.emplace_back(len, '\xAC'); // ',' | 0x80
        for (std::size_t at = 0; at < len; ++at)
            for (char c : {',', ' '}) {
                std::string t(len, 'x');
                t[at] = c;
                texts.push_back(t);
                if (at + 1 < len) {
                    t[at + 1] = c == ',' ? ' ' : ',';
                    texts.push_back(t);
                }
                t = std::string(len, '\x01'); // a byte that borrows
                t[at] = c;
                texts.push_back(t);
            }
    }
    for (const auto& t : texts)
        for (std::size_t i = 0; i <= t.size(); ++i) {
            const std::size_t got = scan::findEither(t, i, ',', ' '), want = slow(t, i, ',', ' ');
            BOOST_TEST(got == want, "got " << got << ", want " << want << " from " << i << " in a text of "
                                           << t.size());
        }
}

// The word-at-a-time compare of names, against std::string ==: equal
// names, and names of every length up to five words that differ in one
// byte, wherever it is (the last word overlaps the one before).
BOOST_AUTO_TEST_CASE(same_bytes_matches_compare) {
    for (std::size_t len = 0; len <= 40; ++len) {
        const std::string a(len, 'a');
        BOOST_TEST(scan::sameBytes(a.data(), std::string(a).data(), len), "equal names of " << len);
        for (std::size_t at = 0; at < len; ++at) {
            std::string b = a;
            b[at] = '\x80';
            BOOST_TEST(!scan::sameBytes(a.data(), b.data(), len), "got equal, want different at " << at << " of " << len);
            BOOST_TEST(!scan::sameBytes(b.data(), a.data(), len), "got equal, want different at " << at << " of " << len);
        }
    }
}

// A user's usual cipher is compared, not looked up: one that differs only
// in its last bytes is another cipher.
BOOST_AUTO_TEST_CASE(usual_cipher_differs_at_the_end) {
    Aggregator a;
    feed(a, {audit("alice", "TLSv1.3", "TLS_AES_256_GCM_SHA384", 256, "accept"),
             audit("alice", "TLSv1.3", "TLS_AES_256_GCM_SHA385", 256, "accept"),
             audit("alice", "TLSv1.3", "TLS_AES_256_GCM_SHA384", 256, "accept")});
    const Pairs got = a.users[a.userNames.id("alice")].ciphers.pairs();
    const Pairs want = {{a.ciphers.id("TLS_AES_256_GCM_SHA384"), 2}, {a.ciphers.id("TLS_AES_256_GCM_SHA385"), 1}};
    BOOST_TEST((got == want));
    BOOST_TEST(a.ciphers.size() == 2u);
}

// A client's distinct users: first-seen order, sixteen at most, then
// capped; a user seen again is not counted twice.
BOOST_AUTO_TEST_CASE(peers_capped_in_first_seen_order) {
    Aggregator a;
    std::vector<std::string> lines;
    for (int i = 0; i < 20; ++i)
        for (int again = 0; again < 2; ++again)
            lines.push_back(audit("u" + std::to_string(i), "TLSv1.3", "TLS_AES_128_GCM_SHA256", 128, "accept"));
    feed(a, {lines[0], lines[2], lines[0]});
    const Entity& c = a.clients[a.clientNames.id("192.0.2.10")];
    BOOST_TEST(c.peers().size() == 2u);
    BOOST_TEST(!c.peersCapped);
    feed(a, lines);
    BOOST_TEST(c.peers().size() == 16u);
    BOOST_TEST(c.peersCapped);
    std::vector<std::string> got;
    for (auto id : c.peers())
        got.emplace_back(a.userNames.name(id));
    for (int i = 0; i < 16; ++i)
        BOOST_TEST(got[i] == "u" + std::to_string(i), "got " << got[i] << " at " << i);
}

// Days: a line's day is its own, whatever day the line before had, and
// the seconds either side of midnight go to the right one.
BOOST_AUTO_TEST_CASE(days_in_any_order) {
    Aggregator a;
    const std::vector<std::pair<std::string, int>> stamps = {
        {"Nov 24 23:59:59", 20241124}, {"Nov 25 00:00:00", 20241125}, {"Nov 24 12:00:00", 20241124},
        {"Nov 26 00:00:01", 20241126}, {"Nov 25 23:59:59", 20241125}, {"Nov 24 00:00:00", 20241124},
        {"Nov 24 00:00:00", 20241124}};
    std::map<int, std::uint64_t> want;
    std::vector<std::string> lines;
    for (const auto& [stamp, day] : stamps) {
        lines.push_back(audit("alice", "TLSv1.3", "TLS_AES_128_GCM_SHA256", 128, "accept", "", stamp));
        ++want[day];
    }
    feed(a, lines);
    std::map<int, std::uint64_t> got;
    for (const auto& [day, d] : a.days)
        got[day] = d.count;
    BOOST_TEST((got == want));
}

// The milter writes the keys in the schema's order and the parser looks
// for the next one first; keys in another order after the user= an audit
// line opens with, or one it does not know, give the same record.
BOOST_AUTO_TEST_CASE(keys_in_any_order) {
    const std::string head = "Nov 24 11:22:39 mx rfc8314-milter[1]: Q1: ";
    const std::string inOrder = "user=alice, mech=PLAIN, tls=TLSv1.2, cipher=TLS_X, group=x25519, bits=128, "
                                "client=h[192.0.2.1]:1, listener=submission/587, verdict=tempfail, reason=tls-version";
    const std::vector<std::string> others = {
        "user=alice, verdict=tempfail, reason=tls-version, listener=submission/587, client=h[192.0.2.1]:1, "
        "bits=128, group=x25519, cipher=TLS_X, tls=TLSv1.2, mech=PLAIN",
        "user=alice, mech=PLAIN, newkey=1, tls=TLSv1.2, cipher=TLS_X, group=x25519, bits=128, "
        "client=h[192.0.2.1]:1, listener=submission/587, verdict=tempfail, reason=tls-version",
        "user=alice, tls=TLSv1.2, mech=PLAIN, cipher=TLS_X, group=x25519, bits=128, "
        "client=h[192.0.2.1]:1, reason=tls-version, listener=submission/587, verdict=tempfail",
    };
    const Parsed want = parse(head + inOrder);
    BOOST_REQUIRE(want.kind == LineKind::Audit);
    for (const auto& o : others) {
        const Parsed got = parse(head + o);
        BOOST_TEST((got.kind == LineKind::Audit), o);
        BOOST_TEST((got.user == want.user && got.mech == want.mech && got.tls == want.tls &&
                    got.cipher == want.cipher && got.client == want.client && got.listener == want.listener &&
                    got.verdict == want.verdict && got.reason == want.reason && got.bits == want.bits),
                   "got a different record for " << o);
    }
}

// Entities live in chunks of 1024: ids across chunk boundaries keep their
// own counts, and references stay valid while the table grows.
BOOST_AUTO_TEST_CASE(entities_across_chunks) {
    Aggregator a;
    std::vector<std::string> lines;
    for (int i = 0; i < 2500; ++i)
        lines.push_back(audit("user" + std::to_string(i), "TLSv1.3", "TLS_AES_128_GCM_SHA256", 128, "accept", "",
                              "Nov 24 11:22:39", "10.0." + std::to_string(i / 250) + "." + std::to_string(i % 250)));
    feed(a, {lines[0]});
    const Entity* first = &a.users[0];
    feed(a, lines);
    BOOST_TEST(first == &a.users[0]);
    BOOST_TEST(a.users.size() == 2500u);
    BOOST_TEST(a.clients.size() == 2500u);
    BOOST_TEST(a.users[a.userNames.id("user0")].count == 2u);
    for (const char* u : {"user1", "user1023", "user1024", "user2047", "user2048", "user2499"})
        BOOST_TEST(a.users[a.userNames.id(u)].count == 1u, u);
    BOOST_TEST(entityOrder(a.users, a.userNames, 1).front() == a.userNames.id("user0"));
}

// The per-user tables are made a row at a time while rendering: every
// format must still see every row once, in order, with the extra
// unauthenticated row of the what-if last, and text must size its columns
// from all of them.
BOOST_AUTO_TEST_CASE(rows_on_demand) {
    WhatIfPolicy q;
    q.requireTls = true;
    Aggregator a(q);
    std::vector<std::string> lines;
    for (int i = 0; i < 300; ++i)
        lines.push_back(audit("u" + std::to_string(1000 + i), i % 3 ? "TLSv1.3" : "none",
                              i % 3 ? "TLS_AES_128_GCM_SHA256" : "none", i % 3 ? 128 : 0, "accept",
                              i % 3 ? "" : ", cleartext_auth=yes"));
    lines.push_back(audit("a-much-longer-user-name@example.org", "TLSv1.3", "TLS_AES_128_GCM_SHA256", 128,
                          "accept"));
    lines.push_back(audit("none", "none", "none", 0, "reject", ", reason=cleartext"));
    feed(a, lines);

    for (const Table& t : buildTables(a, OutputOptions{}, true)) {
        std::size_t n = 0;
        t.forEachRow([&](const std::vector<std::string>& r) {
            BOOST_TEST(r.size() == t.cols.size(), t.id);
            ++n;
        });
        BOOST_TEST(n == t.rowCount(), t.id);
        if (t.id == "users")
            BOOST_TEST(n == 301u);
        if (t.id == "cleartext")
            BOOST_TEST(n == 100u);
        if (t.id == "whatif")
            BOOST_TEST(n == 101u); // 100 users and the unauthenticated row
    }
    std::ostringstream text;
    OutputOptions o;
    o.table = "whatif";
    writeText(a, o, text);
    std::istringstream in(text.str());
    std::string line, last;
    while (std::getline(in, line))
        last = line;
    BOOST_TEST(last.rfind("(unauthenticated)", 0) == 0u);
    BOOST_TEST(text.str().find("u1000  ") != std::string::npos); // padded to "(unauthenticated)"
    std::ostringstream csv;
    o.table = "users";
    writeCsv(a, o, csv);
    const std::string c = csv.str();
    BOOST_TEST(std::count(c.begin(), c.end(), '\n') == 302); // header + 301 users
}

BOOST_AUTO_TEST_CASE(top_and_order) {
    Aggregator a;
    feed(a, {
                audit("carol", "TLSv1.3", "TLS_AES_128_GCM_SHA256", 128, "accept"),
                audit("bob", "TLSv1.3", "TLS_AES_128_GCM_SHA256", 128, "accept"),
                audit("bob", "TLSv1.3", "TLS_AES_128_GCM_SHA256", 128, "accept"),
                audit("alice", "TLSv1.3", "TLS_AES_128_GCM_SHA256", 128, "accept"),
            });
    auto names = [&](std::size_t top) {
        std::string s;
        for (auto id : entityOrder(a.users, a.userNames, top))
            s += std::string(a.userNames.name(id)) + " ";
        return s;
    };
    BOOST_TEST(names(0) == "alice bob carol ");
    BOOST_TEST(names(2) == "bob alice ");
    BOOST_TEST(names(10) == "bob alice carol ");
}

BOOST_AUTO_TEST_SUITE_END()

// ---- issue 16: the deprecation tools ------------------------------------------------

BOOST_AUTO_TEST_SUITE(report_deprecation)

namespace {

// The same line on another listener ("legacy/10587").
std::string onListener(std::string line, const std::string& listener) {
    const std::string from = "listener=submission/587";
    line.replace(line.find(from), from.size(), "listener=" + listener);
    return line;
}

ExceptionList exceptionsOf(const std::string& text) {
    const ExceptionLoad l = parseExceptions(text, "exc", Day{20241101});
    // The message is built whether or not the check fails: no front() of
    // an empty vector.
    BOOST_REQUIRE_MESSAGE(l.errors.empty(), (l.errors.empty() ? std::string() : l.errors.front()));
    return l.list;
}

} // namespace

// The what-if applies the rule as the milter would: an exception holds on
// the transaction's day (or --as-of), a user outside the rollout share is
// let through, a listener out of scope is not judged.  Each case against
// a what-if without the modelling, so the model is what changes the count.
BOOST_AUTO_TEST_CASE(what_if_models_exceptions_rollout_and_listeners) {
    const std::vector<std::string> log = {
        audit("alice", "none", "none", 0, "would-reject", ", reason=cleartext"),   // Nov 24
        audit("bob", "none", "none", 0, "would-reject", ", reason=cleartext"),
        audit("carol", "TLSv1.1", "TLS_RSA_WITH_AES_128_CBC_SHA", 128, "would-reject", ", reason=tls-version"),
        onListener(audit("dave", "TLSv1.0", "TLS_RSA_WITH_AES_128_CBC_SHA", 128, "accept"), "legacy/10587"),
        audit("erin", "TLSv1.3", "TLS_AES_128_GCM_SHA256", 128, "accept"),
    };
    WhatIfPolicy rule;
    rule.requireTls = true;
    rule.minTls = TlsVersion::TLSv1_2;
    struct Case {
        const char* name;
        std::string exceptions; // "" none
        std::optional<Day> asOf;
        int percent;
        std::vector<std::string> listeners;
        std::uint64_t refused, exempt, outside;
    };
    const std::vector<Case> cases = {
        {"no modelling", "", {}, 100, {}, 4, 0, 0},
        {"alice exempt until after the day", "alice until 2024-12-31\n", {}, 100, {}, 3, 1, 0},
        {"alice's exception had expired on the day", "alice until 2024-11-23\n", {}, 100, {}, 4, 0, 0},
        {"--as-of judges it on another day", "alice until 2024-12-31\n", Day{20250101}, 100, {}, 4, 0, 0},
        {"a domain entry", "@example.org\nALICE\n", {}, 100, {}, 3, 1, 0},
        {"only the submission listener", "", {}, 100, {"submission"}, 3, 0, 0},
        {"only the legacy listener", "", {}, 100, {"legacy"}, 1, 0, 0},
        {"rollout 0%: everyone outside", "", {}, 0, {}, 0, 0, 4},
    };
    for (const Case& c : cases) {
        WhatIfPolicy p = rule;
        if (!c.exceptions.empty())
            p.exceptions = std::make_shared<ExceptionList>(exceptionsOf(c.exceptions));
        p.asOf = c.asOf;
        p.rolloutPercent = c.percent;
        p.listeners = c.listeners;
        Aggregator a(p);
        feed(a, log);
        BOOST_TEST(a.whatIfTotal == c.refused, c.name << ": refused " << a.whatIfTotal << ", want " << c.refused);
        BOOST_TEST(a.whatIfExempt == c.exempt, c.name << ": exempt " << a.whatIfExempt << ", want " << c.exempt);
        BOOST_TEST(a.whatIfOutside == c.outside, c.name << ": outside " << a.whatIfOutside << ", want " << c.outside);
    }
    // A share: the users the milter's rolloutBucket puts inside are refused,
    // the others outside; for many users, both happen.
    WhatIfPolicy p = rule;
    p.rolloutPercent = 30;
    p.rolloutSalt = "s1";
    Aggregator a(p);
    std::vector<std::string> many;
    for (int i = 0; i < 200; ++i)
        many.push_back(audit("user" + std::to_string(i), "none", "none", 0, "would-reject", ", reason=cleartext"));
    feed(a, many);
    std::uint64_t inside = 0;
    for (int i = 0; i < 200; ++i) {
        const std::string u = "user" + std::to_string(i);
        const bool in = rolloutBucket("s1", u) < 30;
        inside += in ? 1 : 0;
        const Entity& e = a.users[a.userNames.find(u)];
        BOOST_TEST(e.seldom().whatIf[RNone] == (in ? 1u : 0u), u);
        BOOST_TEST(e.seldom().whatIfOutside == (in ? 0u : 1u), u);
    }
    BOOST_TEST(a.whatIfTotal == inside);
    BOOST_TEST(inside > 20u);
    BOOST_TEST(inside < 120u);
}

// Every user name the exceptions file can hold reads back through the
// milter's own parser as exactly that name; the others are refused, not
// mangled.
BOOST_AUTO_TEST_CASE(exceptions_user_word_reads_back) {
    const std::vector<std::string> holdable = {
        "alice", "alice@example.org", "j doe", "a#b", "\"quoted\"", "back\\slash", "x\"", "\xc3\xa9t\xc3\xa9",
        "until", "#", "a b # c", std::string(300, 'x')};
    for (const auto& name : holdable) {
        const auto w = exceptionsUserWord(name);
        BOOST_REQUIRE_MESSAGE(w, name);
        const ExceptionLoad l = parseExceptions(*w + " until 2030-01-01 # c\n", "f", Day{20260101});
        BOOST_TEST(l.errors.empty(), name << " -> " << *w << ": " << (l.errors.empty() ? "" : l.errors.front()));
        BOOST_REQUIRE_EQUAL(l.list.entries.size(), 1u);
        BOOST_TEST(l.list.entries[0].user == name, "got '" << l.list.entries[0].user << "', want '" << name << "'");
        BOOST_TEST(l.list.entries[0].domain.empty(), name);
    }
    for (const std::string& name : {std::string(), std::string("@example.org"), std::string("a\nb"),
                                   std::string("a\rb"), std::string("tab\tx"), std::string("del\x7f"),
                                   std::string("nul\0x", 5)})
        BOOST_TEST(!exceptionsUserWord(name), "'" << escapeLogValue(name) << "' must be refused");
}

// The whole file, from hostile log values: it loads without an error as
// exactly the users below the rule (minus those it cannot hold), every
// line printable, no comment that breaks its line.
BOOST_AUTO_TEST_CASE(emitted_exceptions_file_loads_as_written) {
    WhatIfPolicy p;
    p.requireTls = true;
    p.minTls = TlsVersion::TLSv1_2;
    Aggregator a(p);
    a.keepDetail();
    LogLine hostile("Q2");
    hostile.add("user", "evil\nuser until 2099-01-01").add("mech", "PLAIN").add("tls", "none").add("cipher", "none")
        .add("group", "none").add("bits", "none").add("client", "bad\r\nname#[192.0.2.9]:1")
        .add("listener", "submission/587").add("verdict", "reject").add("reason", "cleartext");
    LogLine quoted("Q3");
    quoted.add("user", "\"j doe\" # x").add("mech", "PLAIN").add("tls", "TLSv1").add("cipher", "AES128-SHA")
        .add("group", "none").add("bits", "128").add("client", "h\xff.example[192.0.2.10]:1")
        .add("listener", "submission/587").add("verdict", "reject").add("reason", "tls-version");
    feed(a, {
                audit("alice", "none", "none", 0, "reject", ", reason=cleartext", "Nov 24 10:00:00", "192.0.2.1"),
                audit("alice", "TLSv1.1", "AES128-SHA", 128, "reject", ", reason=tls-version", "Nov 25 10:00:00",
                      "IPv6:2001:DB8::1"),
                audit("bob", "TLSv1.3", "TLS_AES_128_GCM_SHA256", 128, "accept"),
                "Nov 24 11:00:00 mx rfc8314-milter[1]: " + hostile.str(),
                "Nov 24 11:00:00 mx rfc8314-milter[1]: " + quoted.str(),
            });
    std::ostringstream out;
    const auto left = writeExceptions(a, Day{20300630}, out);
    const std::string f = out.str();
    BOOST_REQUIRE_EQUAL(left.size(), 1u);
    BOOST_TEST(a.userNames.name(left[0]) == "evil\nuser until 2099-01-01");
    for (unsigned char c : f)
        BOOST_TEST((c == '\n' || (c >= 0x20 && c < 0x7f)), "byte " << int(c) << " in\n" << f);
    const ExceptionLoad l = parseExceptions(f, "emitted", Day{20260101});
    BOOST_TEST(l.errors.empty(), f);
    std::set<std::string> users;
    for (const auto& e : l.list.entries) {
        users.insert(e.user);
        BOOST_TEST((e.until && *e.until == (Day{20300630})), e.user);
    }
    BOOST_TEST((users == std::set<std::string>{"alice", "\"j doe\" # x"}), f);
    // alice's line: last seen on the 25th, from the canonical address, with TLSv1.1.
    BOOST_TEST(f.find("alice until 2030-06-30 # last seen 2024-11-25 10:00:00 from 2001:db8::1 (h.example) with "
                      "TLSv1.1; 2 of 2 transactions below the rule (TLSv1.1 1, cleartext 1)\n") != std::string::npos,
               f);
}

namespace {

std::vector<Notice> noticesOf(const std::vector<std::string>& log, const std::string& domain,
                              std::vector<std::string>* without = nullptr) {
    WhatIfPolicy p;
    p.requireTls = true;
    p.minTls = TlsVersion::TLSv1_2;
    Aggregator a(p);
    a.keepDetail();
    feed(a, log);
    std::string why;
    const auto t = NoticeTemplate::parse(defaultNoticeTemplate(), &why);
    BOOST_REQUIRE_MESSAGE(t, why);
    NoticeOptions o;
    o.from = "postmaster@example.org";
    o.domain = domain;
    o.deadline = Day{20270301};
    o.now = 1764000000;
    o.pid = 42;
    std::vector<Notice> out;
    makeNotices(a, *t, o, [&](const Notice& n) { out.push_back(n); },
                [&](std::uint32_t id) {
                    if (without)
                        without->emplace_back(a.userNames.name(id));
                });
    return out;
}

// The header block of a message: each field with its folded lines.
std::vector<std::string> headerLines(const std::string& m) {
    std::vector<std::string> lines;
    std::istringstream in(m);
    for (std::string l; std::getline(in, l) && !l.empty();)
        lines.push_back(l);
    return lines;
}

} // namespace

// A notice per user below the rule, none for a compliant one; hostile user
// names never add a header or a line: they get no notice unless they are
// an address, and an address is an RFC 5321 mailbox.
BOOST_AUTO_TEST_CASE(notices_one_per_user_below_the_rule_and_no_injection) {
    LogLine crlf("Q4");
    crlf.add("user", "x@example.org\r\nBcc: victim@example.net").add("mech", "PLAIN").add("tls", "none")
        .add("cipher", "none").add("group", "none").add("bits", "none").add("client", "unknown[192.0.2.4]:1")
        .add("listener", "submission/587").add("verdict", "reject").add("reason", "cleartext");
    std::vector<std::string> without;
    const auto ns = noticesOf(
        {
            audit("alice@example.org", "none", "none", 0, "reject", ", reason=cleartext, cleartext_auth=yes"),
            audit("bob", "TLSv1.1", "AES128-SHA", 128, "reject", ", reason=tls-version"),
            audit("carol", "TLSv1.3", "TLS_AES_128_GCM_SHA256", 128, "accept"),
            audit("\xc3\xa9mile", "TLSv1", "AES128-SHA", 128, "reject", ", reason=tls-version"),
            audit("j doe", "TLSv1", "AES128-SHA", 128, "reject", ", reason=tls-version"),
            "Nov 24 11:00:00 mx rfc8314-milter[1]: " + crlf.str(),
            audit("=?UTF-8?Q?spoof?=", "TLSv1", "AES128-SHA", 128, "reject", ", reason=tls-version"),
            audit("=?UTF-8?Q?x?=@example.org", "TLSv1", "AES128-SHA", 128, "reject", ", reason=tls-version"),
        },
        "example.org", &without);
    std::set<std::string> to;
    for (const auto& n : ns)
        to.insert(n.to);
    BOOST_TEST((to == std::set<std::string>{"alice@example.org", "bob@example.org"}));
    std::sort(without.begin(), without.end());
    BOOST_TEST(without.size() == 5u);
    for (const auto& n : ns) {
        const auto hs = headerLines(n.message);
        std::set<std::string> names;
        for (const auto& h : hs) {
            BOOST_TEST(h.size() <= 78u, h);
            for (unsigned char c : h)
                BOOST_TEST((c >= 0x20 && c < 0x7f), "byte " << int(c) << " in header " << h);
            if (h[0] == ' ' || h[0] == '\t')
                continue;
            names.insert(h.substr(0, h.find(':')));
        }
        BOOST_TEST((names == std::set<std::string>{"From", "To", "Subject", "Date", "Message-ID", "Auto-Submitted",
                                                   "MIME-Version", "Content-Type", "Content-Transfer-Encoding"}),
                   n.message);
        const std::string body = n.message.substr(n.message.find("\n\n") + 2);
        std::istringstream in(body);
        for (std::string l; std::getline(in, l);) {
            BOOST_TEST(l.size() <= 76u, l);
            BOOST_TEST(l != ".");
            BOOST_TEST(l.rfind("From ", 0) != 0u, l);
        }
        // The advice to change the password only after a cleartext login.
        const bool advice = body.find("please change your password now") != std::string::npos;
        BOOST_TEST(advice == (n.to == "alice@example.org"), n.to << "\n" << body);
        BOOST_TEST(body.find("2027-03-01") != std::string::npos);
        BOOST_TEST(n.fileName.find('/') == std::string::npos);
    }
    // Without --domain, a user name that is no address gets no notice.
    without.clear();
    const auto bare = noticesOf({audit("bob", "TLSv1.1", "AES128-SHA", 128, "reject", ", reason=tls-version")}, "",
                                &without);
    BOOST_TEST(bare.empty());
    BOOST_TEST((without == std::vector<std::string>{"bob"}));
}

BOOST_AUTO_TEST_CASE(header_fields_are_encoded_and_folded) {
    struct Case {
        std::string value;
        std::string want; // the whole field, or "" to check only the shape
    };
    const std::vector<Case> cases = {
        {"Plain subject", "Subject: Plain subject\n"},
        {"caf\xc3\xa9", "Subject: =?UTF-8?Q?caf=C3=A9?=\n"},
        {"looks =?like?= a word", "Subject: =?UTF-8?Q?looks_=3D=3Flike=3F=3D_a_word?=\n"},
        {cleanText("a\r\nBcc: x@y"), "Subject: a\\x0D\\x0ABcc: x@y\n"},
        {std::string(200, 'x'), ""},
        {"\xe2\x82\xac " + std::string(100, 'a') + " \xf0\x9f\x98\x80", ""},
    };
    for (const auto& c : cases) {
        const std::string f = headerField("Subject", c.value);
        if (!c.want.empty())
            BOOST_TEST(f == c.want);
        std::istringstream in(f);
        int n = 0;
        for (std::string l; std::getline(in, l); ++n) {
            BOOST_TEST(l.size() <= 78u, l);
            for (unsigned char ch : l)
                BOOST_TEST((ch >= 0x20 && ch < 0x7f), f);
            if (n > 0)
                BOOST_TEST(l[0] == ' ', f);
        }
    }
    BOOST_TEST(cleanText("a\xe2\x80\xae" "b\xff" "c") == "a\\u202E" "b\xef\xbf\xbd" "c");
}

BOOST_AUTO_TEST_CASE(notice_template_errors_name_the_line) {
    struct Case {
        std::string text, want;
    };
    const std::vector<Case> cases = {
        {"Hello\n\nbody\n", "line 1: "},
        {"Subject: x\nbody\n", "line 2: "},
        {"Subject: x\n\n{nosuch}\n", "line 3: "},
        {"Subject: x\n\n{if nosuch}\n{end}\n", "line 3: "},
        {"Subject: x\n\n{if cleartext}\n{for client}\n{end}\n", "line 4: "},
        {"Subject: x\n\n{if cleartext}\ntext\n", "line 3: "},
        {"Subject: x\n\n{end}\n", "line 3: "},
        {"Subject: x\n\n{client}\n", "line 3: "},
        {"Subject: x\n\nbad \xff byte\n", "line 3: "},
    };
    for (const auto& c : cases) {
        std::string why;
        BOOST_TEST(!NoticeTemplate::parse(c.text, &why), c.text);
        BOOST_TEST(why.rfind(c.want, 0) == 0u, "got '" << why << "', want '" << c.want << "...'");
    }
    std::string why;
    const auto t = NoticeTemplate::parse("Subject: {{x} {user}\n\n{for client}\n{client}\n{end}\n{deadline}\n", &why);
    BOOST_REQUIRE_MESSAGE(t, why);
    BOOST_TEST(t->needsDeadline());
    const auto u = NoticeTemplate::parse("Subject: x\n\n{if deadline}\n{deadline}\n{end}\n", &why);
    BOOST_REQUIRE_MESSAGE(u, why);
    BOOST_TEST(!u->needsDeadline());
}

// The TLS mix in the text users table: a share per version, with SSLv3
// and versions the milter did not understand only when some user has them.
BOOST_AUTO_TEST_CASE(text_users_table_has_the_tls_mix) {
    struct Case {
        std::vector<std::string> log;
        std::string wantRow;            // a row, blanks squeezed
        bool sslv3, unknown;            // columns shown
    };
    const std::vector<Case> cases = {
        {{audit("alice", "TLSv1.3", "TLS_AES_128_GCM_SHA256", 128, "accept"),
          audit("alice", "none", "none", 0, "reject", ", reason=cleartext"),
          audit("alice", "TLSv1.1", "AES128-SHA", 128, "reject", ", reason=tls-version"),
          audit("alice", "TLSv1.3", "TLS_AES_128_GCM_SHA256", 128, "accept")},
         "alice 4 ", false, false},
        {{audit("bob", "TLSv1/SSLv3", "AES128-SHA", 128, "reject", ", reason=tls-version-unknown"),
          audit("bob", "TLSv1.2", "AES128-SHA", 128, "accept")},
         "bob 2 ", false, true},
    };
    for (const auto& c : cases) {
        Aggregator a;
        feed(a, c.log);
        std::ostringstream out;
        OutputOptions o;
        o.table = "users";
        writeText(a, o, out);
        const std::string t = out.str();
        BOOST_TEST((t.find("pct_cleartext") != std::string::npos && t.find("pct_tls1_3") != std::string::npos), t);
        BOOST_TEST((t.find("pct_sslv3") != std::string::npos) == c.sslv3, t);
        BOOST_TEST((t.find("pct_tls_unknown") != std::string::npos) == c.unknown, t);
        // The shares in column order: cleartext, 1.0, 1.1, 1.2, 1.3 [, unknown].
        std::string squeezed;
        for (char ch : t)
            if (ch != ' ' || (squeezed.size() && squeezed.back() != ' '))
                squeezed += ch;
        const std::string want = c.unknown ? " 0.0 0.0 0.0 50.0 0.0 50.0 " : " 25.0 0.0 25.0 0.0 50.0 ";
        BOOST_TEST(squeezed.find(want) != std::string::npos, "want '" << want << "' in\n" << squeezed);
    }
}

// Every placeholder and condition is in rfc8314-report(1).
BOOST_AUTO_TEST_CASE(notice_placeholders_documented) {
    std::ifstream in("man/rfc8314-report.1");
    BOOST_REQUIRE(in);
    const std::string man((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    for (const auto* list : {&noticePlaceholders(), &noticeClientPlaceholders()})
        for (std::string_view p : *list)
            BOOST_TEST(man.find("{" + std::string(p) + "}") != std::string::npos, p);
    const std::string section = man.substr(man.find(".SH NOTICE TEMPLATE"));
    for (std::string_view c : noticeConditions())
        BOOST_TEST((section.find(".B " + std::string(c)) != std::string::npos ||
                    section.find(".BR " + std::string(c)) != std::string::npos),
                   c);
}

BOOST_AUTO_TEST_SUITE_END()
