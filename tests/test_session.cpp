// test_session.cpp — one SMTP connection as the milter sees it: facts
// captured at the stage where each MTA sends them (MTA-FACTS.md §1-§3), kept
// across stages, reset per message; the Decision values the daemon applies.
#include <boost/test/unit_test.hpp>

#include <string>
#include <vector>

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

std::size_t auditCount(const Decision& d) {
    std::size_t n = 0;
    for (const auto& e : d.logs)
        n += e.audit ? 1 : 0;
    return n;
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
    BOOST_TEST(s.tls().clauseValue() == "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256");
    // MAIL carries no TLS macros (Postfix): the facts stay.
    auto d = s.onMailFrom(kAuthAlice, "<a@example.org>", fixedClock());
    BOOST_TEST((d.verdict == Verdict::Continue));
    BOOST_TEST(s.tls().clauseValue() == "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256");
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
    BOOST_TEST(s.tls().clauseValue() == "TLS_AES_128_GCM_SHA256");
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
    MacroMap weird = macros({{"{tls_version}", "TLSv1.3"}, {"{cipher}", "FUTURE-CIPHER-9000"}});
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
            BOOST_TEST(e.audit == !e.json.empty(), e.line);
        }
    BOOST_TEST(hasLogWith(eom, "user=\"eve, verdict=accept\\n\""));
    BOOST_TEST_REQUIRE(eom.inserts.size() == 1u);
    BOOST_TEST(parseTimeStampLine(eom.inserts[0].value).ok, eom.inserts[0].value);
    BOOST_TEST((eom.inserts[0].value.find("X-Injected") == std::string::npos ||
                eom.inserts[0].value.find("(helo=") != std::string::npos));
    BOOST_TEST(eom.inserts[0].value.find("Bcc") == std::string::npos);
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
            if (e.audit)
                BOOST_TEST(e.json.empty() == !c.wantJson,
                           c.config << " forced=" << c.forced << ": json '" << e.json << "'");
    }
}

BOOST_AUTO_TEST_CASE(internal_error_line_carries_the_facts) {
    Session s(config());
    s.onConnect(kConnect587, "client.example.test", "192.0.2.10");
    s.onHelo(kTls13, "client.example.test");
    s.onMailFrom(macros({{"i", "QID1"}, {"{auth_type}", "PLAIN"}, {"{auth_authen}", "al ice"}}),
                 "<a@example.org>", fixedClock());
    struct Case {
        FailAction action;
        const char* what;
        const char* want;
    };
    const Case table[] = {
        {FailAction::Tempfail, "boom",
         "QID1: user=\"al ice\", mech=PLAIN, tls=TLSv1.3, cipher=TLS_AES_256_GCM_SHA384, "
         "client=laptop.example[192.0.2.10]:50123, listener=submission/587, "
         "verdict=tempfail, reason=internal-error, stage=eom, error=boom"},
        {FailAction::Accept, "bad\r\nline",
         "QID1: user=\"al ice\", mech=PLAIN, tls=TLSv1.3, cipher=TLS_AES_256_GCM_SHA384, "
         "client=laptop.example[192.0.2.10]:50123, listener=submission/587, "
         "verdict=accept, reason=internal-error, stage=eom, error=\"bad\\r\\nline\""},
    };
    for (const auto& c : table) {
        const auto e = s.internalErrorEvent("eom", c.what, c.action);
        BOOST_TEST((e.level == LogLevel::Error));
        BOOST_TEST(e.line == c.want, "got  " << e.line << "\nwant " << c.want);
    }
    // The guard's form also drops the accept line the transaction was
    // waiting to write: it did not end in an accept.
    // (No queue id at MAIL, as with Postfix: the accept line is pending.)
    for (bool fail : {false, true}) {
        Session p(config());
        p.onConnect(kConnect587, "client.example.test", "192.0.2.10");
        p.onHelo(kTls13, "client.example.test");
        p.onMailFrom(kAuthAlice, "<a@example.org>", fixedClock());
        if (fail) {
            const auto e = p.failTransaction("mail", "boom", FailAction::Tempfail);
            BOOST_TEST(e.line.find("reason=internal-error") != std::string::npos);
        }
        BOOST_TEST(auditCount(p.onClose()) == (fail ? 0u : 1u), "failed=" << fail);
    }
}

BOOST_AUTO_TEST_SUITE_END()
