// The facts pageref establishes about a get-pages call site, in the
// vocabulary of Viro's mail: iterator kinds, where the pages go, how they are
// released, and a verdict. One schema for the plugin's output, the driver,
// the reports and the cache.
#pragma once

#include "pageref/ApiModel.h"
#include "pageref/IterKind.h"

#include "clang/Basic/SourceLocation.h"
#include "clang/Basic/SourceManager.h"

#include <nlohmann/json_fwd.hpp>
#include <optional>
#include <string>
#include <vector>

namespace clang {
class CallExpr;
}

namespace pageref {

constexpr int FactsSchemaVersion = 1;

/// A piece of evidence with the place it is seen; becomes a diagnostic note.
struct Evidence {
  clang::SourceLocation Loc;
  std::string Message;
};

enum class Verdict { ExtractReady, NeedsRefs, AlreadyConditional, Unknown };
llvm::StringRef verdictName(Verdict V); // "extract-ready", ...

/// Where the pages go after the call.
struct PageSink {
  std::string Owner; // bio, skb-frags, scatterlist, pipe-buffers, struct-field, returned, helper, ...
  std::string Via;   // the function or field that takes them
  std::string InFunction;
  clang::SourceLocation Loc;
  bool TakesOwnRef = false; // skb_append_pagefrags(): the owner holds its own reference, not the caller's
};

/// A call that drops the references.
struct PageRelease {
  std::string Function; // put_page, release_pages, bio_release_pages, ...
  ReleaseFamily Family = ReleaseFamily::Ref;
  std::string InFunction;
  clang::SourceLocation Loc;
  bool Conditional = false;
  std::string Condition;     // innermost condition text when Conditional
  bool KindConditional = false; // the condition depends on the iterator kind / pin state
  std::string Route;         // "local", "helper foo()", "field ap->pages", "bio"
  bool OtherTranslationUnit = false; // assumed from a function of another file (cross-TU variants)
};

struct IterKindsResult {
  IterKindSet Kinds;
  std::vector<Evidence> Why;
  std::vector<Evidence> Stops; // where following the iterator stopped, and why
};

/// Viro's third rule: do the references end up owned by an async
/// completion, and does the submitting path wait for it?
struct AsyncOwnership {
  std::string Completion;  // the callback that drops them, e.g. cifs_uncached_readdata_release
  std::string Via;         // how it is wired: "ki_complete", "bi_end_io", "callback argument of f()"
  clang::SourceLocation WiredAt;
  std::string Wait;        // the wait on the submitting path, empty if none found
  clang::SourceLocation WaitAt;
  bool Unwaited = false;   // "report success while the I/O still holds references nobody waits for"
};

struct CallerFacts {
  const clang::CallExpr *Call = nullptr;
  std::string Function; // enclosing function
  std::string Callee;
  IterKindsResult Iter;
  std::vector<PageSink> Sinks;
  std::vector<PageRelease> Releases;
  std::vector<Evidence> FlowStops; // where following the pages stopped
  std::vector<std::string> ExternalCallees; // functions of other files the pages were passed to
  std::optional<AsyncOwnership> Async;
  Verdict Result = Verdict::Unknown;
  std::string Reason;

  /// One-line summary used as the diagnostic message.
  std::string summary() const;
};

/// JSON record of one call site (schema in docs/facts-schema.md).
nlohmann::json toJson(const CallerFacts &F, const clang::SourceManager &SM);

/// Writes \p Doc to \p Path atomically (temp file in the same directory, then
/// rename). Returns an error message naming the path, or empty on success.
std::string writeJsonAtomically(const nlohmann::json &Doc, llvm::StringRef Path);
/// The same for any text (reports, the scan cache's input lists).
std::string writeTextAtomically(llvm::StringRef Text, llvm::StringRef Path);

} // namespace pageref
