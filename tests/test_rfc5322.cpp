// test_rfc5322.cpp — the strict Time-stamp-line reader that the trace-field
// tests rely on: it must accept what RFC 5321/5322 and RFC 8314 §4.3 allow
// and refuse what they do not, or the other tests prove nothing.
#include <boost/test/unit_test.hpp>

#include <string>
#include <vector>

#include "rfc8314/rfc5322.hpp"

using namespace rfc8314;

BOOST_AUTO_TEST_SUITE(rfc5322)

struct Case {
    std::string value;
    bool ok;
};

BOOST_AUTO_TEST_CASE(time_stamp_lines) {
    const std::string date = "; Tue, 24 Nov 2026 09:05:01 +0100";
    const std::vector<Case> cases = {
        {" from a.example by b.example" + date, true},
        {"from a.example by b.example" + date, true},
        {"FROM a.example BY b.example WITH ESMTPSA" + date, true},
        {"from a.example (c.example [192.0.2.1]) by b.example with ESMTPSA id 4Xyz12 for "
         "<u@example.test> tls TLS_AES_256_GCM_SHA384 group x25519" + date, true},
        {"from [192.0.2.1] ([192.0.2.1]) by b.example" + date, true},
        {"from [IPv6:2001:db8::1] by b.example" + date, true},
        {"from a.example\r\n\t(c.example [192.0.2.1])\r\n\tby b.example\n tls 0xC02F" + date, true},
        {"from a.example (nested (comment) \\( q) by b.example" + date, true},
        {"from a.example by b.example via TCP with ESMTP id X for u@example.test" + date, true},
        {"from a.example by b.example id <abc@host.example>" + date, true},
        {"from a.example by b.example for <\"odd local\"@example.test>" + date, true},
        // RFC 8314 §4.3: dh-group allows "-"; a comment may sit between the clauses.
        {"from a.example by b.example tls TLS_AES_128_GCM_SHA256 group secp256r1-x" + date, true},
        {"from a.example by b.example tls 0xC02F (c) group ffdhe2048" + date, true},
        {"from a.example by b.example TLS 0xC02F GROUP x25519" + date, true},
        {"from a.example by b.example tls TLS_AES_256_GCM_SHA384; 24 Nov 2026 09:05 -0000", true},
        {"from a.example by b.example" + date + " (CET)", true},
        {"from a.example by b.example" + date + "\r\n", true},
        // refused
        {"", false},
        {"by b.example" + date, false},
        {"from a.example" + date, false},
        {"from a.example by b.example", false},
        {"from a.example by b.example;", false},
        {"from a.example by b.example" + std::string("; Tue, 24 Nov 2026 09:05:01"), false},
        {"from a.example by b.example; Tue, 24 Nov 2026 25:05:01 +0100", false},
        {"from a.example by b.example; Tue, 32 Nov 2026 09:05:01 +0100", false},
        {"from a.example by b.example; Xyz, 24 Nov 2026 09:05:01 +0100", false},
        {"from a.example by b.example; Tue, 24 Foo 2026 09:05:01 +0100", false},
        {"from bad_helo by b.example" + date, false},
        {"from -a.example by b.example" + date, false},
        {"from a..example by b.example" + date, false},
        {"from [300.1.1.1] by b.example" + date, false},
        {"from [IPv6:zz::1] by b.example" + date, false},
        {"from a.example (unclosed by b.example" + date, false},
        {"from a.example (bad ) paren)) by b.example" + date, false},
        {"from a.example by b.example id X with ESMTP" + date, false},
        {"from a.example by b.example tls TLS_X with ESMTP" + date, false},
        {"from a.example by b.example for <u@example.test> id X" + date, false},
        {"from a.example by b.example tls 0xC02" + date, false},
        {"from a.example by b.example tls 1TLS" + date, false},
        {"from a.example by b.example tls TLS-AES" + date, false},
        {"from a.example by b.example group P-256" + date, false},
        // group "not to be used except immediately after tls-cipher" (§4.3)
        {"from a.example by b.example group x25519 tls TLS_AES_128_GCM_SHA256" + date, false},
        {"from a.example by b.example tls 0xC02F group x25519 group x448" + date, false},
        {"from a.example by b.example tls 0xC02F tls 0xC030" + date, false},
        // only registered clauses (tls, group): nothing after them, nothing else
        {"from a.example by b.example tls TLS_AES_128_GCM_SHA256 foo bar" + date, false},
        {"from a.example by b.example x-clause \"quoted string\"" + date, false},
        {"from a.example by b.example tls \"TLS_AES_128_GCM_SHA256\"" + date, false},
        {"from a.example by b.example tls 0xC02F group -x" + date, false},
        {"from a.example by b.example tls 0xC02F group" + date, false},
        {"from a.example by b.example for <not an address>" + date, false},
        {"from a.example\r\nby b.example" + date, false},
        {"from a.example\rby b.example" + date, false},
        {"from a.example (\x01) by b.example" + date, false},
        {"from a.example (caf\xc3\xa9) by b.example" + date, false},
        {"from a.example by b.example with" + date, false},
        {"from a.example by b.example" + date + " junk", false},
        {"from a.example by b.example with ESMTP with ESMTP" + date, false},
    };
    for (const auto& c : cases) {
        auto r = parseTimeStampLine(c.value);
        BOOST_TEST_CONTEXT("value '" << c.value << "' error '" << r.error << "'") {
            BOOST_TEST(r.ok == c.ok);
            if (!c.ok)
                BOOST_TEST(!r.error.empty());
        }
    }
}

BOOST_AUTO_TEST_CASE(clauses_are_reported) {
    auto r = parseTimeStampLine(
        "from a.example (c.example [192.0.2.1]) by b.example with ESMTPSA id 4Xyz12 for "
        "<u@example.test> tls TLS_AES_256_GCM_SHA384 group x25519; Tue, 24 Nov 2026 09:05:01 +0100");
    BOOST_TEST_REQUIRE(r.ok);
    BOOST_TEST(r.from == "a.example");
    BOOST_TEST(r.by == "b.example");
    BOOST_TEST(r.with == "ESMTPSA");
    BOOST_TEST(r.id == "4Xyz12");
    BOOST_TEST(r.forPath == "<u@example.test>");
    BOOST_TEST_REQUIRE(r.extra.size() == 2u);
    BOOST_TEST(r.extra[0].first == "tls");
    BOOST_TEST(r.extra[0].second == "TLS_AES_256_GCM_SHA384");
    BOOST_TEST(r.extra[1].first == "group");
    BOOST_TEST(r.extra[1].second == "x25519");
    BOOST_TEST(r.date == "Tue, 24 Nov 2026 09:05:01 +0100");
}

BOOST_AUTO_TEST_CASE(predicates) {
    struct P {
        std::string s;
        bool domain, literal, mailbox, tls;
    };
    const std::vector<P> cases = {
        {"mx.example.test", true, false, false, false},
        {"localhost", true, false, false, true},
        {"a-b.c", true, false, false, false},
        {"a-.c", false, false, false, false},
        {"-a.c", false, false, false, false},
        {"a_b.c", false, false, false, false},
        {"a.c.", false, false, false, false},
        {std::string(63, 'a') + ".c", true, false, false, false},
        {std::string(64, 'a') + ".c", false, false, false, false},
        {"[127.0.0.1]", false, true, false, false},
        {"[IPv6:::1]", false, true, false, false},
        {"[ipv6:2001:db8::1]", false, true, false, false},
        {"[127.0.0.1", false, false, false, false},
        {"[1.2.3]", false, false, false, false},
        {"u@example.test", false, false, true, false},
        {"first.last@[192.0.2.1]", false, false, true, false},
        {"\"a b\"@example.test", false, false, true, false},
        {"a..b@example.test", false, false, false, false},
        {"@example.test", false, false, false, false},
        {"u@", false, false, false, false},
        {"TLS_AES_128_GCM_SHA256", false, false, false, true},
        {"0xC02F", true, false, false, true}, // a valid Domain too
        {"0xc02f", true, false, false, true},
        {"0xC02", true, false, false, false},
        {"P-256", true, false, false, false}, // a dh-group, not a tls-cipher
        {"x25519", true, false, false, true},
    };
    for (const auto& c : cases) {
        BOOST_TEST_CONTEXT("'" << c.s << "'") {
            BOOST_TEST(isValidDomain(c.s) == c.domain);
            BOOST_TEST(isValidAddressLiteral(c.s) == c.literal);
            BOOST_TEST(isValidMailbox(c.s) == c.mailbox);
            BOOST_TEST(isValidTlsCipherValue(c.s) == c.tls);
            // Every tls-cipher-name is a dh-group too; dh-group adds "-".
            if (c.tls && c.s.rfind("0x", 0) != 0)
                BOOST_TEST(isValidDhGroup(c.s));
        }
    }
    BOOST_TEST(addressLiteral("127.0.0.1") == "[127.0.0.1]");
    BOOST_TEST(addressLiteral("2001:db8::1") == "[IPv6:2001:db8::1]");
    BOOST_TEST(addressLiteral("::ffff:192.0.2.7") == "[192.0.2.7]");
    BOOST_TEST(addressLiteral("unknown") == "");
    BOOST_TEST(addressLiteral("") == "");
    BOOST_TEST(addressLiteral("1.2.3.4\n") == "");
}

BOOST_AUTO_TEST_SUITE_END()
