// postfix_wiring.cpp — a Postfix service's milters judged: smtpd_milters
// and smtpd_milter_maps (see postfix_wiring.hpp).
#include "postfix_wiring.hpp"

#include "milter_view.hpp"
#include "mta_text.hpp"
#include "text.hpp"

namespace rfc8314::doctor {
namespace {

// The entry of a milter list that reaches the milter's socket from this
// service, or null; `chrootMiss` when one names the socket's path but the
// chroot moves it.
const PfMilter* findOurs(const std::vector<PfMilter>& entries, const PostfixConf& pf, bool chrooted,
                         const SocketAddr& milter, bool& chrootMiss) {
    for (const auto& e : entries) {
        const auto a = parsePostfixSocket(e.spec);
        if (!a)
            continue;
        SocketAddr seen = *a;
        if (seen.kind == SocketAddr::Kind::Unix) {
            seen.path = postfixUnixPath(pf, a->path, chrooted);
            if (chrooted && sameSocket(*a, milter))
                chrootMiss = true;
        }
        if (sameSocket(seen, milter))
            return &e;
    }
    return nullptr;
}

bool ipv6Clients(const PostfixConf& pf) {
    const auto p = text::lower(mainValue(pf.main, "inet_protocols"));
    return p.empty() || p.find("all") != std::string::npos || p.find("ipv6") != std::string::npos;
}

// How smtpd_milter_maps answers: the findings on its entries, and whether
// some client is left to smtpd_milters.
struct MapsVerdict {
    bool leavesSome = true;
    std::string catchAllFile; // a cidr table's file, for a catch-all fix line
};

MapsVerdict judgeMaps(const Config& cfg, const PostfixConf& pf, bool chrooted,
                      const SocketAddr& milter, const std::string& want, const std::string& who,
                      const std::string& value, bool over, Wiring& w, std::vector<Finding>& out) {
    MapsVerdict v;
    const std::string label = std::string("smtpd_milter_maps") + (over ? " (-o in master.cf)" : "");
    bool allOurs = true;
    std::size_t listed = 0;
    for (const auto& table : splitMapList(value)) {
        const auto it = pf.milterMaps.find(table);
        if (it == pf.milterMaps.end() || !it->second.read) {
            allOurs = false;
            out.push_back(warning(who + ": " + label + " table " + table + " was not read" +
                                  (it == pf.milterMaps.end() || it->second.error.empty()
                                       ? std::string()
                                       : " (" + it->second.error + ")") +
                                  "; the milters it gives clients are not checked"));
            continue;
        }
        const std::string file = mapFile(table);
        if (mapType(table) == "cidr" && v.catchAllFile.empty())
            v.catchAllFile = file;
        for (const auto& e : it->second.entries) {
            ++listed;
            if (text::iequals(text::trimSpace(e.value), "DISABLE")) {
                allOurs = false;
                out.push_back(error(who + ": " + label + " " + table + " gives clients matching " +
                                        e.key +
                                        " no milter (DISABLE): their mail gets no trace "
                                        "field, no policy and no audit line",
                                    {{file, e.key + " " + want}}));
                continue;
            }
            const auto list = parsePostfixMilterList(e.value);
            bool chrootMiss = false;
            if (const auto* ours = findOurs(list, pf, chrooted, milter, chrootMiss)) {
                if (!w.ours) {
                    w.ours = *ours;
                    w.source = "smtpd_milter_maps " + table + " " + e.key;
                    w.fixWhere = file;
                    w.fixPrefix = e.key + " ";
                }
                continue;
            }
            allOurs = false;
            out.push_back(error(who + ": " + label + " " + table + " gives clients matching " +
                                    e.key + " the milters " + e.value +
                                    ", without the milter's socket " + cfg.socket,
                                {{file, e.key + " " + e.value + ", " + want}}));
        }
        if (coversEveryClient(table, it->second.entries, ipv6Clients(pf))) {
            v.leavesSome = false;
            break;
        }
    }
    if (allOurs && listed > 0)
        out.push_back(ok(who + ": " + label + " = " + value +
                         ": every client it lists gets the milter (" + w.ours->spec + ")" +
                         (v.leavesSome ? "" : ", and it lists every client")));
    return v;
}

} // namespace

Wiring judgeWiring(const Config& cfg, const PostfixConf& pf, const PostfixService& s,
                   const SocketAddr& milter, const std::string& who, std::vector<Finding>& out) {
    Wiring w;
    const std::string queue = mainValue(pf.main, "queue_directory");
    const bool chrooted = postfixChrooted(pf, s);
    const auto want = postfixSpellingFor(pf, milter, chrooted);

    // smtpd_milter_maps first: its answer replaces smtpd_milters for the
    // clients it lists.
    bool mapsOver = false;
    const std::string maps = trimmed(serviceValue(pf, s, "smtpd_milter_maps", &mapsOver));
    MapsVerdict mv;
    if (!maps.empty())
        mv = judgeMaps(cfg, pf, chrooted, milter, want ? *want : postfixSpelling(milter), who, maps,
                       mapsOver, w, out);
    if (!mv.leavesSome)
        return w;
    const std::string forRest =
        maps.empty() ? std::string() : " for the clients smtpd_milter_maps does not list";

    bool milOverride = false;
    const std::string list = serviceValue(pf, s, "smtpd_milters", &milOverride);
    const auto entries = parsePostfixMilterList(list);
    bool chrootMiss = false;
    const PfMilter* ours = findOurs(entries, pf, chrooted, milter, chrootMiss);
    const std::string where = milOverride ? "master.cf" : "main.cf";
    if (ours) {
        out.push_back(ok(who + ": smtpd_milters names the milter (" + ours->spec + ")" + forRest));
        if (!w.ours) {
            w.ours = *ours;
            w.fixWhere = where;
            w.fixPrefix = "smtpd_milters = ";
        }
    } else if (!want) {
        // A chrooted smtpd sees only the spool: a socket elsewhere is out of
        // its reach whatever smtpd_milters says.
        const std::string rel = "/rfc8314-milter/rfc8314-milter.sock";
        out.push_back(
            error(who + ": runs chrooted (master.cf chroot column) in " + queue +
                      " and cannot reach the milter's socket " + milter.path +
                      (chrootMiss ? " (smtpd_milters names it, but inside the chroot it is " +
                                        postfixUnixPath(pf, milter.path, true) + ")"
                                  : "") +
                      "; use an inet: socket or one below the spool",
                  {{milterConfName(cfg), "socket = local:" + normPath(queue + rel)},
                   {where, milOverride ? serviceLineWith(s, "smtpd_milters", "unix:" + rel)
                                       : "smtpd_milters = unix:" + rel}}));
    } else {
        std::string text = who + ": smtpd_milters";
        text += milOverride ? " (-o in master.cf)" : " (main.cf)";
        text += list.empty() ? " is empty" : " = " + list;
        text += ": does not name the milter's socket " + cfg.socket + " (Postfix spelling " +
                *want + ")" + forRest;
        std::vector<Fix> fixes;
        if (!mv.catchAllFile.empty()) {
            // Wired through a cidr map on purpose: the catch-all belongs
            // there (appended: cidr tables answer with the first match).
            fixes.push_back({mv.catchAllFile, "0.0.0.0/0 " + *want});
            if (ipv6Clients(pf))
                fixes.push_back({mv.catchAllFile, "::/0 " + *want});
        } else {
            // Replace a lone (presumably stale) entry; append to a longer
            // list so other milters stay.
            std::vector<std::string> specs;
            if (entries.size() > 1)
                for (const auto& e : entries)
                    specs.push_back(e.spec);
            specs.push_back(*want);
            fixes.push_back({where, milOverride
                                        ? serviceLineWith(s, "smtpd_milters", join(specs, ","))
                                        : "smtpd_milters = " + join(specs, ", ")});
        }
        out.push_back(error(text, fixes));
    }
    return w;
}

} // namespace rfc8314::doctor
