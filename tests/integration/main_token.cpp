#define BOOST_TEST_MODULE streamgate token endpoint and HTTP limits
#include <boost/test/unit_test.hpp>
#include <spdlog/spdlog.h>

struct QuietLogs {
  QuietLogs() { spdlog::set_level(spdlog::level::warn); }
};
BOOST_TEST_GLOBAL_FIXTURE(QuietLogs);
