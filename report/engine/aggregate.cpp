// aggregate.cpp — records folded into per-user, per-client and per-day
// summaries, and the what-if.  See aggregate.hpp.
#include "aggregate.hpp"

#include <algorithm>
#include <array>
#include <cstring>
#include <ctime>
#include <limits>
#include <stdexcept>

#include "rfc8314/config.hpp"
#include "scan.hpp"

namespace rfc8314::report {

namespace {

TlsVersion tlsOf(std::string_view t) noexcept {
    if (t == "none" || t.empty())
        return TlsVersion::None;
    // The milter's own spellings first (facts.cpp toString): one compare
    // for almost every line instead of a case-blind search of them all.
    if (t.size() == 7 && t.compare(0, 6, "TLSv1.") == 0) {
        switch (t[6]) {
        case '3': return TlsVersion::TLSv1_3;
        case '2': return TlsVersion::TLSv1_2;
        case '1': return TlsVersion::TLSv1_1;
        case '0': return TlsVersion::TLSv1_0;
        default: break;
        }
    }
    return parseTlsVersion(t);
}

void seen(CivilTime& first, CivilTime& last, CivilTime t) noexcept {
    if (t < 0)
        return;
    if (first < 0 || t < first)
        first = t;
    if (t > last)
        last = t;
}

// The policy's spellings, looked up once: these run for every line.
VerdictIdx verdictOf(std::string_view v) noexcept {
    static const auto names = [] {
        std::array<std::string_view, VOther> n;
        for (int k = 0; k < VOther; ++k)
            n[k] = verdictLabel(k);
        return n;
    }();
    for (int k = 0; k < VOther; ++k)
        if (v == names[k])
            return static_cast<VerdictIdx>(k);
    return VOther;
}

int reasonOf(std::string_view r) noexcept {
    static const auto names = [] {
        std::array<std::string_view, ROther> n;
        for (int k = RNone; k < ROther; ++k)
            n[k] = reasonLabel(k);
        return n;
    }();
    if (r.empty())
        return RNone;
    for (int k = RNone; k < ROther; ++k)
        if (r == names[k])
            return k;
    return ROther;
}

} // namespace

// ---- what-if ----------------------------------------------------------------

std::string WhatIfPolicy::str() const {
    std::string s;
    auto add = [&s](const std::string& word) {
        if (!s.empty())
            s += ' ';
        s += word;
    };
    if (requireTls)
        add("--require-tls");
    if (minTls != TlsVersion::None)
        add("--min-tls " + std::string(toString(minTls)));
    if (minBits > 0)
        add("--min-bits " + std::to_string(minBits));
    if (exceptions)
        add("--exceptions " + exceptions->file);
    if (asOf)
        add("--as-of " + asOf->str());
    if (rolloutPercent < 100)
        add("--rollout-percent " + std::to_string(rolloutPercent));
    for (const auto& l : listeners)
        add("--listener " + l);
    return s;
}

ListenerPolicy WhatIfPolicy::listenerPolicy() const {
    ListenerPolicy p;
    p.enabled = active();
    p.requireTlsForAuth = requireTls;
    p.minTlsVersion = minTls;
    p.minCipherBits = minBits;
    p.action = PolicyAction::Reject;
    p.rolloutPercent = rolloutPercent;
    return p;
}

bool WhatIfPolicy::inScope(std::string_view listener) const noexcept {
    if (listeners.empty())
        return true;
    // The audit line's listener is NAME/PORT (or NAME alone).
    const auto slash = listener.rfind('/');
    const std::string_view name = slash == std::string_view::npos ? listener : listener.substr(0, slash);
    for (const auto& l : listeners)
        if (l == name)
            return true;
    return false;
}

WhatIfPolicy WhatIfPolicy::milterDefault() {
    const ListenerPolicy d = Config::defaultPolicy(Role::Submission);
    WhatIfPolicy p;
    p.requireTls = d.requireTlsForAuth;
    p.minTls = d.minTlsVersion;
    p.minBits = d.minCipherBits;
    return p;
}

void factsOf(const Record& r, TlsFacts& tls, AuthFacts& auth) {
    tls.version = tlsOf(r.tls);
    tls.versionText.assign(r.tls.data(), r.tls.size());
    tls.bits = tls.version == TlsVersion::None ? std::nullopt : r.bits;
    if (r.authenticated) {
        auth.type.assign(r.mech.data(), r.mech.size());
        auth.authen.assign(r.user.data(), r.user.size());
    } else {
        auth.type.clear();
        auth.authen.clear();
    }
}

std::string_view verdictLabel(int v) noexcept {
    return v >= 0 && v < VOther ? toString(kVerdicts[v]) : std::string_view("other");
}

int reasonIndex(PolicyReason r) noexcept {
    if (r == PolicyReason::None)
        return RNone;
    for (int k = RNone + 1; k < ROther; ++k)
        if (kReasons[k - 1] == r)
            return k;
    return ROther;
}

std::string_view reasonLabel(int r) noexcept {
    if (r > RNone && r < ROther)
        return toString(kReasons[r - 1]);
    return r == RNone ? toString(PolicyReason::None) : std::string_view("other");
}

// ---- aggregation ------------------------------------------------------------

namespace {
// Eight bytes a step, then a final mix (splitmix64's): names are short, and
// a byte-at-a-time hash was a visible share of the run.  The last partial
// word is read as the eight bytes that end the name when it has eight
// (a fixed-size load, where a memcpy of a variable length is a call);
// only shorter names are put together from smaller loads.  Internal only,
// so byte order does not matter.
std::uint64_t hashOf(std::string_view s) noexcept {
    std::uint64_t h = 0x9E3779B97F4A7C15ull ^ s.size();
    const char* p = s.data();
    std::size_t n = s.size();
    for (; n >= 8; p += 8, n -= 8) {
        std::uint64_t w;
        std::memcpy(&w, p, 8);
        h = (h ^ w) * 0xBF58476D1CE4E5B9ull;
        h ^= h >> 31;
    }
    if (n) {
        std::uint64_t w;
        if (s.size() >= 8) {
            std::memcpy(&w, p + n - 8, 8);
            w >>= (8 - n) * 8;
        } else if (n >= 4) {
            std::uint32_t lo, hi;
            std::memcpy(&lo, p, 4);
            std::memcpy(&hi, p + n - 4, 4);
            w = lo | std::uint64_t{hi} << 32;
        } else {
            w = static_cast<unsigned char>(p[0]) | std::uint64_t{static_cast<unsigned char>(p[n / 2])} << 8 |
                std::uint64_t{static_cast<unsigned char>(p[n - 1])} << 16;
        }
        h = (h ^ w) * 0x94D049BB133111EBull;
    }
    h ^= h >> 30;
    h *= 0xBF58476D1CE4E5B9ull;
    h ^= h >> 27;
    h *= 0x94D049BB133111EBull;
    return h ^ (h >> 31);
}

// d.id(s), given the id t counts first: the same answer without the
// hash and the look-up when s is that one's name.
std::uint32_t usualId(Dict& d, const Tally& t, std::string_view s) {
    const std::uint32_t u = t.firstId();
    if (u != Dict::kMissing) {
        const std::string_view n = d.name(u);
        if (n.size() == s.size() && scan::sameBytes(n.data(), s.data(), s.size()))
            return u;
    }
    return d.id(s);
}

const char* const kTooMany =
    "rfc8314-report: more than 4294967295 transactions of one user or address; not supported";

std::uint32_t entryLength(const char* e) noexcept {
    std::uint32_t n;
    std::memcpy(&n, e, 4);
    return n;
}
} // namespace

const char* Dict::store(std::string_view s) {
    const std::size_t need = 4 + s.size();
    if (chunkSize_ - chunkUsed_ < need) {
        // 64 KiB chunks; a longer name gets a chunk of its own.
        chunkSize_ = std::max<std::size_t>(need, 64 * 1024);
        chunks_.push_back(std::make_unique<char[]>(chunkSize_));
        chunkUsed_ = 0;
    }
    char* e = chunks_.back().get() + chunkUsed_;
    const auto n = static_cast<std::uint32_t>(s.size());
    std::memcpy(e, &n, 4);
    if (!s.empty())
        std::memcpy(e + 4, s.data(), s.size());
    chunkUsed_ += need;
    return e;
}

void Dict::grow() {
    std::vector<Slot> next(slots_.empty() ? 64 : slots_.size() * 2);
    const std::size_t mask = next.size() - 1;
    for (const Slot& old : slots_) {
        if (!old.id)
            continue;
        const std::uint64_t h = hashOf(name(old.id - 1));
        std::size_t i = h & mask;
        while (next[i].id)
            i = (i + 1) & mask;
        next[i] = old;
    }
    slots_.swap(next);
}

std::size_t Dict::probe(std::string_view s, std::uint64_t h) const noexcept {
    const auto tag = static_cast<std::uint32_t>(h >> 32);
    const std::size_t mask = slots_.size() - 1;
    std::size_t i = h & mask;
    while (slots_[i].id) {
        const Slot& slot = slots_[i];
        if (slot.tag == tag && entryLength(slot.entry) == s.size() &&
            scan::sameBytes(slot.entry + 4, s.data(), s.size()))
            return i;
        i = (i + 1) & mask;
    }
    return i;
}

std::uint64_t Dict::hash(std::string_view s) noexcept { return hashOf(s); }

void Dict::prefetchSlot(std::uint64_t h) const noexcept {
    if (!slots_.empty())
        __builtin_prefetch(&slots_[h & (slots_.size() - 1)]);
}

std::uint32_t Dict::prefetchEntry(std::uint64_t h) const noexcept {
    if (slots_.empty())
        return kMissing;
    const Slot& slot = slots_[h & (slots_.size() - 1)];
    if (!slot.id || slot.tag != static_cast<std::uint32_t>(h >> 32))
        return kMissing; // a guess only: a probe further on is left to find()
    __builtin_prefetch(slot.entry);
    return slot.id - 1;
}

std::uint32_t Dict::find(std::string_view s, std::uint64_t h) const noexcept {
    if (slots_.empty())
        return kMissing;
    const Slot& slot = slots_[probe(s, h)];
    return slot.id ? slot.id - 1 : kMissing;
}

std::uint32_t Dict::id(std::string_view s, std::uint64_t h) {
    // At most three quarters full: the slots of the users and addresses
    // are a good part of the memory, and a probe past a taken slot mostly
    // stays in the cache line it already missed.
    if ((entries_.size() + 1) * 4 > slots_.size() * 3)
        grow();
    const std::size_t i = probe(s, h);
    if (slots_[i].id)
        return slots_[i].id - 1;
    if (s.size() > 0xFFFFFFF0u) // not from a line of at most a block
        throw std::length_error("rfc8314::report::Dict: name too long");
    const char* e = store(s);
    entries_.push_back(e);
    const auto id = static_cast<std::uint32_t>(entries_.size() - 1);
    slots_[i] = {e, id + 1, static_cast<std::uint32_t>(h >> 32)};
    return id;
}

const Entity::Seldom Entity::kNoSeldom{};
const Peers Entity::kNoPeers{};

void Tally::bumpMore(std::uint32_t id, Count n) {
    if (count0_ == 0) {
        id0_ = id;
        count0_ = n;
        return;
    }
    if (!more_)
        more_ = std::make_unique<Small>();
    for (auto& p : *more_)
        if (p.first == id) {
            p.second += n;
            return;
        }
    more_->emplace_back(id, n);
}

Pairs Tally::pairs() const {
    Pairs out;
    if (count0_ == 0)
        return out;
    out.reserve(size());
    out.emplace_back(id0_, count0_);
    if (more_)
        out.insert(out.end(), more_->begin(), more_->end());
    return out;
}

void EntityTable::grow(std::size_t n) {
    while (chunks_.size() << kShift < n)
        chunks_.push_back(std::make_unique<Entity[]>(kMask + 1));
    size_ = n;
}

Aggregator::Aggregator(WhatIfPolicy p)
    : policy_(std::move(p)), listenerPolicy_(policy_.listenerPolicy()), today_(Day::fromTime(std::time(nullptr))) {}

// The milter's own decision on the record's facts.  A record stands for a
// transaction the milter saw on its own day: an exception is judged on
// that day unless --as-of names another.
Aggregator::Judged Aggregator::judge(const Record& r) {
    Judged j;
    if (!policy_.inScope(r.listener))
        return j;
    factsOf(r, tls_, auth_);
    PolicyInput in;
    in.tls = &tls_;
    in.auth = &auth_;
    in.clientAddr = r.client; // for network exceptions, read as the milter reads it
    in.salt = policy_.rolloutSalt;
    in.exceptions = policy_.exceptions.get();
    if (in.exceptions)
        in.today = policy_.asOf ? *policy_.asOf : r.when >= 0 ? Day{civilDay(r.when)} : today_;
    const PolicyResult res = evaluate(listenerPolicy_, in);
    switch (res.verdict) {
    case PolicyVerdict::Reject: j.kind = WhatIfKind::Refused; break;
    case PolicyVerdict::Exempt: j.kind = WhatIfKind::Exempt; break;
    case PolicyVerdict::WouldReject: j.kind = WhatIfKind::OutsideRollout; break;
    default: return j; // accept; tempfail cannot come of action reject
    }
    j.reason = reasonIndex(res.reason);
    return j;
}

void Aggregator::noteBelow(BelowDetail& b, const Record& r, std::uint32_t clientId, int tls) {
    ++b.count;
    ++b.tls[tls];
    seen(b.first, b.last, r.when);
    const std::uint32_t name = hostNames.id(r.clientName);
    // The last transaction: the newest dated one (seen() has made b.last
    // the newest), or any while none is dated.
    if (b.count == 1 || (r.when >= 0 ? r.when >= b.last : b.last < 0)) {
        b.lastClient = clientId;
        b.lastClientName = name;
        b.lastTls = static_cast<std::uint8_t>(tls);
    }
    for (auto& c : b.clients)
        if (c.id == clientId) {
            ++c.count;
            c.tls |= static_cast<std::uint8_t>(1u << tls);
            if (c.last < 0 || r.when >= c.last) {
                c.last = std::max(c.last, r.when);
                c.name = name;
            }
            return;
        }
    if (b.clients.size() == BelowDetail::kMaxClients) {
        b.clientsCapped = true;
        return;
    }
    BelowDetail::Client c;
    c.id = clientId;
    c.name = name;
    c.last = r.when;
    c.count = 1;
    c.tls = static_cast<std::uint8_t>(1u << tls);
    b.clients.push_back(c);
}

// One Dict lookup for a spelling seen before (the common case); the
// conversion only for the first sight of each spelling.
std::uint32_t Aggregator::clientId(std::string_view spelled, std::uint64_t h) {
    std::uint32_t id = clientNames.find(spelled, h);
    if (id != Dict::kMissing)
        return id;
    id = clientSpellings_.find(spelled);
    if (id != Dict::kMissing)
        return clientOfSpelling_[id];
    const std::string canonical = rfc8314::canonicalAddress(spelled).value_or(std::string(spelled));
    if (canonical == spelled)
        return clientNames.id(spelled);
    const std::uint32_t target = clientNames.id(canonical);
    clientSpellings_.id(spelled);
    clientOfSpelling_.push_back(target);
    return target;
}

void Aggregator::prefetch(const Record& r, int stage, Ahead& a) const noexcept {
    // Every cache line of the entity: it is folded whole, and an entity
    // does not start on a line of its own.
    auto entity = [](const EntityTable& t, std::uint32_t id) {
        if (id >= t.size())
            return;
        const auto at = reinterpret_cast<std::uintptr_t>(&t[id]);
        for (std::uintptr_t line = at & ~std::uintptr_t{63}; line < at + sizeof(Entity); line += 64)
            __builtin_prefetch(reinterpret_cast<const void*>(line), 1);
    };
    switch (stage) {
    case 0:
        if (r.authenticated) {
            a.user = Dict::hash(r.user);
            userNames.prefetchSlot(a.user);
        }
        a.client = Dict::hash(r.client);
        clientNames.prefetchSlot(a.client);
        break;
    case 1:
        if (r.authenticated)
            entity(users, userNames.prefetchEntry(a.user));
        a.clientGuess = clientNames.prefetchEntry(a.client);
        entity(clients, a.clientGuess);
        break;
    default:
        if (r.authenticated && a.clientGuess < clients.size())
            clients[a.clientGuess].prefetchPeers();
        break;
    }
}

void Aggregator::add(const Record& r) {
    Ahead a;
    if (r.authenticated)
        a.user = Dict::hash(r.user);
    a.client = Dict::hash(r.client);
    add(r, a);
}

// The day's counts of a dated record.
DayStats& Aggregator::dayOf(CivilTime when) {
    if (!day_ || when < dayFrom_ || when >= dayTo_) {
        day_ = &days[civilDay(when)];
        dayFrom_ = when - when % 86400; // civilDay's day: when >= 0 here
        dayTo_ = dayFrom_ + 86400;
    }
    return *day_;
}

void Aggregator::add(const Record& r, const Ahead& a) {
    ++counts.audit;
    if (r.when < 0)
        ++counts.undated;
    seen(first, last, r.when);
    const VerdictIdx v = verdictOf(r.verdict);
    const int tls = static_cast<int>(tlsOf(r.tls));
    const std::uint32_t cid = clientId(r.client, a.client);
    clients.growTo(clientNames.size());
    std::uint32_t uid = 0;
    if (r.authenticated) {
        uid = userNames.id(r.user, a.user);
        users.growTo(userNames.size());
    }
    // A user (an address) mostly uses the same cipher, group, mechanism
    // and listener every time: a compare with the first one its tallies
    // hold saves the hash and the look-up.  The id is the one id() would
    // give, so the tables are the same.
    const Entity& usual = r.authenticated ? users[uid] : clients[cid];
    const std::uint32_t cipher = usualId(ciphers, usual.ciphers, r.cipher);
    const std::uint32_t group = usualId(groups, usual.groups, r.group);
    const std::uint32_t mech = usualId(mechs, usual.mechs, r.mech);
    const std::uint32_t listener = usualId(listeners, usual.listeners, r.listener);
    if (cipherTotals.size() < ciphers.size())
        cipherTotals.resize(ciphers.size());
    ++cipherTotals[cipher];
    ++verdictTotals[v];
    const Judged would = policy_.active() ? judge(r) : Judged{};
    switch (would.kind) {
    case WhatIfKind::Pass: break;
    case WhatIfKind::Refused: ++whatIfTotal; break;
    case WhatIfKind::Exempt: ++whatIfExempt; break;
    case WhatIfKind::OutsideRollout: ++whatIfOutside; break;
    }

    auto fold = [&](Entity& e) {
        if (e.count == std::numeric_limits<Count>::max())
            throw std::overflow_error(kTooMany);
        ++e.count;
        seen(e.first, e.last, r.when);
        ++e.verdicts[v];
        ++e.tls[tls];
        e.ciphers.bump(cipher);
        e.groups.bump(group);
        e.mechs.bump(mech);
        e.listeners.bump(listener);
        if (r.cleartextAuth) {
            ++e.cleartext;
            Entity::Seldom& s = e.seldomToWrite();
            seen(s.cleartextFirst, s.cleartextLast, r.when);
        }
        switch (would.kind) {
        case WhatIfKind::Pass: break;
        case WhatIfKind::Refused: {
            Entity::Seldom& s = e.seldomToWrite();
            ++s.whatIf[RNone];
            ++s.whatIf[would.reason];
            break;
        }
        case WhatIfKind::Exempt: ++e.seldomToWrite().whatIfExempt; break;
        case WhatIfKind::OutsideRollout: ++e.seldomToWrite().whatIfOutside; break;
        }
    };

    if (r.authenticated) {
        fold(users[uid]);
        if (detail_ && would.kind != WhatIfKind::Pass) {
            if (below.size() < userNames.size())
                below.resize(userNames.size());
            noteBelow(below[uid], r, cid, tls);
        }
    } else {
        ++counts.unauthenticated;
        // No user: no exception and no rollout bucket, so only refused.
        if (would.kind == WhatIfKind::Refused) {
            ++whatIfUnauth;
            ++whatIfUnauthBy[would.reason];
        }
    }
    if (byHost) {
        const std::uint32_t hid = auditHosts.id(r.host.empty() ? std::string_view("unknown") : r.host);
        hosts.growTo(auditHosts.size());
        fold(hosts[hid]);
    }
    Entity& c = clients[cid];
    fold(c);
    if (r.authenticated)
        c.addPeer(uid);

    if (r.when >= 0) {
        DayStats& d = dayOf(r.when);
        ++d.count;
        ++d.verdicts[v];
        ++d.tls[tls];
        if (v == VTempfail || v == VReject)
            ++d.refused[reasonOf(r.reason)];
    }
}

// ---- merging a later segment ------------------------------------------------

namespace {

// Ids of `from` as `into` numbers them, interning the new ones in the order
// `from` first saw them: after everything `into` saw, as a sequential run
// would have.
std::vector<std::uint32_t> remap(Dict& into, const Dict& from) {
    std::vector<std::uint32_t> m(from.size());
    for (std::uint32_t id = 0; id < from.size(); ++id)
        m[id] = into.id(from.name(id));
    return m;
}

template <typename T, std::size_t N>
void addAll(T (&into)[N], const T (&from)[N]) noexcept {
    for (std::size_t k = 0; k < N; ++k)
        into[k] += from[k];
}

void mergeTally(Tally& into, const Tally& from, const std::vector<std::uint32_t>& m) {
    for (const auto& [id, n] : from.pairs())
        into.bump(m[id], static_cast<Count>(n)); // n <= the entity's count: no loss
}

} // namespace

std::unique_ptr<Aggregator> Aggregator::sibling() const {
    auto s = std::make_unique<Aggregator>(policy_);
    s->today_ = today_;
    s->byHost = byHost;
    s->detail_ = detail_;
    return s;
}

void Aggregator::merge(const Aggregator& b) {
    if (detail_ || b.detail_)
        throw std::logic_error("rfc8314::report::Aggregator::merge: not with keepDetail()");
    const auto userMap = remap(userNames, b.userNames);
    const auto clientMap = remap(clientNames, b.clientNames);
    const auto hostMap = remap(auditHosts, b.auditHosts);
    const auto cipherMap = remap(ciphers, b.ciphers);
    const auto groupMap = remap(groups, b.groups);
    const auto mechMap = remap(mechs, b.mechs);
    const auto listenerMap = remap(listeners, b.listeners);

    auto fold = [&](Entity& e, const Entity& f) {
        if (f.count > std::numeric_limits<Count>::max() - e.count)
            throw std::overflow_error(kTooMany);
        e.count += f.count;
        seen(e.first, e.last, f.first);
        seen(e.first, e.last, f.last);
        addAll(e.verdicts, f.verdicts);
        addAll(e.tls, f.tls);
        mergeTally(e.ciphers, f.ciphers, cipherMap);
        mergeTally(e.groups, f.groups, groupMap);
        mergeTally(e.mechs, f.mechs, mechMap);
        mergeTally(e.listeners, f.listeners, listenerMap);
        e.cleartext += f.cleartext;
        if (f.cleartext > 0 || f.belowRule() > 0) {
            Entity::Seldom& s = e.seldomToWrite();
            const Entity::Seldom& t = f.seldom();
            seen(s.cleartextFirst, s.cleartextLast, t.cleartextFirst);
            seen(s.cleartextFirst, s.cleartextLast, t.cleartextLast);
            addAll(s.whatIf, t.whatIf);
            s.whatIfExempt += t.whatIfExempt;
            s.whatIfOutside += t.whatIfOutside;
        }
        // The later segment's distinct users in its own first-seen order,
        // as add() would have met them; a capped list had more than the cap.
        for (std::uint32_t uid : f.peers())
            e.addPeer(userMap[uid]);
        if (f.peersCapped)
            e.peersCapped = true;
    };
    users.growTo(userNames.size());
    for (std::uint32_t id = 0; id < b.users.size(); ++id)
        fold(users[userMap[id]], b.users[id]);
    clients.growTo(clientNames.size());
    for (std::uint32_t id = 0; id < b.clients.size(); ++id)
        fold(clients[clientMap[id]], b.clients[id]);
    if (b.hosts.size() > 0) {
        hosts.growTo(auditHosts.size());
        for (std::uint32_t id = 0; id < b.hosts.size(); ++id)
            fold(hosts[hostMap[id]], b.hosts[id]);
    }

    counts.lines += b.counts.lines;
    counts.audit += b.counts.audit;
    counts.foreign += b.counts.foreign;
    counts.other += b.counts.other;
    counts.damaged += b.counts.damaged;
    counts.undated += b.counts.undated;
    counts.unauthenticated += b.counts.unauthenticated;
    for (const auto& [day, f] : b.days) {
        DayStats& d = days[day];
        d.count += f.count;
        addAll(d.verdicts, f.verdicts);
        addAll(d.tls, f.tls);
        addAll(d.refused, f.refused);
    }
    if (cipherTotals.size() < ciphers.size())
        cipherTotals.resize(ciphers.size());
    for (std::uint32_t id = 0; id < b.cipherTotals.size(); ++id)
        cipherTotals[cipherMap[id]] += b.cipherTotals[id];
    addAll(verdictTotals, b.verdictTotals);
    whatIfTotal += b.whatIfTotal;
    whatIfUnauth += b.whatIfUnauth;
    addAll(whatIfUnauthBy, b.whatIfUnauthBy);
    whatIfExempt += b.whatIfExempt;
    whatIfOutside += b.whatIfOutside;
    seen(first, last, b.first);
    seen(first, last, b.last);
}

} // namespace rfc8314::report
