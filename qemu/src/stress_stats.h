// What a trinity stress session did, read from the lines that
// qemu/guest/trinity-session.sh and churn.sh print: syscalls, length, seeds,
// trinity runs, each churner's rounds, vmstat deltas. Also works on a
// session cut short by a panic (the last heartbeat and the guest clock of
// the last kernel line give a lower bound).
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "console_line.h"

namespace mmguard {

struct ChurnerStats {
    std::string name;
    long rounds = 0;
    long effective = 0;      // rounds in which the churner's action took effect
};

// stress-ng beside trinity (qemu/guest/trinity-session.sh prints its
// --metrics-brief rows, failures and skipped stressors as "# stress-ng: ...").
struct StressNgStats {
    bool seen = false;
    int planned_seconds = 0;
    std::optional<int> exit_code;             // unset: the session did not get to its end
    std::map<std::string, long> bogo_ops;     // per stressor
    std::vector<std::string> problems;        // "fail: ...", "error: ...", skipped stressors
};

struct StressStats {
    bool seen = false;             // a trinity session started
    bool finished = false;         // it printed its closing totals
    unsigned first_seed = 0;
    unsigned last_seed = 0;        // the seed of the last run that started
    int planned_seconds = 0;
    long syscalls = 0;             // totals, or a lower bound if not finished
    double seconds = 0;            // how long it ran (lower bound if not finished)
    int runs = 0;                  // trinity runs that ended (one per seed)
    int ended_early = 0;           // runs that died before printing totals
    std::vector<ChurnerStats> churners;
    std::map<std::string, long> vmstat_delta;
    StressNgStats stress_ng;

    double syscalls_per_second() const { return seconds > 0 ? static_cast<double>(syscalls) / seconds : 0; }
};

class StressTracker {
public:
    void feed(const ConsoleLine& line);
    // A session cut short (no closing totals) lasted at least until the
    // guest clock of the last kernel line after its start.
    StressStats stats() const;

private:
    void feed_stress_ng(const std::string& text);
    StressStats stats_;
    std::optional<double> start_uptime_;   // guest uptime at the session start
    std::optional<double> last_kernel_time_;
    long finished_runs_syscalls_ = 0;
};

}  // namespace mmguard
