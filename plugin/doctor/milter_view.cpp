// milter_view.cpp — the milter's side of the doctor's checks (see
// milter_view.hpp).
#include "milter_view.hpp"

#include <set>

#include "rfc8314/facts.hpp"
#include "rfc8314/macros.hpp"

namespace rfc8314::doctor {

Resolved resolve(const Config& cfg, std::optional<unsigned> port, const std::string& name,
                 const std::string& addr) {
    ListenerFacts f;
    f.name = name;
    f.addr = addr;
    if (port && *port <= 65535)
        f.port = static_cast<std::uint16_t>(*port);
    Resolved r;
    r.listener = cfg.resolveListener(f);
    r.needsMilter = r.listener.role != Role::Relay || r.listener.policy.enabled;
    r.needsTlsAuth = r.listener.policy.enabled && r.listener.policy.requireTlsForAuth;
    r.implicitTls = r.listener.role == Role::Submissions;
    r.label = r.listener.name.empty() ? std::string(toString(r.listener.role)) : r.listener.name;
    return r;
}

std::vector<std::string> neededMacros(std::string_view stage, const Config& cfg) {
    for (MacroStage s : kMacroStages)
        if (toString(s) == stage)
            return stageMacros(s, cfg.groupMacro);
    return {};
}

std::vector<std::string> missingMacros(const std::vector<std::string>& needed,
                                       const std::vector<std::string>& have) {
    std::set<std::string> h;
    for (const auto& m : have)
        h.insert(canonicalMacroName(m));
    std::vector<std::string> out;
    for (const auto& m : needed)
        if (!h.count(canonicalMacroName(m)))
            out.push_back(m);
    return out;
}

std::string daemonPortConsequence(const std::vector<std::string>& missing) {
    for (const auto& m : missing)
        if (canonicalMacroName(m) == "{daemon_port}")
            return "; without {daemon_port} the milter cannot tell port 587 from 465 or 25, so "
                   "neither a [listener] port nor the built-in port roles (587, 465) can apply: "
                   "authenticated mail then gets the submission policy, everything else "
                   "is treated as relay";
    return {};
}

std::string milterConfName(const Config& cfg) {
    return cfg.file.empty() ? std::string("rfc8314-milter.conf") : cfg.file;
}

Finding socketNotUnderstood(const Config& cfg) {
    return error("milter: socket " + cfg.socket + " is not understood",
                 {{milterConfName(cfg), "socket = inet:8891@127.0.0.1"}});
}

} // namespace rfc8314::doctor
