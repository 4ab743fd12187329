#include "ExternalSummaries.h"

#include "llvm/Support/FileSystem.h"
#include "llvm/Support/MemoryBuffer.h"

#include <mutex>
#include <nlohmann/json.hpp>

namespace pageref {
namespace {

std::shared_ptr<const ExternalEffects> parse(llvm::StringRef Path, std::string &Error) {
  auto Buffer = llvm::MemoryBuffer::getFile(Path);
  if (!Buffer) {
    Error = Path.str() + ": " + Buffer.getError().message();
    return nullptr;
  }
  nlohmann::json Doc = nlohmann::json::parse((*Buffer)->getBuffer().begin(), (*Buffer)->getBuffer().end(),
                                             nullptr, /*allow_exceptions=*/false);
  if (Doc.is_discarded()) {
    Error = Path.str() + ": not valid JSON";
    return nullptr;
  }
  // A scan's pageref.json names files relative to its tree; a list of
  // per-TU summaries has absolute ones.
  std::string Tree;
  const nlohmann::json *List = &Doc;
  if (Doc.is_object()) {
    if (!Doc.contains("summaries") || !Doc["summaries"].is_array()) {
      Error = Path.str() + ": neither a scan result with a 'summaries' list nor a list of summaries";
      return nullptr;
    }
    List = &Doc["summaries"];
    if (Doc.contains("tree") && Doc["tree"].is_string())
      Tree = Doc["tree"].get<std::string>() + "/";
  } else if (!Doc.is_array()) {
    Error = Path.str() + ": neither a scan result with a 'summaries' list nor a list of summaries";
    return nullptr;
  }
  auto Effects = std::make_shared<ExternalEffects>();
  for (size_t I = 0; I < List->size(); ++I) {
    const nlohmann::json &J = (*List)[I];
    std::string Why;
    std::optional<FunctionSummary> S = summaryFromJson(J, Why);
    if (!S) {
      Error = Path.str() + ": summaries[" + std::to_string(I) + "]: " + Why;
      return nullptr;
    }
    // A static function of another file cannot be what this TU calls.
    if (!S->ExternallyVisible)
      continue;
    std::string File = J.contains("file") && J["file"].is_string() ? J["file"].get<std::string>() : "";
    if (!Tree.empty() && llvm::StringRef(File).starts_with(Tree))
      File.erase(0, Tree.size());
    if (auto E = callEffect(*S)) {
      if (E->Effect == ParamEffect::Releases)
        E->Via += " in " + File;
      Effects->emplace(S->Name, *E);
    }
  }
  return Effects;
}

} // namespace

std::shared_ptr<const ExternalEffects> loadExternalEffects(llvm::StringRef Path, std::string &Error) {
  struct Cached {
    llvm::sys::TimePoint<> Modified;
    uint64_t Size = 0;
    std::shared_ptr<const ExternalEffects> Effects;
  };
  // clangd builds ASTs on several threads.
  static std::mutex Lock;
  static std::map<std::string, Cached> Cache;
  llvm::sys::fs::file_status Status;
  if (std::error_code EC = llvm::sys::fs::status(Path, Status)) {
    Error = Path.str() + ": " + EC.message();
    return nullptr;
  }
  std::lock_guard<std::mutex> Guard(Lock);
  Cached &C = Cache[Path.str()];
  if (C.Effects && C.Modified == Status.getLastModificationTime() && C.Size == Status.getSize())
    return C.Effects;
  auto Effects = parse(Path, Error);
  if (Effects)
    C = {Status.getLastModificationTime(), Status.getSize(), Effects};
  return Effects;
}

} // namespace pageref
