#define BOOST_TEST_MODULE streamgate core
#include <boost/test/unit_test.hpp>
