// test_doctor_postfix.cpp — the doctor's Postfix half, pure: postconf
// output in (main.cf values, `postconf -M`, `postconf -P`), findings and fix
// lines out.  The texts are what postconf prints for the configurations the
// cases describe; test_doctor.sh runs the same checks against real postconf.
#include <boost/test/unit_test.hpp>

#include <ctime>
#include <string>
#include <vector>

#include "doctor/postfix.hpp"
#include "doctor_cases.hpp"
#include "doctor_postfix_cases.hpp"

using namespace rfc8314::doctor;
using namespace doctor_cases;

BOOST_AUTO_TEST_SUITE(doctor_postfix)

BOOST_AUTO_TEST_CASE(postconf_main_output) {
    const auto m = parsePostconfMain("a = 1\nb =\n c = x y \nnot a parameter line\nd e = 3\n");
    BOOST_TEST(m.size() == 3u);
    BOOST_TEST(m.at("a") == "1");
    BOOST_TEST(m.at("b") == "");
    BOOST_TEST(m.at("c") == "x y");
    BOOST_TEST(!m.count("d e"));
}

BOOST_AUTO_TEST_CASE(postconf_master_output_and_overrides) {
    auto s = parsePostconfMaster("# comment\n\n"
                                 "submission inet n - y - - smtpd -o a=b\n"
                                 "short inet n - y\n"
                                 "127.0.0.1:2525 inet n - n - 10 smtpd\n");
    BOOST_TEST_REQUIRE(s.size() == 2u);
    BOOST_TEST(s[0].name == "submission");
    BOOST_TEST(s[0].chroot == "y");
    BOOST_TEST(s[0].command == "smtpd");
    BOOST_TEST(s[0].line == "submission inet n - y - - smtpd -o a=b");
    BOOST_TEST(s[1].name == "127.0.0.1:2525");
    BOOST_TEST(s[1].maxproc == "10");
    applyPostconfOverrides(s, "submission/inet/a = b\nsubmission/unix/x = y\nbad = z\n");
    BOOST_TEST(s[0].overrides.size() == 1u);
    BOOST_TEST(s[0].overrides.at("a") == "b");
}

BOOST_AUTO_TEST_CASE(milter_lists) {
    const auto l = parsePostfixMilterList(
        "inet:127.0.0.1:8891, { unix:/m.sock, default_action = accept, command_timeout=5s },"
        "inet:[::1]:9\tunix:/n.sock");
    BOOST_TEST_REQUIRE(l.size() == 4u);
    BOOST_TEST(l[0].spec == "inet:127.0.0.1:8891");
    BOOST_TEST(l[1].spec == "unix:/m.sock");
    BOOST_TEST(l[1].settings.at("default_action") == "accept");
    BOOST_TEST(l[1].settings.at("command_timeout") == "5s");
    BOOST_TEST(l[2].spec == "inet:[::1]:9");
    BOOST_TEST(l[3].spec == "unix:/n.sock");
    BOOST_TEST(parsePostfixMilterList("").empty());
}

BOOST_AUTO_TEST_CASE(service_line_with_one_override_changed) {
    PostfixService s;
    s.line = "submission inet n - n - - smtpd -o smtpd_tls_auth_only=no -o x=1";
    BOOST_TEST(serviceLineWith(s, "smtpd_tls_auth_only", "yes") ==
               "submission inet n - n - - smtpd -o smtpd_tls_auth_only=yes -o x=1");
    BOOST_TEST(serviceLineWith(s, "y", "2") ==
               "submission inet n - n - - smtpd -o smtpd_tls_auth_only=no -o x=1 -o y=2");
    s.line = "submission inet n - n - - smtpd -o { smtpd_milters = inet:a:1, inet:b:2 } -o x=1";
    BOOST_TEST(serviceLineWith(s, "smtpd_milters", "inet:c:3") ==
               "submission inet n - n - - smtpd -o smtpd_milters=inet:c:3 -o x=1");
}

BOOST_AUTO_TEST_CASE(well_wired) {
    const auto got = judgePostfix(*milter(), conf(""));
    expectAllOk("well wired", got);
    expectFindings("well wired", got,
                   {{Level::Ok, kSub + ": smtpd_milters names the milter (inet:127.0.0.1:8891)"},
                    {Level::Ok, kSub + ": smtpd_tls_auth_only = yes; AUTH only after STARTTLS"},
                    {Level::Ok, kSubs + ": implicit TLS (smtpd_tls_wrappermode = yes)"},
                    {Level::Ok, "postfix: milter_default_action = tempfail"},
                    {Level::Ok, "postfix: milter_command_timeout = 10s (at most 60s)"},
                    {Level::Ok, "postfix: milter_protocol = 6: Postfix honours smfi_setsymlist"},
                    {Level::Ok, "postfix: smtpd_tls_cert_file /etc/postfix/tls/cert.pem: valid "
                                "until 2024-11-13 22:13:20 UTC (CN=mx.example.org)"},
                    {Level::Ok, "postfix: smtpd_tls_protocols = >=TLSv1.2: STARTTLS with TLS 1.2 "
                                "or later only"},
                    {Level::Ok, "postfix: smtpd_tls_mandatory_protocols = >=TLSv1.2: implicit TLS "
                                "with TLS 1.2 or later only"}},
                   {"service smtp/inet", "no smtpd service is a submissions listener"});
}

BOOST_AUTO_TEST_CASE(wiring_and_failure_settings) {
    const struct {
        const char* name;
        std::string mainChanges, master, overrides;
        std::vector<Want> want;
    } cases[] = {
        {"wrong socket in main.cf",
         "smtpd_milters = inet:127.0.0.1:9999\n",
         kMaster,
         kOverrides,
         {{Level::Error,
           kSub + ": smtpd_milters (main.cf) = inet:127.0.0.1:9999: does not name the milter's "
                  "socket inet:8891@127.0.0.1 (Postfix spelling inet:127.0.0.1:8891)",
           {{"main.cf", "smtpd_milters = inet:127.0.0.1:8891"}}}}},
        {"other milters stay",
         "smtpd_milters = inet:127.0.0.1:9999, unix:/dkim.sock\n",
         kMaster,
         kOverrides,
         {{Level::Error,
           kSub + ": smtpd_milters (main.cf) = inet:127.0.0.1:9999, unix:/dkim.sock",
           {{"main.cf",
             "smtpd_milters = inet:127.0.0.1:9999, unix:/dkim.sock, inet:127.0.0.1:8891"}}}}},
        {"empty list, -o in master.cf",
         "",
         "submission inet n - n - - smtpd -o smtpd_sasl_auth_enable=yes -o smtpd_milters=\n",
         "submission/inet/smtpd_sasl_auth_enable = yes\nsubmission/inet/smtpd_milters =\n",
         {{Level::Error,
           kSub + ": smtpd_milters (-o in master.cf) is empty",
           {{"master.cf", "submission inet n - n - - smtpd -o smtpd_sasl_auth_enable=yes "
                          "-o smtpd_milters=inet:127.0.0.1:8891"}}}}},
        {"AUTH over cleartext",
         "",
         "submission inet n - n - - smtpd -o smtpd_sasl_auth_enable=yes\n",
         "submission/inet/smtpd_sasl_auth_enable = yes\n",
         {{Level::Warning,
           kSub + ": the milter requires TLS for AUTH here, but "
                  "smtpd_tls_auth_only is not yes",
           {{"master.cf", "submission inet n - n - - smtpd -o smtpd_sasl_auth_enable=yes "
                          "-o smtpd_tls_auth_only=yes"}}}}},
        {"AUTH not offered",
         "",
         "submission inet n - n - - smtpd\n",
         "",
         {{Level::Ok, kSub + ": AUTH is not offered (smtpd_sasl_auth_enable = no)"}}},
        {"encrypt keeps AUTH off cleartext",
         "smtpd_tls_security_level = encrypt\n",
         "submission inet n - n - - smtpd -o smtpd_sasl_auth_enable=yes\n",
         "submission/inet/smtpd_sasl_auth_enable = yes\n",
         {{Level::Ok, kSub + ": smtpd_tls_security_level = encrypt; no cleartext session "
                             "reaches AUTH"}}},
        {"shutdown while down is fail-closed (Postfix 3.11's default)",
         "milter_default_action = shutdown\n",
         kMaster,
         kOverrides,
         {{Level::Ok, "postfix: milter_default_action = shutdown: fail-closed, no mail passes "
                      "while the milter is unreachable"}}},
        {"per-milter shutdown",
         "smtpd_milters = { inet:127.0.0.1:8891, default_action=shutdown }\n",
         kMaster,
         kOverrides,
         {{Level::Ok, kSub + ": default_action in smtpd_milters = shutdown: fail-closed"}}},
        {"accept while down",
         "milter_default_action = accept\n",
         kMaster,
         kOverrides,
         {{Level::Warning,
           "postfix: milter_default_action = accept: while the milter is down, "
           "mail passes with no trace field",
           {{"main.cf", "milter_default_action = tempfail"}}}}},
        {"reject while down",
         "milter_default_action = reject\n",
         kMaster,
         kOverrides,
         {{Level::Warning,
           "postfix: milter_default_action = reject: while the milter is down, "
           "submitted mail is refused or held",
           {{"main.cf", "milter_default_action = tempfail"}}}}},
        {"per-milter setting wins",
         "smtpd_milters = { inet:127.0.0.1:8891, default_action=accept }\n",
         kMaster,
         kOverrides,
         {{Level::Warning,
           kSub + ": default_action in smtpd_milters = accept",
           {{"main.cf", "smtpd_milters = { inet:127.0.0.1:8891, default_action=tempfail }"}}}}},
        {"-o default action",
         "",
         "submission inet n - n - - smtpd -o milter_default_action=accept\n",
         "submission/inet/milter_default_action = accept\n",
         {{Level::Warning,
           kSub + ": -o milter_default_action = accept",
           {{"master.cf", "submission inet n - n - - smtpd "
                          "-o milter_default_action=tempfail"}}}}},
        {"long and unreadable timeouts",
         "milter_command_timeout = 5m\nmilter_connect_timeout = soon\n",
         kMaster,
         kOverrides,
         {{Level::Warning,
           "postfix: milter_command_timeout = 5m is above 60s",
           {{"main.cf", "milter_command_timeout = 10s"}}},
          {Level::Warning,
           "postfix: milter_connect_timeout = soon is not a time value",
           {{"main.cf", "milter_connect_timeout = 10s"}}}}},
        {"no submission service",
         "",
         "smtp inet n - y - - smtpd\n",
         "",
         {{Level::Warning,
           "postfix: no smtpd service in master.cf is a submission listener",
           {{"master.cf", "submission inet n - n - - smtpd -o smtpd_sasl_auth_enable=yes "
                          "-o smtpd_tls_auth_only=yes"}}}}},
    };
    const auto cfg = milter();
    for (const auto& c : cases)
        expectFindings(c.name, judgePostfix(*cfg, conf(c.mainChanges, c.master, c.overrides)),
                       c.want);
}

BOOST_AUTO_TEST_CASE(unix_socket_and_chroot) {
    const auto cfg = config("socket = local:/run/rfc8314/milter.sock\n");
    const std::string chrooted = "submission inet n - y - - smtpd -o smtpd_sasl_auth_enable=yes -o "
                                 "smtpd_tls_auth_only=yes\n";
    const std::string over = "submission/inet/smtpd_sasl_auth_enable = yes\n"
                             "submission/inet/smtpd_tls_auth_only = yes\n";
    expectFindings(
        "unchrooted", judgePostfix(*cfg, conf("smtpd_milters = unix:/run/rfc8314/milter.sock\n")),
        {{Level::Ok, kSub + ": smtpd_milters names the milter (unix:/run/rfc8314/milter.sock)"}});
    expectFindings(
        "chrooted, socket outside the spool",
        judgePostfix(*cfg, conf("smtpd_milters = unix:/run/rfc8314/milter.sock\n", chrooted, over)),
        {{Level::Error,
          kSub + ": runs chrooted (master.cf chroot column) in /var/spool/postfix and cannot "
                 "reach the milter's socket /run/rfc8314/milter.sock (smtpd_milters names it, "
                 "but inside the chroot it is /var/spool/postfix/run/rfc8314/milter.sock)",
          {{"milter.conf", "socket = local:/var/spool/postfix/rfc8314-milter/rfc8314-milter.sock"},
           {"main.cf", "smtpd_milters = unix:/rfc8314-milter/rfc8314-milter.sock"}}}});
    const auto spool = config("socket = local:/var/spool/postfix/rfc8314/m.sock\n");
    expectFindings(
        "chrooted, socket below the spool",
        judgePostfix(*spool, conf("smtpd_milters = unix:/rfc8314/m.sock\n", chrooted, over)),
        {{Level::Ok, kSub + ": smtpd_milters names the milter (unix:/rfc8314/m.sock)"}});
    expectFindings("chrooted, spelled as outside",
                   judgePostfix(*spool, conf("smtpd_milters = inet:127.0.0.1:1\n", chrooted, over)),
                   {{Level::Error,
                     kSub + ": smtpd_milters (main.cf) = inet:127.0.0.1:1",
                     {{"main.cf", "smtpd_milters = unix:/rfc8314/m.sock"}}}});
}

BOOST_AUTO_TEST_CASE(listener_sections_decide_what_is_submission) {
    // A test port named by a [listener] section; the relay port is left alone.
    const auto cfg = milter("[listener sub]\nport = 10587\nrole = submission\n");
    const auto pf = conf("smtpd_milters = inet:127.0.0.1:9\n",
                         "25 inet n - n - - smtpd\n10587 inet n - n - - smtpd\n", "");
    expectFindings("by port", judgePostfix(*cfg, pf),
                   {{Level::Error, "postfix: service 10587/inet (listener sub): smtpd_milters"}},
                   {"service 25/inet"});
}

// Postfix takes the milter's macro lists at every milter_protocol (its
// milter8.c offers SMFIF_SETSYMLIST whatever the version; measured on 3.7 at
// 4): below 6 only the no-reply steps are lost, and no macro list is judged.
BOOST_AUTO_TEST_CASE(protocol_below_6_loses_the_no_reply_steps_only) {
    for (const char* main : {"milter_protocol = 4\n", "milter_protocol = 2\n"}) {
        const auto got = judgePostfix(*milter("group_macro = {tls_group}\n"), conf(main));
        expectFindings(main, got,
                       {{Level::Warning, "below 6 Postfix negotiates no no-reply steps",
                         {{"main.cf", "milter_protocol = 6"}}}},
                       {"milter_connect_macros", "milter_helo_macros", "milter_mail_macros",
                        "milter_end_of_data_macros", "ignores smfi_setsymlist"});
    }
    expectFindings("protocol 6", judgePostfix(*milter(), conf("milter_protocol = 6\n")),
                   {{Level::Ok, "postfix: milter_protocol = 6: Postfix honours smfi_setsymlist"}},
                   {"no-reply"});
}

BOOST_AUTO_TEST_CASE(implicit_tls_on_the_submissions_service) {
    const struct {
        const char* name;
        std::string master, overrides;
        std::vector<Want> want;
        std::vector<std::string> absent;
    } cases[] = {
        // Before: "ok: ... smtpd_tls_auth_only = yes; AUTH only after STARTTLS".
        {"465 without wrapper mode",
         "submission inet n - n - - smtpd -o smtpd_sasl_auth_enable=yes -o "
         "smtpd_tls_auth_only=yes\n"
         "submissions inet n - n - - smtpd -o smtpd_sasl_auth_enable=yes -o "
         "smtpd_tls_auth_only=yes\n",
         "submission/inet/smtpd_sasl_auth_enable = yes\nsubmission/inet/smtpd_tls_auth_only = yes\n"
         "submissions/inet/smtpd_sasl_auth_enable = yes\nsubmissions/inet/smtpd_tls_auth_only = "
         "yes\n",
         {{Level::Error,
           kSubs + ": a submissions listener must start TLS at once (RFC 8314 §3.3: implicit TLS, "
                   "port 465), but smtpd_tls_wrappermode is not yes",
           {{"master.cf", "submissions inet n - n - - smtpd -o smtpd_sasl_auth_enable=yes "
                          "-o smtpd_tls_auth_only=yes -o smtpd_tls_wrappermode=yes"}}},
          // STARTTLS there: the opportunistic list applies.
          {Level::Ok, "postfix: smtpd_tls_protocols = >=TLSv1.2: STARTTLS"}},
         {kSubs + ": smtpd_tls_auth_only = yes", "no smtpd service is a submissions listener"}},
        {"wrapper mode off by -o",
         "submissions inet n - n - - smtpd -o smtpd_tls_wrappermode=no\n",
         "submissions/inet/smtpd_tls_wrappermode = no\n",
         {{Level::Error,
           kSubs + ": a submissions listener must start TLS at once",
           {{"master.cf", "submissions inet n - n - - smtpd -o smtpd_tls_wrappermode=yes"}}}},
         {}},
        {"no 465 service: the 587 line as a submissions service",
         "submission inet n - y - - smtpd -o syslog_name=postfix/submission "
         "-o smtpd_sasl_auth_enable=yes -o smtpd_tls_auth_only=yes\n",
         "submission/inet/syslog_name = postfix/submission\n"
         "submission/inet/smtpd_sasl_auth_enable = yes\nsubmission/inet/smtpd_tls_auth_only = "
         "yes\n",
         {{Level::Warning,
           "postfix: no smtpd service is a submissions listener (implicit TLS, port 465): RFC 8314 "
           "§3.3 says a submission server should offer it beside STARTTLS on 587",
           {{"master.cf", "submissions inet n - y - - smtpd -o syslog_name=postfix/submissions "
                          "-o smtpd_sasl_auth_enable=yes -o smtpd_tls_auth_only=yes "
                          "-o smtpd_tls_wrappermode=yes"}}}},
         {}},
        {"no 465 service, address-bound",
         "127.0.0.1:submission inet n - n - - smtpd\n",
         "",
         {{Level::Warning,
           "postfix: no smtpd service is a submissions listener",
           {{"master.cf", "127.0.0.1:submissions inet n - n - - smtpd "
                          "-o smtpd_tls_wrappermode=yes"}}}},
         {}},
    };
    const auto cfg = milter();
    for (const auto& c : cases)
        expectFindings(c.name, judgePostfix(*cfg, conf("", c.master, c.overrides)), c.want,
                       c.absent);
}

BOOST_AUTO_TEST_CASE(tls_offered_and_its_versions) {
    const struct {
        const char* name;
        std::string mainChanges, master, overrides;
        std::vector<Want> want;
    } cases[] = {
        {"TLS 1.0 and 1.1 for STARTTLS (Postfix 3.6+ syntax)",
         "smtpd_tls_protocols = >=TLSv1\n",
         kMaster,
         kOverrides,
         {{Level::Warning,
           "postfix: smtpd_tls_protocols = >=TLSv1 enables TLSv1.0 and TLSv1.1 for "
           "STARTTLS, which RFC 8997 deprecates",
           {{"main.cf", "smtpd_tls_protocols = >=TLSv1.2"}}},
          {Level::Ok, "postfix: smtpd_tls_mandatory_protocols = >=TLSv1.2: implicit TLS"}}},
        {"TLS 1.1 for implicit TLS (exclusion syntax, Postfix 3.5)",
         "mail_version = 3.5.20\nsmtpd_tls_mandatory_protocols = !SSLv2, !SSLv3, !TLSv1\n",
         kMaster,
         kOverrides,
         {{Level::Warning,
           "postfix: smtpd_tls_mandatory_protocols = !SSLv2, !SSLv3, !TLSv1 enables "
           "TLSv1.1 for implicit TLS, which RFC 8997 deprecates",
           {{"main.cf", "smtpd_tls_mandatory_protocols = !SSLv2, !SSLv3, !TLSv1, !TLSv1.1"}}}}},
        {"empty: every version",
         "smtpd_tls_protocols =\n",
         kMaster,
         kOverrides,
         {{Level::Warning, "postfix: smtpd_tls_protocols is empty and so enables TLSv1.0 and TLSv1.1 for STARTTLS"}}},
        {"encrypt level uses the mandatory list",
         "smtpd_tls_security_level = encrypt\nsmtpd_tls_protocols = >=TLSv1\n"
         "smtpd_tls_mandatory_protocols = >=TLSv1.1\n",
         kMaster,
         kOverrides,
         {{Level::Warning, "postfix: smtpd_tls_mandatory_protocols = >=TLSv1.1 enables TLSv1.1 for "
                           "mandatory STARTTLS"},
          {Level::Warning, "postfix: smtpd_tls_mandatory_protocols = >=TLSv1.1 enables TLSv1.1 for "
                           "implicit TLS"}}},
        {"-o on one service",
         "",
         "submission inet n - n - - smtpd -o smtpd_tls_protocols=>=TLSv1\n"
         "submissions inet n - n - - smtpd -o smtpd_tls_wrappermode=yes\n",
         "submission/inet/smtpd_tls_protocols = >=TLSv1\n"
         "submissions/inet/smtpd_tls_wrappermode = yes\n",
         {{Level::Warning,
           kSub + ": -o smtpd_tls_protocols = >=TLSv1 enables TLSv1.0 and TLSv1.1",
           {{"master.cf", "submission inet n - n - - smtpd -o smtpd_tls_protocols=>=TLSv1.2"}}}}},
        {"a list Postfix does not know",
         "smtpd_tls_protocols = >=TLSv1.2, !TLSv1.9\n",
         kMaster,
         kOverrides,
         {{Level::Warning, "postfix: smtpd_tls_protocols = >=TLSv1.2, !TLSv1.9: '!TLSv1.9' is not "
                           "a TLS protocol name or bound that Postfix knows"}}},
        {"no TLS at all",
         "smtpd_tls_security_level = none\n",
         kMaster,
         kOverrides,
         {{Level::Error,
           "postfix: smtpd_tls_security_level = none: this submission service offers "
           "no STARTTLS, so passwords and mail cross in cleartext (RFC 8314 §3)",
           {{"main.cf", "smtpd_tls_security_level = may"}}},
          {Level::Ok, kSubs + ": implicit TLS"}}},
        {"no TLS: legacy parameters",
         "smtpd_tls_security_level =\n",
         kMaster,
         kOverrides,
         {{Level::Error, "postfix: smtpd_tls_security_level is empty and smtpd_use_tls = no: this "
                         "submission service offers no STARTTLS"}}},
        {"legacy smtpd_use_tls = yes is STARTTLS",
         "smtpd_tls_security_level =\nsmtpd_use_tls = yes\n",
         kMaster,
         kOverrides,
         {{Level::Ok, "postfix: smtpd_tls_protocols = >=TLSv1.2: STARTTLS"}}},
    };
    const auto cfg = milter();
    for (const auto& c : cases)
        expectFindings(c.name, judgePostfix(*cfg, conf(c.mainChanges, c.master, c.overrides)),
                       c.want, {"no smtpd service is a submissions listener"});
}

BOOST_AUTO_TEST_CASE(certificates) {
    const auto cfg = milter();
    expectFindings(
        "none configured", judgePostfix(*cfg, conf("smtpd_tls_cert_file =\n")),
        {{Level::Error,
          kSub + ": offers TLS, but no server certificate is configured (smtpd_tls_cert_file and "
                 "smtpd_tls_chain_files are empty): Postfix then offers no STARTTLS (RFC 8314 "
                 "§4.4: an MSP must keep a valid server certificate)",
          {{"main.cf", "smtpd_tls_cert_file = /etc/postfix/tls/fullchain.pem"},
           {"main.cf", "smtpd_tls_key_file = /etc/postfix/tls/privkey.pem"}}},
         {Level::Error, kSubs + ": offers TLS, but no server certificate is configured "
                                "(smtpd_tls_cert_file and smtpd_tls_chain_files are empty): "
                                "Postfix then fails every TLS handshake"}});

    auto chain = conf("smtpd_tls_chain_files = /k/rsa.pem, /k/ec.pem\n");
    chain.certs["/k/rsa.pem"] = validCert();
    expectFindings("chain files replace cert_file", judgePostfix(*cfg, chain),
                   {{Level::Ok, "postfix: smtpd_tls_chain_files /k/rsa.pem: valid until"},
                    {Level::Warning, "postfix: smtpd_tls_chain_files /k/ec.pem: not checked"}},
                   {"smtpd_tls_cert_file"});

    const struct {
        const char* name;
        CertFacts facts;
        Want want;
    } cases[] = {
        {"missing file",
         [] {
             CertFacts c;
             c.error = "cannot be read: No such file or directory";
             return c;
         }(),
         {Level::Error, "postfix: smtpd_tls_cert_file /etc/postfix/tls/cert.pem: cannot be read: "
                        "No such file or directory: the MTA cannot present a certificate"}},
        {"expired",
         [] {
             auto c = validCert();
             c.notAfter = kNow - 86400;
             return c;
         }(),
         {Level::Error, "postfix: smtpd_tls_cert_file /etc/postfix/tls/cert.pem: expired at "
                        "2023-11-13 22:13:20 UTC; clients that check certificates refuse it"}},
        {"not yet valid",
         [] {
             auto c = validCert();
             c.notBefore = kNow + 3600;
             return c;
         }(),
         {Level::Error, "/etc/postfix/tls/cert.pem: not valid before 2023-11-14 23:13:20 UTC"}},
        {"due within 14 days",
         [] {
             auto c = validCert();
             c.notAfter = kNow + 5 * 86400;
             return c;
         }(),
         {Level::Warning, "/etc/postfix/tls/cert.pem: expires at 2023-11-19 22:13:20 UTC, in less "
                          "than 14 days"}},
        {"no permission to look",
         [] {
             CertFacts c;
             c.error = "no permission as uid 1000";
             c.notPermitted = true;
             return c;
         }(),
         {Level::Warning, "/etc/postfix/tls/cert.pem: not checked (no permission as uid 1000)"}},
    };
    for (const auto& c : cases) {
        auto pf = conf("");
        pf.certs["/etc/postfix/tls/cert.pem"] = c.facts;
        expectFindings(c.name, judgePostfix(*cfg, pf), {c.want});
    }
}

BOOST_AUTO_TEST_CASE(bad_milter_socket) {
    const auto cfg = milter();
    rfc8314::Config bad = *cfg;
    bad.socket = "nonsense";
    expectFindings("socket", judgePostfix(bad, conf("")),
                   {{Level::Error,
                     "milter: socket nonsense is not understood",
                     {{"milter.conf", "socket = inet:8891@127.0.0.1"}}}});
}

BOOST_AUTO_TEST_SUITE_END()
