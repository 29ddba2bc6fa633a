#define BOOST_TEST_MODULE streamgate server units
#include <boost/test/unit_test.hpp>
