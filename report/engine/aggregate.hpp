// aggregate.hpp — records folded into per-user, per-client and per-day
// summaries, and a "what if" for a proposed policy.
//
// Promises: memory is bounded by the number of distinct users, client
// addresses and attribute values, never by the number of lines: the
// Aggregator copies a string only the first time it sees it.
#pragma once

#include <cstdint>
#include <cstring>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "record.hpp"
#include "rfc8314/facts.hpp"
#include "rfc8314/policy.hpp"

namespace rfc8314::report {

// A proposed policy for the what-if.  It is judged by the milter's own
// policy function, rfc8314::evaluate(), on facts rebuilt from each record
// (factsOf), with action reject: the rule (TLS for auth, a minimum TLS
// version, a minimum of cipher bits) and, when given, how the milter would
// apply it: its exceptions file (read by the milter's own parser), the
// share of users enforced (rollout_percent, rolloutBucket() of the salt and
// the user, inside evaluate()), and the listeners it is enforced on.
struct WhatIfPolicy {
    bool requireTls = false;
    TlsVersion minTls = TlsVersion::None; // None: no minimum
    int minBits = 0;                      // 0: no minimum
    std::shared_ptr<const ExceptionList> exceptions; // null: none
    int rolloutPercent = 100;             // 0..100
    std::string rolloutSalt;
    // Listener names (listener=NAME/PORT of the audit line) the policy is
    // enforced on; empty: every listener.  Others are not judged at all.
    std::vector<std::string> listeners;
    // The day an exception's `until` is judged against; unset: each
    // transaction's own day (undated ones: today).
    std::optional<Day> asOf;

    // A rule is given: without one there is no what-if.
    bool active() const noexcept { return requireTls || minTls != TlsVersion::None || minBits > 0; }
    // The rule and then how it is applied, as options:
    // "--require-tls --min-tls TLSv1.2 --exceptions FILE --rollout-percent 25 --listener submission"
    std::string str() const;
    // The listener policy evaluate() is called with: enabled, reject, the
    // rollout share.
    ListenerPolicy listenerPolicy() const;
    // Whether a transaction on `listener` ("submission/587", "unknown") is
    // judged.
    bool inScope(std::string_view listener) const noexcept;
    // The milter's compiled-in rule (Config::defaultPolicy of submission):
    // TLS for auth, TLSv1.2, 128 bits.  For --emit-exceptions and
    // --notices when no rule is given.
    static WhatIfPolicy milterDefault();
};

// What the what-if makes of one transaction.
enum class WhatIfKind : std::uint8_t {
    Pass,           // the rule has nothing against it, or out of scope
    Refused,        // evaluate() says reject
    Exempt,         // below the rule, but an exception holds (verdict exempt)
    OutsideRollout  // below the rule, but the user is outside the share (would-reject)
};

// The facts evaluate() needs, as the record states them: TLS version (an
// unparseable one is TlsVersion::Unknown, with the text kept), cipher bits
// (unknown stays unknown, 0 stays 0), and who authenticated with what.
// Assigns into the given objects, so a caller that keeps them between
// records allocates nothing per record.
void factsOf(const Record& r, TlsFacts& tls, AuthFacts& auth);

// Verdicts as the report counts them: one slot per PolicyVerdict, named
// by the policy's toString, and VOther for a spelling the policy has not.
constexpr PolicyVerdict kVerdicts[] = {PolicyVerdict::Accept, PolicyVerdict::Exempt, PolicyVerdict::WouldReject,
                                       PolicyVerdict::Tempfail, PolicyVerdict::Reject};
enum VerdictIdx { VAccept, VExempt, VWouldReject, VTempfail, VReject, VOther, VCount };
static_assert(VOther == sizeof kVerdicts / sizeof kVerdicts[0], "a slot per verdict of the policy");
std::string_view verdictLabel(int v) noexcept; // toString(kVerdicts[v]), or "other"

// Refusal reasons as the report counts them.  Slot RNone holds no reason
// (in a what-if count: the total), then one slot per reason evaluate() can
// give, in column order, named by the policy's toString, then ROther for
// a spelling the policy has not (internal-error, a newer milter's).  A
// reason added to PolicyReason gets its columns by being listed here;
// test_report.cpp fails while evaluate() gives one that is not.
constexpr PolicyReason kReasons[] = {PolicyReason::Cleartext, PolicyReason::TlsVersion,
                                     PolicyReason::CipherBits, PolicyReason::TlsVersionUnknown,
                                     PolicyReason::CipherBitsUnknown};
constexpr int RNone = 0;
constexpr int ROther = 1 + static_cast<int>(sizeof kReasons / sizeof kReasons[0]);
constexpr int RCount = ROther + 1;
int reasonIndex(PolicyReason r) noexcept;       // RNone, a reason's slot, or ROther
std::string_view reasonLabel(int r) noexcept;   // "none", toString(reason), "other"

constexpr int kTlsCount = static_cast<int>(TlsVersion::Unknown) + 1;

// (id, count) pairs.
using Pairs = std::vector<std::pair<std::uint32_t, std::uint64_t>>;

// A count of one user's or address's transactions.  32 bits, not 64:
// the per-entity counters are most of the report's memory, and a run that
// reads a large file with two threads holds two sets of them until they
// are merged.  No user or address of a log that can be read in a
// lifetime comes near 2^32 transactions; add() and merge() throw
// std::overflow_error rather than wrap.
using Count = std::uint32_t;

// How often each cipher (group, mechanism, listener) was used by one user
// or address.  Most users have exactly one of each, so the first pair is
// kept inline: a typical user costs no allocation per attribute, and a
// count no cache miss outside the Entity.  More pairs go to a vector (a
// handful at most: a vector beats a map).
class Tally {
public:
    // Inline for the common case (a user's usual cipher, group, ...): it
    // runs four times per entity per line.
    void bump(std::uint32_t id, Count n = 1) {
        if (count0_ != 0 && id0_ == id)
            count0_ += n;
        else
            bumpMore(id, n);
    }
    std::size_t size() const noexcept { return count0_ ? 1 + (more_ ? more_->size() : 0) : 0; }
    std::uint32_t firstId() const noexcept { return count0_ ? id0_ : 0xFFFFFFFFu; } // or Dict::kMissing
    Pairs pairs() const; // in first-seen order

private:
    void bumpMore(std::uint32_t id, Count n);
    using Small = std::vector<std::pair<std::uint32_t, Count>>;
    std::uint32_t id0_ = 0;
    Count count0_ = 0;            // 0: empty
    std::unique_ptr<Small> more_; // the second and later pairs, if any
};

// The distinct users of one client address, capped: a NAT or webmail
// front end may carry thousands, and memory must stay bounded by users +
// clients.  A fixed block, not a vector: one pointer from the entity to
// the ids, so LineSink can fetch them ahead of the check every line makes.
struct Peers {
    static constexpr std::uint32_t kMax = 16;
    std::uint32_t n = 0;
    std::uint32_t ids[kMax];
    std::size_t size() const noexcept { return n; }
    const std::uint32_t* begin() const noexcept { return ids; }
    const std::uint32_t* end() const noexcept { return ids + n; }
    bool has(std::uint32_t id) const noexcept {
        for (std::uint32_t k = 0; k < n; ++k)
            if (ids[k] == id)
                return true;
        return false;
    }
};

// Aligned to 32 bytes, its size a multiple of that: an entity then spans
// three cache lines wherever it lies, not three or four; every line folds
// two of them whole.
struct alignas(32) Entity {
    // What most users and addresses never have: cleartext passwords (their
    // dates; the count stays inline, as tables filter on it) and what-if
    // counts (only with a rule, and only below it).  Kept apart, made on
    // first use: the common entity is 64 bytes smaller.
    struct Seldom {
        CivilTime cleartextFirst = -1, cleartextLast = -1;
        Count whatIf[RCount] = {};         // [RNone] = total would-be refusals
        Count whatIfExempt = 0, whatIfOutside = 0; // below the rule, let through
    };
    CivilTime first = -1, last = -1;
    Count count = 0; // every other counter is at most this
    Count verdicts[VCount] = {};
    Count tls[kTlsCount] = {};
    Count cleartext = 0;               // cleartext_auth=yes transactions
    bool peersCapped = false;
    Tally ciphers, groups, mechs, listeners;

    const Seldom& seldom() const noexcept { return seldom_ ? *seldom_ : kNoSeldom; }
    Seldom& seldomToWrite() {
        if (!seldom_)
            seldom_ = std::make_unique<Seldom>();
        return *seldom_;
    }
    // Clients: the distinct user ids in first-seen order, capped
    // (peersCapped).
    const Peers& peers() const noexcept { return peers_ ? *peers_ : kNoPeers; }
    // uid is one of them (false once capped: the caller checks first).
    void addPeer(std::uint32_t uid) {
        if (peersCapped || peers().has(uid))
            return;
        if (!peers_)
            peers_ = std::make_unique<Peers>();
        if (peers_->n < Peers::kMax)
            peers_->ids[peers_->n++] = uid;
        else
            peersCapped = true;
    }
    // Cache hint for addPeer (LineSink): no effect on the result.
    void prefetchPeers() const noexcept {
        if (peers_)
            __builtin_prefetch(peers_.get());
    }
    // Below the rule at all (refused, exempt or outside the rollout).
    std::uint64_t belowRule() const noexcept {
        const Seldom& s = seldom();
        return std::uint64_t{s.whatIf[RNone]} + s.whatIfExempt + s.whatIfOutside;
    }

private:
    static const Seldom kNoSeldom;
    static const Peers kNoPeers;
    std::unique_ptr<Seldom> seldom_;
    std::unique_ptr<Peers> peers_;
};
static_assert(sizeof(Entity) <= 160, "three cache lines at 32-byte alignment; a larger entity costs memory at scale");

// Where and how one user submitted below the rule, for the exceptions file
// and the notices (Aggregator::keepDetail): the first kMaxClients client
// addresses, each with the name it last had, its last transaction and the
// TLS versions used (a bit per TlsVersion).  Made on a user's first
// transaction below the rule; later ones only count.
struct BelowDetail {
    static constexpr std::size_t kMaxClients = 8;
    struct Client {
        std::uint32_t id = 0;    // Aggregator::clientNames
        std::uint32_t name = 0;  // Aggregator::hostNames ("" when none)
        CivilTime last = -1;
        std::uint64_t count = 0;
        std::uint8_t tls = 0;    // 1 << TlsVersion
    };
    std::uint64_t count = 0;
    CivilTime first = -1, last = -1;
    // The last transaction below the rule: client, its name, TlsVersion.
    std::uint32_t lastClient = 0, lastClientName = 0;
    std::uint8_t lastTls = 0;
    std::uint64_t tls[kTlsCount] = {};
    std::vector<Client> clients;
    bool clientsCapped = false;
};

// Entities by id, in fixed-size chunks: growing never moves the ones
// already there, so the peak is what the entities take, not twice that
// while a vector reallocates (at 500,000 users, some 100 MB).
class EntityTable {
public:
    std::size_t size() const noexcept { return size_; }
    Entity& operator[](std::size_t i) noexcept { return chunks_[i >> kShift][i & kMask]; }
    const Entity& operator[](std::size_t i) const noexcept { return chunks_[i >> kShift][i & kMask]; }
    void growTo(std::size_t n) { // size() becomes at least n
        if (n > size_)
            grow(n);
    }

private:
    void grow(std::size_t n);
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
    static constexpr std::uint32_t kMissing = 0xFFFFFFFFu;
    // The hash every look-up starts from; the overloads that take it let
    // a caller that looks a name up in stages (LineSink) hash it once.
    static std::uint64_t hash(std::string_view s) noexcept;
    std::uint32_t id(std::string_view s) { return id(s, hash(s)); } // interned on first sight
    std::uint32_t id(std::string_view s, std::uint64_t h);
    std::uint32_t find(std::string_view s) const noexcept { return find(s, hash(s)); } // or kMissing
    std::uint32_t find(std::string_view s, std::uint64_t h) const noexcept;
    // Cache hints, no effect on the result, given hash(s): the slot s
    // hashes to, then (once that is in the cache) the name it holds and
    // the id there, or kMissing.  So a batch of lines can have its
    // look-ups' memory on the way before the first of them is folded.
    void prefetchSlot(std::uint64_t h) const noexcept;
    std::uint32_t prefetchEntry(std::uint64_t h) const noexcept;
    std::string_view name(std::uint32_t id) const noexcept {
        std::uint32_t n;
        std::memcpy(&n, entries_[id], 4);
        return {entries_[id] + 4, n};
    }
    std::size_t size() const noexcept { return entries_.size(); }

private:
    struct Slot {
        const char* entry = nullptr; // arena: 4-byte length, then the bytes
        std::uint32_t id = 0;        // id + 1; 0 = empty
        std::uint32_t tag = 0;       // high bits of the hash, to skip most compares
    };
    void grow();
    std::size_t probe(std::string_view s, std::uint64_t hash) const noexcept; // its slot, or the empty one
    const char* store(std::string_view s);
    std::vector<std::unique_ptr<char[]>> chunks_; // never move: views stay valid
    std::size_t chunkUsed_ = 0, chunkSize_ = 0;
    std::vector<const char*> entries_; // by id: a pointer, not a view, is half the memory
    std::vector<Slot> slots_;
};

class Aggregator {
public:
    explicit Aggregator(WhatIfPolicy p = {});
    // Also keep a BelowDetail per user below the rule (`below`), for the
    // exceptions file and the notices.  Before the first add().
    void keepDetail() { detail_ = true; }
    bool keepsDetail() const noexcept { return detail_; }
    void add(const Record& r);
    // What the stages of prefetch() learn of a record, for the next stage
    // and for add(): the hashes of its user and client, and the ids their
    // slots hold (a guess until add() compares the names).
    struct Ahead {
        std::uint64_t user = 0, client = 0;
        std::uint32_t clientGuess = Dict::kMissing;
    };
    // Cache hints for a record add() will get soon (LineSink): stage 0 the
    // user's and client's hash slots, stage 1 (a few lines later) their
    // names and entities, stage 2 (just before the fold) the client's
    // peer list.  No effect on the result.
    void prefetch(const Record& r, int stage, Ahead& a) const noexcept;
    // add(r) with the hashes prefetch() made of it.
    void add(const Record& r, const Ahead& a);
    // Folds in the aggregate of the lines that came right after this one's
    // (a later segment of the same input, read by another thread), with
    // the same policy and byHost: the result is the one add() would have
    // made of all the lines in order, first-seen orders included (names
    // are interned in the later segment's order after this one's, tallies
    // and peers keep theirs).  Not with keepDetail() (throws
    // std::logic_error): the below-the-rule detail depends on the order
    // of the lines in a way a merge cannot rebuild.
    void merge(const Aggregator& later);
    // An empty aggregator for another segment of the same run: the same
    // policy, byHost and day for undated transactions.
    std::unique_ptr<Aggregator> sibling() const;

    const WhatIfPolicy& policy() const noexcept { return policy_; }
    InputCounts counts;
    Dict userNames, clientNames, ciphers, groups, mechs, listeners;
    Dict hostNames;                      // client names, with keepDetail() only
    EntityTable users, clients;          // indexed like userNames/clientNames
    std::vector<BelowDetail> below;      // by user id, with keepDetail() only
    // --by host: the same per-entity counts per audit host (the JSON
    // `host`, ECS host.name; "unknown" for a line without one).  Off by
    // default: a lookup per line the other tables do not need.
    bool byHost = false;
    Dict auditHosts;                     // audit hosts, with byHost only
    EntityTable hosts;
    std::map<int, DayStats> days;        // yyyymmdd; undated events are not here
    std::vector<std::uint64_t> cipherTotals; // by cipher id
    std::uint64_t verdictTotals[VCount] = {};
    std::uint64_t whatIfTotal = 0, whatIfUnauth = 0;
    std::uint64_t whatIfUnauthBy[RCount] = {};
    std::uint64_t whatIfExempt = 0, whatIfOutside = 0; // transactions let through below the rule
    CivilTime first = -1, last = -1;

private:
    struct Judged {
        WhatIfKind kind = WhatIfKind::Pass;
        int reason = RNone; // the reason's slot when below the rule
    };
    Judged judge(const Record& r);
    DayStats& dayOf(CivilTime when);
    void noteBelow(BelowDetail& b, const Record& r, std::uint32_t clientId, int tls);
    std::uint32_t clientId(std::string_view spelled, std::uint64_t h);
    WhatIfPolicy policy_;
    ListenerPolicy listenerPolicy_;
    Day today_;      // for undated transactions when exceptions are judged
    bool detail_ = false;
    TlsFacts tls_;   // reused for every record: no allocation once warm
    AuthFacts auth_;
    // The day of the last dated record and its seconds [dayFrom_, dayTo_):
    // log lines come in time order, so most lines skip civilDay() and the
    // map (whose nodes never move).
    DayStats* day_ = nullptr;
    CivilTime dayFrom_ = 0, dayTo_ = 0;
    // clientNames holds canonical addresses only (rfc8314::canonicalAddress,
    // the milter's own: one client is one row whichever milter wrote the
    // line; anything that is no address is kept as written); other
    // spellings seen (IPv6:..., upper case, zeros written out) map to
    // theirs here.
    Dict clientSpellings_;
    std::vector<std::uint32_t> clientOfSpelling_;
};

} // namespace rfc8314::report
