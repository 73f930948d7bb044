// test_doctor_sendmail.cpp — the doctor's Sendmail half, pure: sendmail.cf
// text in (as m4 writes it from a .mc), findings and fix lines out.
// test_doctor.sh runs the same checks against a real generated sendmail.cf.
#include <boost/test/unit_test.hpp>

#include <string>
#include <vector>

#include "doctor/sendmail.hpp"
#include "doctor_cases.hpp"

using namespace rfc8314::doctor;
using doctor_cases::config;
using doctor_cases::expectAllOk;
using doctor_cases::expectFindings;
using doctor_cases::milter;
using doctor_cases::Want;

namespace {

// The lines of a generated sendmail.cf that the doctor reads, for the README
// recipe: MSA on 587 without M=a, SMTPS on 465, AuthOptions=p, a server
// certificate, TLS 1.0 and 1.1 off, the milter with F=T.
const char* kCf = R"(# comment
DZ8.17.1.9
O DaemonPortOptions=Port=smtp, Name=MTA
O DaemonPortOptions=Port=587, Name=MSA, M=E
O DaemonPortOptions=Port=465, Name=SMTPS, M=s
O AuthOptions=p
O ServerCertFile=/etc/mail/tls/cert.pem
O ServerKeyFile=/etc/mail/tls/key.pem
O ServerSSLOptions=+SSL_OP_NO_TLSv1 +SSL_OP_NO_TLSv1_1
O InputMailFilters=rfc8314
O Milter.macros.connect=j, _, {daemon_name}, {if_name}, {if_addr}
O Milter.macros.helo={tls_version}, {cipher}, {cipher_bits}, {cert_subject}, {cert_issuer}
O Milter.macros.envfrom=i, {auth_type}, {auth_authen}, {auth_ssf}, {auth_author}, {mail_mailer}, {mail_host}, {mail_addr}
O Milter.macros.eom={msg_id}
Xrfc8314, S=inet:8891@127.0.0.1, F=T, T=S:30s;R:30s;E:1m
)";

// kCf with each `from` line replaced by `to` ("" drops it); a `from` that
// is not in kCf is appended as `to`.
std::string cf(const std::vector<std::pair<std::string, std::string>>& edits) {
    std::string text = kCf;
    for (const auto& [from, to] : edits) {
        const auto at = text.find(from + "\n");
        if (at == std::string::npos) {
            text += to + "\n";
            continue;
        }
        text.replace(at, from.size() + 1, to.empty() ? std::string() : to + "\n");
    }
    return text;
}

// The cf parsed, with a certificate read at 2023-11-14 22:13:20 UTC that is
// valid for a year.
SendmailCf sm(const std::string& text) {
    auto cf = parseSendmailCf(text);
    CertFacts c;
    c.count = 1;
    c.checkedAt = 1700000000;
    c.notBefore = c.checkedAt - 86400;
    c.notAfter = c.checkedAt + 365 * 86400;
    cf.certs["/etc/mail/tls/cert.pem"] = c;
    return cf;
}

const std::string kMsa = "sendmail: daemon MSA (port 587, listener submission)";
const std::string kSmtps = "sendmail: daemon SMTPS (port 465, listener submissions)";

} // namespace

BOOST_AUTO_TEST_SUITE(doctor_sendmail)

BOOST_AUTO_TEST_CASE(parse_cf) {
    const auto sm = parseSendmailCf("DZ8.17.1.9\r\n"
                                    "O DaemonPortOptions=Name=MSA,\n"
                                    "\tPort=587, M=Ea, InputMailFilters=a;b\n"
                                    "O DaemonPortOptions=Addr=127.0.0.1\n"
                                    "O AuthOptions=A\n"
                                    "O AuthOptions=p,y\n"
                                    "Xm1, S=local:/m.sock, F=R, T=E:5m\n"
                                    "Xm2, S=inet:1@h\n");
    BOOST_TEST(sm.version == "8.17.1.9");
    BOOST_TEST_REQUIRE(sm.daemons.size() == 2u);
    BOOST_TEST(sm.daemons[0].name == "MSA");
    BOOST_TEST(sm.daemons[0].port.value_or(0) == 587u);
    BOOST_TEST(sm.daemons[0].modifiers == "Ea");
    BOOST_TEST(sm.daemons[0].inputFilters.value_or("") == "a;b");
    BOOST_TEST(sm.daemons[1].name == "Daemon1"); // Sendmail's default name
    BOOST_TEST(sm.daemons[1].portText == "smtp");
    BOOST_TEST(sm.daemons[1].port.value_or(0) == 25u);
    BOOST_TEST(option(sm, "AuthOptions") == "p,y"); // the last one wins
    BOOST_TEST_REQUIRE(sm.filters.size() == 2u);
    BOOST_TEST(sm.filters[0].name == "m1");
    BOOST_TEST(sm.filters[0].socket == "local:/m.sock");
    BOOST_TEST(sm.filters[0].flags == "R");
    BOOST_TEST(sm.filters[0].timeouts == "E:5m");
    BOOST_TEST(!sm.filters[1].hasFlags);
}

BOOST_AUTO_TEST_CASE(well_wired) {
    const auto got = judgeSendmail(*milter(), sm(kCf));
    expectAllOk("well wired", got);
    expectFindings(
        "well wired", got,
        {{Level::Ok, kMsa + ": milter rfc8314 (S=inet:8891@127.0.0.1) is in InputMailFilters"},
         {Level::Ok, kMsa + ": AuthOptions has p; AUTH only after STARTTLS"},
         {Level::Ok, kSmtps + ": implicit TLS (M=s)"},
         {Level::Ok, "sendmail: milter rfc8314: F=T: mail is deferred"},
         {Level::Ok, "sendmail: milter rfc8314: T=S:30s;R:30s;E:1m within bounds"},
         {Level::Ok, "sendmail: version 8.17.1.9 honours smfi_setsymlist"},
         {Level::Ok, "sendmail: ServerCertFile /etc/mail/tls/cert.pem: valid until "
                     "2024-11-13 22:13:20 UTC"},
         {Level::Ok, "sendmail: ServerSSLOptions = +SSL_OP_NO_TLSv1 +SSL_OP_NO_TLSv1_1: "
                     "TLS 1.2 or later only"}},
        {"daemon MTA", "no DaemonPortOptions line is a submissions listener"});
}

BOOST_AUTO_TEST_CASE(misconfigurations) {
    const std::string x = "Xrfc8314, S=inet:8891@127.0.0.1, F=T, T=S:30s;R:30s;E:1m";
    const struct {
        const char* name;
        std::string cf;
        std::vector<Want> want;
    } cases[] = {
        {"AUTH over cleartext",
         cf({{"O AuthOptions=p", "O AuthOptions=A"}}),
         {{Level::Warning,
           kMsa + ": the milter requires TLS for AUTH here, but AuthOptions lacks p",
           {{"sendmail.mc", "define(`confAUTH_OPTIONS', `A,p')dnl"},
            {"sendmail.cf", "O AuthOptions=A,p"}}}}},
        {"M=a answers for the milter",
         cf({{"O DaemonPortOptions=Port=587, Name=MSA, M=E",
              "O DaemonPortOptions=Port=587, Name=MSA, M=Ea"}}),
         {{Level::Warning,
           kMsa + ": M=a makes Sendmail refuse unauthenticated MAIL itself",
           {{"sendmail.mc", "DAEMON_OPTIONS(`Port=587, Name=MSA, M=E')dnl"},
            {"sendmail.cf", "O DaemonPortOptions=Port=587, Name=MSA, M=E"}}}}},
        {"no F=",
         cf({{x, "Xrfc8314, S=inet:8891@127.0.0.1, T=S:30s;R:30s;E:1m"}}),
         {{Level::Warning,
           "sendmail: milter rfc8314: no F= flag: while the milter is down, mail passes",
           {{"sendmail.mc",
             "INPUT_MAIL_FILTER(`rfc8314', `S=inet:8891@127.0.0.1, F=T, T=S:30s;R:30s;E:1m')dnl"},
            {"sendmail.cf", x}}}}},
        {"F=R",
         cf({{x, "Xrfc8314, S=inet:8891@127.0.0.1, F=R, T=S:30s;R:30s;E:1m"}}),
         {{Level::Warning,
           "sendmail: milter rfc8314: F=R: while the milter is down, submitted mail is refused"}}},
        {"long T=",
         cf({{x, "Xrfc8314, S=inet:8891@127.0.0.1, F=T, T=S:30s;R:2m;E:1h"}}),
         {{Level::Warning, "sendmail: milter rfc8314: T= R:2m is above 60s"},
          {Level::Warning,
           "sendmail: milter rfc8314: T= E:1h is above 600s",
           {{"sendmail.mc",
             "INPUT_MAIL_FILTER(`rfc8314', `S=inet:8891@127.0.0.1, F=T, T=S:30s;R:30s;E:1m')dnl"},
            {"sendmail.cf", x}}}}},
        {"not in InputMailFilters",
         cf({{"O InputMailFilters=rfc8314", "O InputMailFilters=dkim"}}),
         {{Level::Error,
           kMsa + ": the X line rfc8314 names the milter's socket but is not listed in "
                  "InputMailFilters",
           {{"sendmail.mc",
             "INPUT_MAIL_FILTER(`rfc8314', `S=inet:8891@127.0.0.1, F=T, T=S:30s;R:30s;E:1m')dnl"},
            {"sendmail.cf", "O InputMailFilters=dkim,rfc8314"}}}}},
        {"per-daemon I= without it",
         cf({{"O DaemonPortOptions=Port=587, Name=MSA, M=E",
              "O DaemonPortOptions=Port=587, Name=MSA, M=E, I=dkim"}}),
         {{Level::Error, kMsa + ": the X line rfc8314 names the milter's socket but is not listed "
                                "in this daemon's I="},
          {Level::Ok, kSmtps + ": milter rfc8314 (S=inet:8891@127.0.0.1) is in InputMailFilters"}}},
        {"wrong socket",
         cf({{x, "Xrfc8314, S=inet:9999@127.0.0.1, F=T"}}),
         {{Level::Error,
           kMsa + ": no X line names the milter's socket inet:8891@127.0.0.1 (defined: rfc8314 "
                  "S=inet:9999@127.0.0.1)",
           {{"sendmail.mc",
             "INPUT_MAIL_FILTER(`rfc8314', `S=inet:8891@127.0.0.1, F=T, T=S:30s;R:30s;E:1m')dnl"},
            {"sendmail.cf", x},
            {"sendmail.cf", "O InputMailFilters=rfc8314"}}}}},
        {"no milter at all",
         cf({{x, ""}}),
         {{Level::Error, kMsa + ": no X line names the milter's socket inet:8891@127.0.0.1 (no "
                                "milter is defined)"}}},
        {"no submission daemon",
         cf({{"O DaemonPortOptions=Port=587, Name=MSA, M=E", ""},
             {"O DaemonPortOptions=Port=465, Name=SMTPS, M=s", ""}}),
         {{Level::Warning,
           "sendmail: no DaemonPortOptions line is a submission listener",
           {{"sendmail.mc", "DAEMON_OPTIONS(`Port=587, Name=MSA, M=E')dnl"}}}}},
    };
    const auto cfg = milter();
    for (const auto& c : cases)
        expectFindings(c.name, judgeSendmail(*cfg, sm(c.cf)), c.want);
}

BOOST_AUTO_TEST_CASE(rfc8314_tls_requirements) {
    const std::string smtps = "O DaemonPortOptions=Port=465, Name=SMTPS, M=s";
    const std::string ssl = "O ServerSSLOptions=+SSL_OP_NO_TLSv1 +SSL_OP_NO_TLSv1_1";
    const struct {
        const char* name;
        std::string cf;
        std::vector<Want> want;
    } cases[] = {
        // Before: "ok: ... AuthOptions has p; AUTH only after STARTTLS".
        {"465 without M=s",
         cf({{smtps, "O DaemonPortOptions=Port=465, Name=SMTPS, M=E"}}),
         {{Level::Error,
           kSmtps + ": a submissions listener must start TLS at once (RFC 8314 §3.3: implicit TLS, "
                    "port 465), but M= lacks s",
           {{"sendmail.mc", "DAEMON_OPTIONS(`Port=465, Name=SMTPS, M=Es')dnl"},
            {"sendmail.cf", "O DaemonPortOptions=Port=465, Name=SMTPS, M=Es"}}}}},
        {"465 without any M=",
         cf({{smtps, "O DaemonPortOptions=Port=465, Name=SMTPS"}}),
         {{Level::Error,
           kSmtps + ": a submissions listener must start TLS at once",
           {{"sendmail.mc", "DAEMON_OPTIONS(`Port=465, Name=SMTPS, M=s')dnl"},
            {"sendmail.cf", "O DaemonPortOptions=Port=465, Name=SMTPS, M=s"}}}}},
        {"no 465 daemon",
         cf({{smtps, ""}}),
         {{Level::Warning,
           "sendmail: no DaemonPortOptions line is a submissions listener (implicit TLS, port "
           "465): RFC 8314 §3.3 says a submission server should offer it beside STARTTLS on 587",
           {{"sendmail.mc", "DAEMON_OPTIONS(`Port=465, Name=SMTPS, M=s')dnl"},
            {"sendmail.cf", "O DaemonPortOptions=Port=465, Name=SMTPS, M=s"}}}}},
        {"TLS 1.0 and 1.1 left to OpenSSL",
         cf({{ssl, ""}}),
         {{Level::Warning,
           "sendmail: ServerSSLOptions is not set and leaves TLSv1.0 and TLSv1.1 on, which RFC "
           "8997 deprecates: Sendmail then accepts what OpenSSL's configuration allows",
           {{"sendmail.mc",
             "define(`confSERVER_SSL_OPTIONS', `+SSL_OP_NO_TLSv1 +SSL_OP_NO_TLSv1_1')dnl"},
            {"sendmail.cf", "O ServerSSLOptions=+SSL_OP_NO_TLSv1 +SSL_OP_NO_TLSv1_1"}}}}},
        {"TLS 1.1 still on, turned on again, and @SECLEVEL=0",
         cf({{ssl, "O ServerSSLOptions=+SSL_OP_ALL -SSL_OP_NO_TLSv1_1 +SSL_OP_NO_TLSv1"},
             {"O CipherList", "O CipherList=DEFAULT:@SECLEVEL=0"}}),
         {{Level::Warning,
           "sendmail: ServerSSLOptions = +SSL_OP_ALL -SSL_OP_NO_TLSv1_1 +SSL_OP_NO_TLSv1 and "
           "leaves "
           "TLSv1.1 on, which RFC 8997 deprecates: Sendmail then accepts what OpenSSL's "
           "configuration allows; CipherList's @SECLEVEL=0 lets OpenSSL 3 negotiate them",
           {{"sendmail.mc", "define(`confSERVER_SSL_OPTIONS', `+SSL_OP_ALL +SSL_OP_NO_TLSv1 "
                            "+SSL_OP_NO_TLSv1_1')dnl"},
            {"sendmail.cf",
             "O ServerSSLOptions=+SSL_OP_ALL +SSL_OP_NO_TLSv1 +SSL_OP_NO_TLSv1_1"}}}}},
        {"numeric options",
         cf({{ssl, "O ServerSSLOptions=0x14000000"}}),
         {{Level::Ok, "sendmail: ServerSSLOptions = 0x14000000: TLS 1.2 or later only"}}},
        {"no certificate",
         cf({{"O ServerCertFile=/etc/mail/tls/cert.pem", ""}}),
         {{Level::Error,
           "sendmail: ServerCertFile or ServerKeyFile is not set: Sendmail offers no STARTTLS and "
           "cannot do implicit TLS (RFC 8314 §4.4: an MSP must keep a valid server certificate)",
           {{"sendmail.mc", "define(`confSERVER_CERT', `/etc/mail/tls/fullchain.pem')dnl"},
            {"sendmail.mc", "define(`confSERVER_KEY', `/etc/mail/tls/privkey.pem')dnl"},
            {"sendmail.cf", "O ServerCertFile=/etc/mail/tls/fullchain.pem"},
            {"sendmail.cf", "O ServerKeyFile=/etc/mail/tls/privkey.pem"}}}}},
        {"STARTTLS off on the MSA",
         cf({{"O DaemonPortOptions=Port=587, Name=MSA, M=E",
              "O DaemonPortOptions=Port=587, Name=MSA, M=ES"}}),
         {{Level::Error,
           kMsa + ": M=S turns STARTTLS off on this submission listener",
           {{"sendmail.mc", "DAEMON_OPTIONS(`Port=587, Name=MSA, M=E')dnl"},
            {"sendmail.cf", "O DaemonPortOptions=Port=587, Name=MSA, M=E"}}}}},
    };
    const auto cfg = milter();
    for (const auto& c : cases)
        expectFindings(c.name, judgeSendmail(*cfg, sm(c.cf)), c.want);

    auto expired = sm(kCf);
    expired.certs["/etc/mail/tls/cert.pem"].notAfter = 1700000000 - 60;
    expectFindings("expired certificate", judgeSendmail(*cfg, expired),
                   {{Level::Error, "sendmail: ServerCertFile /etc/mail/tls/cert.pem: expired at "
                                   "2023-11-14 22:12:20 UTC"}});
}

BOOST_AUTO_TEST_CASE(macro_lists_before_8_14) {
    const auto got = judgeSendmail(*milter(), sm(cf({{"DZ8.17.1.9", "DZ8.13.8"}})));
    expectFindings(
        "8.13", got,
        {{Level::Warning,
          "sendmail: version 8.13.8 is older than 8.14: smfi_setsymlist may be ignored"},
         {Level::Warning,
          "sendmail: Milter.macros.connect lacks {daemon_addr} {daemon_port} {client_addr} "
          "{client_name} {client_port} {tls_version} {cipher} {cipher_bits}; without "
          "{daemon_port} the milter cannot tell port 587 from 465 or 25",
          {{"sendmail.mc", "define(`confMILTER_MACROS_CONNECT', `j, _, {daemon_name}, {if_name}, "
                           "{if_addr}, {daemon_addr}, {daemon_port}, {client_addr}, {client_name}, "
                           "{client_port}, {tls_version}, {cipher}, {cipher_bits}')dnl"},
           {"sendmail.cf", "O Milter.macros.connect=j, _, {daemon_name}, {if_name}, {if_addr}, "
                           "{daemon_addr}, {daemon_port}, {client_addr}, {client_name}, "
                           "{client_port}, {tls_version}, {cipher}, {cipher_bits}"}}},
         {Level::Ok, "sendmail: Milter.macros.helo has every macro the milter needs"},
         {Level::Warning, "sendmail: Milter.macros.eom lacks i"}});
    // Without Milter.macros lines, Sendmail's built-in lists are judged.
    expectFindings("no lists",
                   judgeSendmail(*milter(), sm(cf({{"DZ8.17.1.9", ""},
                                                   {"O Milter.macros.eom={msg_id}", ""}}))),
                   {{Level::Warning, "sendmail: version unknown (no DZ line)"},
                    {Level::Warning,
                     "sendmail: Milter.macros.eom lacks i",
                     {{"sendmail.mc", "define(`confMILTER_MACROS_EOM', `{msg_id}, i')dnl"},
                      {"sendmail.cf", "O Milter.macros.eom={msg_id}, i"}}}});
}

BOOST_AUTO_TEST_SUITE_END()
