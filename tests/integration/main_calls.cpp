#define BOOST_TEST_MODULE streamgate calls
#include <boost/test/unit_test.hpp>
#include <spdlog/spdlog.h>

struct QuietLogs {
  QuietLogs() { spdlog::set_level(spdlog::level::off); }
};
BOOST_TEST_GLOBAL_FIXTURE(QuietLogs);
