// sendmail.hpp — judges a sendmail.cf (sendmail_cf.hpp) against the
// milter's configuration: is every submission daemon's InputMailFilters
// holding an X line for the milter's socket, is AUTH kept off cleartext
// where the policy requires TLS for it (and no M=a that answers for the
// milter), what Sendmail does while the milter is down or slow (F=, T=), and
// whether the macro lists matter (Sendmail before 8.14).
//
// Promises: pure — configuration in, findings out, in a stable order (per
// daemon, then per milter, then the macro lists); every non-ok finding
// carries its fix as a sendmail.mc line and as a sendmail.cf line.
#pragma once

#include <vector>

#include "finding.hpp"
#include "rfc8314/config.hpp"
#include "sendmail_cf.hpp"

namespace rfc8314::doctor {

std::vector<Finding> judgeSendmail(const Config& cfg, const SendmailCf& sm);

} // namespace rfc8314::doctor
