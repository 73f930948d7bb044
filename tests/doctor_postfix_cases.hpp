// doctor_postfix_cases.hpp — the Postfix configuration the
// test_doctor_postfix*.cpp tables start from: postconf's output for a
// well-wired Postfix 3.7 (submission with TLS-only AUTH, submissions with
// implicit TLS, TLS 1.2 or later, a valid certificate), changed per case.
#pragma once

#include <ctime>
#include <string>

#include "doctor/postfix_conf.hpp"

namespace doctor_cases {

using rfc8314::doctor::applyPostconfOverrides;
using rfc8314::doctor::CertFacts;
using rfc8314::doctor::parsePostconfMain;
using rfc8314::doctor::parsePostconfMaster;
using rfc8314::doctor::PostfixConf;

// `postconf -x` of the doctor's parameters for a well-wired Postfix 3.7.
inline const char* kMain = R"(mail_version = 3.7.11
queue_directory = /var/spool/postfix
mail_owner = postfix
smtpd_milters = inet:127.0.0.1:8891
milter_protocol = 6
milter_default_action = tempfail
milter_connect_timeout = 10s
milter_command_timeout = 10s
milter_content_timeout = 30s
milter_connect_macros = j {daemon_name} {daemon_addr} v _
milter_helo_macros = {tls_version} {cipher} {cipher_bits} {cert_subject} {cert_issuer}
milter_mail_macros = i {auth_type} {auth_authen} {auth_author} {mail_addr} {mail_host} {mail_mailer}
milter_end_of_data_macros = i
milter_macro_daemon_name = mx.example.org
smtpd_tls_auth_only = no
smtpd_sasl_auth_enable = no
smtpd_tls_wrappermode = no
smtpd_tls_security_level = may
smtpd_use_tls = no
smtpd_enforce_tls = no
smtpd_tls_protocols = >=TLSv1.2
smtpd_tls_mandatory_protocols = >=TLSv1.2
smtpd_tls_cert_file = /etc/postfix/tls/cert.pem
smtpd_tls_eccert_file =
smtpd_tls_dcert_file =
smtpd_tls_chain_files =
smtpd_milter_maps =
inet_protocols = all
)";

// When the certificate files were read (2023-11-14 22:13:20 UTC), and
// facts of a certificate valid from a year before to a year after.
inline constexpr std::time_t kNow = 1700000000;
inline CertFacts validCert() {
    CertFacts c;
    c.count = 1;
    c.notBefore = kNow - 365 * 86400;
    c.notAfter = kNow + 365 * 86400;
    c.subject = "CN=mx.example.org";
    c.checkedAt = kNow;
    return c;
}

inline const char* kMaster =
    "smtp inet n - y - - smtpd\n"
    "submission inet n - n - - smtpd -o smtpd_sasl_auth_enable=yes -o smtpd_tls_auth_only=yes\n"
    "submissions inet n - n - - smtpd -o smtpd_tls_wrappermode=yes -o smtpd_sasl_auth_enable=yes\n"
    "pickup unix n - y 60 1 pickup\n";

inline const char* kOverrides = "submission/inet/smtpd_sasl_auth_enable = yes\n"
                                "submission/inet/smtpd_tls_auth_only = yes\n"
                                "submissions/inet/smtpd_tls_wrappermode = yes\n"
                                "submissions/inet/smtpd_sasl_auth_enable = yes\n";

// kMain with the `name = value` lines of `mainChanges` set, and the given
// master.cf services and overrides.
inline PostfixConf conf(const std::string& mainChanges, const std::string& master = kMaster,
                        const std::string& overrides = kOverrides) {
    PostfixConf pf;
    pf.main = parsePostconfMain(kMain);
    for (const auto& [k, v] : parsePostconfMain(mainChanges))
        pf.main[k] = v;
    pf.services = parsePostconfMaster(master);
    applyPostconfOverrides(pf.services, overrides);
    pf.certs["/etc/postfix/tls/cert.pem"] = validCert();
    return pf;
}

inline const std::string kSub = "postfix: service submission/inet (listener submission)";
inline const std::string kSubs = "postfix: service submissions/inet (listener submissions)";

} // namespace doctor_cases
