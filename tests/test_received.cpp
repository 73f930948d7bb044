// test_received.cpp — the trace field: a golden set, hostile input that must
// never break the syntax, and a round trip through the strict reader.
#include <boost/test/unit_test.hpp>

#include <random>
#include <string>
#include <vector>

#include "rfc8314/received.hpp"
#include "rfc8314/rfc5322.hpp"

using namespace rfc8314;

namespace {

constexpr std::time_t kWhen = 1795507501; // 2026-11-24 08:05:01 UTC

ReceivedInput base() {
    ReceivedInput in;
    in.helo = "client.example.test";
    in.clientName = "client.example.test";
    in.clientAddr = "192.0.2.10";
    in.byHost = "mx.example.test";
    in.with = WithProtocol::ESMTPSA;
    in.queueId = "4XyZ1A2b3C";
    in.forRcpt = "user@example.test";
    in.tls = "TLS_AES_256_GCM_SHA384";
    in.group = "x25519";
    in.when = kWhen;
    in.utcOffsetMinutes = 60;
    return in;
}

// Every physical line of a folded value, with the "Received: " prefix
// counted on the first.
std::vector<std::string> physicalLines(const std::string& value) {
    std::vector<std::string> lines;
    std::string cur = "Received: ";
    for (std::size_t i = 0; i < value.size(); ++i) {
        if (value.compare(i, 2, "\r\n") == 0) {
            lines.push_back(cur);
            cur.clear();
            ++i;
        } else if (value[i] == '\n') {
            lines.push_back(cur);
            cur.clear();
        } else {
            cur += value[i];
        }
    }
    lines.push_back(cur);
    return lines;
}

void checkShape(const std::string& value, std::size_t softLimit) {
    const auto r = parseTimeStampLine(value);
    BOOST_TEST(r.ok, "does not parse: " << r.error << " in: " << value);
    for (const auto& l : physicalLines(value)) {
        BOOST_TEST(l.size() <= 998u);
        BOOST_TEST(l.size() <= softLimit, "line of " << l.size() << " octets: " << l);
        BOOST_TEST(l.find('\0') == std::string::npos);
        BOOST_TEST(l.find('\r') == std::string::npos);
    }
}

} // namespace

BOOST_AUTO_TEST_SUITE(received)

BOOST_AUTO_TEST_CASE(with_protocol_rfc3848) {
    struct W {
        bool esmtp, tls, auth;
        std::string want;
    };
    const std::vector<W> cases = {
        {false, false, false, "SMTP"},    {false, true, true, "SMTP"},
        {true, false, false, "ESMTP"},    {true, true, false, "ESMTPS"},
        {true, false, true, "ESMTPA"},    {true, true, true, "ESMTPSA"},
    };
    for (const auto& c : cases)
        BOOST_TEST(std::string(toString(withProtocol(c.esmtp, c.tls, c.auth))) == c.want);
}

BOOST_AUTO_TEST_CASE(dates) {
    BOOST_TEST(formatDate(kWhen, 60) == "Tue, 24 Nov 2026 09:05:01 +0100");
    BOOST_TEST(formatDate(kWhen, 0) == "Tue, 24 Nov 2026 08:05:01 +0000");
    BOOST_TEST(formatDate(kWhen, -270) == "Tue, 24 Nov 2026 03:35:01 -0430");
    BOOST_TEST(formatDate(kWhen, -600) == "Mon, 23 Nov 2026 22:05:01 -1000");
    BOOST_TEST(formatDate(0, 0) == "Thu, 1 Jan 1970 00:00:00 +0000");
    BOOST_TEST(formatDate(kWhen, 100000) == "Tue, 24 Nov 2026 08:05:01 +0000");
    BOOST_TEST(formatDate(253402300799, 0) == "Fri, 31 Dec 9999 23:59:59 +0000");
    BOOST_TEST(formatDate(253402300800, 0) == "Sat, 1 Jan 10000 00:00:00 +0000");
    BOOST_TEST(formatDate(86400 * 9 + 3661, 754) == "Sat, 10 Jan 1970 13:35:01 +1234");
}

struct Golden {
    std::string name;
    ReceivedInput in;
    std::string want;
};

BOOST_AUTO_TEST_CASE(golden_set) {
    std::vector<Golden> cases;
    cases.push_back({"tls13 with group, one recipient", base(),
                     "from client.example.test (client.example.test [192.0.2.10])\r\n"
                     "\tby mx.example.test with ESMTPSA id 4XyZ1A2b3C for <user@example.test>\r\n"
                     "\ttls TLS_AES_256_GCM_SHA384 group x25519; Tue, 24 Nov 2026 09:05:01 +0100"});
    {
        auto in = base();
        in.helo = "laptop.example";
        in.clientName.clear();
        in.clientAddr = "192.0.2.11";
        in.queueId = "ABC123";
        in.forRcpt.clear();
        in.tls = "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256";
        in.group.clear();
        cases.push_back({"tls12 without group, no name, several recipients", in,
                         "from laptop.example ([192.0.2.11]) by mx.example.test with ESMTPSA\r\n"
                         "\tid ABC123 tls TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256;\r\n"
                         "\tTue, 24 Nov 2026 09:05:01 +0100"});
        auto clear = in;
        clear.tls.clear();
        clear.with = WithProtocol::ESMTPA;
        cases.push_back({"cleartext (trace = always): no tls clause", clear,
                         "from laptop.example ([192.0.2.11]) by mx.example.test with ESMTPA\r\n"
                         "\tid ABC123; Tue, 24 Nov 2026 09:05:01 +0100"});
        auto none = clear;
        none.with = WithProtocol::ESMTP;
        none.queueId.clear();
        cases.push_back({"nothing known but the client", none,
                         "from laptop.example ([192.0.2.11]) by mx.example.test with ESMTP;\r\n"
                         "\tTue, 24 Nov 2026 09:05:01 +0100"});
    }
    {
        auto in = base();
        in.tls = "0xC0B0";
        cases.push_back({"hex fallback", in,
                         "from client.example.test (client.example.test [192.0.2.10])\r\n"
                         "\tby mx.example.test with ESMTPSA id 4XyZ1A2b3C for <user@example.test>\r\n"
                         "\ttls 0xC0B0 group x25519; Tue, 24 Nov 2026 09:05:01 +0100"});
    }
    {
        auto in = base();
        in.helo = "evil(helo)\"quoted\"\\back";
        in.clientName = "unknown";
        in.forRcpt.clear();
        in.group.clear();
        cases.push_back({"hostile HELO shown escaped in a comment", in,
                         "from unknown ([192.0.2.10]) (helo=evil\\(helo\\)\"quoted\"\\\\back)\r\n"
                         "\tby mx.example.test with ESMTPSA id 4XyZ1A2b3C tls TLS_AES_256_GCM_SHA384;\r\n"
                         "\tTue, 24 Nov 2026 09:05:01 +0100"});
    }
    {
        auto in = base();
        in.helo = "bad\r\nX-Injected: yes";
        in.clientName = "bad name";
        in.clientAddr = "2001:db8::25";
        in.forRcpt = "x@y\r\nBcc: z@example";
        in.group = "P 256"; // dh-group allows "-", not a blank
        in.queueId = "Q I D";
        cases.push_back({"CR/LF injection, IPv6 client, invalid group/id/rcpt dropped", in,
                         "from unknown ([IPv6:2001:db8::25]) (helo=bad??X-Injected: yes)\r\n"
                         "\tby mx.example.test with ESMTPSA tls TLS_AES_256_GCM_SHA384;\r\n"
                         "\tTue, 24 Nov 2026 09:05:01 +0100"});
    }
    {
        auto in = base();
        in.helo = "[192.0.2.10]";
        in.tls = "not-a-cipher!";
        in.group = "x25519"; // a group alone is never written
        in.utcOffsetMinutes = -270;
        cases.push_back({"address-literal HELO, invalid tls value, negative zone", in,
                         "from [192.0.2.10] (client.example.test [192.0.2.10])\r\n"
                         "\tby mx.example.test with ESMTPSA id 4XyZ1A2b3C for <user@example.test>;\r\n"
                         "\tTue, 24 Nov 2026 03:35:01 -0430"});
    }
    for (const auto& c : cases) {
        BOOST_TEST_CONTEXT(c.name) {
            const std::string got = buildReceived(c.in, "\r\n");
            BOOST_TEST(got == c.want);
            checkShape(got, 78);
            std::string lf = buildReceived(c.in, "\n");
            BOOST_TEST(lf.find('\r') == std::string::npos);
            checkShape(lf, 78);
        }
    }
}

BOOST_AUTO_TEST_CASE(round_trip) {
    const auto in = base();
    const auto r = parseTimeStampLine(buildReceived(in));
    BOOST_TEST_REQUIRE(r.ok);
    BOOST_TEST(r.from == in.helo);
    BOOST_TEST(r.by == in.byHost);
    BOOST_TEST(r.with == "ESMTPSA");
    BOOST_TEST(r.id == in.queueId);
    BOOST_TEST(r.forPath == "<" + in.forRcpt + ">");
    BOOST_TEST_REQUIRE(r.extra.size() == 2u);
    BOOST_TEST(r.extra[0].first == "tls");
    BOOST_TEST(r.extra[0].second == in.tls);
    BOOST_TEST(r.extra[1].first == "group");
    BOOST_TEST(r.extra[1].second == in.group);
    BOOST_TEST(r.date == "Tue, 24 Nov 2026 09:05:01 +0100");
}

// trace_client = hidden: no HELO, client name or address anywhere in the
// field, whatever they are; the rest as usual; still a Time-stamp-line.
BOOST_AUTO_TEST_CASE(hidden_client) {
    struct Case {
        std::string helo, name, addr;
    };
    const std::vector<Case> cases = {
        {"client.example.test", "client.example.test", "192.0.2.10"},
        {"[192.0.2.10]", "", "192.0.2.10"},
        {"bad helo (x)", "unknown", "2001:db8::10"},
        {"", "", ""},
    };
    for (const auto& c : cases) {
        auto in = base();
        in.hideClient = true;
        in.helo = c.helo;
        in.clientName = c.name;
        in.clientAddr = c.addr;
        const std::string v = buildReceived(in);
        const std::string want = "from hidden.invalid by mx.example.test with ESMTPSA id 4XyZ1A2b3C";
        BOOST_TEST(v.compare(0, want.size(), want) == 0, "got: " << v);
        for (const std::string& secret : {c.helo, c.name, c.addr, std::string("192.0.2"),
                                          std::string("2001:db8"), std::string("client.")})
            if (!secret.empty())
                BOOST_TEST(v.find(secret) == std::string::npos, "'" << secret << "' in: " << v);
        checkShape(v, 78);
        const auto r = parseTimeStampLine(v);
        BOOST_TEST_REQUIRE(r.ok);
        BOOST_TEST(r.from == "hidden.invalid");
        BOOST_TEST(r.by == "mx.example.test");
        BOOST_TEST_REQUIRE(r.extra.size() == 2u);
        BOOST_TEST(r.extra[0].second == in.tls);
        BOOST_TEST(r.extra[1].second == in.group);
    }
    // Full (the default) still names the client.
    const std::string full = buildReceived(base());
    BOOST_TEST(full.find("(client.example.test [192.0.2.10])") != std::string::npos, full);
}

// Hostile strings for every field: random bytes, the characters that matter
// to the grammar, very long values.  The field must always parse, keep its
// lines <= 998 octets, and never carry a bare CR or a NUL.
BOOST_AUTO_TEST_CASE(hostile_input_never_breaks_syntax) {
    std::mt19937 rng(8314);
    const std::string special = "()<>[]\\\";:@. \t\r\n\0\x7f\xff\xc3\xa9-_=,";
    auto junk = [&](std::size_t maxLen) {
        std::uniform_int_distribution<std::size_t> len(0, maxLen);
        std::uniform_int_distribution<int> pick(0, 3);
        std::uniform_int_distribution<int> byte(0, 255);
        std::uniform_int_distribution<std::size_t> sp(0, special.size() - 1);
        std::uniform_int_distribution<int> alnum(0, 35);
        std::string s(len(rng), 'a');
        for (auto& c : s) {
            switch (pick(rng)) {
            case 0: c = static_cast<char>(byte(rng)); break;
            case 1: c = special[sp(rng)]; break;
            default: {
                int a = alnum(rng);
                c = static_cast<char>(a < 26 ? 'a' + a : '0' + (a - 26));
            }
            }
        }
        return s;
    };
    const std::vector<std::string> plausible = {
        "", "a.example", "[192.0.2.1]", "[IPv6:::1]", "unknown", "x", std::string(255, 'a'),
        std::string(63, 'a') + "." + std::string(63, 'b') + "." + std::string(63, 'c') + "." +
            std::string(61, 'd')};
    std::uniform_int_distribution<std::size_t> which(0, plausible.size() - 1);
    std::uniform_int_distribution<int> coin(0, 1);
    for (int i = 0; i < 3000; ++i) {
        ReceivedInput in;
        auto field = [&](std::size_t maxLen) { return coin(rng) ? junk(maxLen) : plausible[which(rng)]; };
        in.helo = field(i % 50 == 0 ? 10240 : 300);
        in.clientName = field(300);
        in.clientAddr = coin(rng) ? "192.0.2.1" : field(60);
        in.byHost = field(300);
        in.with = static_cast<WithProtocol>(i % 5);
        in.queueId = field(200);
        in.forRcpt = coin(rng) ? std::string(64, 'l') + "@" + std::string(63, 'd') + ".example" : field(300);
        in.tls = coin(rng) ? "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256" : field(80);
        in.group = coin(rng) ? "X25519MLKEM768" : field(80);
        in.when = static_cast<std::time_t>(rng() % 4102444800u);
        in.utcOffsetMinutes = static_cast<int>(rng() % 3000) - 1500;
        const std::string eol = coin(rng) ? "\r\n" : "\n";
        BOOST_TEST_CONTEXT("iteration " << i) { checkShape(buildReceived(in, eol), 998); }
    }
}

BOOST_AUTO_TEST_SUITE_END()
