// Where things live: the project checkout, the build work directory (kernel
// tree, objects, initramfs; kept between runs) and one run's output folder.
#pragma once

#include <filesystem>
#include <string>

namespace mmguard {

namespace fs = std::filesystem;

struct Workspace {
    fs::path project;   // the mmguard checkout (patches/, kunit/, selftests/, qemu/)
    fs::path work;      // build/ : kept between runs, ignored by git
    fs::path out;       // out/<run>/ : logs and reports of this run

    fs::path src() const { return work / "src"; }          // kernel tree (a git repo)
    fs::path obj() const { return work / "obj"; }          // O= object directory
    fs::path bzimage() const { return obj() / "arch/x86/boot/bzImage"; }
    fs::path guest() const { return work / "guest"; }      // initramfs staging
    fs::path patches() const { return project / "patches"; }
    fs::path kunit() const { return project / "kunit"; }
    fs::path selftests() const { return project / "selftests"; }
    fs::path guest_files() const { return project / "qemu/guest"; }
};

}  // namespace mmguard
