// `pageref scan`, `pageref merge`, `pageref baseline` and `pageref check`
// (Kbuild's checker hook): the whole-tree driver for kernel CI.
#pragma once

#include <nlohmann/json.hpp>

#include <string>
#include <vector>

namespace pageref {

int runScan(int Argc, char **Argv, const std::string &Self);
int runMerge(int Argc, char **Argv);
int runBaseline(int Argc, char **Argv);
int runCheck(int Argc, char **Argv);

/// The scan document (docs/scan-schema.md) from per-TU results: cross-TU
/// resolution with the merged summaries, fingerprints, paths relative to
/// \p Tree, everything sorted. \p UnknownCalleesUse: a function no TU
/// defines is assumed to only use the pages it is handed (else: keeps them).
nlohmann::json mergeTuResults(std::vector<nlohmann::json> TUs, const std::string &Tree, const std::string &Checks,
                              const std::string &ApiModelDigest, bool UnknownCalleesUse);

} // namespace pageref
