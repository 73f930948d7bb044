// test_session.cpp — one SMTP connection as the milter sees it: facts
// captured at the stage where each MTA sends them (MTA-FACTS.md §1-§3), kept
// across stages, reset per message; the Decision values the daemon applies.
#include <boost/test/unit_test.hpp>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string>
#include <vector>

#include <unistd.h>

#include "rfc8314/config.hpp"
#include "rfc8314/rfc5322.hpp"
#include "rfc8314/session.hpp"

using namespace rfc8314;

namespace {

std::shared_ptr<const Config> config(const std::string& text = "hostname = mx.example.test\n") {
    auto r = parseConfig(text, "test.conf");
    BOOST_TEST_REQUIRE(r.config != nullptr, (r.errors.empty() ? "" : r.errors.front().str()));
    return r.config;
}

MacroMap macros(std::initializer_list<std::pair<const char*, const char*>> kv) {
    MacroMap m;
    for (const auto& [k, v] : kv)
        m.set(k, v);
    return m;
}

Clock fixedClock() {
    Clock c;
    c.now = 1795507501; // Tue, 24 Nov 2026 08:05:01 UTC
    c.utcOffsetMinutes = 0;
    return c;
}

const MacroMap kConnect587 = macros({{"{daemon_port}", "587"}, {"{daemon_name}", "ORIGINATING"},
                                     {"{client_addr}", "192.0.2.10"}, {"{client_port}", "50123"},
                                     {"{client_name}", "laptop.example"}});
const MacroMap kTls13 = macros({{"{tls_version}", "TLSv1.3"}, {"{cipher}", "TLS_AES_256_GCM_SHA384"},
                                {"{cipher_bits}", "256"}});
const MacroMap kTls12 = macros({{"{tls_version}", "TLSv1.2"},
                                {"{cipher}", "ECDHE-RSA-AES128-GCM-SHA256"}, {"{cipher_bits}", "128"}});
const MacroMap kNone;
const MacroMap kAuthAlice = macros({{"{auth_type}", "PLAIN"}, {"{auth_authen}", "alice@example.org"}});

bool hasLogWith(const Decision& d, const std::string& needle) {
    for (const auto& e : d.logs)
        if (e.line.find(needle) != std::string::npos)
            return true;
    return false;
}

// An audit line: the one line per transaction, with its verdict.
bool isAudit(const LogEvent& e) { return e.line.find(", verdict=") != std::string::npos; }

std::size_t auditCount(const Decision& d) {
    std::size_t n = 0;
    for (const auto& e : d.logs)
        n += isAudit(e) ? 1 : 0;
    return n;
}

// The audit lines of a Decision, one per line, for messages.
std::string auditLines(const Decision& d) {
    std::string out;
    for (const auto& e : d.logs)
        if (isAudit(e))
            out += e.line + "\n";
    return out;
}

const LogEvent* firstAudit(const Decision& d) {
    for (const auto& e : d.logs)
        if (isAudit(e))
            return &e;
    return nullptr;
}

} // namespace

BOOST_AUTO_TEST_SUITE(session)

BOOST_AUTO_TEST_CASE(starttls_facts_arrive_at_second_helo) {
    Session s(config());
    s.onConnect(kConnect587, "laptop.example", "192.0.2.10");
    s.onHelo(kNone, "laptop.example"); // first EHLO, cleartext
    BOOST_TEST(!s.tls().active());
    s.onHelo(kTls12, "laptop.example"); // after STARTTLS
    BOOST_TEST(s.tls().active());
    BOOST_TEST(s.tls().clause == "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256");
    // MAIL carries no TLS macros (Postfix): the facts stay.
    auto d = s.onMailFrom(kAuthAlice, "<a@example.org>", fixedClock());
    BOOST_TEST((d.verdict == Verdict::Continue));
    BOOST_TEST(s.tls().clause == "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256");
    s.onRcpt(kNone, "<bob@example.org>");
    // Postfix's cleanup sends its own {daemon_name} at EOM: the listener stays.
    auto eom = s.onEndOfMessage(macros({{"i", "4XyZ1"}, {"{daemon_name}", "mx.example"}}), fixedClock());
    BOOST_TEST(s.listener().name == "submission");
    BOOST_TEST_REQUIRE(eom.inserts.size() == 1u);
    BOOST_TEST(eom.inserts[0].index == 0);
    BOOST_TEST(eom.inserts[0].name == "Received");
    BOOST_TEST(eom.inserts[0].value ==
               "from laptop.example (laptop.example [192.0.2.10]) by mx.example.test\n"
               "\twith ESMTPSA id 4XyZ1 for <bob@example.org>\n"
               "\ttls TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256; Tue, 24 Nov 2026 08:05:01 +0000");
    BOOST_TEST(parseTimeStampLine(eom.inserts[0].value).ok);
    // The audit line waited for the queue id.
    BOOST_TEST(auditCount(d) == 0u);
    BOOST_TEST(auditCount(eom) == 1u);
    BOOST_TEST(hasLogWith(eom, "4XyZ1: user=alice@example.org, mech=PLAIN, tls=TLSv1.2, "
                               "cipher=TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256, group=unknown, bits=128, "
                               "client=laptop.example[192.0.2.10]:50123, listener=submission/587, "
                               "verdict=accept"));
}

BOOST_AUTO_TEST_CASE(implicit_tls_at_connect) {
    Session s(config());
    MacroMap m = macros({{"{daemon_port}", "465"}, {"{tls_version}", "TLSv1.3"},
                         {"{cipher}", "TLS_AES_128_GCM_SHA256"}, {"{cipher_bits}", "128"}});
    s.onConnect(m, "[192.0.2.7]", "192.0.2.7");
    BOOST_TEST(s.listener().name == "submissions");
    BOOST_TEST(s.tls().clause == "TLS_AES_128_GCM_SHA256");
    s.onHelo(kNone, "x.example"); // Sendmail sends them first here; absent = keep
    BOOST_TEST(s.tls().active());
    BOOST_TEST(s.client().name.empty(), "an address literal is not a name");
}

struct TransCase {
    std::vector<std::string> rcpts;
    bool wantFor;
};

BOOST_AUTO_TEST_CASE(many_transactions_per_connection) {
    Session s(config());
    s.onConnect(kConnect587, "laptop.example", "192.0.2.10");
    s.onHelo(kTls13, "laptop.example");
    const std::vector<TransCase> cases = {{{"<a@example.org>"}, true},
                                          {{"<a@example.org>", "<b@example.org>"}, false},
                                          {{}, false},
                                          {{"<c@example.org>"}, true}};
    int n = 0;
    for (const auto& c : cases) {
        BOOST_TEST_CONTEXT("transaction " << n) {
            auto mail = s.onMailFrom(n % 2 ? kNone : kAuthAlice, "<x@example.org>", fixedClock());
            BOOST_TEST((mail.verdict == Verdict::Continue));
            BOOST_TEST(s.auth().authenticated() == (n % 2 == 0));
            for (const auto& r : c.rcpts)
                s.onRcpt(kNone, r);
            std::string qid = "Q" + std::to_string(n);
            auto eom = s.onEndOfMessage(macros({{"i", qid.c_str()}}), fixedClock());
            BOOST_TEST_REQUIRE(eom.inserts.size() == 1u);
            const auto& v = eom.inserts[0].value;
            BOOST_TEST((v.find(" for <") != std::string::npos) == c.wantFor);
            BOOST_TEST(v.find("id " + qid) != std::string::npos);
            BOOST_TEST(v.find(n % 2 ? "with ESMTPS " : "with ESMTPSA") != std::string::npos);
            BOOST_TEST(auditCount(eom) == (n % 2 == 0 ? 1u : 0u));
        }
        ++n;
    }
}

// recycle() hands a step's line and field buffers back for the next
// message (issue 17): what the session writes must not change, whether the
// buffer it reuses held a longer or a shorter text before.
BOOST_AUTO_TEST_CASE(recycled_buffers_change_no_line_and_no_field) {
    Session plain(config()), reusing(config());
    for (Session* s : {&plain, &reusing}) {
        s->onConnect(kConnect587, "laptop.example", "192.0.2.10");
        s->onHelo(kTls13, "laptop.example");
    }
    const std::string longUser(300, 'u');
    struct Msg {
        std::string user, rcpt, qid;
    };
    const std::vector<Msg> msgs = {{longUser + "@example.org", "<a@example.org>", "Q1LONGQUEUEID"},
                                   {"al", "<b@example.org>", "Q2"},
                                   {"bob \"quoted\"", "<" + std::string(60, 'r') + "@example.org>", "Q3"},
                                   {"c", "<c@example.org>", "Q4"}};
    for (std::size_t n = 0; n < msgs.size(); ++n) {
        BOOST_TEST_CONTEXT("message " << n) {
            const MacroMap auth = macros({{"{auth_type}", "PLAIN"}, {"{auth_authen}", msgs[n].user.c_str()}});
            std::vector<std::string> got[2];
            Session* sessions[] = {&plain, &reusing};
            for (int k = 0; k < 2; ++k) {
                Session& s = *sessions[k];
                auto mail = s.onMailFrom(auth, "<x@example.org>", fixedClock());
                s.onRcpt(kNone, msgs[n].rcpt);
                auto eom = s.onEndOfMessage(macros({{"i", msgs[n].qid.c_str()}}), fixedClock());
                BOOST_TEST_REQUIRE(eom.inserts.size() == 1u);
                BOOST_TEST_REQUIRE(auditCount(eom) == 1u);
                got[k].push_back(auditLines(eom));
                got[k].push_back(eom.inserts[0].value);
                if (k == 1) {
                    s.recycle(mail);
                    s.recycle(eom);
                }
            }
            BOOST_TEST(got[1] == got[0], "with recycled buffers: got " << got[1][0] << got[1][1]
                                                                        << "\nwant " << got[0][0] << got[0][1]);
        }
    }
}

BOOST_AUTO_TEST_CASE(abort_resets_message_and_flushes_pending_audit) {
    Session s(config());
    s.onConnect(kConnect587, "laptop.example", "192.0.2.10");
    s.onHelo(kTls13, "laptop.example");
    auto mail = s.onMailFrom(kAuthAlice, "<a@example.org>", fixedClock());
    BOOST_TEST(auditCount(mail) == 0u);
    s.onRcpt(kNone, "<b@example.org>");
    auto ab = s.onAbort();
    BOOST_TEST(auditCount(ab) == 1u, "an aborted transaction keeps its audit line");
    BOOST_TEST(hasLogWith(ab, "user=alice@example.org"));
    BOOST_TEST(!s.auth().authenticated());
    BOOST_TEST(s.tls().active(), "abort keeps the connection's TLS facts");
    BOOST_TEST(auditCount(s.onAbort()) == 0u, "nothing twice");
    // A pending line also survives the connection closing.
    s.onMailFrom(kAuthAlice, "<a@example.org>", fixedClock());
    BOOST_TEST(auditCount(s.onClose()) == 1u);
    // Sendmail gives the queue id at MAIL: the line is written there.
    Session sm(config());
    sm.onConnect(kConnect587, "laptop.example", "192.0.2.10");
    sm.onHelo(kTls13, "laptop.example");
    auto smMail = sm.onMailFrom(macros({{"i", "5AOKx1"}, {"{auth_type}", "PLAIN"}, {"{auth_authen}", "alice"}}),
                                "<a@example.org>", fixedClock());
    BOOST_TEST(auditCount(smMail) == 1u);
    BOOST_TEST(hasLogWith(smMail, "5AOKx1: user=alice,"));
}

BOOST_AUTO_TEST_CASE(cleartext_auth_refused_identically) {
    Session auth(config()), anon(config());
    for (Session* s : {&auth, &anon}) {
        s->onConnect(kConnect587, "laptop.example", "192.0.2.10");
        s->onHelo(kNone, "laptop.example");
    }
    auto a = auth.onMailFrom(kAuthAlice, "<a@example.org>", fixedClock());
    auto b = anon.onMailFrom(kNone, "<a@example.org>", fixedClock());
    BOOST_TEST((a.verdict == Verdict::Reject));
    BOOST_TEST((b.verdict == Verdict::Reject));
    BOOST_TEST_REQUIRE(a.reply.has_value());
    BOOST_TEST_REQUIRE(b.reply.has_value());
    BOOST_TEST(a.reply->code + a.reply->xcode + a.reply->text == b.reply->code + b.reply->xcode + b.reply->text);
    BOOST_TEST(a.reply->code == "530");
    BOOST_TEST(auditCount(a) == 1u);
    BOOST_TEST(auditCount(b) == 1u);
    BOOST_TEST(hasLogWith(a, "verdict=reject, reason=cleartext, cleartext_auth=yes"));
    BOOST_TEST(hasLogWith(a, "smtpd_tls_auth_only"));
    BOOST_TEST(hasLogWith(b, "user=none, mech=none"));
}

BOOST_AUTO_TEST_CASE(relay_listener_and_trace_modes) {
    struct Mode {
        std::string conf;
        bool tls;
        bool wantField;
        bool wantTlsClause;
    };
    const std::vector<Mode> modes = {
        {"", true, true, true},           {"", false, false, false},
        {"trace = always\n", false, true, false}, {"trace = always\n", true, true, true},
        {"trace = off\n", true, false, false},
    };
    for (const auto& m : modes) {
        BOOST_TEST_CONTEXT("conf '" << m.conf << "' tls " << m.tls) {
            Session s(config("hostname = mx.example.test\n" + m.conf));
            s.onConnect(macros({{"{daemon_port}", "25"}}), "a.example", "192.0.2.1");
            BOOST_TEST(s.listener().name == "relay");
            s.onHelo(m.tls ? kTls13 : kNone, "a.example");
            auto mail = s.onMailFrom(kNone, "<x@a.example>", fixedClock());
            BOOST_TEST((mail.verdict == Verdict::Continue), "relay: policy off by default");
            auto eom = s.onEndOfMessage(macros({{"i", "Q1"}}), fixedClock());
            BOOST_TEST(eom.inserts.size() == (m.wantField ? 1u : 0u));
            if (!eom.inserts.empty()) {
                BOOST_TEST((eom.inserts[0].value.find(" tls ") != std::string::npos ||
                            eom.inserts[0].value.find("\ttls ") != std::string::npos) == m.wantTlsClause);
                BOOST_TEST(parseTimeStampLine(eom.inserts[0].value).ok);
            }
        }
    }
}

BOOST_AUTO_TEST_CASE(group_sources_in_order) {
    struct G {
        std::string conf;
        std::vector<std::pair<const char*, const char*>> helo;
        std::string want;
    };
    const std::vector<G> cases = {
        {"", {}, ""},
        {"[listener s]\nport = 587\nrole = submission\nkey_exchange_group = X25519\n", {}, "x25519"},
        {"group_macro = {tls_group}\n", {{"{tls_group}", "P-256"}}, "secp256r1"},
        {"group_macro = {tls_group}\n[listener s]\nport = 587\nkey_exchange_group = x448\n",
         {{"{tls_group}", "ECDHE (secp384r1)"}}, "secp384r1"},
        {"group_macro = {tls_group}\n[listener s]\nport = 587\nkey_exchange_group = x448\n",
         {{"{tls_group}", "garbage"}}, "x448"},
    };
    for (const auto& c : cases) {
        BOOST_TEST_CONTEXT("conf '" << c.conf << "'") {
            Session s(config(c.conf));
            s.onConnect(kConnect587, "laptop.example", "192.0.2.10");
            MacroMap helo = kTls13;
            for (const auto& [k, v] : c.helo)
                helo.set(k, v);
            s.onHelo(helo, "laptop.example");
            BOOST_TEST(s.group() == c.want);
        }
    }
}

BOOST_AUTO_TEST_CASE(unknown_cipher_warns_once_and_writes_no_tls_clause) {
    Session s(config());
    s.onConnect(kConnect587, "laptop.example", "192.0.2.10");
    MacroMap weird = macros({{"{tls_version}", "TLSv1.3"}, {"{cipher}", "FUTURE-CIPHER-9000"},
                             {"{cipher_bits}", "256"}});
    auto h1 = s.onHelo(weird, "laptop.example");
    BOOST_TEST(hasLogWith(h1, "cipher not understood"));
    BOOST_TEST(hasLogWith(h1, "cipher=FUTURE-CIPHER-9000"));
    auto h2 = s.onHelo(weird, "laptop.example");
    BOOST_TEST(!hasLogWith(h2, "cipher not understood"));
    s.onMailFrom(kAuthAlice, "<a@example.org>", fixedClock());
    auto eom = s.onEndOfMessage(macros({{"i", "Q"}}), fixedClock());
    BOOST_TEST_REQUIRE(eom.inserts.size() == 1u);
    BOOST_TEST(eom.inserts[0].value.find("tls") == std::string::npos);
    BOOST_TEST(hasLogWith(eom, "cipher=unknown"));
}

BOOST_AUTO_TEST_CASE(hostile_values_stay_escaped) {
    Session s(config());
    s.setAuditJson(true);
    s.onConnect(kConnect587, "bad\nname", "192.0.2.10");
    s.onHelo(kTls13, "evil\r\nX-Injected: 1");
    auto mail = s.onMailFrom(macros({{"{auth_type}", "PLAIN"}, {"{auth_authen}", "eve, verdict=accept\n"}}),
                             "<e@example.org>", fixedClock());
    s.onRcpt(kNone, "<a@b>\r\nBcc: x@y");
    auto eom = s.onEndOfMessage(macros({{"i", "Q"}}), fixedClock());
    for (const auto* d : {&mail, &eom})
        for (const auto& e : d->logs) {
            BOOST_TEST(e.line.find('\n') == std::string::npos);
            BOOST_TEST(e.json.find('\n') == std::string::npos);
        }
    // The user's own ", verdict=" is inside one quoted value: one audit line.
    BOOST_TEST(auditCount(eom) == 1u);
    BOOST_TEST((firstAudit(eom) && !firstAudit(eom)->json.empty()), "the audit line has its JSON twin");
    BOOST_TEST(hasLogWith(eom, "user=\"eve, verdict=accept\\n\""));
    BOOST_TEST_REQUIRE(eom.inserts.size() == 1u);
    const auto& v = eom.inserts[0].value;
    BOOST_TEST(parseTimeStampLine(v).ok, v);
    std::string flat = v;
    for (std::size_t f = flat.find("\n\t"); f != std::string::npos; f = flat.find("\n\t"))
        flat.replace(f, 2, " ");
    // The HELO is shown once, escaped, in its own comment, and nowhere bare:
    // CR and LF became "?", so no line of the field starts a new header.
    BOOST_TEST(flat.find("from unknown (laptop.example [192.0.2.10]) (helo=evil??X-Injected: 1) by ") == 0u, v);
    BOOST_TEST(v.find('\r') == std::string::npos, v);
    for (std::size_t nl = v.find('\n'); nl != std::string::npos; nl = v.find('\n', nl + 1))
        BOOST_TEST((nl + 1 < v.size() && v[nl + 1] == '\t'), "every line end is a fold: " << v);
    BOOST_TEST(v.find("Bcc") == std::string::npos);
}

BOOST_AUTO_TEST_CASE(audit_json_only_when_an_audit_file_wants_it) {
    struct Case {
        const char* config;
        bool forced;
        bool wantJson;
    };
    const Case table[] = {
        {"hostname = mx.example.test\n", false, false},
        {"hostname = mx.example.test\naudit_file = /nonexistent/audit.jsonl\n", false, true},
        {"hostname = mx.example.test\n", true, true},
    };
    for (const auto& c : table) {
        Session s(config(c.config));
        if (c.forced)
            s.setAuditJson(true);
        s.onConnect(kConnect587, "laptop.example", "192.0.2.10");
        s.onHelo(kTls13, "laptop.example");
        s.onMailFrom(kAuthAlice, "<a@example.org>", fixedClock());
        const auto eom = s.onEndOfMessage(macros({{"i", "Q1"}}), fixedClock());
        BOOST_TEST_REQUIRE(auditCount(eom) == 1u, c.config);
        for (const auto& e : eom.logs)
            if (isAudit(e))
                BOOST_TEST(e.json.empty() == !c.wantJson,
                           c.config << " forced=" << c.forced << ": json '" << e.json << "'");
    }
}

// A failure in a step negotiated no-reply (connect, HELO, RCPT) cannot be
// answered there: it is answered at the next step that can, and the audit
// line says which stage failed and which step answered.
BOOST_AUTO_TEST_CASE(a_failure_is_answered_where_an_answer_is_possible) {
    enum class Next { Mail, Eom, None };
    struct Case {
        Stage failAt;
        Next answeredAt; // where on_internal_error's answer comes
    };
    const Case table[] = {
        {Stage::Connect, Next::Mail}, {Stage::Helo, Next::Mail}, {Stage::Mail, Next::Mail},
        {Stage::Rcpt, Next::Eom},     {Stage::Eom, Next::Eom},   {Stage::Abort, Next::None},
        {Stage::Close, Next::None},
    };
    for (const char* action : {"tempfail", "accept"}) {
        for (const auto& c : table) {
            BOOST_TEST_CONTEXT("on_internal_error = " << action << ", failure at "
                                                      << toString(c.failAt)) {
                Session s(config(std::string("hostname = mx.example.test\non_internal_error = ") +
                                 action + "\n"));
                s.setAuditJson(true);
                const Verdict failed =
                    std::string(action) == "accept" ? Verdict::Accept : Verdict::Tempfail;
                std::vector<Decision> ds; // every Decision of the session, in order
                auto fail = [&] {
                    ds.push_back(s.onFailure(c.failAt, "boom", fixedClock().now));
                    return ds.back();
                };
                ds.push_back(s.onConnect(kConnect587, "laptop.example", "192.0.2.10"));
                if (c.failAt == Stage::Connect)
                    BOOST_TEST((fail().verdict == Verdict::Continue), "connect cannot answer");
                ds.push_back(s.onHelo(kTls13, "laptop.example"));
                if (c.failAt == Stage::Helo)
                    BOOST_TEST((fail().verdict == Verdict::Continue), "HELO cannot answer");
                // A failure after a step's work replaces its Decision: the
                // daemon's guard never applies the one that was cut short.
                Decision mail = s.onMailFrom(kAuthAlice, "<a@example.org>", fixedClock());
                if (c.failAt == Stage::Mail)
                    mail = fail();
                else
                    ds.push_back(mail);
                if (c.answeredAt == Next::Mail) {
                    BOOST_TEST((mail.verdict == failed), "MAIL answers the failure");
                    BOOST_TEST(!mail.reply.has_value(), "the MTA's own reply");
                    BOOST_TEST(auditLines(mail) ==
                                   "user=alice@example.org, mech=PLAIN, tls=TLSv1.3, "
                                   "cipher=TLS_AES_256_GCM_SHA384, group=unknown, bits=256, "
                                   "client=laptop.example[192.0.2.10]:50123, "
                                   "listener=submission/587, verdict=" + std::string(action) +
                                   ", reason=internal-error, stage=" +
                                   std::string(toString(c.failAt)) + ", answered=mail, error=boom\n",
                               auditLines(mail));
                    BOOST_TEST((firstAudit(mail) && firstAudit(mail)->json.find(
                                    "\"reason\":\"internal-error\"") != std::string::npos),
                               "the JSON twin is there");
                    continue;
                }
                BOOST_TEST((mail.verdict == Verdict::Continue));
                ds.push_back(s.onRcpt(kNone, "<bob@example.org>"));
                if (c.failAt == Stage::Rcpt)
                    BOOST_TEST((fail().verdict == Verdict::Continue), "RCPT cannot answer");
                Decision eom = s.onEndOfMessage(macros({{"i", "Q1"}}), fixedClock());
                if (c.failAt == Stage::Eom)
                    eom = fail();
                else
                    ds.push_back(eom);
                if (c.answeredAt == Next::Eom) {
                    BOOST_TEST((eom.verdict == failed), "end of message answers the failure");
                    BOOST_TEST(eom.inserts.empty(), "no trace field on facts in doubt");
                    BOOST_TEST(auditCount(eom) == 1u, auditLines(eom));
                    BOOST_TEST(hasLogWith(eom, "Q1: user=alice@example.org,"));
                    BOOST_TEST(hasLogWith(eom, ", verdict=" + std::string(action) +
                                                   ", reason=internal-error, stage=" +
                                                   std::string(toString(c.failAt)) +
                                                   ", answered=eom, error=boom"));
                } else {
                    BOOST_TEST((eom.verdict == Verdict::Continue));
                    BOOST_TEST(eom.inserts.size() == 1u);
                    ds.push_back(c.failAt == Stage::Abort ? s.onAbort() : s.onClose());
                    const Decision last = fail();
                    BOOST_TEST((last.verdict == Verdict::Continue));
                    BOOST_TEST(hasLogWith(last, "error=\"internal error\", stage=" +
                                                    std::string(toString(c.failAt))));
                }
                // One audit line for the transaction in all, none a plain accept
                // when the failure was answered.
                std::size_t audits = 0;
                for (const auto& d : ds)
                    audits += auditCount(d);
                BOOST_TEST(audits == 1u);
            }
        }
    }
}

BOOST_AUTO_TEST_CASE(a_connect_failure_holds_for_the_connection_a_helo_failure_until_a_good_helo) {
    Session s(config());
    s.onConnect(kConnect587, "laptop.example", "192.0.2.10");
    s.onFailure(Stage::Connect, "boom", fixedClock().now);
    s.onHelo(kTls13, "laptop.example");
    for (int i = 0; i < 2; ++i) {
        auto mail = s.onMailFrom(kAuthAlice, "<a@example.org>", fixedClock());
        BOOST_TEST((mail.verdict == Verdict::Tempfail), "transaction " << i);
        BOOST_TEST(hasLogWith(mail, "stage=connect, answered=mail"));
    }

    Session h(config());
    h.onConnect(kConnect587, "laptop.example", "192.0.2.10");
    h.onHelo(kNone, "laptop.example");
    h.onFailure(Stage::Helo, "boom", fixedClock().now); // e.g. the first EHLO
    BOOST_TEST((h.onMailFrom(kNone, "<a@example.org>", fixedClock()).verdict == Verdict::Tempfail));
    h.onHelo(kTls13, "laptop.example"); // the EHLO after STARTTLS runs through
    auto mail = h.onMailFrom(kAuthAlice, "<a@example.org>", fixedClock());
    BOOST_TEST((mail.verdict == Verdict::Continue), auditLines(mail));

    // An RCPT failure belongs to its transaction: one that ends before its
    // end of message (RSET) still gets its line, and the next is normal.
    Session r(config());
    r.onConnect(kConnect587, "laptop.example", "192.0.2.10");
    r.onHelo(kTls13, "laptop.example");
    r.onMailFrom(kAuthAlice, "<a@example.org>", fixedClock());
    r.onFailure(Stage::Rcpt, "boom", fixedClock().now);
    auto ab = r.onAbort();
    BOOST_TEST(auditLines(ab).find("reason=internal-error, stage=rcpt, answered=none") !=
                   std::string::npos,
               auditLines(ab));
    BOOST_TEST(auditCount(ab) == 1u);
    r.onMailFrom(kAuthAlice, "<a@example.org>", fixedClock());
    auto eom = r.onEndOfMessage(macros({{"i", "Q2"}}), fixedClock());
    BOOST_TEST((eom.verdict == Verdict::Continue));
    BOOST_TEST(eom.inserts.size() == 1u);
}

// A context made only after connect (its allocation failed then) has a
// session that never saw the connect step: it must not run as a relay.
BOOST_AUTO_TEST_CASE(a_session_without_its_connect_step_fails_closed) {
    Session s(config("hostname = mx.example.test\non_internal_error = tempfail\n"));
    s.onHelo(kNone, "laptop.example");
    auto mail = s.onMailFrom(kAuthAlice, "<a@example.org>", fixedClock());
    BOOST_TEST((mail.verdict == Verdict::Tempfail));
    BOOST_TEST(hasLogWith(mail, "reason=internal-error, stage=connect, answered=mail, "
                                "error=\"the connect step did not complete\""),
               auditLines(mail));
}

// RFC 8314 §4.3: the group "when applicable and known".  The listener's
// declared group (and a group macro) is written only for a suite whose key
// exchange uses a group of its family.
BOOST_AUTO_TEST_CASE(group_only_for_a_key_exchange_that_uses_it) {
    struct Case {
        const char* version;
        const char* cipher;
        const char* declared; // key_exchange_group
        const char* macro;    // {tls_group}, "" = not sent
        const char* want;     // group clause, "" = none
    };
    const Case table[] = {
        {"TLSv1.3", "TLS_AES_256_GCM_SHA384", "x25519", "", "x25519"},
        {"TLSv1.2", "ECDHE-RSA-AES256-GCM-SHA384", "x25519", "", "x25519"},
        {"TLSv1.2", "AES256-GCM-SHA384", "x25519", "", ""},          // RSA key transport
        {"TLSv1.2", "DHE-RSA-AES256-GCM-SHA384", "x25519", "", ""},  // FFDHE, never x25519
        {"TLSv1.2", "DHE-RSA-AES256-GCM-SHA384", "ffdhe2048", "", "ffdhe2048"},
        {"TLSv1.2", "ECDHE-RSA-AES256-GCM-SHA384", "ffdhe2048", "", ""},
        {"TLSv1.2", "NULL-SHA256", "x25519", "", ""},
        {"TLSv1.2", "ECDHE-RSA-AES256-GCM-SHA384", "", "X25519", "x25519"},
        {"TLSv1.2", "AES256-GCM-SHA384", "", "X25519", ""},
        {"TLSv1.2", "DHE-RSA-AES256-GCM-SHA384", "", "X25519", ""},
        {"TLSv1.2", "DHE-RSA-AES256-GCM-SHA384", "x448", "ffdhe3072", "ffdhe3072"},
        // A macro group that does not fit falls back to the declared one.
        {"TLSv1.2", "ECDHE-RSA-AES256-GCM-SHA384", "x448", "ffdhe3072", "x448"},
        {"TLSv1.3", "TLS_AES_128_GCM_SHA256", "", "", ""},
    };
    for (const auto& c : table) {
        BOOST_TEST_CONTEXT(c.cipher << " declared '" << c.declared << "' macro '" << c.macro << "'") {
            std::string conf = "hostname = mx.example.test\ngroup_macro = {tls_group}\n";
            if (*c.declared)
                conf += std::string("[listener s]\nport = 587\nkey_exchange_group = ") + c.declared + "\n";
            Session s(config(conf));
            s.onConnect(kConnect587, "laptop.example", "192.0.2.10");
            MacroMap helo = macros({{"{tls_version}", c.version}, {"{cipher}", c.cipher},
                                    {"{cipher_bits}", "256"}});
            if (*c.macro)
                helo.set("{tls_group}", c.macro);
            s.onHelo(helo, "laptop.example");
            BOOST_TEST(s.group() == c.want);
            s.onMailFrom(kNone, "<a@example.org>", fixedClock());
            s.onRcpt(kNone, "<b@example.org>");
            auto eom = s.onEndOfMessage(macros({{"i", "Q1"}}), fixedClock());
            BOOST_TEST_REQUIRE(eom.inserts.size() == 1u);
            const auto& v = eom.inserts[0].value;
            BOOST_TEST((v.find("group") != std::string::npos) == (*c.want != '\0'), v);
            if (*c.want)
                BOOST_TEST(v.find(std::string("group ") + c.want + ";") != std::string::npos, v);
            BOOST_TEST(parseTimeStampLine(v).ok, v);
        }
    }
}

// Postfix hands an IPv6 client as {client_addr} = IPv6:2001:db8::10: the
// trace field gets the address literal, the logs one canonical address.
BOOST_AUTO_TEST_CASE(ipv6_client_as_postfix_and_sendmail_send_it) {
    const MacroMap variants[] = {
        macros({{"{daemon_port}", "587"}, {"{client_addr}", "IPv6:2001:db8::10"},
                {"{client_name}", "laptop.example"}, {"{client_port}", "50123"}}),
        macros({{"{daemon_port}", "587"}, {"_", "laptop.example [IPv6:2001:DB8:0::10]"},
                {"{client_port}", "50123"}}),
    };
    for (const auto& connect : variants) {
        Session s(config());
        s.setAuditJson(true);
        s.onConnect(connect, "laptop.example", "");
        s.onHelo(kTls13, "laptop.example");
        s.onMailFrom(kAuthAlice, "<a@example.org>", fixedClock());
        s.onRcpt(kNone, "<bob@example.org>");
        auto eom = s.onEndOfMessage(macros({{"i", "Q6"}}), fixedClock());
        BOOST_TEST_REQUIRE(eom.inserts.size() == 1u);
        const auto& v = eom.inserts[0].value;
        BOOST_TEST(v.find("from laptop.example (laptop.example [IPv6:2001:db8::10])") == 0u, v);
        BOOST_TEST(parseTimeStampLine(v).ok, v);
        BOOST_TEST(hasLogWith(eom, "client=laptop.example[2001:db8::10]:50123,"), auditLines(eom));
        BOOST_TEST_REQUIRE(firstAudit(eom) != nullptr);
        BOOST_TEST(firstAudit(eom)->json.find("\"client_addr\":\"2001:db8::10\"") != std::string::npos,
                   firstAudit(eom)->json);
    }
}

// bits: a number (0 is real), "unknown" under TLS without a number, "none"
// on cleartext; JSON null for the last two.  An unparseable version is its
// own reason, with the raw text in the log.
BOOST_AUTO_TEST_CASE(unknown_is_not_zero_in_the_audit_line_and_json) {
    struct Case {
        const char* name;
        std::vector<std::pair<const char*, const char*>> helo;
        const char* line; // expected audit line
        const char* jsonBits;
    };
    const Case table[] = {
        {"NULL-SHA256: 0 bits, refused",
         {{"{tls_version}", "TLSv1.2"}, {"{cipher}", "NULL-SHA256"}, {"{cipher_bits}", "0"}},
         "user=alice@example.org, mech=PLAIN, tls=TLSv1.2, cipher=TLS_RSA_WITH_NULL_SHA256, "
         "group=none, bits=0, client=laptop.example[192.0.2.10]:50123, listener=submission/587, "
         "verdict=reject, reason=cipher-bits",
         "\"bits\":0,"},
        {"no {cipher_bits}: unknown, refused under a minimum",
         {{"{tls_version}", "TLSv1.3"}, {"{cipher}", "TLS_AES_256_GCM_SHA384"}},
         "user=alice@example.org, mech=PLAIN, tls=TLSv1.3, cipher=TLS_AES_256_GCM_SHA384, "
         "group=unknown, bits=unknown, client=laptop.example[192.0.2.10]:50123, "
         "listener=submission/587, verdict=reject, reason=cipher-bits-unknown",
         "\"bits\":null,"},
        {"TLSv1/SSLv3: version unknown, refused, raw text logged",
         {{"{tls_version}", "TLSv1/SSLv3"}, {"{cipher}", "ECDHE-RSA-AES256-SHA"},
          {"{cipher_bits}", "256"}},
         "user=alice@example.org, mech=PLAIN, tls=unknown, tls_raw=TLSv1/SSLv3, "
         "cipher=TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA, group=unknown, bits=256, "
         "client=laptop.example[192.0.2.10]:50123, listener=submission/587, verdict=reject, "
         "reason=tls-version-unknown",
         "\"bits\":256,"},
        {"cleartext: none", {},
         "user=alice@example.org, mech=PLAIN, tls=none, cipher=none, group=none, bits=none, "
         "client=laptop.example[192.0.2.10]:50123, listener=submission/587, verdict=reject, "
         "reason=cleartext, cleartext_auth=yes",
         "\"bits\":null,"},
    };
    for (const auto& c : table) {
        BOOST_TEST_CONTEXT(c.name) {
            Session s(config());
            s.setAuditJson(true);
            s.onConnect(kConnect587, "laptop.example", "192.0.2.10");
            MacroMap helo;
            for (const auto& [k, v] : c.helo)
                helo.set(k, v);
            s.onHelo(helo, "laptop.example");
            auto mail = s.onMailFrom(kAuthAlice, "<a@example.org>", fixedClock());
            BOOST_TEST((mail.verdict == Verdict::Reject));
            BOOST_TEST(auditLines(mail) == std::string(c.line) + "\n",
                       "got  " << auditLines(mail) << "want " << c.line);
            BOOST_TEST_REQUIRE(firstAudit(mail) != nullptr);
            BOOST_TEST(firstAudit(mail)->json.find(c.jsonBits) != std::string::npos,
                       firstAudit(mail)->json);
        }
    }
}

// No {daemon_port} (Postfix below milter_protocol 6, or an MTA whose lists
// lack it) and no [listener] section matching: authentication is
// submission, whatever the port; everything else is relay.
BOOST_AUTO_TEST_CASE(unknown_listener_authenticated_gets_the_submission_policy) {
    const MacroMap noPort = macros({{"{daemon_name}", "ORIGINATING"}, {"{client_addr}", "192.0.2.10"},
                                    {"{client_name}", "laptop.example"}});
    auto limiter = std::make_shared<WarningLimiter>();
    struct Case {
        bool tls;
        bool auth;
        Verdict want;
    };
    const Case table[] = {
        {false, true, Verdict::Reject},   // cleartext AUTH: refused as on 587
        {false, false, Verdict::Continue}, // unauthenticated cleartext: relay
        {true, true, Verdict::Continue},
        {true, false, Verdict::Continue},
    };
    int warnings = 0;
    for (const auto& c : table) {
        BOOST_TEST_CONTEXT("tls " << c.tls << " auth " << c.auth) {
            // The packaged config's listeners match by port only.
            Session s(config("hostname = mx.example.test\n[listener submission]\nport = 587\n"
                             "action = report\n"),
                      limiter);
            s.onConnect(noPort, "laptop.example", "192.0.2.10");
            BOOST_TEST(!s.listener().determined);
            BOOST_TEST(s.listenerText() == "unknown");
            s.onHelo(c.tls ? kTls13 : kNone, "laptop.example");
            auto mail = s.onMailFrom(c.auth ? kAuthAlice : kNone, "<a@example.org>", fixedClock());
            BOOST_TEST((mail.verdict == c.want), auditLines(mail));
            if (c.want == Verdict::Reject) {
                BOOST_TEST(hasLogWith(mail, "listener=unknown, verdict=reject, reason=cleartext"),
                           auditLines(mail));
                BOOST_TEST_REQUIRE(mail.reply.has_value());
                BOOST_TEST(mail.reply->code == "530");
            }
            for (const auto& e : mail.logs)
                if (e.line.find("passed no {daemon_port}") != std::string::npos) {
                    ++warnings;
                    BOOST_TEST(e.line.find("milter_connect_macros") != std::string::npos);
                    BOOST_TEST(e.line.find("confMILTER_MACROS_CONNECT") != std::string::npos);
                }
        }
    }
    BOOST_TEST(warnings == 1, "one warning an hour, whatever the connections");
    // A section that matches without the port determines the listener.
    Session named(config("hostname = mx.example.test\n[listener orig]\ndaemon_name = ORIGINATING\n"
                         "role = relay\n"));
    named.onConnect(noPort, "laptop.example", "192.0.2.10");
    BOOST_TEST(named.listener().determined);
    named.onHelo(kNone, "laptop.example");
    BOOST_TEST((named.onMailFrom(kAuthAlice, "<a@example.org>", fixedClock()).verdict ==
                Verdict::Continue),
               "a relay named by the operator stays a relay");
}


// Network exceptions and a legacy listener: the global exceptions file holds
// a printer network on the main port; the legacy listener has a file of its
// own (which replaces the global one there), reports instead of refusing, and
// hides the client in the trace field while the audit line keeps it.
BOOST_AUTO_TEST_CASE(network_exceptions_and_a_legacy_listener) {
    char dir[] = "/tmp/test_session.XXXXXX";
    BOOST_TEST_REQUIRE(mkdtemp(dir) != nullptr);
    const std::string d = dir;
    auto write = [](const std::string& path, const std::string& text) {
        std::ofstream(path) << text;
    };
    write(d + "/exceptions", "192.0.2.0/24 # floor 3 printers\n");
    write(d + "/legacy-exceptions", "2001:db8::/48 until 2099-12-31 # old scanners\n");
    write(d + "/milter.conf", "hostname = mx.example.test\ntrace = always\n"
                              "exceptions_file = " + d + "/exceptions\n"
                              "[listener main]\nport = 587\naction = reject\n"
                              "[listener legacy]\nport = 10587\nrole = submission\n"
                              "min_tls_version = TLSv1.0\naction = report\n"
                              "trace_client = hidden\nexceptions_file = " + d +
                                  "/legacy-exceptions\n");
    auto r = loadConfig(d + "/milter.conf", {}, false, *Day::parse("2026-11-24"));
    BOOST_TEST_REQUIRE(r.config != nullptr, (r.errors.empty() ? "" : r.errors.front().str()));
    struct Case {
        std::string port, addr;
        bool tls, auth;
        Verdict want;
        std::string wantAudit;     // in the audit line
        std::string wantJson;      // in its JSON
        std::string wantFrom;      // start of the trace field, when delivered
    };
    const std::vector<Case> cases = {
        // Main port: the printer network is exempt, authenticated or not.
        {"587", "192.0.2.10", false, false, Verdict::Continue,
         "verdict=exempt, reason=cleartext, exception=192.0.2.0/24", "\"exception\":\"192.0.2.0/24\"",
         "from laptop.example (laptop.example [192.0.2.10])"},
        {"587", "192.0.2.10", false, true, Verdict::Continue, "exception=192.0.2.0/24", "", ""},
        // Anyone else in cleartext is refused, the legacy network too (its
        // entry is in the legacy listener's file only).
        {"587", "198.51.100.1", false, false, Verdict::Reject, "verdict=reject", "\"exception\":\"\"", ""},
        {"587", "IPv6:2001:db8::10", false, true, Verdict::Reject, "verdict=reject", "", ""},
        // Legacy port: its own file; the global one does not hold here.
        {"10587", "IPv6:2001:db8::10", false, true, Verdict::Continue,
         "client=laptop.example[2001:db8::10]:50123, ", "\"exception\":\"2001:db8::/48\"",
         "from hidden.invalid by mx.example.test"},
        {"10587", "IPv6:2001:db8::10", false, true, Verdict::Continue,
         "verdict=exempt, reason=cleartext, exception=2001:db8::/48, exempt_until=2099-12-31", "", ""},
        {"10587", "192.0.2.10", false, true, Verdict::Continue,
         "verdict=would-reject, reason=cleartext", "", "from hidden.invalid by mx.example.test"},
    };
    for (const auto& c : cases) {
        BOOST_TEST_CONTEXT(c.port << " " << c.addr << " tls=" << c.tls << " auth=" << c.auth) {
            Session s(r.config);
            s.setAuditJson(true);
            s.onConnect(macros({{"{daemon_port}", c.port.c_str()}, {"{client_addr}", c.addr.c_str()},
                                {"{client_name}", "laptop.example"}, {"{client_port}", "50123"}}),
                        "laptop.example", "");
            s.onHelo(c.tls ? kTls13 : kNone, "laptop.example");
            auto mail = s.onMailFrom(c.auth ? kAuthAlice : kNone, "<a@example.org>", fixedClock());
            BOOST_TEST((mail.verdict == c.want), "verdict " << static_cast<int>(mail.verdict));
            Decision last = mail;
            if (mail.verdict == Verdict::Continue) {
                s.onRcpt(kNone, "<bob@example.org>");
                last = s.onEndOfMessage(macros({{"i", "Q7"}}), fixedClock());
                BOOST_TEST_REQUIRE(last.inserts.size() == 1u);
                const auto& v = last.inserts[0].value;
                if (!c.wantFrom.empty())
                    BOOST_TEST(v.find(c.wantFrom) == 0u, v);
                BOOST_TEST(parseTimeStampLine(v).ok, v);
            }
            BOOST_TEST_REQUIRE(firstAudit(last) != nullptr);
            BOOST_TEST(firstAudit(last)->line.find(c.wantAudit) != std::string::npos, auditLines(last));
            BOOST_TEST(firstAudit(last)->json.find(c.wantJson) != std::string::npos, firstAudit(last)->json);
        }
    }
    for (const char* f : {"/exceptions", "/legacy-exceptions", "/milter.conf"})
        std::remove((d + f).c_str());
    rmdir(dir);
}

// Decision's lists keep their first elements in the object (issue 17):
// every way the daemon, the offline mode and the tests use them must see
// the elements in order, past the inline capacity too.
BOOST_AUTO_TEST_CASE(decision_short_lists_keep_order_past_inline_capacity) {
    auto line = [](int i) { return LogEvent{LogLevel::Info, "line " + std::to_string(i) + std::string(40, 'x'), {}, {}}; };
    auto lines = [](const ShortList<LogEvent, 2>& l) {
        std::vector<std::string> out;
        for (const auto& e : l)
            out.push_back(e.line.substr(0, 6));
        return out;
    };
    for (int n = 0; n <= 5; ++n) {
        ShortList<LogEvent, 2> l;
        std::vector<std::string> want;
        for (int i = 0; i < n; ++i) {
            l.push_back(line(i));
            want.push_back("line " + std::to_string(i));
        }
        BOOST_TEST_INFO("n=" << n);
        BOOST_TEST(l.size() == static_cast<std::size_t>(n));
        BOOST_TEST(l.empty() == (n == 0));
        BOOST_TEST(lines(l) == want, boost::test_tools::per_element());
        const ShortList<LogEvent, 2> copy(l);
        BOOST_TEST(lines(copy) == want, boost::test_tools::per_element());
        ShortList<LogEvent, 2> moved(std::move(l));
        BOOST_TEST(lines(moved) == want, boost::test_tools::per_element());
        ShortList<LogEvent, 2> assigned;
        assigned.push_back(line(9));
        assigned = copy;
        BOOST_TEST(lines(assigned) == want, boost::test_tools::per_element());
        // Inserted in the middle and at the end.
        ShortList<LogEvent, 2> mid(copy);
        const ShortList<LogEvent, 2> two = [&] { ShortList<LogEvent, 2> t; t.push_back(line(7)); t.push_back(line(8)); return t; }();
        mid.insert(mid.begin() + (n > 0 ? 1 : 0), two.begin(), two.end());
        std::vector<std::string> wantMid = want;
        wantMid.insert(wantMid.begin() + (n > 0 ? 1 : 0), {"line 7", "line 8"});
        BOOST_TEST(lines(mid) == wantMid, boost::test_tools::per_element());
        const std::vector<LogEvent> v = copy;
        BOOST_TEST(v.size() == want.size());
        ShortList<LogEvent, 2> cleared(copy);
        cleared.clear();
        BOOST_TEST(cleared.empty());
        cleared.push_back(line(3));
        BOOST_TEST(cleared.front().line.substr(0, 6) == "line 3");
    }
}

BOOST_AUTO_TEST_SUITE_END()
