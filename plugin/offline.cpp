// offline.cpp — the offline test mode.  See offline.hpp.  The output is for a
// person: every value from the command line is shown escaped, as in the log.
#include "offline.hpp"

#include <ostream>

#include "rfc8314/logfmt.hpp"
#include "rfc8314/session.hpp"

namespace rfc8314 {

namespace {

void printLogs(const Decision& d, std::ostream& out, std::vector<std::string>& json) {
    for (const auto& e : d.logs) {
        out << "log " << toString(e.level) << ": " << e.line << "\n";
        if (!e.json.empty())
            json.push_back(e.json);
    }
}

} // namespace

int runOffline(const std::shared_ptr<const Config>& cfg, const OfflineRequest& req,
               std::ostream& out, std::ostream& err) {
    MacroMap m;
    for (const auto& a : req.macros) {
        if (!m.setAssignment(a)) {
            err << "rfc8314-milter: --macro wants NAME=VALUE, got " << escapeLogValue(a) << "\n";
            return 64;
        }
    }
    Session s(cfg);
    s.setAuditJson(true);
    std::vector<std::string> json;
    auto client = m.get("{client_name}");
    printLogs(s.onConnect(m, client ? *client : "unknown", ""), out, json);
    std::string helo = req.helo;
    if (helo.empty())
        helo = std::string(m.get("s").value_or("client.example"));
    printLogs(s.onHelo(m, helo), out, json);
    auto mail = s.onMailFrom(m, "<sender@example.test>", Clock::system());
    printLogs(mail, out, json);

    const auto& t = s.tls();
    out << "client: " << escapeLogValue(s.clientText()) << "\n"
        << "listener: " << escapeLogValue(s.listenerText()) << " role="
        << (s.listener().determined ? toString(s.listener().role)
                                    : "unknown (relay; submission policy when authenticated)")
        << " trace=" << toString(s.listener().trace)
        << " trace_client=" << toString(s.listener().traceClient) << "\n"
        << "exceptions: "
        << (s.listener().exceptions && !s.listener().exceptions->file.empty()
                ? escapeLogValue(s.listener().exceptions->file)
                : std::string("(none)"))
        << "\n"
        << "tls: version=" << toString(t.version) << " cipher=" << escapeLogValue(t.cipherText)
        << " iana=" << (t.clause.empty() ? std::string("(none)") : t.clause)
        << " bits="
        << (!t.active() ? std::string("(none)") : t.bits ? std::to_string(*t.bits) : std::string("(unknown)"))
        << " group=" << (s.group().empty() ? std::string("(none)") : s.group()) << "\n"
        << "auth: " << (s.auth().authenticated()
                            ? "user=" + escapeLogValue(s.auth().authen) + " mech=" +
                                  escapeLogValue(s.auth().type)
                            : std::string("(none)"))
        << "\n";
    out << "verdict at MAIL: " << toString(mail.verdict);
    if (mail.reply)
        out << " reply: " << mail.reply->code << " " << mail.reply->xcode << " "
            << mail.reply->text;
    out << "\n";
    if (mail.verdict != Verdict::Continue) {
        for (const auto& j : json)
            out << "audit: " << j << "\n";
        return 0;
    }
    for (const auto& r : req.rcpts)
        printLogs(s.onRcpt(m, !r.empty() && r.front() == '<' ? r : "<" + r + ">"), out, json);
    auto eom = s.onEndOfMessage(m, Clock::system());
    printLogs(eom, out, json);
    if (eom.inserts.empty())
        out << "received: (none: trace=" << toString(s.listener().trace)
            << (t.active() ? "" : ", cleartext") << ")\n";
    for (const auto& h : eom.inserts) {
        std::string v = h.value;
        // Show the fold as the wire would carry it.
        out << "received (insert at " << h.index << "):\n" << h.name << ": " << v << "\n";
    }
    for (const auto& j : json)
        out << "audit: " << j << "\n";
    return 0;
}

} // namespace rfc8314
