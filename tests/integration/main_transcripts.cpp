#define BOOST_TEST_MODULE streamgate transcripts
#include <boost/test/unit_test.hpp>
