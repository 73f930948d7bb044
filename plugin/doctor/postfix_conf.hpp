// postfix_conf.hpp — Postfix's configuration as the doctor sees it, read
// from postconf's output (never by parsing main.cf: `postconf -x NAME...`
// gives effective values with defaults and `$name` expanded, `postconf -M`
// the services, `postconf -P -x` their `-o` overrides), and the small
// grammar the judge needs on top: milter lists, a service's effective
// value, chroot paths, a master.cf line with one `-o` changed.
//
// Promises: pure; text in, values out; lines that are not understood are
// skipped, never fatal.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "postfix_maps.hpp"
#include "socket.hpp"
#include "tls.hpp"

namespace rfc8314::doctor {

struct PostfixService {
    std::string name, type, priv, unpriv, chroot, wakeup, maxproc;
    std::string command;                          // first word of the command
    std::string line;                             // the whole `postconf -M` line
    std::map<std::string, std::string> overrides; // from `postconf -P`
};

struct PostfixConf {
    std::string dir;                         // -c DIR, or "" for the default
    std::map<std::string, std::string> main; // effective values (`postconf -x NAME...`)
    std::vector<PostfixService> services;    // `postconf -M`
    // The server certificate files named by main.cf or a service's -o, as
    // read by certs.hpp (a path missing here was not read).
    std::map<std::string, CertFacts> certs;
    // The tables of every smtpd_milter_maps value (main.cf or -o), by the
    // table as written there (a table missing here was not read).
    std::map<std::string, MilterMap> milterMaps;
};

// "name = value" lines (postconf's main.cf output).
std::map<std::string, std::string> parsePostconfMain(std::string_view text);
// `postconf -M` output: one service a line.
std::vector<PostfixService> parsePostconfMaster(std::string_view text);
// `postconf -P` output ("service/type/name = value") merged into services.
void applyPostconfOverrides(std::vector<PostfixService>& services, std::string_view text);
// The main.cf parameters the doctor asks postconf for.
const std::vector<std::string>& postfixParameters();
// The user Postfix's smtpd connects to the milter as (mail_owner).
std::string postfixUser(const PostfixConf& pf);

// One entry of smtpd_milters: a socket, or a Postfix 3.0 `{ socket,
// name=value ... }` group with per-milter settings.
struct PfMilter {
    std::string spec;
    std::map<std::string, std::string> settings;
};
// smtpd_milters: entries separated by comma or space.
std::vector<PfMilter> parsePostfixMilterList(std::string_view v);

// main.cf's value of `k` ("" when unset).
std::string mainValue(const std::map<std::string, std::string>& m, const std::string& k);
// A service's effective value: its -o override, else main.cf.
std::string serviceValue(const PostfixConf& pf, const PostfixService& s, const std::string& k,
                         bool* overridden = nullptr);
// A Postfix boolean is yes.
bool yes(const std::string& v);

// The parameters that name server certificate files, and the files a
// service presents: smtpd_tls_chain_files when set, else the cert_file,
// eccert_file and dcert_file that are set; (parameter, path) pairs.
const std::vector<std::string>& postfixCertParameters();
std::vector<std::pair<std::string, std::string>> serviceCertFiles(const PostfixConf& pf,
                                                                  const PostfixService& s);

// The master.cf line of `s` with `-o key=value` set (replacing an existing
// -o for that key), so the fix can be pasted over the old line.
std::string serviceLineWith(const PostfixService& s, const std::string& key,
                            const std::string& value);

bool postfixChrooted(const PostfixConf& pf, const PostfixService& s);
// What a Postfix unix:PATH names on the file system for this service.
std::string postfixUnixPath(const PostfixConf& pf, const std::string& path, bool chrooted);
// How a service must name the milter's socket.  Chrooted: relative to the
// spool, which only works when the socket lives below it (else nullopt).
std::optional<std::string> postfixSpellingFor(const PostfixConf& pf, const SocketAddr& milter,
                                              bool chrooted);

} // namespace rfc8314::doctor
