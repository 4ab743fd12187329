// Where pageref's own files are. Everything is found relative to the running
// executable: PREFIX/bin/pageref finds PREFIX/lib/pageref/PagerefTidyModule.so,
// PREFIX/share/pageref/prepare-kernel.py and PREFIX/share/doc/pageref/. The
// build tree has the same layout (build/share/ links to the sources), so a
// build-tree run and an installed one resolve the same way, and an installed
// pageref never names its source or build tree. The relative paths come from
// cmake/PagerefLayout.cmake, which the install rules use too.
#pragma once

#include "llvm/ADT/StringRef.h"

#include <string>

namespace pageref {
namespace layout {

/// Records argv[0]; main() calls it before anything below.
void init(const char *Argv0);
/// The absolute path of the running pageref executable.
const std::string &self();
/// PREFIX/\p Rel, PREFIX being the directory that holds bin/.
std::string path(llvm::StringRef Rel);

/// The clang-tidy plugin (clang-tidy-19 --load=...).
std::string plugin();
/// tools/kernel/prepare-kernel.py as installed.
std::string prepareKernel();
/// pageref's docs/ (in the build tree: the sources' docs/ itself, links
/// resolved), for SARIF's helpUri.
std::string docsDir();

} // namespace layout
} // namespace pageref
