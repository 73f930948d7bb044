// sendmail.cpp — the Sendmail judge (see sendmail.hpp).
#include "sendmail.hpp"

#include <algorithm>

#include "milter_view.hpp"
#include "mta_text.hpp"
#include "socket.hpp"
#include "text.hpp"
#include "tls.hpp"

namespace rfc8314::doctor {
namespace {

const std::string kDefaultTimeouts = "S:30s;R:30s;E:1m";

bool has(const std::vector<std::string>& v, const std::string& x) {
    return std::find(v.begin(), v.end(), x) != v.end();
}

// (1) Is the daemon's filter list holding an X line for our socket?
// Returns that filter, or null.
const SendmailFilter* judgeWiring(const Config& cfg, const SendmailCf& sm, const SendmailDaemon& d,
                                  const std::vector<const SendmailFilter*>& ours,
                                  const std::string& who, std::vector<Finding>& out) {
    const auto global = splitList(option(sm, "InputMailFilters"), ", ");
    const auto list = d.inputFilters ? splitList(*d.inputFilters, ", ;") : global;
    const SendmailFilter* active = nullptr;
    for (const auto* f : ours)
        if (has(list, f->name))
            active = f;
    if (active) {
        out.push_back(ok(who + ": milter " + active->name + " (S=" + active->socket +
                         ") is in InputMailFilters"));
    } else if (!ours.empty()) {
        auto all = list;
        all.push_back(ours.front()->name);
        out.push_back(error(who + ": the X line " + ours.front()->name +
                                " names the milter's socket but is "
                                "not listed in " +
                                (d.inputFilters ? "this daemon's I=" : "InputMailFilters"),
                            {{"sendmail.mc", mcFilterLine(ours.front()->name, ours.front()->socket,
                                                          "T", kDefaultTimeouts)},
                             {"sendmail.cf", "O InputMailFilters=" + join(all, ",")}}));
    } else {
        std::string others;
        for (const auto& f : sm.filters)
            others += (others.empty() ? "" : ", ") + f.name + " S=" + f.socket;
        // The X line above replaces one named rfc8314 on the wrong socket,
        // which may already be listed.
        auto all = list;
        if (!has(all, "rfc8314"))
            all.push_back("rfc8314");
        out.push_back(
            error(who + ": no X line names the milter's socket " + cfg.socket +
                      (others.empty() ? " (no milter is defined)" : " (defined: " + others + ")"),
                  {{"sendmail.mc", mcFilterLine("rfc8314", cfg.socket, "T", kDefaultTimeouts)},
                   {"sendmail.cf", "Xrfc8314, S=" + cfg.socket + ", F=T, T=" + kDefaultTimeouts},
                   {"sendmail.cf", "O InputMailFilters=" + join(all, ",")}}));
    }
    return active;
}

bool hasModifier(const SendmailDaemon& d, char m) {
    return d.modifiers.find(m) != std::string::npos;
}

// The daemon's line with modifier `m` added (or, with add = false, removed),
// as the two fix lines.
std::vector<Fix> daemonFix(const SendmailDaemon& d, char m, bool add) {
    std::string mods;
    for (char c : d.modifiers)
        if (c != m)
            mods += c;
    if (add)
        mods += m;
    const std::string value = daemonValueWithModifiers(d, mods);
    return {{"sendmail.mc", "DAEMON_OPTIONS(`" + value + "')dnl"},
            {"sendmail.cf", "O DaemonPortOptions=" + value}};
}

// (7) A submissions listener (port 465) speaks TLS from the first byte
// (RFC 8314 §3.3): M=s.
void judgeImplicitTls(const SendmailDaemon& d, const std::string& who, std::vector<Finding>& out) {
    if (hasModifier(d, 's')) {
        out.push_back(ok(who + ": implicit TLS (M=s); AUTH never crosses in cleartext"));
        return;
    }
    out.push_back(error(
        who + ": a submissions listener must start TLS at once (RFC 8314 §3.3: implicit TLS, "
              "port 465), but M= lacks s: Sendmail greets in cleartext, so clients that start "
              "TLS at once fail, and AUTH can cross in cleartext",
        daemonFix(d, 's', true)));
}

// (3) TLS-only AUTH, and no Sendmail-made 530 before the milter.
void judgeTlsAuth(const SendmailCf& sm, const SendmailDaemon& d, const std::string& who,
                  std::vector<Finding>& out) {
    const auto authOpts = splitList(option(sm, "AuthOptions"), ", ");
    if (hasModifier(d, 's')) {
        out.push_back(ok(who + ": implicit TLS (M=s); AUTH never crosses in cleartext"));
    } else if (has(authOpts, "p")) {
        out.push_back(ok(who + ": AuthOptions has p; AUTH only after STARTTLS"));
    } else {
        auto opts = authOpts;
        opts.push_back("p");
        out.push_back(
            warning(who + ": the milter requires TLS for AUTH here, but AuthOptions lacks p: "
                          "Sendmail offers AUTH over cleartext, the password crosses the wire "
                          "unencrypted, and Sendmail's AUTH reply tells the client whether the "
                          "credentials were valid before the milter can refuse",
                    {{"sendmail.mc", "define(`confAUTH_OPTIONS', `" + join(opts, ",") + "')dnl"},
                     {"sendmail.cf", "O AuthOptions=" + join(opts, ",")}}));
    }
}

// No Sendmail-made 530 before the milter.
void judgeAuthRequired(const SendmailDaemon& d, const std::string& who, std::vector<Finding>& out) {
    if (hasModifier(d, 'a'))
        out.push_back(
            warning(who + ": M=a makes Sendmail refuse unauthenticated MAIL itself with "
                          "530 5.7.0 Authentication required, which differs from the milter's "
                          "reply and so tells a client whether its credentials were accepted",
                    daemonFix(d, 'a', false)));
}

// (10) TLS offered, with a certificate an MSP may present (RFC 8314 §4.4).
// Sendmail offers STARTTLS (and can do M=s) only with ServerCertFile and
// ServerKeyFile; M=S turns STARTTLS off on one daemon.  True when the
// daemon offers TLS.
bool judgeTlsOffered(const SendmailCf& sm, const SendmailDaemon& d, const std::string& who,
                     std::vector<Finding>& out) {
    if (!hasModifier(d, 's') && hasModifier(d, 'S')) {
        out.push_back(error(who + ": M=S turns STARTTLS off on this submission listener, so "
                                  "passwords and mail cross in cleartext (RFC 8314 §3)",
                            daemonFix(d, 'S', false)));
        return false;
    }
    const std::string cert = option(sm, "ServerCertFile");
    if (cert.empty() || option(sm, "ServerKeyFile").empty()) {
        out.push_back(error(
            "sendmail: ServerCertFile or ServerKeyFile is not set: Sendmail offers no STARTTLS "
            "and cannot do implicit TLS (RFC 8314 §4.4: an MSP must keep a valid server "
            "certificate); set the paths of your certificate and its key",
            {{"sendmail.mc", "define(`confSERVER_CERT', `/etc/mail/tls/fullchain.pem')dnl"},
             {"sendmail.mc", "define(`confSERVER_KEY', `/etc/mail/tls/privkey.pem')dnl"},
             {"sendmail.cf", "O ServerCertFile=/etc/mail/tls/fullchain.pem"},
             {"sendmail.cf", "O ServerKeyFile=/etc/mail/tls/privkey.pem"}}));
        return false;
    }
    const auto it = sm.certs.find(cert);
    out.push_back(judgeCertificate("sendmail", "ServerCertFile", cert,
                                   it == sm.certs.end() ? std::nullopt
                                                        : std::optional<CertFacts>(it->second)));
    return true;
}

// (9) No protocol below TLS 1.2 (RFC 8997).  Sendmail has no version
// setting of its own: ServerSSLOptions turns versions off, else OpenSSL's
// configuration decides.
void judgeTlsVersions(const SendmailCf& sm, std::vector<Finding>& out) {
    const std::string opts = option(sm, "ServerSSLOptions");
    const auto set = parseSendmailSslOptions(opts);
    const auto old = deprecatedVersions(set);
    const std::string shown = opts.empty() ? " is not set" : " = " + opts;
    if (old.empty()) {
        out.push_back(ok("sendmail: ServerSSLOptions" + shown + ": TLS 1.2 or later only"));
        return;
    }
    const std::string fixed = sendmailSslOptionsWithout11(opts);
    const bool seclevel0 = option(sm, "CipherList").find("@SECLEVEL=0") != std::string::npos;
    out.push_back(
        warning("sendmail: ServerSSLOptions" + shown + " and leaves " + versionList(old) +
                    " on, which RFC 8997 deprecates: Sendmail then accepts what OpenSSL's "
                    "configuration allows" +
                    (seclevel0 ? "; CipherList's @SECLEVEL=0 lets OpenSSL 3 negotiate them" : "") +
                    (set.understood ? "" : " ('" + set.bad + "' is not an option Sendmail knows)"),
                {{"sendmail.mc", "define(`confSERVER_SSL_OPTIONS', `" + fixed + "')dnl"},
                 {"sendmail.cf", "O ServerSSLOptions=" + fixed}}));
}

// (4) What Sendmail does when the milter is down or slow.
void judgeFailure(const SendmailFilter& f, std::vector<Finding>& out) {
    const std::string who = "sendmail: milter " + f.name;
    if (f.flags.find('T') != std::string::npos) {
        out.push_back(ok(who + ": F=T: mail is deferred while the milter is unreachable"));
    } else {
        const bool reject = f.flags.find('R') != std::string::npos;
        out.push_back(warning(
            who + (f.flags.empty() ? std::string(": no F= flag") : ": F=" + f.flags) +
                (reject ? ": while the milter is down, submitted mail is refused instead of "
                          "deferred; T lets clients retry"
                        : ": while the milter is down, mail passes with no trace field, no "
                          "policy and no audit line"),
            {{"sendmail.mc", mcFilterLine(f.name, f.socket, "T",
                                          f.timeouts.empty() ? kDefaultTimeouts : f.timeouts)},
             {"sendmail.cf", filterLine(f, "T")}}));
    }
    // T=C:connect;S:send;R:read;E:overall.  Sendmail's own defaults (C 5m,
    // S/R 10s, E 5m) are all within these bounds.
    const std::pair<char, long> bounds[] = {{'C', 300}, {'S', 60}, {'R', 60}, {'E', 600}};
    bool allOk = true;
    for (const auto& part : splitList(f.timeouts, ";")) {
        const auto colon = part.find(':');
        if (colon == std::string::npos)
            continue;
        const char k = text::toUpper(trimmed(part)[0]);
        const auto secs = parseDuration(part.substr(colon + 1));
        for (const auto& [bk, max] : bounds) {
            if (bk != k || !secs || *secs <= max)
                continue;
            allOk = false;
            SendmailFilter g = f;
            g.timeouts = kDefaultTimeouts;
            out.push_back(warning(
                who + ": T= " + std::string(1, k) + ":" + trimmed(part.substr(colon + 1)) +
                    " is above " + showDuration(max) +
                    ": a hung milter stalls the SMTP session that long",
                {{"sendmail.mc", mcFilterLine(f.name, f.socket, f.flags.empty() ? "T" : f.flags,
                                              kDefaultTimeouts)},
                 {"sendmail.cf", filterLine(g, f.flags.empty() ? "T" : f.flags)}}));
        }
    }
    if (allOk)
        out.push_back(ok(who + ": T=" + (f.timeouts.empty() ? "(defaults)" : f.timeouts) +
                         " within bounds (C 5m, S 60s, R 60s, E 10m)"));
}

// (2) Macro lists: Sendmail 8.14 and later honour smfi_setsymlist.
void judgeMacros(const Config& cfg, const SendmailCf& sm, std::vector<Finding>& out) {
    if (versionAtLeast(sm.version, 8, 14)) {
        out.push_back(ok("sendmail: version " + sm.version +
                         " honours smfi_setsymlist; the macro lists need no change"));
        return;
    }
    out.push_back(
        warning("sendmail: " +
                    (sm.version.empty() ? std::string("version unknown (no DZ line)")
                                        : "version " + sm.version + " is older than 8.14") +
                    ": smfi_setsymlist may be ignored, so the lists below must carry the milter's "
                    "macros",
                {{"sendmail.cf", "DZ8.14.0  (or later: upgrade Sendmail)"}}));
    const std::pair<const char*, const char*> stages[] = {
        {"connect", "CONNECT"}, {"helo", "HELO"}, {"envfrom", "ENVFROM"}, {"eom", "EOM"}};
    for (const auto& [stage, mc] : stages) {
        const std::string opt = std::string("Milter.macros.") + stage;
        const auto it = sm.options.find(opt);
        const auto have =
            splitList(it != sm.options.end() ? it->second : sendmailDefaultMacros(stage), ", ");
        const auto miss = missingMacros(neededMacros(stage, cfg), have);
        if (miss.empty()) {
            out.push_back(ok("sendmail: " + opt + " has every macro the milter needs"));
        } else {
            auto all = have;
            all.insert(all.end(), miss.begin(), miss.end());
            out.push_back(warning("sendmail: " + opt + " lacks " + join(miss, " ") +
                                      daemonPortConsequence(miss),
                                  {{"sendmail.mc", std::string("define(`confMILTER_MACROS_") + mc +
                                                       "', `" + join(all, ", ") + "')dnl"},
                                   {"sendmail.cf", "O " + opt + "=" + join(all, ", ")}}));
        }
    }
}

} // namespace

std::vector<Finding> judgeSendmail(const Config& cfg, const SendmailCf& sm) {
    std::vector<Finding> out;
    const auto milter = parseMilterSocket(cfg.socket);
    if (!milter) {
        out.push_back(socketNotUnderstood(cfg));
        return out;
    }
    // X lines that name our socket.
    std::vector<const SendmailFilter*> ours;
    for (const auto& f : sm.filters) {
        const auto a = parseMilterSocket(f.socket);
        if (a && sameSocket(*a, *milter))
            ours.push_back(&f);
    }

    bool anySub = false, anyImplicit = false, anyTls = false;
    std::vector<const SendmailFilter*> used; // our filters on submission daemons
    for (const auto& d : sm.daemons) {
        const auto r = resolve(cfg, d.port, d.name, d.addr);
        if (!r.needsMilter)
            continue;
        anySub = true;
        const std::string who =
            "sendmail: daemon " + d.name + " (port " + d.portText + ", listener " + r.label + ")";
        if (const auto* active = judgeWiring(cfg, sm, d, ours, who, out))
            if (std::find(used.begin(), used.end(), active) == used.end())
                used.push_back(active);
        if (r.implicitTls)
            judgeImplicitTls(d, who, out);
        else if (r.needsTlsAuth)
            judgeTlsAuth(sm, d, who, out);
        if (r.needsTlsAuth)
            judgeAuthRequired(d, who, out);
        anyImplicit = anyImplicit || r.implicitTls;
        anyTls = judgeTlsOffered(sm, d, who, out) || anyTls;
    }
    if (anyTls)
        judgeTlsVersions(sm, out);
    if (anySub && !anyImplicit) {
        out.push_back(warning(
            "sendmail: no DaemonPortOptions line is a submissions listener (implicit TLS, port "
            "465): RFC 8314 §3.3 says a submission server should offer it beside STARTTLS on 587",
            {{"sendmail.mc", "DAEMON_OPTIONS(`Port=465, Name=SMTPS, M=s')dnl"},
             {"sendmail.cf", "O DaemonPortOptions=Port=465, Name=SMTPS, M=s"}}));
    }
    if (!anySub) {
        out.push_back(
            warning("sendmail: no DaemonPortOptions line is a submission listener by the milter's "
                    "configuration (port 587/465 or a [listener] section)",
                    {{"sendmail.mc", "DAEMON_OPTIONS(`Port=587, Name=MSA, M=E')dnl"}}));
    }
    for (const auto* f : used)
        judgeFailure(*f, out);
    judgeMacros(cfg, sm, out);
    return dedupe(std::move(out));
}

} // namespace rfc8314::doctor
