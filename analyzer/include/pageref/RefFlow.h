// Page-reference flow: follows the references taken by one acquisition
// (get_user_pages*(), pin_user_pages*(), the get-pages family,
// iov_iter_extract_pages()) through a function's CFG, and reports the paths
// that leave with references held, releases that drop them twice, and
// releases of the wrong family.
#pragma once

#include "pageref/ApiModel.h"
#include "pageref/AstUtil.h"
#include "pageref/Facts.h"
#include "pageref/TuIndex.h"

#include "clang/AST/ASTContext.h"

#include <map>
#include <memory>
#include <nlohmann/json_fwd.hpp>
#include <optional>
#include <set>

namespace pageref {

enum class RefFindingKind {
  Leak,                  // held on a path out of the function
  DoubleRelease,         // released again on a path where they were already released
  NegativeCount,         // released with the acquisition's result as the count where it may be an error
  CountMismatch,         // released with the count asked for where the acquisition returned another
  ReleaseUnacquired,     // released on a path where the acquisition failed: nothing was taken
  WrongFamily,           // pins put, refs unpinned
  ExtractUnconditional,  // iov_iter_extract_pages() pages unpinned without a will-pin test
  BoundHit,              // the analysis stopped: nothing reported for that acquisition
  AsyncDrop,             // a bio_vec array or its pages dropped while an async submission may run
};

struct RefFinding {
  RefFindingKind Kind;
  clang::SourceLocation Loc; // where the diagnostic goes
  std::string Message;
  std::vector<Evidence> Notes;
  // A 1:1 replacement of the release function's name, when there is one.
  clang::SourceRange FixRange;
  std::string FixText;
};

/// A release whose family another argument decides: `put_back_pages(cmd,
/// pages, ...)` unpins for one command and puts for another.
struct ConditionalRelease {
  unsigned Param;       // the deciding parameter
  int64_t Equals;       // its value
  ReleaseFamily Family; // the family released when it has that value
  bool Releases = true; // false: that value releases nothing
};

/// What a function of this TU does with a page-array (or page) parameter.
struct ParamEffect {
  // TakesOverIfNonNull: a constructor such as cifs_readdata_direct_alloc()
  // that stores the pages in what it returns, and returns NULL otherwise.
  enum Kind { Uses, Releases, TakesOver, TakesOverIfNonNull } Effect = Uses;
  ReleaseFamily Family = ReleaseFamily::Ref; // for Releases
  std::string Via;                           // the release or hand-off it ends in
  std::vector<ConditionalRelease> Cases;     // for Releases: the family per value of another parameter
  // For the other values of the deciding parameter (a switch's default).
  std::optional<ConditionalRelease> Otherwise;
  // For Releases: the parameter that gives the number of pages released.
  std::optional<unsigned> CountParam;
};

/// Per-function summary, serialisable for cross-TU use (docs/summaries.md).
struct FunctionSummary {
  std::string Name;
  bool ExternallyVisible = false;
  std::map<unsigned, ParamEffect> Params; // only page-carrying parameters
};
nlohmann::json toJson(const FunctionSummary &S);
/// Reads a summary back (what `pageref scan` shares across translation
/// units); an error names what is wrong.
std::optional<FunctionSummary> summaryFromJson(const nlohmann::json &J, std::string &Error);

/// What handing pages to a function of another file does, from its summary.
/// One effect per function, because calls into other files are resolved per
/// function, not per parameter: a release of a known family (ref, pin)
/// first, then a constructor that keeps them when non-NULL, then a
/// hand-off; Uses only when every page parameter merely uses them. Via is
/// the release the summary names. Null for a summary without page
/// parameters. The scan's merge and the SummariesFile option both use it,
/// so CI and the editor resolve a call alike.
std::optional<ParamEffect> callEffect(const FunctionSummary &S);
/// An effect as the deferred variants name it: "uses", "releases-ref",
/// "releases-pin", "takes-over", "takes-over-if-non-null".
const char *assumptionName(const ParamEffect &E);

/// `struct page *`, `struct page **`, `struct folio *`, arrays of them: the
/// parameters a summary describes.
bool isPageCarryingType(clang::QualType T);

struct RefFlowLimits {
  unsigned MaxBlockVisits = 20000; // per acquisition
  unsigned SummaryDepth = 3;
};

class RefFlow {
public:
  RefFlow(clang::ASTContext &Ctx, const ApiModel &Model, const TuIndex &Index, RefFlowLimits Limits = {});
  ~RefFlow();

  /// Findings for every acquisition in \p F.
  std::vector<RefFinding> analyze(const clang::FunctionDecl *F);
  /// Drops of a bio_vec array (or its pages) after an async submission of an
  /// ITER_BVEC iterator over it, where the call may return -EIOCBQUEUED.
  std::vector<RefFinding> analyzeAsync(const clang::FunctionDecl *F);
  /// The summary of a function defined in this TU (computed on demand).
  const FunctionSummary &summary(const clang::FunctionDecl *F);

  /// Cross-TU support for the whole-tree driver. A call that hands tracked
  /// pages to a function defined in no file of this TU counts as a hand-off,
  /// unless an effect is assumed for it here. takeExternalsSeen() returns
  /// (and forgets) the names of such functions met since the last call.
  void assumeExternal(std::map<std::string, ParamEffect> Effects);
  std::set<std::string> takeExternalsSeen();

  struct Impl;

private:
  std::unique_ptr<Impl> P;
};

} // namespace pageref
