#pragma once
#include <optional>
#include <string>
#include <vector>

#include "llvm/ADT/StringRef.h"
namespace pageref {
/// `pageref inventory`: runs the pageref-get-pages-caller check over the TUs
/// of a compile database in clang-tidy worker processes, then prints the call
/// sites as a table and writes them as one JSON file.
int runInventory(int Argc, char **Argv, const std::string &PluginPath);

/// Runs tools/kernel/prepare-kernel.py for Debian's linux-source-VERSION and
/// returns the prepared tree (extracted, configured, compile database).
std::optional<std::string> prepareDebian(const std::string &Version, std::string &Err);
/// The same for any prepare-kernel.py mode: ("--debian", "6.1") or
/// ("--tree", PATH) for a tree that has no compile database yet.
std::optional<std::string> prepareKernel(llvm::StringRef Mode, const std::string &What, std::string &Err);
/// True if the file's text names one of \p Names as a whole identifier.
bool mentionsAny(const std::string &File, const std::vector<std::string> &Names);
/// \p S quoted for a POSIX shell, when it needs it.
std::string shellQuote(llvm::StringRef S);
} // namespace pageref
