// postfix.cpp — the Postfix judge (see postfix.hpp).
#include "postfix.hpp"

#include <algorithm>

#include "milter_view.hpp"
#include "mta_text.hpp"
#include "postfix_wiring.hpp"
#include "text.hpp"
#include "tls.hpp"

namespace rfc8314::doctor {
namespace {

struct Bound {
    const char* param;   // main.cf name
    const char* setting; // per-milter name inside { }
    long max;            // seconds
    const char* fix;     // value the fix line proposes
    const char* why;
};

const Bound kPostfixBounds[] = {
    {"milter_connect_timeout", "connect_timeout", 30, "10s",
     "every SMTP session waits that long for a dead milter"},
    {"milter_command_timeout", "command_timeout", 60, "10s",
     "a hung milter stalls each SMTP command that long"},
    {"milter_content_timeout", "content_timeout", 300, "30s",
     "a hung milter stalls the end of each message that long"},
};

struct Sub {
    const PostfixService* svc;
    Resolved r;
};

// The smtpd services the milter has work on, by its listener configuration.
std::vector<Sub> submissionServices(const Config& cfg, const PostfixConf& pf) {
    std::vector<Sub> subs;
    for (const auto& s : pf.services) {
        if (s.type != "inet" || s.command != "smtpd")
            continue;
        std::string addr, port = s.name;
        const auto colon = s.name.rfind(':');
        if (colon != std::string::npos) {
            addr = s.name.substr(0, colon);
            port = s.name.substr(colon + 1);
            if (addr.size() >= 2 && addr.front() == '[')
                addr = addr.substr(1, addr.size() - 2);
        }
        auto r = resolve(cfg, portOf(port), serviceValue(pf, s, "milter_macro_daemon_name"), addr);
        if (r.needsMilter)
            subs.push_back({&s, r});
    }
    return subs;
}

// (3) The MTA must keep AUTH off cleartext: the milter only ever sees the
// transaction after Postfix has answered AUTH.
void judgeTlsAuth(const PostfixConf& pf, const PostfixService& s, const std::string& who,
                  std::vector<Finding>& out) {
    if (yes(serviceValue(pf, s, "smtpd_tls_wrappermode"))) {
        out.push_back(ok(who + ": implicit TLS (smtpd_tls_wrappermode = yes); AUTH "
                               "never crosses in cleartext"));
    } else if (!yes(serviceValue(pf, s, "smtpd_sasl_auth_enable"))) {
        out.push_back(ok(who + ": AUTH is not offered (smtpd_sasl_auth_enable = no)"));
    } else if (yes(serviceValue(pf, s, "smtpd_tls_auth_only"))) {
        out.push_back(ok(who + ": smtpd_tls_auth_only = yes; AUTH only after STARTTLS"));
    } else if (text::lower(serviceValue(pf, s, "smtpd_tls_security_level")) == "encrypt") {
        out.push_back(ok(who + ": smtpd_tls_security_level = encrypt; no cleartext "
                               "session reaches AUTH"));
    } else {
        out.push_back(
            warning(who + ": the milter requires TLS for AUTH here, but smtpd_tls_auth_only is "
                          "not yes: Postfix offers AUTH over cleartext, the password crosses "
                          "the wire unencrypted, and Postfix's AUTH reply tells the client "
                          "whether the credentials were valid before the milter can refuse",
                    {{"master.cf", serviceLineWith(s, "smtpd_tls_auth_only", "yes")}}));
    }
}

// Where a service's value of `param` comes from: the label a finding
// names it by, and the fix that sets it to `good` there.
struct Source {
    std::string label;
    Fix fix;
};

Source sourceOf(const PostfixConf& pf, const PostfixService& s, const std::string& who,
                const std::string& param, const std::string& good) {
    bool over = false;
    serviceValue(pf, s, param, &over);
    if (over)
        return {who + ": -o " + param, {"master.cf", serviceLineWith(s, param, good)}};
    return {"postfix: " + param, {"main.cf", param + " = " + good}};
}

// (7) A submissions listener (port 465) speaks TLS from the first byte
// (RFC 8314 §3.3).  Without wrapper mode Postfix greets in cleartext.
void judgeImplicitTls(const PostfixConf& pf, const PostfixService& s, const std::string& who,
                      std::vector<Finding>& out) {
    if (yes(serviceValue(pf, s, "smtpd_tls_wrappermode"))) {
        out.push_back(ok(who + ": implicit TLS (smtpd_tls_wrappermode = yes); AUTH "
                               "never crosses in cleartext"));
        return;
    }
    out.push_back(
        error(who + ": a submissions listener must start TLS at once (RFC 8314 §3.3: implicit TLS, "
                    "port 465), but smtpd_tls_wrappermode is not yes: Postfix greets in cleartext, "
                    "so clients that start TLS at once fail, and AUTH can cross in cleartext",
              {{"master.cf", serviceLineWith(s, "smtpd_tls_wrappermode", "yes")}}));
}

// The effective TLS security level of a service, old parameters included
// ("" -> smtpd_enforce_tls / smtpd_use_tls).
std::string securityLevel(const PostfixConf& pf, const PostfixService& s) {
    const std::string level =
        text::lower(text::trimSpace(serviceValue(pf, s, "smtpd_tls_security_level")));
    if (!level.empty())
        return level;
    if (yes(serviceValue(pf, s, "smtpd_enforce_tls")))
        return "encrypt";
    return yes(serviceValue(pf, s, "smtpd_use_tls")) ? "may" : "none";
}

// (10) TLS offered, with a certificate an MSP may present (RFC 8314 §4.4),
// and (9) no protocol below TLS 1.2 (RFC 8997).  Wrapper mode and the
// encrypt level use the mandatory protocol list, STARTTLS at level may the
// opportunistic one (measured with Postfix 3.7: a wrapper-mode service
// refuses TLS 1.0 exactly when smtpd_tls_mandatory_protocols excludes it).
void judgeTls(const PostfixConf& pf, const PostfixService& s, const std::string& who,
              std::vector<Finding>& out) {
    const bool wrapper = yes(serviceValue(pf, s, "smtpd_tls_wrappermode"));
    const std::string level = securityLevel(pf, s);
    if (!wrapper && level == "none") {
        const auto src = sourceOf(pf, s, who, "smtpd_tls_security_level", "may");
        const std::string shown = trimmed(serviceValue(pf, s, "smtpd_tls_security_level")).empty()
                                      ? " is empty and smtpd_use_tls = no"
                                      : " = none";
        out.push_back(error(src.label + shown +
                                ": this submission service offers no STARTTLS, so passwords "
                                "and mail cross in cleartext (RFC 8314 §3)",
                            {src.fix}));
        return;
    }

    const auto files = serviceCertFiles(pf, s);
    if (files.empty()) {
        out.push_back(
            error(who +
                      ": offers TLS, but no server certificate is configured "
                      "(smtpd_tls_cert_file and smtpd_tls_chain_files are empty): Postfix then " +
                      (wrapper ? std::string("fails every TLS handshake")
                               : std::string("offers no STARTTLS")) +
                      " (RFC 8314 §4.4: an MSP must keep a valid server certificate); set the "
                      "paths of your certificate and its key",
                  {{"main.cf", "smtpd_tls_cert_file = /etc/postfix/tls/fullchain.pem"},
                   {"main.cf", "smtpd_tls_key_file = /etc/postfix/tls/privkey.pem"}}));
    }
    for (const auto& [param, path] : files) {
        bool over = false;
        serviceValue(pf, s, param, &over);
        const auto it = pf.certs.find(path);
        out.push_back(judgeCertificate(
            over ? who : std::string("postfix"), over ? "-o " + param : param, path,
            it == pf.certs.end() ? std::nullopt : std::optional<CertFacts>(it->second)));
    }

    const bool mandatory = wrapper || level == "encrypt";
    const std::string param = mandatory ? "smtpd_tls_mandatory_protocols" : "smtpd_tls_protocols";
    const std::string value = trimmed(serviceValue(pf, s, param));
    const auto src =
        sourceOf(pf, s, who, param, postfixProtocolsFix(mainValue(pf.main, "mail_version")));
    const std::string shown = value.empty() ? " is empty" : " = " + value;
    const std::string use = wrapper     ? "implicit TLS"
                            : mandatory ? "mandatory STARTTLS"
                                        : "STARTTLS";
    const auto set = parsePostfixProtocols(value);
    const auto old = deprecatedVersions(set);
    if (!set.understood)
        out.push_back(warning(src.label + shown + ": '" + set.bad +
                                  "' is not a TLS protocol name or bound that Postfix knows",
                              {src.fix}));
    else if (!old.empty())
        out.push_back(warning(src.label + shown + (value.empty() ? " and so" : "") + " enables " +
                                  versionList(old) + " for " + use + ", which RFC 8997 deprecates",
                              {src.fix}));
    else
        out.push_back(ok(src.label + shown + ": " + use + " with TLS 1.2 or later only"));
}

// (8) RFC 8314 §3.3: a submission server SHOULD offer implicit TLS on 465
// beside STARTTLS on 587.  The fix is the first submission service's line,
// turned into a submissions service.
std::string submissionsLine(const PostfixService& s) {
    PostfixService t = s;
    t.line = serviceLineWith(t, "smtpd_tls_wrappermode", "yes");
    if (t.overrides.count("syslog_name"))
        t.line = serviceLineWith(t, "syslog_name", "postfix/submissions");
    const auto sp = t.line.find(' ');
    const auto colon = s.name.rfind(':');
    const std::string name =
        colon == std::string::npos ? "submissions" : s.name.substr(0, colon + 1) + "submissions";
    return name + t.line.substr(sp);
}

// (4) What Postfix does when the milter is down or slow.  Per-milter { }
// settings win over -o, which wins over main.cf.
void judgeFailure(const PostfixConf& pf, const PostfixService& s, const std::string& who,
                  const Wiring& wiring, std::vector<Finding>& actions) {
    const auto& ours = wiring.ours;
    auto source = [&](const std::string& param, const char* setting, std::string& value,
                      std::string& label, Fix& fix, const std::string& good) {
        if (ours && ours->settings.count(setting)) {
            value = ours->settings.at(setting);
            label = who + ": " + setting + " in " + wiring.source;
            fix = {wiring.fixWhere,
                   wiring.fixPrefix + "{ " + ours->spec + ", " + setting + "=" + good + " }"};
            return;
        }
        value = serviceValue(pf, s, param);
        auto src = sourceOf(pf, s, who, param, good);
        label = std::move(src.label);
        fix = std::move(src.fix);
    };
    std::string value, label;
    Fix fix;
    source("milter_default_action", "default_action", value, label, fix, "tempfail");
    const std::string act = text::lower(value.empty() ? "tempfail" : value);
    if (act == "tempfail")
        actions.push_back(ok(label + " = tempfail: mail is deferred while the milter is "
                                     "unreachable"));
    else if (act == "shutdown") // (12) Postfix 3.11's default
        actions.push_back(ok(label + " = shutdown: fail-closed, no mail passes while the "
                                     "milter is unreachable"));
    else if (act == "accept")
        actions.push_back(warning(label + " = accept: while the milter is down, mail "
                                          "passes with no trace field, no policy and no "
                                          "audit line",
                                  {fix}));
    else
        actions.push_back(warning(label + " = " + act +
                                      ": while the milter is down, "
                                      "submitted mail is refused or held "
                                      "instead of deferred; tempfail lets "
                                      "clients retry",
                                  {fix}));
    for (const auto& b : kPostfixBounds) {
        source(b.param, b.setting, value, label, fix, b.fix);
        const auto secs = parseDuration(value);
        if (!secs)
            actions.push_back(warning(label + " = " + value + " is not a time value", {fix}));
        else if (*secs > b.max)
            actions.push_back(warning(
                label + " = " + value + " is above " + showDuration(b.max) + ": " + b.why, {fix}));
        else
            actions.push_back(ok(label + " = " + value + " (at most " + showDuration(b.max) + ")"));
    }
}

// (2) Protocol version.  Postfix offers SMFIF_SETSYMLIST and takes the
// milter's macro lists at every milter_protocol (milter8.c always puts it in
// its actions and reads the lists from the negotiation reply; measured on
// Postfix 3.7 with milter_protocol = 4: the milter still got {daemon_port}),
// so its own macro lists never need a change.  What a version below 6 does
// cost is the no-reply steps (SMFIP_NR_*, protocol 6): every connect, HELO
// and RCPT then waits for the milter's answer.
void judgeProtocol(const PostfixConf& pf, std::vector<Finding>& out) {
    const auto proto = number(mainValue(pf.main, "milter_protocol"));
    if (proto && *proto >= 6) {
        out.push_back(ok("postfix: milter_protocol = " + std::to_string(*proto) +
                         ": Postfix honours smfi_setsymlist; the macro lists need no change"));
        return;
    }
    out.push_back(warning("postfix: milter_protocol = " + mainValue(pf.main, "milter_protocol") +
                              ": below 6 Postfix negotiates no no-reply steps, so every "
                              "connect, HELO and RCPT waits for the milter's answer (the macro "
                              "lists still need no change: Postfix honours smfi_setsymlist at "
                              "every protocol version)",
                          {{"main.cf", "milter_protocol = 6"}}));
}

} // namespace

std::vector<Finding> judgePostfix(const Config& cfg, const PostfixConf& pf) {
    std::vector<Finding> out;
    const auto milter = parseMilterSocket(cfg.socket);
    if (!milter) {
        out.push_back(socketNotUnderstood(cfg));
        return out;
    }
    const auto subs = submissionServices(cfg, pf);
    if (subs.empty()) {
        out.push_back(warning(
            "postfix: no smtpd service in master.cf is a submission listener by the milter's "
            "configuration (port 587/465 or a [listener] section)",
            {{"master.cf", "submission inet n - n - - smtpd -o smtpd_sasl_auth_enable=yes "
                           "-o smtpd_tls_auth_only=yes"}}));
    }

    std::vector<Finding> actions; // (4), after the per-service lines
    for (const auto& sub : subs) {
        const auto& s = *sub.svc;
        const std::string who =
            "postfix: service " + s.name + "/" + s.type + " (listener " + sub.r.label + ")";
        const Wiring wiring = judgeWiring(cfg, pf, s, *milter, who, out);
        if (sub.r.implicitTls)
            judgeImplicitTls(pf, s, who, out);
        else if (sub.r.needsTlsAuth)
            judgeTlsAuth(pf, s, who, out);
        judgeTls(pf, s, who, out);
        judgeFailure(pf, s, who, wiring, actions);
    }
    const auto implicit =
        std::find_if(subs.begin(), subs.end(), [](const Sub& x) { return x.r.implicitTls; });
    if (!subs.empty() && implicit == subs.end()) {
        const auto base = std::find_if(subs.begin(), subs.end(), [](const Sub& x) {
            return x.r.listener.role == Role::Submission;
        });
        out.push_back(warning(
            "postfix: no smtpd service is a submissions listener (implicit TLS, port 465): "
            "RFC 8314 §3.3 says a submission server should offer it beside STARTTLS on 587",
            {{"master.cf", base != subs.end()
                               ? submissionsLine(*base->svc)
                               : "submissions inet n - n - - smtpd -o smtpd_tls_wrappermode=yes "
                                 "-o smtpd_sasl_auth_enable=yes"}}));
    }
    for (auto& a : actions)
        out.push_back(std::move(a));
    judgeProtocol(pf, out);
    return dedupe(std::move(out));
}

} // namespace rfc8314::doctor
