// doctor.hpp — `rfc8314-milter --doctor`: reads the local Postfix and/or
// Sendmail configuration and says whether the MTA is wired to this milter the
// way the milter's configuration needs it (socket, macro lists, TLS-only AUTH,
// failure action and timeouts, socket reachability).
//
// Split in two on purpose: the parse*/judge* functions take text (postconf
// output, sendmail.cf) and a Config and touch nothing else, so they can be
// exercised end to end with any configuration; runDoctor() adds what needs
// the system (running postconf, reading files, probing the socket).
//
// Output: one line per check, "ok: ", "warning: " or "error: " and a text;
// a non-ok line that a line of configuration (or a command) can fix is
// followed by one or more "  fix (WHERE): LINE" lines whose LINE is exactly
// what to put into WHERE.  Exit status of runDoctor:
// 0 when every check is ok, 1 when there is any warning or error, 70 on an
// internal failure.  (A bad milter configuration never gets here: main()
// exits 78 first.)
#pragma once

#include <map>
#include <optional>
#include <ostream>
#include <string>
#include <string_view>
#include <vector>

#include "rfc8314/config.hpp"

namespace rfc8314::doctor {

enum class Level { Ok, Warning, Error };

struct Fix {
    std::string where; // "main.cf", "master.cf", "sendmail.mc", "rfc8314-milter.conf", "shell"
    std::string line;  // exactly what to write there
};

struct Finding {
    Level level = Level::Ok;
    std::string text;
    std::vector<Fix> fixes;
};

// A milter socket in any spelling, reduced to what decides identity.
struct SocketAddr {
    enum class Kind { Inet, Unix } kind = Kind::Inet;
    std::string host; // Inet: as written, lower-case, no brackets; "" = any address
    unsigned port = 0;
    std::string path; // Unix
};

// The milter's and Sendmail's spelling: inet:PORT@HOST, inet6:PORT@HOST,
// local:/path, unix:/path, /path.
std::optional<SocketAddr> parseMilterSocket(std::string_view spec);
// Postfix's spelling: inet:HOST:PORT, unix:PATH, local:PATH (PATH as written;
// relative paths are relative to queue_directory).
std::optional<SocketAddr> parsePostfixSocket(std::string_view spec);
// The milter's socket as Postfix would name it.
std::string postfixSpelling(const SocketAddr& a);

// ---- Postfix ------------------------------------------------------------------
struct PostfixService {
    std::string name, type, priv, unpriv, chroot, wakeup, maxproc;
    std::string command;                      // first word of the command
    std::string line;                         // the whole `postconf -M` line
    std::map<std::string, std::string> overrides; // from `postconf -P`
};

struct PostfixConf {
    std::string dir;                          // -c DIR, or "" for the default
    std::map<std::string, std::string> main;  // effective values (`postconf -x NAME...`)
    std::vector<PostfixService> services;     // `postconf -M`
};

// "name = value" lines (postconf's main.cf output).
std::map<std::string, std::string> parsePostconfMain(std::string_view text);
// `postconf -M` output: one service a line.
std::vector<PostfixService> parsePostconfMaster(std::string_view text);
// `postconf -P` output ("service/type/name = value") merged into services.
void applyPostconfOverrides(std::vector<PostfixService>& services, std::string_view text);
// The main.cf parameters runDoctor asks postconf for.
const std::vector<std::string>& postfixParameters();

std::vector<Finding> judgePostfix(const Config& cfg, const PostfixConf& pf);
// The user Postfix's smtpd connects to the milter as (mail_owner, or root
// for a service whose unpriv column is n).
std::string postfixUser(const PostfixConf& pf);

// ---- Sendmail -----------------------------------------------------------------
struct SendmailFilter {
    std::string name, socket, flags, timeouts, line;
    bool hasFlags = false;
};

struct SendmailDaemon {
    std::string name;            // Name= (default "Daemon<n>")
    std::string portText;        // Port= as written (default "smtp")
    std::optional<unsigned> port;
    std::string addr;            // Addr=
    std::string modifiers;       // M=
    std::optional<std::string> inputFilters; // per-daemon InputMailFilters (I=)
    std::string value;           // everything after "DaemonPortOptions="
};

struct SendmailCf {
    std::string path;
    std::string version;                            // from DZ; "" unknown
    std::map<std::string, std::string> options;     // O Name=value (last wins)
    std::vector<SendmailFilter> filters;            // X lines
    std::vector<SendmailDaemon> daemons;            // O DaemonPortOptions= lines
};

SendmailCf parseSendmailCf(std::string_view text);
std::vector<Finding> judgeSendmail(const Config& cfg, const SendmailCf& sm);

// ---- the system part ----------------------------------------------------------
// Whether `user` can reach the milter's socket: unix sockets by existence,
// type, directory search and write permission, then a connect(); inet by a
// TCP connect.  `who` names the MTA in the text.
std::vector<Finding> probeSocket(const Config& cfg, const std::string& who, const std::string& user);

struct Options {
    std::optional<std::string> postfixConfig; // --postfix-config DIR
    std::optional<std::string> sendmailCf;    // --sendmail-cf FILE
};

// Print findings as described at the top; return the exit status.
int printFindings(const std::vector<Finding>& findings, std::ostream& out);

// Checks Postfix and Sendmail: both at their default places when neither
// option is given, else only those named.  Never throws.
int runDoctor(const Config& cfg, const Options& opts, std::ostream& out) noexcept;

} // namespace rfc8314::doctor
