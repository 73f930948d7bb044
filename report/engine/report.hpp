// report.hpp — reading the milter's audit trail back: parsing audit lines
// (syslog, stderr, journalctl -o cat, JSON) into records, and folding
// records into per-user, per-client and per-day summaries, a "what if"
// for a proposed policy, and the text, CSV and JSON renderings of
// rfc8314-report(1).
//
// Promises: parsing never throws (except std::bad_alloc) and never trusts
// the input: a line that is not ours is Foreign, a line that is ours but
// broken (truncated by syslog, bad escape, missing key) is Damaged, and
// neither stops a run.  Memory is bounded by the number of distinct users,
// client addresses and attribute values, never by the number of lines:
// a Record is a set of views that live until the next parse call, and the
// Aggregator copies a string only the first time it sees it.
#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <ostream>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "rfc8314/facts.hpp"

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
    std::string_view listener; // "submission/587"
    std::string_view verdict;  // accept exempt would-reject tempfail reject
    std::string_view reason;   // "" when none
    std::string_view exemptUntil;
    int bits = 0;              // 0: unknown or no TLS
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

    // One line of the JSON audit file (one flat object per line).
    LineKind parseJson(std::string_view line, Record& r);

private:
    enum Field { FQueue, FUser, FMech, FTls, FCipher, FGroup, FClient, FListener, FVerdict,
                 FReason, FExempt, FListenerName, FEvent, FTime, FCleartext, FCount };
    LineKind parseMessage(std::string_view msg, Record& r);
    std::string ident_;
    YearRule years_;
    std::string scratch_[FCount]; // reused: no allocation per line once warm
};

// A proposed policy for the what-if, with the milter's semantics
// (policy.cpp evaluate): cleartext is refused only with requireTls; TLS
// older than minTls or with fewer than minBits (when bits are known) is
// refused for authenticated transactions only.
struct WhatIfPolicy {
    bool requireTls = false;
    TlsVersion minTls = TlsVersion::None; // None: no minimum
    int minBits = 0;                      // 0: no minimum
    bool active() const noexcept { return requireTls || minTls != TlsVersion::None || minBits > 0; }
    std::string str() const; // "--require-tls --min-tls TLSv1.2 --min-bits 128"
};

enum Reason { RNone, RCleartext, RTlsVersion, RCipherBits, ROther, RCount };
Reason whatIf(const WhatIfPolicy& p, const Record& r) noexcept;
std::string_view reasonName(Reason r) noexcept;

enum VerdictIdx { VAccept, VExempt, VWouldReject, VTempfail, VReject, VOther, VCount };
std::string_view verdictName(VerdictIdx v) noexcept;

constexpr int kTlsCount = static_cast<int>(TlsVersion::Unknown) + 1;

// (id, count) pairs.
using Pairs = std::vector<std::pair<std::uint32_t, std::uint64_t>>;

// How often each cipher (group, mechanism, listener) was used by one user
// or address.  Most users have exactly one of each, so the first pair is
// kept inline: a typical user costs no allocation per attribute, and a
// count no cache miss outside the Entity.  More pairs go to a vector (a
// handful at most: a vector beats a map).
class Tally {
public:
    void bump(std::uint32_t id);
    std::size_t size() const noexcept { return count0_ ? 1 + (more_ ? more_->size() : 0) : 0; }
    Pairs pairs() const; // in first-seen order

private:
    std::uint32_t id0_ = 0;
    std::uint64_t count0_ = 0;   // 0: empty
    std::unique_ptr<Pairs> more_; // the second and later pairs, if any
};

struct Entity {
    CivilTime first = -1, last = -1;
    std::uint64_t count = 0;
    std::uint64_t verdicts[VCount] = {};
    std::uint64_t tls[kTlsCount] = {};
    Tally ciphers, groups, mechs, listeners;
    std::vector<std::uint32_t> peers; // clients: distinct user ids, capped
    bool peersCapped = false;
    std::uint64_t cleartext = 0;      // cleartext_auth=yes transactions
    CivilTime cleartextFirst = -1, cleartextLast = -1;
    std::uint64_t whatIf[RCount] = {}; // [RNone] = total would-be refusals
};

// Entities by id, in fixed-size chunks: growing never moves the ones
// already there, so the peak is what the entities take, not twice that
// while a vector reallocates (at 500,000 users, some 100 MB).
class EntityTable {
public:
    std::size_t size() const noexcept { return size_; }
    Entity& operator[](std::size_t i) noexcept { return chunks_[i >> kShift][i & kMask]; }
    const Entity& operator[](std::size_t i) const noexcept { return chunks_[i >> kShift][i & kMask]; }
    void growTo(std::size_t n); // size() becomes at least n

private:
    static constexpr std::size_t kShift = 10, kMask = (std::size_t{1} << kShift) - 1;
    std::vector<std::unique_ptr<Entity[]>> chunks_;
    std::size_t size_ = 0;
};

struct DayStats {
    std::uint64_t count = 0;
    std::uint64_t verdicts[VCount] = {};
    std::uint64_t tls[kTlsCount] = {};
    std::uint64_t refused[RCount] = {}; // actual tempfail/reject by reason
};

struct InputCounts {
    std::uint64_t lines = 0, audit = 0, foreign = 0, other = 0, damaged = 0, undated = 0;
    std::uint64_t unauthenticated = 0;
};

// Interned strings: stable storage, lookup by view without a copy.  Open
// addressing over a flat slot array (not std::unordered_map's nodes): the
// lookup of a user name and a client address per line is the report's
// hottest path, and with hundreds of thousands of names almost every
// lookup misses the cache.  A slot points straight at the name's bytes,
// stored with their length in an arena, so a hit costs two misses (slot,
// bytes) where a std::string behind an index costs three.
class Dict {
public:
    std::uint32_t id(std::string_view s);
    std::string_view name(std::uint32_t id) const noexcept { return views_[id]; }
    std::size_t size() const noexcept { return views_.size(); }

private:
    struct Slot {
        const char* entry = nullptr; // arena: 4-byte length, then the bytes
        std::uint32_t id = 0;        // id + 1; 0 = empty
        std::uint32_t tag = 0;       // high bits of the hash, to skip most compares
    };
    void grow();
    const char* store(std::string_view s);
    std::vector<std::unique_ptr<char[]>> chunks_; // never move: views stay valid
    std::size_t chunkUsed_ = 0, chunkSize_ = 0;
    std::vector<std::string_view> views_;
    std::vector<Slot> slots_;
};

class Aggregator {
public:
    explicit Aggregator(WhatIfPolicy p = {}) : policy_(p) {}
    void add(const Record& r);

    const WhatIfPolicy& policy() const noexcept { return policy_; }
    InputCounts counts;
    Dict userNames, clientNames, ciphers, groups, mechs, listeners;
    EntityTable users, clients;          // indexed like userNames/clientNames
    std::map<int, DayStats> days;        // yyyymmdd; undated events are not here
    std::vector<std::uint64_t> cipherTotals; // by cipher id
    std::uint64_t verdictTotals[VCount] = {};
    std::uint64_t whatIfTotal = 0, whatIfUnauth = 0;
    std::uint64_t whatIfUnauthBy[RCount] = {};
    CivilTime first = -1, last = -1;

private:
    WhatIfPolicy policy_;
};

// Output.  `table` selects one section ("" = all): summary, days, ciphers,
// users, clients, cleartext, whatif.  `top` > 0 keeps only the busiest N
// rows of users and clients.  Names from the log are shown escaped in text
// (escapeLogValue), raw in CSV (RFC 4180 quoting) and JSON (jsonEscape).
struct OutputOptions {
    std::string table;
    std::size_t top = 0;
};
bool validTable(std::string_view name) noexcept;

// The table model every tabular format renders from.
struct Column {
    std::string name;
    bool number = false;   // right-aligned in text
    bool optional = false; // dropped from text when zero in every row
};
struct Table {
    std::string id;    // summary, days, ...
    std::string title; // heading
    std::string note;  // a sentence under the heading, may be empty
    std::vector<Column> cols;
    std::vector<std::vector<std::string>> rows; // made up front (small tables)
    // Then `lazyCount` rows made on demand, one at a time (users, clients,
    // cleartext, whatif: one row per user), so rendering a table never
    // holds every row as text.  lazyRow may refer to the Aggregator: the
    // table lives no longer than it.
    std::size_t lazyCount = 0;
    std::function<void(std::size_t, std::vector<std::string>&)> lazyRow;

    std::size_t rowCount() const noexcept { return rows.size() + lazyCount; }
    void forEachRow(const std::function<void(const std::vector<std::string>&)>& f) const;
};
// `text`: names escaped as the log writes them (for a terminal); else raw.
std::vector<Table> buildTables(const Aggregator& a, const OutputOptions& o, bool text);
void writeText(const Aggregator& a, const OutputOptions& o, std::ostream& out);
void writeCsv(const Aggregator& a, const OutputOptions& o, std::ostream& out);
void writeJson(const Aggregator& a, const OutputOptions& o, std::ostream& out);

// Row order shared by every format: users and clients by name, or the
// busiest `top` by count (then name).
std::vector<std::uint32_t> entityOrder(const EntityTable& v, const Dict& names, std::size_t top);
// Names of a tally, most frequent first.
std::vector<std::string_view> tallyNames(const Tally& t, const Dict& names);
std::vector<std::string_view> tlsNames(const std::uint64_t (&tls)[kTlsCount]);

} // namespace rfc8314::report
