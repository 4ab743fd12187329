// The effects of functions of other files, from the summaries a previous
// `pageref scan` wrote (option SummariesFile of the reference-flow checks).
// Alone, a check treats pages handed to a function defined in no file of the
// TU as handed off; with these it resolves such calls the way the scan's
// merge does, so the editor and CI agree (docs/editor.md).
#pragma once

#include "pageref/RefFlow.h"

#include "llvm/ADT/StringRef.h"

#include <map>
#include <memory>
#include <string>

namespace pageref {

using ExternalEffects = std::map<std::string, ParamEffect>;

/// The externally visible functions summarised in \p Path (a scan's
/// pageref.json, or a JSON list of summaries) and what a call hands them
/// does to the pages. Read once per process and file version: clangd creates
/// the checks anew for every edit. On failure returns null and sets \p Error.
std::shared_ptr<const ExternalEffects> loadExternalEffects(llvm::StringRef Path, std::string &Error);

} // namespace pageref
