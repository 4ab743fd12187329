// Registers the pageref checks with clang-tidy, and refuses to run inside a
// clang-tidy of another LLVM major version: there is no ABI between versions,
// and clang-tidy 14 (Debian's /usr/bin/clang-tidy) would load this plugin
// silently and run none of its checks.
#include "AsyncBvecDropCheck.h"
#include "GetPagesCallerCheck.h"
#include "RefFlowCheck.h"

#include "ClangTidyModule.h"
#include "ClangTidyModuleRegistry.h"
#include "clang/Basic/Version.h"
#include "pageref/Config.h"

#include <cstdio>
#include <cstdlib>
#include <string>

namespace pageref {
namespace {

/// The major version in "Debian clang version 19.1.7 (3~deb12u1)".
int majorOf(const std::string &FullVersion) {
  auto Pos = FullVersion.find("version ");
  if (Pos == std::string::npos)
    return -1;
  return std::atoi(FullVersion.c_str() + Pos + 8);
}

// Runs when the plugin is loaded, before clang-tidy looks at the registry.
const bool HostVersionChecked = [] {
  std::string Host = clang::getClangFullVersion();
  if (majorOf(Host) != PAGEREF_LLVM_MAJOR) {
    std::fprintf(stderr,
                 "error: the pageref plugin was built for clang-tidy %s (LLVM %d) but was loaded into a "
                 "clang-tidy reporting '%s'; it cannot run there and would report nothing. Use clang-tidy-%d "
                 "(for instance `clang-tidy-%d --load=$(pageref --plugin-path) ...`).\n",
                 PAGEREF_LLVM_VERSION, PAGEREF_LLVM_MAJOR, Host.c_str(), PAGEREF_LLVM_MAJOR,
                 PAGEREF_LLVM_MAJOR);
    std::fflush(stderr);
    std::_Exit(1);
  }
  return true;
}();

class PagerefModule : public clang::tidy::ClangTidyModule {
public:
  void addCheckFactories(clang::tidy::ClangTidyCheckFactories &Factories) override {
    Factories.registerCheck<GetPagesCallerCheck>("pageref-get-pages-caller");
    Factories.registerCheck<UnbalancedReleaseCheck>("pageref-unbalanced-release");
    Factories.registerCheck<ReleaseMismatchCheck>("pageref-release-mismatch");
    Factories.registerCheck<AsyncBvecDropCheck>("pageref-async-bvec-drop");
  }
};

} // namespace
} // namespace pageref

static clang::tidy::ClangTidyModuleRegistry::Add<pageref::PagerefModule>
    PagerefModuleRegistration("pageref-module", "Page-reference discipline checks for the Linux kernel.");

// Referenced by statically linked front ends (the pageref driver, pageref-clangd)
// to pull this module in.
volatile int PagerefModuleAnchorSource = 0;
