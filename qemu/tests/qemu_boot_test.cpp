#include "qemu_boot.h"

#include <gtest/gtest.h>

#include <sched.h>

#include <algorithm>
#include <string>

#include "process.h"

namespace mmguard {
namespace {

int allowed_host_cpus() {
    cpu_set_t set;
    CPU_ZERO(&set);
    EXPECT_EQ(sched_getaffinity(0, sizeof(set), &set), 0);
    return CPU_COUNT(&set);
}

TEST(FirstHostCpus, ListsThatManyAllowedCpus) {
    int allowed = allowed_host_cpus();
    std::string one = first_host_cpus(1);
    ASSERT_FALSE(one.empty());
    EXPECT_EQ(one.find(','), std::string::npos);
    cpu_set_t set;
    CPU_ZERO(&set);
    ASSERT_EQ(sched_getaffinity(0, sizeof(set), &set), 0);
    EXPECT_TRUE(CPU_ISSET(std::stoi(one), &set));

    std::string all = first_host_cpus(allowed);
    EXPECT_EQ(static_cast<int>(std::count(all.begin(), all.end(), ',')), allowed - 1);
    EXPECT_EQ(all.rfind(one, 0), 0u);   // the same first CPU
}

TEST(FirstHostCpus, MoreThanAllowedIsAnError) {
    EXPECT_THROW(first_host_cpus(allowed_host_cpus() + 1), HarnessError);
}

}  // namespace
}  // namespace mmguard
