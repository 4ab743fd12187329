// pageref-clangd: Debian's clangd 19 (its own main, from libclangdMain.a) with
// the pageref checks registered in the clang-tidy registry it consults. clangd
// cannot load clang-tidy plugins, so the checks are linked in.
#include <cstring>
#include <vector>

namespace clang {
namespace clangd {
int clangdMain(int argc, char *argv[]);
} // namespace clangd
} // namespace clang

// Defined next to the module's registration in checks/PagerefTidyModule.cpp.
extern volatile int PagerefModuleAnchorSource;

int main(int argc, char *argv[]) {
  // Reading the anchor keeps the registration's object file in the link even
  // if the checks ever move into an archive.
  (void)PagerefModuleAnchorSource;
  // clangd looks for clang's built-in headers next to its own executable,
  // which for this one is the build or install tree; point it at clang 19's,
  // unless the user chose a directory.
  std::vector<char *> Args(argv, argv + argc);
  bool HasResourceDir = false;
  for (int I = 1; I < argc; ++I)
    if (std::strncmp(argv[I], "--resource-dir", 14) == 0 || std::strncmp(argv[I], "-resource-dir", 13) == 0)
      HasResourceDir = true;
  static char ResourceDirArg[] = "--resource-dir=" PAGEREF_CLANG_RESOURCE_DIR;
  if (!HasResourceDir)
    Args.push_back(ResourceDirArg);
  Args.push_back(nullptr);
  return clang::clangd::clangdMain(static_cast<int>(Args.size()) - 1, Args.data());
}
