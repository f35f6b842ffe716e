// Files for tests: read one whole, write one (with its directories), and a
// scratch directory named after the running test.
#pragma once

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include "workspace.h"

namespace mmguard::testing {

inline std::string slurp(const std::filesystem::path& p) {
    std::ifstream f(p);
    std::ostringstream s;
    s << f.rdbuf();
    return s.str();
}

inline void put(const std::filesystem::path& p, const std::string& text) {
    std::filesystem::create_directories(p.parent_path());
    std::ofstream(p) << text;
}

// /tmp/mmguard-PREFIX-PID-TESTNAME, empty.
inline std::filesystem::path scratch_dir(const std::string& prefix) {
    auto dir = std::filesystem::temp_directory_path() /
               ("mmguard-" + prefix + "-" + std::to_string(::getpid()) + "-" +
                ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(dir);
    std::filesystem::create_directories(dir);
    return dir;
}

// A stand-in kernel tree at root/linux (a top Makefile of 6.12.SUBLEVEL,
// mm/page_alloc.c holding `page_alloc`) and a project at root/project with
// a one-file KUnit hook; returns the workspace (work root/build, out
// root/out). Patches are the caller's.
inline Workspace stand_in_tree(const std::filesystem::path& root, const std::string& page_alloc,
                               int sublevel = 118) {
    auto ksrc = root / "linux";
    put(ksrc / "Makefile", "VERSION = 6\nPATCHLEVEL = 12\nSUBLEVEL = " + std::to_string(sublevel) +
                               "\nEXTRAVERSION =\n");
    put(ksrc / "mm/page_alloc.c", page_alloc);
    put(ksrc / "mm/Kconfig", "config MMU\n\tbool\n");
    put(ksrc / "mm/Makefile", "obj-y += page_alloc.o\n");
    Workspace ws;
    ws.project = root / "project";
    ws.work = root / "build";
    ws.out = root / "out";
    put(ws.kunit() / "Kconfig", "config MMGUARD_KUNIT\n\tbool\n");
    put(ws.kunit() / "Makefile", "obj-y += t.o\n");
    put(ws.kunit() / "t.c", "/* test */\n");
    return ws;
}

}  // namespace mmguard::testing
