// stage.hpp — the milter steps, one list for everything that names them:
// the session's failures, the audit line's stage= and answered=, and the
// metrics' stage label.
//
// Promises: toString() gives the lower-case name libmilter's callbacks are
// known by ("negotiate" .. "close") for every value; never fails.
#pragma once

#include <cstddef>
#include <string_view>

namespace rfc8314 {

enum class Stage { Negotiate, Connect, Helo, Mail, Rcpt, Eom, Abort, Close };
inline constexpr std::size_t kStageCount = 8;
// "negotiate", "connect", "helo", "mail", "rcpt", "eom", "abort", "close".
std::string_view toString(Stage) noexcept;

} // namespace rfc8314
