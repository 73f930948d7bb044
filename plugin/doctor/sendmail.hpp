// sendmail.hpp — judges a sendmail.cf (sendmail_cf.hpp) against the
// milter's configuration and RFC 8314: is every submission daemon's
// InputMailFilters holding an X line for the milter's socket, is AUTH kept
// off cleartext where the policy requires TLS for it (and no M=a that
// answers for the milter), does a submissions (465) daemon use implicit TLS
// (M=s) and is there one at all, is TLS offered with a valid certificate and
// TLS 1.0/1.1 turned off (RFC 8997), what Sendmail does while the milter is
// down or slow (F=, T=), and whether the macro lists matter (Sendmail before
// 8.14).
//
// Promises: pure — configuration in, findings out, in a stable order (per
// daemon, then TLS versions and the 465 check, per milter, the macro
// lists); the certificate is judged from the facts in SendmailCf::certs;
// every non-ok finding that a line fixes carries it as a sendmail.mc line
// and as a sendmail.cf line.
#pragma once

#include <vector>

#include "finding.hpp"
#include "rfc8314/config.hpp"
#include "sendmail_cf.hpp"

namespace rfc8314::doctor {

std::vector<Finding> judgeSendmail(const Config& cfg, const SendmailCf& sm);

} // namespace rfc8314::doctor
