#define BOOST_TEST_MODULE streamgate http units
#include <boost/test/unit_test.hpp>
