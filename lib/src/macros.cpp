// macros.cpp — the per-stage macro table.  See macros.hpp.
//
// What each stage carries (MTA-FACTS.md §1-§3): the listener and client at
// connect (and, on implicit TLS, Postfix may already send the TLS macros
// there); the TLS macros with the EHLO after STARTTLS; auth and the queue id
// at MAIL (the TLS macros again, for MTAs that send them only there); the
// queue id at end of message.
#include "rfc8314/macros.hpp"

namespace rfc8314 {

namespace {

constexpr std::string_view kTls[] = {"{tls_version}", "{cipher}", "{cipher_bits}"};

} // namespace

std::string_view toString(MacroStage stage) noexcept {
    switch (stage) {
    case MacroStage::Connect: return "connect";
    case MacroStage::Helo: return "helo";
    case MacroStage::Mail: return "envfrom";
    case MacroStage::Eom: return "eom";
    }
    return "connect";
}

std::vector<std::string> stageMacros(MacroStage stage, std::string_view groupMacro) {
    std::vector<std::string> out;
    auto addTls = [&] {
        out.insert(out.end(), std::begin(kTls), std::end(kTls));
        if (!groupMacro.empty())
            out.emplace_back(groupMacro);
    };
    switch (stage) {
    case MacroStage::Connect:
        out = {"j", "{daemon_name}", "{daemon_addr}", "{daemon_port}",
               "{client_addr}", "{client_name}", "{client_port}"};
        addTls();
        break;
    case MacroStage::Helo:
        addTls();
        break;
    case MacroStage::Mail:
        out = {"i", "{auth_type}", "{auth_authen}"};
        addTls();
        break;
    case MacroStage::Eom:
        out = {"i"};
        break;
    }
    return out;
}

std::string stageMacroList(MacroStage stage, std::string_view groupMacro) {
    std::string out;
    for (const auto& m : stageMacros(stage, groupMacro)) {
        if (!out.empty())
            out += ' ';
        out += m;
    }
    return out;
}

} // namespace rfc8314
