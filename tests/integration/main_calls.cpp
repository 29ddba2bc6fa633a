#define BOOST_TEST_MODULE streamgate calls
#include <spdlog/spdlog.h>
#include <boost/test/unit_test.hpp>

struct QuietLogs {
  QuietLogs() { spdlog::set_level(spdlog::level::off); }
};
BOOST_TEST_GLOBAL_FIXTURE(QuietLogs);
