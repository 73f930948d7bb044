// macros.hpp — which MTA macros the filter reads at which milter stage.
//
// One table, read by three parties: the session (lib/) reads exactly these,
// the daemon asks the MTA for exactly these with smfi_setsymlist, and
// `--doctor` checks an MTA that ignores smfi_setsymlist against them.  A
// macro added to a reader but not here would never arrive; one listed here
// but never read would make the doctor ask operators for something useless.
//
// Promises: pure, no I/O; the lists hold canonical names ("{x}" for long
// names, bare one-letter names), in a stable order.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace rfc8314 {

enum class MacroStage { Connect, Helo, Mail, Eom };

// Every stage, in protocol order.
inline constexpr MacroStage kMacroStages[] = {MacroStage::Connect, MacroStage::Helo,
                                              MacroStage::Mail, MacroStage::Eom};

// "connect", "helo", "envfrom", "eom": the stage names of libmilter and of
// Sendmail's Milter.macros.* options.
std::string_view toString(MacroStage stage) noexcept;

// The macros the filter reads at `stage`; `groupMacro` is the configured
// group_macro (canonical name or empty), read wherever TLS facts are.
std::vector<std::string> stageMacros(MacroStage stage, std::string_view groupMacro);
// The same, space-separated, as smfi_setsymlist takes it.
std::string stageMacroList(MacroStage stage, std::string_view groupMacro);

// Where an MTA that ignores smfi_setsymlist keeps a stage's list:
// "milter_connect_macros" (Postfix main.cf), "confMILTER_MACROS_CONNECT"
// (Sendmail .mc).
std::string_view postfixMacroSetting(MacroStage stage) noexcept;
std::string_view sendmailMacroSetting(MacroStage stage) noexcept;

// For the log when the MTA does not offer smfi_setsymlist: every stage's
// setting with the macros to add, for both MTAs, on one line.
std::string symlistAdvice(std::string_view groupMacro);

} // namespace rfc8314
