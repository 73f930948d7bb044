// test_doctor_postfix_maps.cpp — smtpd_milter_maps (Postfix >= 3.2) as the
// doctor reads and judges it: the tables' source text and `postmap -s`
// output in, which clients get the milter out; a submission service wired
// through a map is wired, and the clients a map leaves to smtpd_milters
// are judged there.
#include <boost/test/unit_test.hpp>

#include <string>
#include <vector>

#include "doctor/postfix.hpp"
#include "doctor/postfix_maps.hpp"
#include "doctor_cases.hpp"
#include "doctor_postfix_cases.hpp"

using namespace rfc8314::doctor;
using namespace doctor_cases;

namespace {

std::string show(const std::vector<MapEntry>& v) {
    std::string out;
    for (const auto& e : v)
        out += "[" + e.key + "|" + e.value + "]";
    return out;
}

// Submission and submissions wired only through -o smtpd_milter_maps; no
// milter in main.cf, so port 25 has none.
const char* kMapMaster =
    "smtp inet n - y - - smtpd\n"
    "submission inet n - n - - smtpd -o smtpd_sasl_auth_enable=yes -o smtpd_tls_auth_only=yes "
    "-o smtpd_milter_maps=cidr:/etc/postfix/milters\n"
    "submissions inet n - n - - smtpd -o smtpd_tls_wrappermode=yes -o smtpd_sasl_auth_enable=yes "
    "-o smtpd_milter_maps=cidr:/etc/postfix/milters\n";
const char* kMapOverrides = "submission/inet/smtpd_sasl_auth_enable = yes\n"
                            "submission/inet/smtpd_tls_auth_only = yes\n"
                            "submission/inet/smtpd_milter_maps = cidr:/etc/postfix/milters\n"
                            "submissions/inet/smtpd_tls_wrappermode = yes\n"
                            "submissions/inet/smtpd_sasl_auth_enable = yes\n"
                            "submissions/inet/smtpd_milter_maps = cidr:/etc/postfix/milters\n";

PostfixConf mapped(const std::string& mainChanges, const std::string& table,
                   const std::string& source) {
    auto pf = conf("smtpd_milters =\n" + mainChanges, kMapMaster, kMapOverrides);
    MilterMap m;
    m.read = true;
    m.entries = parseMapSource(mapType(table), source);
    pf.milterMaps[table] = m;
    return pf;
}

} // namespace

BOOST_AUTO_TEST_SUITE(doctor_postfix_maps)

BOOST_AUTO_TEST_CASE(tables_of_a_value) {
    const auto t = splitMapList("cidr:/a, texthash:/b\tinline:{ 1.2.3.4=inet:x:1, 5.6.7.8=DISABLE }"
                                " static:{ inet:127.0.0.1:8891, default_action=tempfail }");
    BOOST_TEST_REQUIRE(t.size() == 4u);
    BOOST_TEST(t[0] == "cidr:/a");
    BOOST_TEST(t[1] == "texthash:/b");
    BOOST_TEST(t[2] == "inline:{ 1.2.3.4=inet:x:1, 5.6.7.8=DISABLE }");
    BOOST_TEST(t[3] == "static:{ inet:127.0.0.1:8891, default_action=tempfail }");
    BOOST_TEST(mapType("CIDR:/etc/postfix/m") == "cidr");
    BOOST_TEST(mapFile("cidr:/etc/postfix/m") == "/etc/postfix/m");
    BOOST_TEST(mapReadFromSource("pcre:/m"));
    BOOST_TEST(!mapReadFromSource("texthash:/m"));
}

BOOST_AUTO_TEST_CASE(table_sources) {
    const struct {
        const char* type;
        const char* source;
        const char* want;
    } cases[] = {
        {"cidr",
         "# submission clients\n127.0.0.0/8   inet:127.0.0.1:8891\n\n"
         "192.0.2.0/24 inet:127.0.0.1:8891,\n    inet:127.0.0.1:8892\n"
         "if 10.0.0.0/8\n10.1.0.0/16 DISABLE\nendif\n",
         "[127.0.0.0/8|inet:127.0.0.1:8891][192.0.2.0/24|inet:127.0.0.1:8891, "
         "inet:127.0.0.1:8892][10.1.0.0/16|DISABLE]"},
        {"regexp", "/^127\\./ inet:127.0.0.1:8891\n!/^10\\./ DISABLE\n/a\\/b/i x\n",
         "[/^127\\./|inet:127.0.0.1:8891][!/^10\\./|DISABLE][/a\\/b/i|x]"},
        {"pcre", "/./ { inet:127.0.0.1:8891, default_action=tempfail }\n",
         "[/./|{ inet:127.0.0.1:8891, default_action=tempfail }]"},
    };
    for (const auto& c : cases) {
        const auto got = show(parseMapSource(c.type, c.source));
        BOOST_TEST(got == c.want, c.type << ": got " << got << ", want " << c.want);
    }
    BOOST_TEST(show(parsePostmapDump("192.0.2.1\tDISABLE\n127.0.0.1\tinet:127.0.0.1:8891\n")) ==
               "[192.0.2.1|DISABLE][127.0.0.1|inet:127.0.0.1:8891]");
    BOOST_TEST(show(*staticMapEntries("static:{ inet:127.0.0.1:8891, default_action=accept }")) ==
               "[(every client)|inet:127.0.0.1:8891, default_action=accept]");
    BOOST_TEST(!staticMapEntries("cidr:/m").has_value());
}

BOOST_AUTO_TEST_CASE(tables_that_answer_for_every_client) {
    const auto v4 = parseMapSource("cidr", "0.0.0.0/0 inet:127.0.0.1:8891\n");
    const auto both = parseMapSource("cidr", "0.0.0.0/0 a\n[::]/0 a\n");
    BOOST_TEST(coversEveryClient("cidr:/m", v4, false));
    BOOST_TEST(!coversEveryClient("cidr:/m", v4, true));
    BOOST_TEST(coversEveryClient("cidr:/m", both, true));
    BOOST_TEST(!coversEveryClient("cidr:/m", parseMapSource("cidr", "127.0.0.0/8 a\n"), false));
    BOOST_TEST(coversEveryClient("pcre:/m", parseMapSource("pcre", "/./ a\n"), true));
    BOOST_TEST(coversEveryClient("regexp:/m", parseMapSource("regexp", "/^/ a\n"), true));
    BOOST_TEST(!coversEveryClient("regexp:/m", parseMapSource("regexp", "!/^/ a\n"), true));
    BOOST_TEST(!coversEveryClient("regexp:/m", parseMapSource("regexp", "/^1/ a\n"), true));
    BOOST_TEST(coversEveryClient("static:a", *staticMapEntries("static:a"), true));
    BOOST_TEST(!coversEveryClient("texthash:/m", parsePostmapDump("0.0.0.0/0\ta\n"), true));
}

BOOST_AUTO_TEST_CASE(wired_through_a_map) {
    const auto cfg = milter();
    const std::string every = "0.0.0.0/0 inet:127.0.0.1:8891\n::/0 inet:127.0.0.1:8891\n";
    const auto got = judgePostfix(*cfg, mapped("", "cidr:/etc/postfix/milters", every));
    expectAllOk("every client through -o smtpd_milter_maps", got);
    expectFindings("every client through -o smtpd_milter_maps", got,
                   {{Level::Ok, kSub + ": smtpd_milter_maps (-o in master.cf) = "
                                       "cidr:/etc/postfix/milters: every client it lists gets the "
                                       "milter (inet:127.0.0.1:8891), and it lists every client"},
                    {Level::Ok, kSubs + ": smtpd_milter_maps (-o in master.cf)"}},
                   {"smtpd_milters", "service smtp/inet"});
    // IPv4 only: 0.0.0.0/0 is every client.
    expectAllOk("ipv4 only",
                judgePostfix(*cfg, mapped("inet_protocols = ipv4\n", "cidr:/etc/postfix/milters",
                                          "0.0.0.0/0 inet:127.0.0.1:8891\n")));
}

BOOST_AUTO_TEST_CASE(clients_a_map_misses_or_mishandles) {
    const auto cfg = milter();
    const std::string table = "cidr:/etc/postfix/milters";
    const struct {
        const char* name;
        std::string mainChanges, source;
        std::vector<Want> want;
    } cases[] = {
        {"the rest fall to an empty smtpd_milters: the catch-all goes into the cidr table",
         "",
         "127.0.0.0/8 inet:127.0.0.1:8891\n",
         {{Level::Ok, kSub + ": smtpd_milter_maps (-o in master.cf) = " + table +
                          ": every client it lists gets the milter (inet:127.0.0.1:8891)"},
          {Level::Error,
           kSub + ": smtpd_milters (main.cf) is empty: does not name the milter's "
                  "socket inet:8891@127.0.0.1 (Postfix spelling inet:127.0.0.1:8891) "
                  "for the clients smtpd_milter_maps does not list",
           {{"/etc/postfix/milters", "0.0.0.0/0 inet:127.0.0.1:8891"},
            {"/etc/postfix/milters", "::/0 inet:127.0.0.1:8891"}}}}},
        {"the rest get smtpd_milters, which names the milter",
         "smtpd_milters = inet:127.0.0.1:8891\n",
         "127.0.0.0/8 inet:127.0.0.1:8891\n",
         {{Level::Ok, kSub + ": smtpd_milters names the milter (inet:127.0.0.1:8891) for the "
                             "clients smtpd_milter_maps does not list"}}},
        {"DISABLE on a submission service",
         "",
         "10.0.0.0/8 DISABLE\n0.0.0.0/0 inet:127.0.0.1:8891\n::/0 inet:127.0.0.1:8891\n",
         {{Level::Error,
           kSub + ": smtpd_milter_maps (-o in master.cf) " + table +
               " gives clients matching 10.0.0.0/8 no milter (DISABLE): their mail "
               "gets no trace field, no policy and no audit line",
           {{"/etc/postfix/milters", "10.0.0.0/8 inet:127.0.0.1:8891"}}}}},
        {"an entry with other milters only",
         "",
         "192.0.2.0/24 inet:127.0.0.1:9999\n0.0.0.0/0 inet:127.0.0.1:8891\n::/0 "
         "inet:127.0.0.1:8891\n",
         {{Level::Error,
           kSub + ": smtpd_milter_maps (-o in master.cf) " + table +
               " gives clients matching 192.0.2.0/24 the milters inet:127.0.0.1:9999, "
               "without the milter's socket inet:8891@127.0.0.1",
           {{"/etc/postfix/milters", "192.0.2.0/24 inet:127.0.0.1:9999, inet:127.0.0.1:8891"}}}}},
        {"per-milter settings in the map entry",
         "",
         "0.0.0.0/0 { inet:127.0.0.1:8891, default_action=accept }\n::/0 inet:127.0.0.1:8891\n",
         {{Level::Warning,
           kSub + ": default_action in smtpd_milter_maps " + table + " 0.0.0.0/0 = accept",
           {{"/etc/postfix/milters",
             "0.0.0.0/0 { inet:127.0.0.1:8891, default_action=tempfail }"}}}}},
    };
    for (const auto& c : cases)
        expectFindings(c.name, judgePostfix(*cfg, mapped(c.mainChanges, table, c.source)), c.want);

    // main.cf smtpd_milter_maps, a texthash table listed by postmap -s.
    auto pf = conf("smtpd_milter_maps = texthash:/etc/postfix/by_client\nsmtpd_milters =\n");
    MilterMap th;
    th.read = true;
    th.entries = parsePostmapDump("127.0.0.1\tinet:127.0.0.1:8891\n");
    pf.milterMaps["texthash:/etc/postfix/by_client"] = th;
    expectFindings(
        "texthash in main.cf", judgePostfix(*cfg, pf),
        {{Level::Ok, kSub + ": smtpd_milter_maps = texthash:/etc/postfix/by_client: every "
                            "client it lists gets the milter"},
         {Level::Error,
          kSub + ": smtpd_milters (main.cf) is empty",
          {{"main.cf", "smtpd_milters = inet:127.0.0.1:8891"}}}});

    // A table that could not be read is said so, not guessed.
    auto unread = conf("smtpd_milter_maps = hash:/etc/postfix/gone\n");
    unread.milterMaps["hash:/etc/postfix/gone"].error = "postmap -s failed: no such file";
    expectFindings("unread", judgePostfix(*cfg, unread),
                   {{Level::Warning, kSub + ": smtpd_milter_maps table hash:/etc/postfix/gone was "
                                            "not read (postmap -s failed: no such file); the "
                                            "milters it gives clients are not checked"},
                    {Level::Ok, kSub + ": smtpd_milters names the milter (inet:127.0.0.1:8891) for "
                                       "the clients smtpd_milter_maps does not list"}});
}

BOOST_AUTO_TEST_SUITE_END()
