// test_text.cpp — lib's private ASCII helpers (lib/src/text.hpp).  The
// character-class table replaced predicates written as range tests and
// strchr (issue 17): every one of the 256 octets must get the same answer
// from the table as from those predicates, written out here as they were.
#include <boost/test/unit_test.hpp>

#include <cstring>
#include <string>

#include "../lib/src/text.hpp"

using namespace rfc8314;

BOOST_AUTO_TEST_SUITE(text_helpers)

namespace {

// The predicates as rfc5322.cpp wrote them before the table.
bool oldAlnum(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'); }
bool oldAtext(char c) {
    if (oldAlnum(c))
        return true;
    return std::strchr("!#$%&'*+-/=?^_`{|}~", c) != nullptr && c != '\0';
}
bool oldLdh(char c) { return oldAlnum(c) || c == '-'; }

} // namespace

BOOST_AUTO_TEST_CASE(class_table_equals_the_predicates_for_every_octet) {
    struct Class {
        const char* name;
        text::CharClass k;
        bool (*want)(char);
    };
    const Class classes[] = {{"alnum", text::kClassAlnum, oldAlnum},
                             {"atext", text::kClassAtext, oldAtext},
                             {"ldh", text::kClassLdh, oldLdh}};
    int members = 0;
    for (const Class& cl : classes) {
        for (int i = 0; i < 256; ++i) {
            const char c = static_cast<char>(i);
            const bool got = text::inClass(c, cl.k), want = cl.want(c);
            members += got ? 1 : 0;
            BOOST_TEST(got == want, cl.name << " octet " << i << ": got " << got << ", want " << want);
        }
    }
    // 62 alphanumerics; atext adds 19 specials, ldh the hyphen.
    BOOST_TEST(members == 62 + 81 + 63);
}

BOOST_AUTO_TEST_SUITE_END()
