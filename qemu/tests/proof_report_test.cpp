// Shards of the proof matrix and their merge.
#include <gtest/gtest.h>

#include "process.h"
#include "proof_report.h"

namespace mmguard {
namespace {

using nlohmann::json;

json record(int row, const std::string& topic, int boot, const std::string& verdict = "ok") {
    return {{"row", row}, {"topic", topic}, {"what", "check"}, {"kernel", "patched"}, {"expected", "silent"},
            {"verdict", verdict}, {"seen", "exit 0, report -"}, {"boot", boot}, {"seconds", 3}, {"exit", 0}};
}

json part(std::size_t rows, std::vector<json> records) {
    return {{"rows_in_matrix", rows}, {"boots_in_matrix", 2}, {"shard", "1/2"}, {"records", records}};
}

TEST(ProofMerge, ShardsMergeIntoTheTableOfOneRun) {
    json whole = json::array({record(0, "a", 1), record(1, "b|x", 2), record(2, "c", 1)});
    json one = part(3, {record(2, "c", 1), record(0, "a", 1)});
    json two = part(3, {record(1, "b|x", 2)});
    json merged = merge_proof_records({one, two});
    EXPECT_EQ(merged, whole);
    EXPECT_EQ(proof_markdown(merged, "s"), proof_markdown(whole, "s"));
    std::string md = proof_markdown(merged, "s");
    EXPECT_NE(md.find("| b\\|x | check | patched | silent | ok | exit 0, report - | 2 | 3s |"), std::string::npos) << md;
    EXPECT_LT(md.find("| a |"), md.find("| c |"));
}

TEST(ProofMerge, AMissingOrRepeatedRowOrAnotherMatrixIsAnError) {
    json one = part(3, {record(0, "a", 1), record(2, "c", 1)});
    EXPECT_THROW(merge_proof_records({one}), HarnessError);                                 // row 1 missing
    EXPECT_THROW(merge_proof_records({one, part(3, {record(1, "b", 2), record(2, "c", 1)})}), HarnessError);
    EXPECT_THROW(merge_proof_records({one, part(4, {record(1, "b", 2)})}), HarnessError);
    EXPECT_THROW(merge_proof_records({json::array()}), HarnessError);
}

TEST(ProofShards, ParsesIOverN) {
    EXPECT_EQ(parse_shard("2/3"), (std::pair<int, int>{2, 3}));
    for (const char* bad : {"0/2", "3/2", "1/0", "1-2", "1/2x", ""}) EXPECT_THROW(parse_shard(bad), HarnessError) << bad;
}

TEST(ProofShards, LongestBootsFirstToTheLeastLoadedShard) {
    // 60 + 10 against 40 + 30: the two shards end within one boot of each other.
    auto s = assign_shards({10, 60, 30, 40}, 2);
    EXPECT_EQ(s, (std::vector<int>{0, 0, 1, 1}));
    auto all = assign_shards({5, 5, 5}, 1);
    EXPECT_EQ(all, (std::vector<int>{0, 0, 0}));
    EXPECT_EQ(assign_shards({10, 60, 30, 40}, 2), s);   // deterministic
}

}  // namespace
}  // namespace mmguard
