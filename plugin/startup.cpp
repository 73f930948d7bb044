// startup.cpp — the checks -n shares with the daemon's start.  See startup.hpp.
#include "startup.hpp"

#include <fcntl.h>
#include <grp.h>
#include <netdb.h>
#include <pwd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>

namespace rfc8314 {

namespace {

std::string parentDir(const std::string& path) {
    const auto slash = path.rfind('/');
    if (slash == std::string::npos)
        return ".";
    return slash == 0 ? std::string("/") : path.substr(0, slash);
}

// Looks a user up; false with the reason when it does not exist or the
// lookup fails.
bool lookUpUser(const std::string& name, passwd& out, std::vector<char>& buf, std::string& why) {
    buf.resize(16384);
    passwd* found = nullptr;
    const int rc = getpwnam_r(name.c_str(), &out, buf.data(), buf.size(), &found);
    if (found)
        return true;
    why = rc == 0 ? "unknown user " + name
                  : "cannot look up user " + name + ": " + std::strerror(rc);
    return false;
}

bool lookUpGroup(const std::string& name, gid_t& gid, std::string& why) {
    std::vector<char> buf(16384);
    group g{};
    group* found = nullptr;
    const int rc = getgrnam_r(name.c_str(), &g, buf.data(), buf.size(), &found);
    if (found) {
        gid = g.gr_gid;
        return true;
    }
    why = rc == 0 ? "unknown group " + name
                  : "cannot look up group " + name + ": " + std::strerror(rc);
    return false;
}

std::vector<gid_t> groupsOf(const std::string& user, gid_t gid) {
    int n = 64;
    std::vector<gid_t> out(static_cast<std::size_t>(n));
    while (getgrouplist(user.c_str(), gid, out.data(), &n) < 0)
        out.resize(static_cast<std::size_t>(n));
    out.resize(static_cast<std::size_t>(n));
    return out;
}

// Who: the user and group keys against the system, and whether the daemon
// will switch (only a process started as root can).
void resolveIdentity(const Config& cfg, Preflight& p) {
    if (cfg.user.empty())
        return;
    passwd pw{};
    std::vector<char> buf;
    std::string why;
    if (!lookUpUser(cfg.user, pw, buf, why)) {
        p.errors.push_back(cfg.errorAt("user", why));
        return;
    }
    gid_t gid = pw.pw_gid;
    if (!cfg.group.empty() && !lookUpGroup(cfg.group, gid, why)) {
        p.errors.push_back(cfg.errorAt("group", why));
        return;
    }
    if (geteuid() != 0) {
        if (pw.pw_uid != geteuid())
            p.warnings.push_back("user is set but not running as root; staying the current user");
        return;
    }
    p.who.switches = true;
    p.who.name = pw.pw_name;
    p.who.uid = pw.pw_uid;
    p.who.gid = gid;
    p.who.groups = groupsOf(p.who.name, gid);
}

// libmilter looks the host up when it opens the socket (gethostbyname2 in
// the socket's family); a name that does not resolve stops the start, so
// it is an error here.
void checkSocketHost(const Config& cfg, Preflight& p) {
    const auto spec = parseSocketSpec(cfg.socket);
    if (!spec || spec->kind == SocketSpec::Kind::Local || spec->host.empty() ||
        spec->host.front() == '[')
        return;
    addrinfo hints{};
    hints.ai_family = spec->kind == SocketSpec::Kind::Inet ? AF_INET : AF_INET6;
    hints.ai_socktype = SOCK_STREAM;
    addrinfo* res = nullptr;
    const int rc = getaddrinfo(spec->host.c_str(), nullptr, &hints, &res);
    if (res)
        freeaddrinfo(res);
    if (rc != 0)
        p.errors.push_back(cfg.errorAt(
            "socket", "cannot resolve host \"" + spec->host + "\" as an " +
                          (spec->kind == SocketSpec::Kind::Inet ? "IPv4" : "IPv6") +
                          " address: " + gai_strerror(rc)));
}

std::string asWho(const Identity& who) {
    return who.switches ? "user " + who.name : std::string("this user");
}

// Whether `who` could open `path` for appending, creating it if need be.
void checkAuditFile(const Config& cfg, const Identity& who, Preflight& p) {
    if (cfg.auditFile.empty())
        return;
    AsUser as(who);
    if (!as.error().empty()) {
        p.errors.push_back(cfg.errorAt("audit_file", as.error()));
        return;
    }
    struct stat st{};
    std::string why;
    if (stat(cfg.auditFile.c_str(), &st) == 0) {
        if (S_ISDIR(st.st_mode))
            why = "is a directory";
        else if (faccessat(AT_FDCWD, cfg.auditFile.c_str(), W_OK, AT_EACCESS) != 0)
            why = std::string("cannot be written by ") + asWho(who) + ": " + std::strerror(errno);
    } else if (errno != ENOENT) {
        why = std::strerror(errno);
    } else if (faccessat(AT_FDCWD, parentDir(cfg.auditFile).c_str(), W_OK | X_OK, AT_EACCESS) != 0) {
        why = "cannot be created by " + asWho(who) + " in " + parentDir(cfg.auditFile) + ": " +
              std::strerror(errno);
    }
    if (!why.empty())
        p.errors.push_back(cfg.errorAt("audit_file", cfg.auditFile + ": " + why));
}

// The pid file is created before the switch and removed at exit after it,
// so the daemon's user must be able to write its directory.
void checkPidFile(const Config& cfg, const Identity& who, Preflight& p) {
    if (cfg.pidFile.empty())
        return;
    struct stat st{};
    if (lstat(cfg.pidFile.c_str(), &st) == 0) {
        if (S_ISLNK(st.st_mode)) {
            p.errors.push_back(cfg.errorAt(
                "pid_file", cfg.pidFile + " is a symbolic link; the pid file is never written "
                                          "through one"));
            return;
        }
        if (!S_ISREG(st.st_mode)) {
            p.errors.push_back(cfg.errorAt("pid_file", cfg.pidFile + " is not a regular file"));
            return;
        }
    }
    AsUser as(who);
    if (!as.error().empty()) {
        p.errors.push_back(cfg.errorAt("pid_file", as.error()));
        return;
    }
    const auto dir = parentDir(cfg.pidFile);
    if (faccessat(AT_FDCWD, dir.c_str(), W_OK | X_OK, AT_EACCESS) != 0)
        p.errors.push_back(cfg.errorAt(
            "pid_file", "directory " + dir + " cannot be written by " + asWho(who) + " (" +
                            std::strerror(errno) +
                            "), which removes the pid file at exit; use a directory it owns"));
}

} // namespace

Preflight preflight(const Config& cfg) {
    Preflight p;
    resolveIdentity(cfg, p);
    checkSocketHost(cfg, p);
    checkAuditFile(cfg, p.who, p);
    checkPidFile(cfg, p.who, p);
    return p;
}

AsUser::AsUser(const Identity& who) {
    if (!who.switches)
        return;
    egid_ = getegid();
    const int n = getgroups(0, nullptr);
    groups_.resize(n > 0 ? static_cast<std::size_t>(n) : 0);
    if (n > 0 && getgroups(n, groups_.data()) != n) {
        error_ = std::string("getgroups: ") + std::strerror(errno);
        return;
    }
    if (setgroups(who.groups.size(), who.groups.data()) != 0) {
        error_ = "cannot take the groups of " + who.name + ": " + std::strerror(errno);
        return;
    }
    if (setegid(who.gid) != 0 || seteuid(who.uid) != 0) {
        error_ = "cannot act as " + who.name + ": " + std::strerror(errno);
        if (setegid(egid_) != 0 || setgroups(groups_.size(), groups_.data()) != 0)
            std::abort();
        return;
    }
    switched_ = true;
}

AsUser::~AsUser() {
    if (!switched_)
        return;
    if (seteuid(0) != 0 || setegid(egid_) != 0 || setgroups(groups_.size(), groups_.data()) != 0)
        std::abort();
}

std::string becomeUser(const Identity& who) {
    if (!who.switches)
        return {};
    if (setgroups(who.groups.size(), who.groups.data()) != 0 || setgid(who.gid) != 0 ||
        setuid(who.uid) != 0)
        return "cannot switch to user " + who.name + ": " + std::strerror(errno);
    // A switch that could be undone was no switch.
    if (geteuid() != who.uid || getuid() != who.uid || (who.uid != 0 && setuid(0) == 0))
        return "switching to user " + who.name + " did not drop root";
    return {};
}

} // namespace rfc8314
