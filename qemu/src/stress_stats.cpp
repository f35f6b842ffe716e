#include "stress_stats.h"

#include <algorithm>

#include <re2/re2.h>

namespace mmguard {

void StressTracker::feed(const ConsoleLine& line) {
    const std::string& t = line.text;
    if (line.timestamp && stats_.seen) last_kernel_time_ = line.timestamp;
    if (t.find("# trinity") == std::string::npos && t.find("# churn: ") == std::string::npos &&
        t.find("# vmstat delta: ") == std::string::npos && t.find("# stress-ng") == std::string::npos) {
        return;
    }
    static const RE2 start_re(R"(^\s*# trinity: (\d+)s from seed (\d+), .*\(uptime ([0-9.]+)\)\s*$)");
    static const RE2 beat_re(R"(^\s*# trinity: (\d+)s of \d+s, at least (\d+) syscalls(?: \(uptime ([0-9.]+)\))?)");
    static const RE2 run_re(R"(^\s*# trinity run \d+ \(seed (\d+)\): (\d+) syscalls)");
    static const RE2 early_re(R"(^\s*# trinity run \d+ \(seed (\d+)\) ended with exit)");
    static const RE2 total_re(R"(^\s*# trinity: (\d+) syscalls in (\d+)s over (\d+) run\(s\), (\d+) ended early)");
    static const RE2 churn_re(R"(^\s*# churn: (\w+): (\d+) rounds(?:, *(\d*) effective)?)");
    static const RE2 vmstat_re(R"(^\s*# vmstat delta: (\w+) (-?\d+)\s*$)");
    int a = 0, b = 0, c = 0;
    unsigned seed = 0;
    long n = 0, m = 0;
    double up = 0;
    std::string name, up_text, eff_text;
    if (RE2::PartialMatch(t, start_re, &a, &seed, &up)) {
        stats_ = StressStats{};
        finished_runs_syscalls_ = 0;
        last_kernel_time_.reset();
        stats_.seen = true;
        stats_.planned_seconds = a;
        stats_.first_seed = stats_.last_seed = seed;
        start_uptime_ = up;
        return;
    }
    if (!stats_.seen) return;
    if (t.find("# stress-ng") != std::string::npos) {
        feed_stress_ng(t);
        return;
    }
    if (RE2::PartialMatch(t, beat_re, &a, &n, &up_text)) {
        if (!stats_.finished) {
            stats_.seconds = std::max(stats_.seconds, static_cast<double>(a));
            stats_.syscalls = std::max(stats_.syscalls, n);
            if (!up_text.empty() && start_uptime_)
                stats_.seconds = std::max(stats_.seconds, std::stod(up_text) - *start_uptime_);
        }
    } else if (RE2::PartialMatch(t, run_re, &seed, &n)) {
        ++stats_.runs;
        stats_.last_seed = seed;
        finished_runs_syscalls_ += n;
        if (!stats_.finished) stats_.syscalls = std::max(stats_.syscalls, finished_runs_syscalls_);
    } else if (RE2::PartialMatch(t, early_re, &seed)) {
        ++stats_.runs;
        ++stats_.ended_early;
        stats_.last_seed = seed;
    } else if (RE2::PartialMatch(t, total_re, &n, &a, &b, &c)) {
        stats_.finished = true;
        stats_.syscalls = n;
        stats_.seconds = a;
        stats_.runs = b;
        stats_.ended_early = c;
    } else if (RE2::PartialMatch(t, churn_re, &name, &n, &eff_text)) {
        // An empty count (an older guest script could print one) is 0.
        m = eff_text.empty() ? 0 : std::stol(eff_text);
        auto it = std::find_if(stats_.churners.begin(), stats_.churners.end(),
                               [&](const ChurnerStats& s) { return s.name == name; });
        if (it == stats_.churners.end()) it = stats_.churners.insert(stats_.churners.end(), ChurnerStats{name});
        it->rounds = n;
        it->effective = m;
    } else if (RE2::PartialMatch(t, vmstat_re, &name, &n)) {
        stats_.vmstat_delta[name] = n;
    }
}

void StressTracker::feed_stress_ng(const std::string& t) {
    static const RE2 start_re(R"(^\s*# stress-ng: (\d+)s: )");
    static const RE2 ops_re(R"(^\s*# stress-ng: ([a-z0-9-]+)\s+(\d+)\s+[0-9.]+\s)");
    static const RE2 exit_re(R"(^\s*# stress-ng: exit (\d+)\s*$)");
    static const RE2 problem_re(R"(^\s*# stress-ng:? ((?:fail|error): .*|.*skipping.*|did not stop.*)$)");
    StressNgStats& s = stats_.stress_ng;
    int n = 0;
    long ops = 0;
    std::string name;
    if (RE2::PartialMatch(t, start_re, &n)) {
        s = StressNgStats{};
        s.seen = true;
        s.planned_seconds = n;
    } else if (RE2::PartialMatch(t, exit_re, &n)) {
        s.exit_code = n;
    } else if (RE2::PartialMatch(t, ops_re, &name, &ops)) {
        s.bogo_ops[name] = ops;
    } else if (RE2::PartialMatch(t, problem_re, &name)) {
        s.problems.push_back(name);
    }
}

StressStats StressTracker::stats() const {
    StressStats s = stats_;
    if (s.seen && !s.finished && last_kernel_time_ && start_uptime_)
        s.seconds = std::max(s.seconds, *last_kernel_time_ - *start_uptime_);
    return s;
}

}  // namespace mmguard
