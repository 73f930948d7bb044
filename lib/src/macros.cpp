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

std::string_view postfixMacroSetting(MacroStage stage) noexcept {
    switch (stage) {
    case MacroStage::Connect: return "milter_connect_macros";
    case MacroStage::Helo: return "milter_helo_macros";
    case MacroStage::Mail: return "milter_mail_macros";
    case MacroStage::Eom: return "milter_end_of_data_macros";
    }
    return "milter_connect_macros";
}

std::string_view sendmailMacroSetting(MacroStage stage) noexcept {
    switch (stage) {
    case MacroStage::Connect: return "confMILTER_MACROS_CONNECT";
    case MacroStage::Helo: return "confMILTER_MACROS_HELO";
    case MacroStage::Mail: return "confMILTER_MACROS_ENVFROM";
    case MacroStage::Eom: return "confMILTER_MACROS_EOM";
    }
    return "confMILTER_MACROS_CONNECT";
}

std::string symlistAdvice(std::string_view groupMacro) {
    // Postfix 3.7 offers smfi_setsymlist at every milter_protocol (measured),
    // so the lists are the fix, not the protocol version.
    std::string postfix = "Postfix: add to";
    std::string sendmail = "Sendmail: add to";
    for (auto stage : kMacroStages) {
        const auto list = stageMacroList(stage, groupMacro);
        postfix += ' ';
        postfix += postfixMacroSetting(stage);
        postfix += " (" + list + ")";
        sendmail += ' ';
        sendmail += sendmailMacroSetting(stage);
        sendmail += " (" + list + ")";
    }
    return postfix + "; " + sendmail;
}

} // namespace rfc8314
