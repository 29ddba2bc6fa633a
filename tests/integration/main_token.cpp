#define BOOST_TEST_MODULE streamgate token endpoint and HTTP limits
#include <spdlog/spdlog.h>
#include <boost/test/unit_test.hpp>

struct QuietLogs {
  QuietLogs() { spdlog::set_level(spdlog::level::warn); }
};
BOOST_TEST_GLOBAL_FIXTURE(QuietLogs);
