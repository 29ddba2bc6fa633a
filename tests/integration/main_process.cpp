#define BOOST_TEST_MODULE streamgate process
#include <boost/test/unit_test.hpp>
