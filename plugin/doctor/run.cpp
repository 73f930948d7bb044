// run.cpp — the driver of `rfc8314-milter --doctor` (see doctor.hpp): runs
// postconf (and postmap for smtpd_milter_maps), reads sendmail.cf and the
// certificate and map files they name, hands it all to the parsers and
// judges, adds the socket probe, prints.
#include "../doctor.hpp"

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

#include "certs.hpp"
#include "exec.hpp"
#include "finding.hpp"
#include "postfix.hpp"
#include "probe.hpp"
#include "sendmail.hpp"

namespace rfc8314::doctor {
namespace {

std::optional<std::string> readFile(const std::string& path, std::string& why) {
    std::ifstream in(path);
    if (!in) {
        why = "cannot read " + path + ": " + std::strerror(errno);
        return std::nullopt;
    }
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

// One table of smtpd_milter_maps: static: from its text, cidr/regexp/pcre
// from their source files, every other type listed by `postmap -s`.
MilterMap readMilterMap(const std::string& table, const std::vector<std::string>& base) {
    MilterMap m;
    if (auto st = staticMapEntries(table)) {
        m.entries = std::move(*st);
        m.read = true;
    } else if (mapReadFromSource(table)) {
        if (auto text = readFile(mapFile(table), m.error)) {
            m.entries = parseMapSource(mapType(table), *text);
            m.read = true;
        }
    } else {
        const std::string postmap = findProgram("postmap");
        if (postmap.empty()) {
            m.error = "postmap not found";
            return m;
        }
        auto args = base;
        args.insert(args.end(), {"-s", table});
        const auto r = runProgram(postmap, args);
        if (r.status == 0) {
            m.entries = parsePostmapDump(r.out);
            m.read = true;
        } else {
            m.error = "postmap -s failed: " + firstLine(r.err);
        }
    }
    return m;
}

// Postfix: nullopt when skipped (with a note), else the findings.
std::optional<std::vector<Finding>> doPostfix(const Config& cfg, const Options& opts,
                                              std::vector<std::string>& notes,
                                              std::vector<Finding>& errors) {
    const bool asked = opts.postfixConfig.has_value();
    auto skip = [&](const std::string& why) -> std::optional<std::vector<Finding>> {
        if (asked)
            errors.push_back(error("postfix: " + why, {}));
        else
            notes.push_back("postfix: " + why + "; Postfix not checked");
        return std::nullopt;
    };
    const std::string prog = findProgram("postconf");
    if (prog.empty())
        return skip("postconf not found");
    std::vector<std::string> base;
    if (asked)
        base = {"-c", *opts.postfixConfig};
    auto args = base;
    args.push_back("-x");
    for (const auto& p : postfixParameters())
        args.push_back(p);
    auto mainRun = runProgram(prog, args);
    if (mainRun.status != 0)
        return skip("postconf failed: " + firstLine(mainRun.err));
    args = base;
    args.push_back("-M");
    auto masterRun = runProgram(prog, args);
    if (masterRun.status != 0)
        return skip("postconf -M failed: " + firstLine(masterRun.err));
    args = base;
    args.insert(args.end(), {"-P", "-x"});
    auto overRun = runProgram(prog, args);
    if (overRun.status != 0)
        return skip("postconf -P failed: " + firstLine(overRun.err));

    PostfixConf pf;
    pf.dir = asked ? *opts.postfixConfig : std::string();
    pf.main = parsePostconfMain(mainRun.out);
    pf.services = parsePostconfMaster(masterRun.out);
    applyPostconfOverrides(pf.services, overRun.out);
    for (const auto& s : pf.services) {
        for (const auto& [param, path] : serviceCertFiles(pf, s))
            if (!pf.certs.count(path))
                pf.certs.emplace(path, readCertificateFile(path));
        if (s.command != "smtpd")
            continue;
        for (const auto& table : splitMapList(serviceValue(pf, s, "smtpd_milter_maps")))
            if (!pf.milterMaps.count(table))
                pf.milterMaps.emplace(table, readMilterMap(table, base));
    }
    auto f = judgePostfix(cfg, pf);
    auto p = probeSocket(cfg, "postfix", postfixUser(pf));
    f.insert(f.end(), p.begin(), p.end());
    return f;
}

std::optional<std::vector<Finding>> doSendmail(const Config& cfg, const Options& opts,
                                               std::vector<std::string>& notes,
                                               std::vector<Finding>& errors) {
    const bool asked = opts.sendmailCf.has_value();
    const std::string path = asked ? *opts.sendmailCf : std::string("/etc/mail/sendmail.cf");
    std::string why;
    const auto text = readFile(path, why);
    if (!text) {
        if (asked)
            errors.push_back(error("sendmail: " + why, {}));
        else
            notes.push_back("sendmail: " + why + "; Sendmail not checked");
        return std::nullopt;
    }
    auto sm = parseSendmailCf(*text);
    sm.path = path;
    if (const auto cert = option(sm, "ServerCertFile"); !cert.empty())
        sm.certs.emplace(cert, readCertificateFile(cert));
    auto f = judgeSendmail(cfg, sm);
    // The daemon connects to milters as RunAsUser when set, else as root.
    std::string user = option(sm, "RunAsUser");
    user = user.substr(0, user.find(':'));
    auto p = probeSocket(cfg, "sendmail", user.empty() ? "root" : user);
    f.insert(f.end(), p.begin(), p.end());
    return f;
}

} // namespace

int runDoctor(const Config& cfg, const Options& opts, std::ostream& out) noexcept {
    try {
        // With neither option, look at both MTAs where they normally live;
        // naming one means "check this one".
        const bool none = !opts.postfixConfig && !opts.sendmailCf;
        std::vector<std::string> notes;
        std::vector<Finding> all;
        std::vector<Finding> errs;
        bool checked = false;
        out << "rfc8314-milter doctor: milter config "
            << (cfg.file.empty() ? std::string("(built-in defaults)") : cfg.file) << ", socket "
            << cfg.socket << "\n";
        if (none || opts.postfixConfig) {
            if (auto f = doPostfix(cfg, opts, notes, errs)) {
                checked = true;
                all.insert(all.end(), f->begin(), f->end());
            }
        }
        if (none || opts.sendmailCf) {
            if (auto f = doSendmail(cfg, opts, notes, errs)) {
                checked = true;
                all.insert(all.end(), f->begin(), f->end());
            }
        }
        for (const auto& n : notes)
            out << "note: " << n << "\n";
        all.insert(all.begin(), errs.begin(), errs.end());
        if (!checked && errs.empty())
            all.push_back(error("no MTA configuration found (neither postconf's nor "
                                "/etc/mail/sendmail.cf); name one with --postfix-config DIR "
                                "or --sendmail-cf FILE",
                                {}));
        return printFindings(all, out);
    } catch (const std::exception& e) {
        out << "error: doctor failed: " << e.what() << "\n";
        return 70;
    } catch (...) {
        out << "error: doctor failed\n";
        return 70;
    }
}

} // namespace rfc8314::doctor
