#include "Layout.h"

#include "llvm/Support/FileSystem.h"
#include "llvm/Support/Path.h"

namespace pageref {
namespace layout {
namespace {
std::string &selfStorage() {
  static std::string Self;
  return Self;
}
} // namespace

void init(const char *Argv0) {
  selfStorage() = llvm::sys::fs::getMainExecutable(Argv0, reinterpret_cast<void *>(&init));
}

const std::string &self() { return selfStorage(); }

std::string path(llvm::StringRef Rel) {
  // PREFIX/PAGEREF_BINDIR/pageref: up from the executable once per component of the bin dir.
  llvm::SmallString<256> P(llvm::sys::path::parent_path(self()));
  for (auto I = llvm::sys::path::begin(PAGEREF_BINDIR), E = llvm::sys::path::end(PAGEREF_BINDIR); I != E; ++I)
    llvm::sys::path::remove_filename(P);
  llvm::sys::path::append(P, Rel);
  llvm::sys::path::remove_dots(P, /*remove_dot_dot=*/true);
  return std::string(P);
}

std::string plugin() { return path(PAGEREF_PLUGIN_FILE); }

std::string prepareKernel() { return path(PAGEREF_PREPARE_KERNEL_FILE); }

std::string docsDir() {
  std::string Dir = path(PAGEREF_DOC_DIR);
  llvm::SmallString<256> Real;
  if (!llvm::sys::fs::real_path(Dir, Real))
    return std::string(Real);
  return Dir;
}

} // namespace layout
} // namespace pageref
