// test_doctor_tls.cpp — what the doctor makes of TLS settings
// (plugin/doctor/tls.hpp): the protocol versions a Postfix protocol list or
// Sendmail's ServerSSLOptions leave on, and a certificate's facts judged at
// the time they were read.
#include <boost/test/unit_test.hpp>

#include <string>

#include "doctor/tls.hpp"

using namespace rfc8314::doctor;
using rfc8314::TlsVersion;

namespace {

std::string show(const ProtocolSet& s) {
    if (!s.understood)
        return "not understood: " + s.bad;
    std::string out;
    for (auto v : s.enabled)
        out += (out.empty() ? "" : " ") + std::string(rfc8314::toString(v));
    return out.empty() ? "(none)" : out;
}

} // namespace

BOOST_AUTO_TEST_SUITE(doctor_tls)

BOOST_AUTO_TEST_CASE(postfix_protocol_lists) {
    const struct {
        const char* value;
        const char* want;
    } cases[] = {
        {"", "TLSv1.0 TLSv1.1 TLSv1.2 TLSv1.3"},
        {">=TLSv1", "TLSv1.0 TLSv1.1 TLSv1.2 TLSv1.3"},
        {">=TLSv1.2", "TLSv1.2 TLSv1.3"},
        {">=TLSv1.2, <=TLSv1.3", "TLSv1.2 TLSv1.3"},
        {">=TLSv1.1 <=TLSv1.2", "TLSv1.1 TLSv1.2"},
        {">=0x0303", "TLSv1.2 TLSv1.3"},
        {">=303", "TLSv1.2 TLSv1.3"},
        {">=0301, <=0x0305", "TLSv1.0 TLSv1.1 TLSv1.2 TLSv1.3"},
        {"!SSLv2, !SSLv3", "TLSv1.0 TLSv1.1 TLSv1.2 TLSv1.3"},
        {"!SSLv2, !SSLv3, !TLSv1", "TLSv1.1 TLSv1.2 TLSv1.3"},
        {"!SSLv2:!SSLv3:!TLSv1:!TLSv1.1", "TLSv1.2 TLSv1.3"},
        {"!sslv2 !sslv3 !tlsv1 !tlsv1.1 !tlsv1.3", "TLSv1.2"},
        {"TLSv1.2, TLSv1.3", "TLSv1.2 TLSv1.3"},
        {"TLSv1 TLSv1.2", "TLSv1.0 TLSv1.2"},
        {"SSLv3", "(none)"},
        {">=TLSv1.3, <=TLSv1.2", "(none)"},
        {"!TLSv1.4", "not understood: !TLSv1.4"},
        {">=TLS1.2", "not understood: >=TLS1.2"},
        {">=0x10000", "not understood: >=0x10000"},
    };
    for (const auto& c : cases) {
        const auto got = show(parsePostfixProtocols(c.value));
        BOOST_TEST(got == c.want, "parsePostfixProtocols(\"" << c.value << "\"): got " << got
                                                             << ", want " << c.want);
    }
    BOOST_TEST(postfixProtocolsFix("3.7.11") == ">=TLSv1.2");
    BOOST_TEST(postfixProtocolsFix("3.5.20") == "!SSLv2, !SSLv3, !TLSv1, !TLSv1.1");
    BOOST_TEST(versionList(deprecatedVersions(parsePostfixProtocols(">=TLSv1"))) ==
               "TLSv1.0 and TLSv1.1");
    BOOST_TEST(versionList({TlsVersion::TLSv1_0, TlsVersion::TLSv1_1, TlsVersion::TLSv1_2}) ==
               "TLSv1.0, TLSv1.1 and TLSv1.2");
}

BOOST_AUTO_TEST_CASE(sendmail_ssl_options) {
    const struct {
        const char* value;
        const char* want;
        const char* fixed; // sendmailSslOptionsWithout11
    } cases[] = {
        {"", "TLSv1.0 TLSv1.1 TLSv1.2 TLSv1.3", "+SSL_OP_NO_TLSv1 +SSL_OP_NO_TLSv1_1"},
        {"+SSL_OP_NO_TLSv1 +SSL_OP_NO_TLSv1_1", "TLSv1.2 TLSv1.3",
         "+SSL_OP_NO_TLSv1 +SSL_OP_NO_TLSv1_1"},
        {"SSL_OP_NO_TLSv1,SSL_OP_NO_TLSv1_1", "TLSv1.2 TLSv1.3",
         "SSL_OP_NO_TLSv1 SSL_OP_NO_TLSv1_1"},
        {"+SSL_OP_NO_TLSv1", "TLSv1.1 TLSv1.2 TLSv1.3", "+SSL_OP_NO_TLSv1 +SSL_OP_NO_TLSv1_1"},
        {"+SSL_OP_NO_TLSv1 +SSL_OP_NO_TLSv1_1 -SSL_OP_NO_TLSv1", "TLSv1.0 TLSv1.2 TLSv1.3",
         "+SSL_OP_NO_TLSv1 +SSL_OP_NO_TLSv1_1"},
        {"+SSL_OP_ALL +SSL_OP_NO_SSLv3", "TLSv1.0 TLSv1.1 TLSv1.2 TLSv1.3",
         "+SSL_OP_ALL +SSL_OP_NO_SSLv3 +SSL_OP_NO_TLSv1 +SSL_OP_NO_TLSv1_1"},
        {"0x14000000", "TLSv1.2 TLSv1.3", "0x14000000"},
        {"+0x04000000", "TLSv1.1 TLSv1.2 TLSv1.3", "+0x04000000 +SSL_OP_NO_TLSv1_1"},
        {"+NO_SUCH_THING", "not understood: +NO_SUCH_THING",
         "+NO_SUCH_THING +SSL_OP_NO_TLSv1 +SSL_OP_NO_TLSv1_1"},
    };
    for (const auto& c : cases) {
        const auto got = show(parseSendmailSslOptions(c.value));
        BOOST_TEST(got == c.want, "parseSendmailSslOptions(\"" << c.value << "\"): got " << got
                                                               << ", want " << c.want);
        const auto fixed = sendmailSslOptionsWithout11(c.value);
        BOOST_TEST(fixed == c.fixed, "sendmailSslOptionsWithout11(\"" << c.value << "\"): got "
                                                                      << fixed << ", want "
                                                                      << c.fixed);
        BOOST_TEST(deprecatedVersions(parseSendmailSslOptions(fixed)).empty(),
                   "the fix for \"" << c.value << "\" still leaves TLS 1.0 or 1.1 on");
    }
}

BOOST_AUTO_TEST_CASE(certificates_judged_when_read) {
    const std::time_t now = 1700000000; // 2023-11-14 22:13:20 UTC
    auto facts = [&](long fromDays, long toDays) {
        CertFacts c;
        c.count = 2;
        c.notBefore = now + fromDays * 86400;
        c.notAfter = now + toDays * 86400;
        c.subject = "CN=mx.example.org";
        c.checkedAt = now;
        return c;
    };
    const struct {
        const char* name;
        std::optional<CertFacts> facts;
        Level level;
        const char* text;
    } cases[] = {
        {"valid", facts(-30, 60), Level::Ok,
         "postfix: smtpd_tls_cert_file /c.pem: valid until 2024-01-13 22:13:20 UTC "
         "(CN=mx.example.org)"},
        {"due", facts(-30, 13), Level::Warning,
         "postfix: smtpd_tls_cert_file /c.pem: expires at 2023-11-27 22:13:20 UTC, in less than 14 "
         "days: renew it and reload the MTA"},
        {"just expired", facts(-30, 0), Level::Error,
         "postfix: smtpd_tls_cert_file /c.pem: expired at 2023-11-14 22:13:20 UTC"},
        {"not yet valid", facts(1, 60), Level::Error,
         "postfix: smtpd_tls_cert_file /c.pem: not valid before 2023-11-15 22:13:20 UTC"},
        {"not read", std::nullopt, Level::Warning,
         "postfix: smtpd_tls_cert_file /c.pem: not checked"},
        {"no certificate in it",
         [] {
             CertFacts c;
             c.error = "holds no PEM certificate";
             return c;
         }(),
         Level::Error,
         "postfix: smtpd_tls_cert_file /c.pem: holds no PEM certificate: the MTA cannot present a "
         "certificate, so no client can start TLS (RFC 8314 §4.4"},
    };
    for (const auto& c : cases) {
        const auto f = judgeCertificate("postfix", "smtpd_tls_cert_file", "/c.pem", c.facts);
        BOOST_TEST(f.text.find(c.text) == 0u,
                   c.name << ": got '" << f.text << "', want '" << c.text << "...'");
        BOOST_TEST((f.level == c.level), c.name << ": wrong level for '" << f.text << "'");
    }
}

BOOST_AUTO_TEST_SUITE_END()
