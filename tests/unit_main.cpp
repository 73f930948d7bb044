// unit_main.cpp — the one Boost.Test runner for every test_<unit>.cpp suite.
#define BOOST_TEST_MODULE rfc8314
#include <boost/test/unit_test.hpp>
