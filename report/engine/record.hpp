// record.hpp — reading the milter's audit trail back: audit lines
// (syslog, stderr, journalctl -o cat, JSON) parsed into records, and the
// civil time the log's dates are counted in.
//
// Promises: parsing never throws (except std::bad_alloc) and never trusts
// the input: a line that is not ours is Foreign, a line that is ours but
// broken (truncated by syslog, bad escape, missing key) is Damaged, and
// neither stops a run.  A Record is a set of views that live until the
// next parse call: no allocation per line once the parser is warm.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

#include "rfc8314/audit.hpp"

namespace rfc8314::report {

// Inverse of escapeLogValue: `written` is a value exactly as it appears on a
// log line (bare, or "..." with \" \\ \n \r \t \xHH).  Appends the original
// bytes to `out`; false (out unspecified) when the quoting is malformed.
bool unescapeLogValue(std::string_view written, std::string& out);

// Civil time as written in the log, in seconds since 1970-01-01 00:00:00
// of the same clock (no time zone conversion: syslog writes local time, the
// JSON file UTC).  -1 means "no date".
using CivilTime = std::int64_t;
CivilTime civilTime(int year, int month, int day, int hour, int minute, int second) noexcept;
int civilDay(CivilTime t) noexcept;             // yyyymmdd
std::string formatTime(CivilTime t);             // "YYYY-MM-DD HH:MM:SS", "-" if undated
std::string formatDay(int yyyymmdd);             // "YYYY-MM-DD"

// One audit event.  Views point into the line or into the parser's
// buffers and are valid until the next parse call on the same parser.
struct Record {
    CivilTime when = -1;
    std::string_view queueId;
    std::string_view user;     // "none" when not authenticated
    std::string_view mech;     // "none" when not authenticated
    std::string_view tls;      // "none", "TLSv1.2", ...
    std::string_view cipher;   // "none" without TLS, "unknown" if not known
    std::string_view group;
    std::string_view client;   // the address only, from "name[addr]:port"
    std::string_view clientName; // the verified name from there; "" when "unknown"
    std::string_view listener; // "submission/587"
    std::string_view host;     // JSON `host` / ECS host.name; "" when the line has none
    std::string_view verdict;  // accept exempt would-reject tempfail reject
    std::string_view reason;   // "" when none
    std::string_view exception; // the exceptions-file entry that let it through, or ""
    std::string_view exemptUntil;
    std::string_view tlsRaw;   // the MTA's version text with tls=unknown, else ""
    // A transaction the filter failed on (reason internal-error): the stage
    // that failed, the step that answered, the error; "" otherwise.
    std::string_view stage;
    std::string_view answered;
    std::string_view error;
    // Cipher bits: 0 is a real value (NULL ciphers); nullopt when the line
    // says the bits are unknown (bits=unknown, JSON null) or there is no TLS
    // (bits=none; an old log's bits=0 beside tls=none).
    std::optional<int> bits;
    int bucket = -1;
    bool authenticated = false;
    bool cleartextAuth = false;
};

enum class LineKind {
    Audit,   // a Record was filled
    Foreign, // not a line of the milter (another program, blank, ...)
    Other,   // the milter's, but not an audit line (warnings, start-up)
    Damaged  // looked like an audit line but could not be read
};

// The year of a syslog timestamp without one ("Nov 24 11:22:39"): a date
// whose month is after `month` belongs to `year - 1`, any other to `year`.
// So a log that ends in January (year Y, month 1) puts its December lines
// in Y-1, whatever order rotated files are read in.  Needs the log to span
// less than twelve months.
struct YearRule {
    int year = 1970;
    int month = 12;
    int yearOf(int monthOfDate) const noexcept { return monthOfDate > month ? year - 1 : year; }
};

class LineParser {
public:
    explicit LineParser(std::string ident = "rfc8314-milter") : ident_(std::move(ident)) {}

    void setYearRule(YearRule r) noexcept { years_ = r; }

    // A line of syslog (traditional "Mmm dd hh:mm:ss host tag: msg" or
    // RFC 3339 "YYYY-MM-DDThh:mm:ss[.f][Z|+hh:mm] host tag: msg"), of the
    // milter's stderr ("tag[pid]: msg"), or journalctl -o cat ("msg").
    // No trailing newline expected (a trailing CR is ignored).  A line
    // that starts with '{' is read as a line of the JSON audit file.
    LineKind parseSyslog(std::string_view line, Record& r);

    // One line of the JSON audit file (one flat object per line); an ECS
    // event (audit_format = ecs: "@timestamp" or "ecs" among its keys) is
    // read by parseEcs.
    LineKind parseJson(std::string_view line, Record& r);
    // One ECS event (ecs_line.cpp): nested objects or dotted keys alike.
    LineKind parseEcs(std::string_view line, Record& r);

private:
    LineKind parseMessage(std::string_view msg, Record& r);
    // The unescaped value of a key (audit.hpp's schema), and the JSON
    // form's "listener/port" composed like the line's.
    std::string& scratch(AuditKey k) noexcept { return scratch_[static_cast<std::size_t>(k)]; }
    std::string ident_;
    YearRule years_;
    std::string scratch_[kAuditKeyCount + 1]; // reused: no allocation per line once warm
    // parseEcs's: the dotted path of the member being read, and a buffer
    // per field it keeps (ecs_line.cpp's EcsField).
    std::string ecsPath_;
    std::string ecsScratch_[24];
};

} // namespace rfc8314::report
