// startup.hpp — what the daemon needs from the system before it may start,
// checked the same way by `-n` and by the start itself.
//
// Promises: preflight() changes nothing (no file is created, no socket
// bound); it reports every problem it finds as a ConfigError placed where
// the key was set, so `-n` (the unit's ExecStartPre) refuses exactly what
// start-up would refuse: an unknown user or group, a socket host that does
// not resolve, an audit_file the daemon's user could not open, a pid_file
// whose directory that user could not write (it removes the file at exit).
// Checks "as the daemon's user" run with that user's effective ids and
// groups when started as root, so ACLs and group membership count.
//
// Fails: AsUser aborts the process if it cannot return to root's ids, since
// going on with borrowed ids would be worse than stopping.
#pragma once

#include <sys/types.h>

#include <string>
#include <vector>

#include "rfc8314/config.hpp"

namespace rfc8314 {

// Who the daemon runs as once started.
struct Identity {
    bool switches = false;    // started as root with `user` set: it will switch
    std::string name;         // the user's name, when it switches
    uid_t uid = 0;
    gid_t gid = 0;
    std::vector<gid_t> groups; // supplementary groups (the user's, plus gid)
};

struct Preflight {
    Identity who;
    std::vector<ConfigError> errors;
    std::vector<std::string> warnings;
};

Preflight preflight(const Config& cfg);

// While alive, the effective ids and groups are those of `who` (nothing
// happens when `who` does not switch); the destructor returns to root.
class AsUser {
public:
    explicit AsUser(const Identity& who);
    ~AsUser();
    AsUser(const AsUser&) = delete;
    AsUser& operator=(const AsUser&) = delete;
    // Empty, or why the switch failed (then nothing was changed).
    const std::string& error() const noexcept { return error_; }

private:
    bool switched_ = false;
    gid_t egid_ = 0;
    std::vector<gid_t> groups_;
    std::string error_;
};

// Switches to `who` for good (supplementary groups, gid, uid).  Empty, or
// why not.
std::string becomeUser(const Identity& who);

} // namespace rfc8314
