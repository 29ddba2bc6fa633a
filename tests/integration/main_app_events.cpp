#define BOOST_TEST_MODULE streamgate app events
#include <boost/test/unit_test.hpp>
