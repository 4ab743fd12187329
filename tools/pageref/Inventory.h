#pragma once
#include <string>
namespace pageref {
/// `pageref inventory`: runs the pageref-get-pages-caller check over the TUs
/// of a compile database in clang-tidy worker processes, then prints the call
/// sites as a table and writes them as one JSON file.
int runInventory(int Argc, char **Argv, const std::string &PluginPath);
} // namespace pageref
