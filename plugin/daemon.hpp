// daemon.hpp — the daemon's life: signals from the first line of main, a
// start checked in full before it detaches, and an orderly stop.
#pragma once

#include <signal.h>

#include <memory>

#include "rfc8314/config.hpp"

namespace rfc8314 {

// The signals the daemon handles (SIGTERM, SIGINT, SIGHUP: stop; SIGUSR1:
// reload), blocked and set to their default action as the first thing
// main() does, so that none can take its default action (SIGUSR1's is to
// kill) while the daemon starts; threads started later inherit the mask
// and libmilter's and the reload thread's sigwait() take them.  restore()
// gives the modes that run no daemon (-n, -t, --doctor) the mask and
// actions they were started with.
class HandledSignals {
public:
    HandledSignals() noexcept;
    void restore() noexcept;

private:
    sigset_t oldMask_;
    struct sigaction oldActions_[4];
};

// Starts the daemon and serves until it is stopped.  Returns only when the
// start fails (exit status 78 or 71, the reason written on standard error
// and to syslog, nothing left behind); otherwise the process ends inside:
// the starting process once the detached daemon runs (or with the daemon's
// failure), the daemon after its stop.
int runDaemon(const std::shared_ptr<const Config>& cfg, bool foreground);

} // namespace rfc8314
