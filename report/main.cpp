// main.cpp — rfc8314-report(1): who submits mail how, from the milter's
// audit trail.
//
// Reads syslog files (plain or gzip, a rotated set in any order), standard
// input (journalctl -o cat, the milter's stderr) and JSON audit files, and
// prints per-user, per-client and per-day summaries, the users who sent a
// password in cleartext, and what a proposed policy would refuse — as text,
// CSV, JSON, or a self-contained HTML page.  Or, for a deprecation: an
// exceptions file grandfathering the users below a rule
// (--emit-exceptions), or a notice per such user into a directory
// (--notices).
//
// Promises: no input line is fatal (foreign and damaged lines are counted
// and reported); a file that cannot be read is named on stderr, the others
// are still read, and the exit status is 1; a usage error is one line
// "rfc8314-report: WHY" and a pointer to --help, exit 64 (EX_USAGE), as
// rfc8314-milter's: both read their command line with Boost.Program_options,
// so both take --option VALUE and --option=VALUE alike.  Memory
// grows with distinct users and client addresses, not with lines: input is
// read in fixed blocks and every line is a view into the block.
#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include <boost/program_options.hpp>
#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <fstream>
#include <iostream>
#include <iterator>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "html.hpp"
#include "engine/exceptions_out.hpp"
#include "engine/input.hpp"
#include "engine/notices.hpp"
#include "engine/record.hpp"
#include "engine/tables.hpp"
#include "rfc8314/logfmt.hpp"
#include "rfc8314/rfc5322.hpp"

using namespace rfc8314;
using namespace rfc8314::report;

namespace {

namespace po = boost::program_options;

constexpr int kExitUsage = 64; // EX_USAGE, as rfc8314-milter

// A plain file is shared among threads only when each gets at least this
// much: below it a thread costs more than it saves.
constexpr std::uint64_t kMinSegment = 4 << 20;

// --threads by default: the cores there are, at most 4 (each thread holds
// its own tables until they are merged, so memory grows with threads).
unsigned defaultThreads() {
    const unsigned n = std::thread::hardware_concurrency();
    return n == 0 ? 1 : n > 4 ? 4 : n;
}

int usageError(const std::string& why) {
    std::cerr << "rfc8314-report: " << why << "\n"
              << "try 'rfc8314-report --help'\n";
    return kExitUsage;
}

YearRule ruleAt(std::time_t t) {
    std::tm tm{};
    localtime_r(&t, &tm);
    return {tm.tm_year + 1900, tm.tm_mon + 1};
}

bool parseYear(const std::string& s, YearRule& r) {
    int y = 0, m = 12;
    char extra = 0;
    const int n = std::sscanf(s.c_str(), "%4d-%2d%c", &y, &m, &extra);
    if (n == 1 && s.size() == 4 && y >= 1970) {
        r = {y, 12};
        return true;
    }
    if (n == 2 && s.size() == 7 && y >= 1970 && m >= 1 && m <= 12) {
        r = {y, m};
        return true;
    }
    return false;
}

bool parseCount(const std::string& s, long long max, long long& out) {
    if (s.empty() || s.size() > 12 || s.find_first_not_of("0123456789") != std::string::npos)
        return false;
    out = std::stoll(s);
    return out <= max;
}

// The whole of a small file (a template); false when it cannot be read.
bool readFile(const std::string& path, std::string& out) {
    std::ifstream in(path, std::ios::binary);
    if (!in)
        return false;
    out.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
    return !in.bad();
}

// DIR for --notices: made when missing; an existing one must be empty, so
// that a run never mixes its notices with an earlier run's (which would
// then be sent twice).  "" when usable, else why not.
std::string noticeDir(const std::string& dir) {
    if (::mkdir(dir.c_str(), 0700) == 0)
        return {};
    if (errno != EEXIST)
        return std::strerror(errno);
    DIR* d = ::opendir(dir.c_str());
    if (!d)
        return std::strerror(errno);
    bool empty = true;
    while (const dirent* e = ::readdir(d))
        if (std::strcmp(e->d_name, ".") != 0 && std::strcmp(e->d_name, "..") != 0)
            empty = false;
    ::closedir(d);
    return empty ? std::string() : "not empty (give a new or empty directory, so no notice is sent twice)";
}

// One notice file, created new (never through a link, never over a file).
bool writeNew(const std::string& path, const std::string& text) {
    const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (fd < 0)
        return false;
    std::size_t done = 0;
    while (done < text.size()) {
        const ssize_t n = ::write(fd, text.data() + done, text.size() - done);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            ::close(fd);
            return false;
        }
        done += static_cast<std::size_t>(n);
    }
    return ::close(fd) == 0;
}

int utcOffsetMinutes(std::time_t t) {
    std::tm tm{};
    localtime_r(&t, &tm);
    return static_cast<int>(tm.tm_gmtoff / 60);
}

struct Input {
    std::string path; // "-" = standard input
    bool json = false;
};

// What zlib says of a .gz that ISA-L found corrupt: its words, so that a
// message does not depend on the inflater the build has.
std::string zlibVerdict(const std::string& path) {
    gzFile f = gzopen(path.c_str(), "rb");
    if (!f)
        return "compressed data error";
    gzbuffer(f, 256 * 1024);
    std::vector<char> buf(1 << 20);
    while (gzread(f, buf.data(), static_cast<unsigned>(buf.size())) > 0) {
    }
    int err = 0;
    std::string why = gzerror(f, &err);
    gzclose(f);
    return err == Z_OK || why.empty() ? "compressed data error" : why;
}

// A .gz file through ISA-L (readGzip: two cores when it is large enough
// and the run keeps no detail), reported as the zlib path reports it.
bool readGzipFile(const Input& in, int fd, std::uint64_t size, LineParser& parser, Aggregator& agg,
                  std::size_t blockSize, unsigned threads) {
    const GzipResult r = readGzip(fd, size, parser, agg, in.json, threads > 1 && size >= kMinSegment ? 2 : 1,
                                  blockSize);
    switch (r.end) {
    case GzipBlocks::End::Clean:
    case GzipBlocks::End::More: return true;
    case GzipBlocks::End::Truncated:
        std::cerr << "rfc8314-report: " << in.path
                  << ": compressed data ends early (truncated file); lines up to there are read\n";
        return false;
    case GzipBlocks::End::ReadError:
        std::cerr << "rfc8314-report: " << in.path << ": " << std::strerror(r.readErrno) << "\n";
        return false;
    case GzipBlocks::End::Corrupt: break;
    }
    std::cerr << "rfc8314-report: " << in.path << ": " << zlibVerdict(in.path) << "\n";
    return false;
}

// Reads one input.  A plain file big enough to share goes to
// readSegments (one segment per thread, merged in file order: the same
// result as one pass); a .gz file to readGzipFile where the build has
// ISA-L; anything else (gzip without ISA-L, standard input, a pipe, a run
// that keeps per-user detail) through zlib, which passes plain bytes
// through as they are, in fixed blocks.
bool readInput(const Input& in, LineParser& parser, Aggregator& agg, std::size_t blockSize,
               bool yearGiven, unsigned threads) {
    gzFile f;
    if (in.path == "-") {
        f = gzdopen(dup(0), "rb");
        if (!yearGiven)
            parser.setYearRule(ruleAt(std::time(nullptr)));
    } else {
        struct stat st {};
        if (::stat(in.path.c_str(), &st) != 0) {
            std::cerr << "rfc8314-report: " << in.path << ": " << std::strerror(errno) << "\n";
            return false;
        }
        if (!yearGiven)
            parser.setYearRule(ruleAt(st.st_mtime));
        if (S_ISREG(st.st_mode)) {
            const auto size = static_cast<std::uint64_t>(st.st_size);
            const int fd = ::open(in.path.c_str(), O_RDONLY | O_CLOEXEC);
            unsigned char magic[2] = {0, 0};
            const bool two = fd >= 0 && ::pread(fd, magic, 2, 0) == 2;
            const bool gz = two && magic[0] == 0x1f && magic[1] == 0x8b;
            if (gz && GzipBlocks::available()) {
                const bool ok = readGzipFile(in, fd, size, parser, agg, blockSize, threads);
                ::close(fd);
                return ok;
            }
            if (two && !gz && threads > 1 && !agg.keepsDetail() && size >= threads * kMinSegment) {
                const std::string why = readSegments(fd, size, parser, agg, in.json, threads, blockSize);
                ::close(fd);
                if (!why.empty())
                    std::cerr << "rfc8314-report: " << in.path << ": " << why << "\n";
                return why.empty();
            }
            if (fd >= 0)
                ::close(fd); // small, gzip without ISA-L, or unreadable: zlib reads it, or says why not
        }
        f = gzopen(in.path.c_str(), "rb");
    }
    if (!f) {
        std::cerr << "rfc8314-report: " << in.path << ": cannot open\n";
        return false;
    }
    gzbuffer(f, 256 * 1024);
    const std::string name = in.path == "-" ? "standard input" : in.path;
    LineSink sink(parser, agg, in.json);
    LineSplitter split(blockSize);
    bool ok = true;
    long last = 0; // gzread's last result: 0 at the end, < 0 on an error
    if (threads > 1) {
        // Inflating (or copying) on a second core while this one parses.
        ReadAhead ahead([f](char* buf, std::size_t n) { return static_cast<long>(gzread(f, buf, static_cast<unsigned>(n))); },
                        blockSize);
        last = ahead.feedAll(split, sink);
    } else {
        while ((last = gzread(f, split.space(), static_cast<unsigned>(split.room()))) > 0)
            split.feed(static_cast<std::size_t>(last), sink);
    }
    if (last < 0) {
        // zlib's message already names the file for a system error.
        int err = 0;
        const char* why = gzerror(f, &err);
        std::cerr << "rfc8314-report: ";
        if (err != Z_ERRNO)
            std::cerr << name << ": ";
        std::cerr << why << "\n";
        ok = false;
    } else {
        // gzread tolerates a gzip stream that stops short (it may be a
        // file still being written) and says so only through gzerror:
        // a truncated .gz would otherwise pass for a complete one.
        int err = 0;
        gzerror(f, &err);
        const bool truncated = err == Z_BUF_ERROR;
        split.end(sink, truncated); // the tail of a line cut by the truncation
        if (truncated) {
            std::cerr << "rfc8314-report: " << name
                      << ": compressed data ends early (truncated file); lines up to there are read\n";
            ok = false;
        }
    }
    gzclose(f);
    return ok;
}

} // namespace

int main(int argc, char** argv) {
    po::options_description opts("Options");
    opts.add_options()
        ("json-input", po::value<std::string>()->value_name("FILE"),
         "the milter's JSON audit file (plain or .gz); repeatable")
        ("year", po::value<std::string>()->value_name("YYYY[-MM]"),
         "the year (and month) the log ends in, for dates without a year (default: each "
         "file's modification time; standard input: now)")
        ("ident", po::value<std::string>()->value_name("NAME"), "syslog tag of the milter (default rfc8314-milter)")
        ("require-tls", "what-if: refuse cleartext transactions")
        ("min-tls", po::value<std::string>()->value_name("VERSION"),
         "what-if: refuse authenticated TLS older than VERSION (e.g. TLSv1.2)")
        ("min-bits", po::value<std::string>()->value_name("N"),
         "what-if: refuse authenticated TLS with fewer cipher bits than N")
        ("exceptions", po::value<std::string>()->value_name("FILE"),
         "what-if: with the milter's exceptions file FILE")
        ("as-of", po::value<std::string>()->value_name("YYYY-MM-DD"),
         "what-if: judge the exceptions' dates on this day (default: each transaction's own)")
        ("rollout-percent", po::value<std::string>()->value_name("N"),
         "what-if: enforce on N% of the users only, picked as the milter picks them")
        ("rollout-salt", po::value<std::string>()->value_name("SALT"),
         "what-if: the milter's rollout_salt (default empty)")
        ("listener", po::value<std::string>()->value_name("NAME"),
         "what-if: only on the listener NAME (as in listener=NAME/PORT); repeatable")
        ("emit-exceptions", "write an exceptions file exempting every user below the rule (needs --until)")
        ("until", po::value<std::string>()->value_name("YYYY-MM-DD"),
         "--emit-exceptions: the last day the exceptions hold")
        ("notices", po::value<std::string>()->value_name("DIR"),
         "write a notice (RFC 5322 message) to every user below the rule into DIR")
        ("template", po::value<std::string>()->value_name("FILE"), "--notices: the template (default: built in)")
        ("from", po::value<std::string>()->value_name("ADDRESS"),
         "--notices: the sender (default postmaster@DOMAIN)")
        ("deadline", po::value<std::string>()->value_name("YYYY-MM-DD"), "--notices: the day of the cut-off")
        ("domain", po::value<std::string>()->value_name("DOMAIN"),
         "--notices: mail user@DOMAIN when a user name is no address")
        ("text", "aligned text tables (the default)")
        ("csv", "CSV tables")
        ("json", "one JSON object")
        ("html", po::value<std::string>()->value_name("FILE"),
         "also write a self-contained HTML page with charts to FILE")
        ("by", po::value<std::string>()->value_name("host"),
         "also a table per audit host (the JSON events' host, ECS host.name)")
        ("table", po::value<std::string>()->value_name("NAME"),
         "only summary, days, ciphers, users, clients, hosts (with --by host), cleartext or whatif")
        ("top", po::value<std::string>()->value_name("N"), "only the N busiest users and client addresses")
        ("threads", po::value<std::string>()->value_name("N"),
         "read a large plain file with N threads (default: the cores, at most 4)")
        ("help,h", "this text")
        ("version", "the version");
    po::options_description hidden;
    hidden.add_options()("input", po::value<std::string>());
    po::options_description all;
    all.add(opts).add(hidden);
    po::positional_options_description positional;
    positional.add("input", -1);

    po::parsed_options parsed(&all);
    try {
        parsed = po::command_line_parser(argc, argv).options(all).positional(positional).run();
    } catch (const std::exception& e) {
        return usageError(e.what());
    }

    std::vector<Input> inputs;
    WhatIfPolicy policy;
    OutputOptions out;
    YearRule years;
    bool yearGiven = false, byHost = false;
    std::string ident = "rfc8314-milter", htmlPath;
    enum { Text, Csv, Json, None } format = None;
    std::string exceptionsPath, noticesDir, templatePath, from, domain;
    std::optional<Day> until, deadline;
    bool emit = false, saltGiven = false, tableOptions = false;
    unsigned threads = defaultThreads();
    // In command-line order (not through a variables_map): inputs are read
    // in the order given, and a repeated option means what it did before.
    for (const po::option& o : parsed.options) {
        const std::string& a = o.string_key;
        const std::string v = o.value.empty() ? std::string() : o.value.front();
        long long n = 0;
        if (a == "help") {
            std::cout << "usage: rfc8314-report [options] [FILE ...]\n"
                         "  FILE: syslog, journalctl or JSON audit file, plain or .gz, in any order;\n"
                         "  '-' or none: standard input; -- ends the options\n\n"
                      << opts;
            return 0;
        } else if (a == "version") {
            std::cout << "rfc8314-report " << RFC8314_VERSION << "\n";
            return 0;
        } else if (a == "input") {
            inputs.push_back({v, false});
        } else if (a == "json-input") {
            inputs.push_back({v, true});
        } else if (a == "year") {
            if (!parseYear(v, years))
                return usageError("--year wants YYYY or YYYY-MM");
            yearGiven = true;
        } else if (a == "ident") {
            if (v.empty())
                return usageError("--ident needs a name");
            ident = v;
        } else if (a == "require-tls") {
            policy.requireTls = true;
        } else if (a == "min-tls") {
            const auto t = parseTlsVersionSetting(v);
            if (!t)
                return usageError("--min-tls: unknown version '" + v + "' (want e.g. TLSv1.2)");
            policy.minTls = *t;
        } else if (a == "min-bits") {
            if (!parseCount(v, 4096, n) || n < 1)
                return usageError("--min-bits wants a number of bits, e.g. 128");
            policy.minBits = static_cast<int>(n);
        } else if (a == "exceptions") {
            if (v.empty())
                return usageError("--exceptions needs a file");
            exceptionsPath = v;
        } else if (a == "as-of") {
            policy.asOf = Day::parse(v);
            if (!policy.asOf)
                return usageError("--as-of wants a date, YYYY-MM-DD");
        } else if (a == "rollout-percent") {
            if (!parseCount(v, 100, n))
                return usageError("--rollout-percent wants a number from 0 to 100");
            policy.rolloutPercent = static_cast<int>(n);
        } else if (a == "rollout-salt") {
            policy.rolloutSalt = v;
            saltGiven = true;
        } else if (a == "listener") {
            if (v.empty() || v.find('/') != std::string::npos)
                return usageError("--listener wants a listener name, as in listener=NAME/PORT");
            policy.listeners.push_back(v);
        } else if (a == "emit-exceptions") {
            emit = true;
        } else if (a == "until") {
            until = Day::parse(v);
            if (!until)
                return usageError("--until wants a date, YYYY-MM-DD");
        } else if (a == "notices") {
            if (v.empty())
                return usageError("--notices needs a directory");
            noticesDir = v;
        } else if (a == "template") {
            if (v.empty())
                return usageError("--template needs a file");
            templatePath = v;
        } else if (a == "from") {
            if (!isValidMailbox(v))
                return usageError("--from wants a mail address, e.g. postmaster@example.org");
            from = v;
        } else if (a == "deadline") {
            deadline = Day::parse(v);
            if (!deadline)
                return usageError("--deadline wants a date, YYYY-MM-DD");
        } else if (a == "domain") {
            if (!isValidDomain(v))
                return usageError("--domain wants a domain name, e.g. example.org");
            domain = v;
        } else if (a == "text" || a == "csv" || a == "json") {
            const auto f = a == "text" ? Text : a == "csv" ? Csv : Json;
            if (format != None && format != f)
                return usageError("choose one of --text, --csv, --json");
            format = f;
            tableOptions = true;
        } else if (a == "html") {
            if (v.empty())
                return usageError("--html needs a file");
            htmlPath = v;
            tableOptions = true;
        } else if (a == "by") {
            if (v != "host")
                return usageError("--by wants host");
            byHost = true;
            tableOptions = true;
        } else if (a == "table") {
            if (!validTable(v))
                return usageError("--table wants summary, days, ciphers, users, clients, hosts, cleartext or whatif");
            out.table = v;
            tableOptions = true;
        } else if (a == "top") {
            if (!parseCount(v, 1000000000, n) || n < 1)
                return usageError("--top wants a positive number");
            out.top = static_cast<std::size_t>(n);
            tableOptions = true;
        } else if (a == "threads") {
            if (!parseCount(v, 64, n) || n < 1)
                return usageError("--threads wants a number from 1 to 64");
            threads = static_cast<unsigned>(n);
        }
    }
    if (inputs.empty())
        inputs.push_back({"-", false});

    // The deprecation modes and what goes with them.
    const bool notices = !noticesDir.empty();
    if (emit && notices)
        return usageError("choose one of --emit-exceptions and --notices");
    if ((emit || notices) && tableOptions)
        return usageError(std::string(emit ? "--emit-exceptions" : "--notices") +
                          " writes no tables: leave out --text, --csv, --json, --html, --table and --top");
    if (emit != until.has_value())
        return usageError(emit ? "--emit-exceptions needs --until YYYY-MM-DD, the last day the exceptions hold"
                               : "--until goes with --emit-exceptions");
    if (!notices && (!templatePath.empty() || !from.empty() || !domain.empty() || deadline))
        return usageError("--template, --from, --deadline and --domain go with --notices");
    if (saltGiven && policy.rolloutPercent == 100)
        return usageError("--rollout-salt goes with --rollout-percent");
    const bool modelled = !exceptionsPath.empty() || policy.asOf || policy.rolloutPercent < 100 ||
                          !policy.listeners.empty();
    if (!policy.active()) {
        if (emit || notices) {
            // The rule the milter enforces when nothing is configured.
            const WhatIfPolicy rule = WhatIfPolicy::milterDefault();
            policy.requireTls = rule.requireTls;
            policy.minTls = rule.minTls;
            policy.minBits = rule.minBits;
        } else if (modelled) {
            return usageError("--exceptions, --as-of, --rollout-percent and --listener need a rule: "
                              "--require-tls, --min-tls or --min-bits");
        }
    }
    if (!exceptionsPath.empty()) {
        // The milter's own reader: what it would refuse to load, the report
        // refuses too.
        const ExceptionLoad load = loadExceptions(exceptionsPath, Day::fromTime(std::time(nullptr)));
        if (!load.errors.empty()) {
            for (const auto& e : load.errors)
                std::cerr << "rfc8314-report: " << e << "\n";
            return usageError("--exceptions: the milter would not load " + exceptionsPath);
        }
        policy.exceptions = std::make_shared<ExceptionList>(load.list);
    }
    std::optional<NoticeTemplate> notice;
    if (notices) {
        std::string text;
        if (templatePath.empty())
            text = std::string(defaultNoticeTemplate());
        else if (!readFile(templatePath, text))
            return usageError("--template: cannot read " + templatePath);
        std::string why;
        notice = NoticeTemplate::parse(text, &why);
        if (!notice)
            return usageError("--template: " + (templatePath.empty() ? std::string("built-in") : templatePath) +
                              ": " + why);
        if (notice->needsDeadline() && !deadline)
            return usageError("the template names {deadline}: give --deadline YYYY-MM-DD");
        if (from.empty()) {
            if (domain.empty())
                return usageError("--notices needs --from ADDRESS (or --domain, for postmaster@DOMAIN)");
            from = "postmaster@" + domain;
        }
        const std::string why2 = noticeDir(noticesDir);
        if (!why2.empty()) {
            std::cerr << "rfc8314-report: " << noticesDir << ": " << why2 << "\n";
            return 1;
        }
    }

    LineParser parser(ident);
    if (yearGiven)
        parser.setYearRule(years);
    Aggregator agg(std::move(policy));
    if (emit || notices)
        agg.keepDetail();
    agg.byHost = byHost;
    bool ok = true;
    for (const Input& in : inputs)
        ok = readInput(in, parser, agg, std::size_t{1} << 20, yearGiven, threads) && ok;

    if (emit) {
        const Day today = Day::fromTime(std::time(nullptr));
        if (*until < today)
            std::cerr << "rfc8314-report: warning: --until " << until->str()
                      << " is in the past: the milter loads these exceptions as expired\n";
        std::ios::sync_with_stdio(false);
        for (std::uint32_t id : writeExceptions(agg, *until, std::cout))
            std::cerr << "rfc8314-report: user " << escapeLogValue(agg.userNames.name(id))
                      << " left out: the exceptions file cannot hold the name\n";
        std::cout.flush();
        if (!std::cout) {
            std::cerr << "rfc8314-report: cannot write standard output\n";
            return 1;
        }
        return ok ? 0 : 1;
    }
    if (notices) {
        NoticeOptions no;
        no.from = from;
        no.domain = domain;
        no.deadline = deadline;
        no.now = std::time(nullptr);
        no.utcOffsetMinutes = utcOffsetMinutes(no.now);
        no.pid = static_cast<long>(::getpid());
        bool written = true;
        makeNotices(
            agg, *notice, no,
            [&](const Notice& n) {
                const std::string path = noticesDir + "/" + n.fileName;
                if (!writeNew(path, n.message)) {
                    std::cerr << "rfc8314-report: " << path << ": " << std::strerror(errno) << "\n";
                    written = false;
                    return;
                }
                std::cout << path << " " << n.to << "\n";
            },
            [&](std::uint32_t id) {
                std::cerr << "rfc8314-report: no notice for user " << escapeLogValue(agg.userNames.name(id))
                          << ": the name is no mail address"
                          << (domain.empty() ? " (--domain gives user@DOMAIN)" : ", nor with @" + domain) << "\n";
            });
        std::cout.flush();
        return ok && written && std::cout ? 0 : 1;
    }

    if (!htmlPath.empty()) {
        std::ofstream h(htmlPath, std::ios::binary | std::ios::trunc);
        if (h)
            writeHtml(agg, out, h);
        h.close();
        if (!h) {
            std::cerr << "rfc8314-report: " << htmlPath << ": cannot write\n";
            return 1;
        }
        // The page is the output asked for; standard output only when a
        // format was named too.
        if (format == None)
            return ok ? 0 : 1;
    }
    std::ios::sync_with_stdio(false);
    switch (format) {
    case Csv: writeCsv(agg, out, std::cout); break;
    case Json: writeJson(agg, out, std::cout); break;
    default: writeText(agg, out, std::cout); break;
    }
    std::cout.flush();
    if (!std::cout) {
        std::cerr << "rfc8314-report: cannot write standard output\n";
        return 1;
    }
    return ok ? 0 : 1;
}
