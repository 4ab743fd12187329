// The reference-flow engine's internals, shared by its source files:
//   Tracking.cpp    what one run follows: the acquisition, its pages' names, their owner
//   Conditions.cpp  atoms, the values assignments give them, what a branch says about them
//   Transfer.cpp    what each statement does to the pages
//   Run.cpp         the path-sensitive walk over the CFG, exits, findings
//   Summaries.cpp   what a function of this TU does with pages it is given
//   FieldFacts.cpp  pages kept in struct fields across functions: families, guards
#pragma once

#include "Atoms.h"
#include "PathState.h"

#include "pageref/CallerClassifier.h"
#include "pageref/RefFlow.h"

#include "clang/AST/ASTContext.h"
#include "clang/Analysis/CFG.h"
#include "clang/Basic/SourceManager.h"
#include "llvm/ADT/DenseMap.h"
#include "llvm/ADT/DenseSet.h"

#include <map>
#include <memory>
#include <set>

namespace pageref {

namespace refflow {

/// The variable at the root of an lvalue written through a pointer
/// (`x->f`, `*x`, `x[i]` with x a pointer), or of a global; else null.
const clang::VarDecl *throughPointerRoot(const clang::Expr *L);

/// A parameter or a global: storage that outlives the call.
bool isCallersStorage(const clang::ValueDecl *Root);

/// `&obj->member` (or `&obj.member`): the member expression, else null.
const clang::MemberExpr *memberAddress(const clang::Expr *Arg);

/// One resource being followed through a function.
struct Tracked {
  enum Resource : uint8_t {
    Pages, // the references or pins an acquisition took
    Array, // the page array an acquisition allocated (iov_iter_get_pages_alloc2(), _extract_pages())
    Async, // a bio_vec array submitted with a kiocb (Async.cpp); Call is the submission, Iter the iov_iter_bvec()
  };
  Resource What = Pages;
  const clang::FunctionDecl *F = nullptr;
  const clang::CallExpr *Call = nullptr; // null for a summary's parameter
  std::string Callee;
  ReleaseFamily Family = ReleaseFamily::Ref;
  std::vector<ObjectPath> Paths; // every name the pages (or the array) go by
  // The pages live in storage the caller or a long-lived struct owns (an
  // array parameter, a field, a global): a successful return hands them back.
  bool Foreign = false;
  // The root object of that storage (`umem` in `umem->pgs`), if any.
  const clang::ValueDecl *ForeignOwner = nullptr;
  const clang::FieldDecl *ForeignField = nullptr;
  bool SinglePage = false;     // get_page(), folio_get(): one reference on one page
  bool AskedForOne = false;    // `get_user_pages_fast(addr, 1, ...)`: `n != 1` means none
  bool AllocatedOnFailure = false; // Array: allocated whatever the result (extract into NULL)
  const clang::Expr *Iter = nullptr; // iov_iter_extract_pages(): the source iterator
  IterKindSet IterKinds = IterKindSet::all(); // what the classifier says reaches Iter
  AtomId Result = 0;           // the acquisition's result symbol
  AtomId IterAtom = 0;         // the kind symbol of Iter
  bool ResultIsBytes = false;  // get-pages family: bytes, not pages
  std::string Via;             // through a helper of this TU: its own acquisition
  bool HeldOnError = false;    // a failed helper may leave pages held (AcquiredPages::HeldOnError)
  // Async: the kiocb, its ki_complete atom, whether it is async without a
  // fact, whether the function took the page references in the array.
  const clang::Expr *Kiocb = nullptr;
  AtomId CompletionAtom = 0;
  bool AsyncByDefault = true;
  bool OwnsPageRefs = false;
  /// get_page(page) on a page parameter: a second release of the storage the
  /// caller owns may be of pages refilled since, but one page stays the same
  /// page, and its second put drops the caller's reference.
  bool referencesParameterPage() const {
    return SinglePage && !Paths.empty() && llvm::isa<clang::ParmVarDecl>(Paths.front().Root) &&
           Paths.front().Suffix.empty();
  }
};

/// What one run found out, beyond the findings.
struct RunResult {
  std::vector<RefFinding> Findings;
  std::set<const clang::Stmt *> Reported;
  std::vector<std::pair<const clang::CallExpr *, ReleaseFamily>> ReleasesSeen;
  std::optional<unsigned> CountParam; // summaries: the releases' count is this parameter
  bool HandedOff = false;
  bool HeldAtExit = false;
  bool BoundHit = false;
  std::vector<const clang::Expr *> HeldExitReturns;
  // Summaries: at each exit, ownership and the values of integer parameters.
  struct Exit {
    Own Ref;
    ReleaseFamily RelFam;
    std::map<unsigned, int64_t> ParamConsts;
    bool Kept = false;
  };
  std::vector<Exit> Exits;
  // Field facts: where the pages were stored (record, field).
  std::vector<std::pair<const clang::FieldDecl *, const clang::Stmt *>> FieldStores;
  bool Returned = false;      // returned to the caller (`return pages;`)
  const clang::CallExpr *MergeSink = nullptr; // the sink whose `same_page` said it kept nothing
  bool HeldOnSuccess = false; // in the caller's storage at a successful return
  bool HeldOnError = false;   // ... and at an error return, with the owner told (an out-count)
};

/// A function of this TU that hands its caller pages it acquired: as its
/// return value (io_pin_pages()) or in an array parameter (rds_pin_pages()).
struct AcquiredPages {
  ReleaseFamily Family = ReleaseFamily::Ref;
  std::string Via;  // the acquisition inside: "pin_user_pages() at line 12"
  int Param = -1;   // -1: the returned pointer; else the parameter holding them
  bool HeldOnError = false; // a failure may leave some acquired (lock_pages(..., &pinned))
};

/// Per function: its CFG and atoms, shared by the runs of its acquisitions.
struct FunctionCtx {
  const clang::FunctionDecl *F = nullptr;
  std::unique_ptr<clang::CFG> Cfg;
  AtomTable Atoms;
  llvm::DenseSet<AtomId> Interesting; // atoms a test or a return of the function reads
  llvm::DenseMap<const clang::Stmt *, const clang::Stmt *> LoopOf; // innermost loop of a statement
  bool Built = false;
};

} // namespace refflow

struct RefFlow::Impl {
  using Tracked = refflow::Tracked;
  using Config = refflow::Config;
  using ConfigSet = refflow::ConfigSet;
  using Value = refflow::Value;
  using AtomId = refflow::AtomId;
  using Own = refflow::Own;
  using RunResult = refflow::RunResult;
  using FunctionCtx = refflow::FunctionCtx;

  clang::ASTContext &Ctx;
  const clang::SourceManager &SM;
  const ApiModel &Model;
  const TuIndex &Index;
  RefFlowLimits Limits;
  ParentCache Parents;
  std::unique_ptr<CallerClassifier> Classifier;

  std::map<const clang::FunctionDecl *, FunctionSummary> Summaries;
  // Summaries of a parameter's field (`umem` in xdp_umem_unpin_pages(umem) releases umem->pgs).
  std::map<std::tuple<const clang::FunctionDecl *, unsigned, std::string>, ParamEffect> FieldSummaries;
  std::set<const clang::FunctionDecl *> SummaryInProgress;
  std::map<const clang::FunctionDecl *, std::optional<refflow::AcquiredPages>> Acquirers;
  const refflow::AcquiredPages *acquiredBy(const clang::FunctionDecl *F);
  std::set<std::string> ExternalsSeen;
  std::map<std::string, ParamEffect> ExternalAssumptions;
  std::map<const clang::FunctionDecl *, std::unique_ptr<FunctionCtx>> Functions;

  Impl(clang::ASTContext &C, const ApiModel &M, const TuIndex &I, RefFlowLimits L)
      : Ctx(C), SM(C.getSourceManager()), Model(M), Index(I), Limits(L) {}
  ~Impl();

  // ---- Tracking.cpp
  std::vector<RefFinding> analyze(const clang::FunctionDecl *F);
  std::optional<Tracked> trackAcquisition(const clang::CallExpr *Call, const clang::FunctionDecl *F);
  std::optional<Tracked> trackAllocatedArray(const Tracked &Pages);
  void addAliases(Tracked &T);
  bool isOtherSlice(const Tracked &T, const clang::VarDecl *V, const clang::Expr *Init);
  bool tracked(const Tracked &T, const clang::Expr *E);
  const clang::Expr *stripViews(const clang::Expr *E);
  bool pointsIntoForeignStorage(const ObjectPath &P, const clang::FunctionDecl *F);
  bool handsOwnerToItsRelease(FunctionCtx &FC, const Tracked &T, const clang::CallExpr *C, const clang::Expr *Arg,
                              ConfigSet &In);
  bool linksOwnerIntoForeignStorage(const Tracked &T, const clang::CallExpr *C, const clang::Expr *Arg);
  bool heldByOthers(const ObjectPath &P, const clang::FunctionDecl *F);
  bool addressStoredBefore(const ObjectPath &P, const clang::CallExpr *Acq, const clang::FunctionDecl *F);
  const clang::CallExpr *sinkedBefore(const ObjectPath &P, const clang::CallExpr *Acq, const clang::FunctionDecl *F);
  std::vector<const clang::Expr *> pointerSources(const ObjectPath &P, const clang::FunctionDecl *F);
  IterKindSet extractKinds(const clang::CallExpr *Call);
  FunctionCtx &functionCtx(const clang::FunctionDecl *F);
  const clang::Stmt *enclosingLoop(const clang::Stmt *S, const clang::FunctionDecl *F);

  // ---- Conditions.cpp
  std::optional<AtomId> atomOf(FunctionCtx &FC, const Tracked &T, const clang::Expr *E);
  std::optional<AtomId> iterAtom(FunctionCtx &FC, const clang::Expr *Iter);
  std::optional<std::pair<AtomId, bool>> relationAtom(FunctionCtx &FC, const clang::Expr *L,
                                                      clang::BinaryOperatorKind Op, const clang::Expr *R);
  AtomId resultAtom(FunctionCtx &FC, const clang::CallExpr *Call);
  void collectInteresting(FunctionCtx &FC);
  /// The value \p E has on the path \p C (resolved through aliases when \p Resolve).
  Value valueOf(FunctionCtx &FC, const Tracked &T, const Config &C, const clang::Expr *E);
  Value resolve(const Config &C, FunctionCtx &FC, AtomId A);
  /// Assigns \p V to \p A: forgets what depended on it.
  void assign(FunctionCtx &FC, Config &C, AtomId A, Value V);
  /// Forgets what a call may have changed below \p Prefix (a field path
  /// key; empty: all of what \p Root points to; \p Deep: \p Root itself).
  void forget(FunctionCtx &FC, Config &C, const clang::ValueDecl *Root, bool Deep, const std::string &Prefix = "");
  std::optional<std::pair<const clang::ValueDecl *, std::string>> fieldKey(const clang::Expr *E);
  /// Refines \p C by the branch (\p Cond, \p Truth); false if the path cannot take it.
  bool refineBranch(FunctionCtx &FC, const Tracked &T, Config &C, const clang::Expr *Cond, bool Truth);
  bool refineCompare(FunctionCtx &FC, Config &C, AtomId A, clang::BinaryOperatorKind Op, int64_t K, bool Truth);
  bool refineKinds(FunctionCtx &FC, Config &C, AtomId Iter, IterKindSet Kinds, bool Truth);
  bool refineSwitchCase(FunctionCtx &FC, const Tracked &T, Config &C, const clang::SwitchStmt *Sw,
                        const clang::Stmt *Label);
  /// After a refinement: a failed acquisition took nothing, a pending owner decided.
  void settle(FunctionCtx &FC, const Tracked &T, Config &C);
  /// The acquisition ran on the path \p C and its result says it took nothing.
  bool acquisitionFailed(FunctionCtx &FC, const Tracked &T, const Config &C);
  std::optional<int64_t> constant(const clang::Expr *E);
  /// What the path \p C knows of `A == B` from the relations its tests left.
  std::optional<bool> knownEqual(FunctionCtx &FC, const Config &C, const clang::ValueDecl *A, const clang::Expr *B);
  bool isErrorValue(FunctionCtx &FC, const Tracked &T, const Config &C, const clang::Expr *E);
  bool returnsZeroSomewhere(const clang::FunctionDecl *F);
  std::map<const clang::FunctionDecl *, bool> ReturnsZero;
  bool isWarnCondition(const clang::Expr *Cond);
  // Without a symbol for the extraction's iterator (an expression the engine
  // cannot name), the will-pin test is looked for around the release.
  bool testsWillPin(const clang::Expr *Cond);
  bool underWillPinTest(const clang::Stmt *S, const clang::FunctionDecl *F);
  bool extractUserOnly(const Tracked &T);

  // ---- Transfer.cpp
  void transfer(FunctionCtx &FC, const Tracked &T, const clang::Stmt *S, ConfigSet &In, RunResult &Out);
  void onAcquisition(FunctionCtx &FC, const Tracked &T, ConfigSet &In);
  void onRelease(FunctionCtx &FC, const Tracked &T, ConfigSet &In, const clang::CallExpr *Rel,
                 ReleaseFamily Family, llvm::StringRef Name, const std::string &Through, RunResult &Out,
                 bool Element, const clang::Expr *Arg = nullptr);
  void onCall(FunctionCtx &FC, const Tracked &T, ConfigSet &In, const clang::CallExpr *C, RunResult &Out);
  void onAssign(FunctionCtx &FC, const Tracked &T, ConfigSet &In, const clang::Expr *Lhs, const clang::Expr *Rhs,
                const clang::Stmt *S, RunResult &Out, bool Compound);
  void handOff(ConfigSet &In, RunResult &Out, const Tracked *T = nullptr);
  void checkCount(FunctionCtx &FC, const Tracked &T, ConfigSet &In, const clang::CallExpr *Rel,
                  const clang::Expr *Count, llvm::StringRef Name, const std::string &Through, RunResult &Out);
  void addPathNotes(RefFinding &F, const Config &C);
  void checkAskedCount(FunctionCtx &FC, const Tracked &T, ConfigSet &In, const clang::CallExpr *Rel,
                       const clang::Expr *Count, llvm::StringRef Name, const std::string &Through, RunResult &Out);
  /// Something may keep the pages (a function whose body this TU does not
  /// have, a stored pfn): no leak is reported, releases are still checked.
  void keep(ConfigSet &In, RunResult &Out);
  void setOwn(ConfigSet &In, Own From, Own To);
  /// An effect of a function the pages are handed to (summary or assumption).
  const ParamEffect *effectOfCall(const clang::CallExpr *C, unsigned Arg, const Tracked &T, bool &Unknown);
  bool storesIntoAllocated(FunctionCtx &FC, const clang::Expr *Lhs, const clang::FunctionDecl *F,
                           const clang::ValueDecl *&Root);
  bool isAllocation(const clang::Expr *E, bool *Zeroed = nullptr);

  // ---- Run.cpp
  RunResult run(const Tracked &T, Config Entry);
  void checkExit(FunctionCtx &FC, const Tracked &T, const Config &C, const clang::ReturnStmt *Ret,
                 const refflow::WitnessTable &W, RunResult &Out, std::set<const clang::Stmt *> &LeakReported);
  std::map<const clang::Stmt *, refflow::Own> disposingLoops(const Tracked &T);
  std::string text(const clang::Expr *E) { return exprText(E, Ctx, 70); }
  unsigned line(clang::SourceLocation L) { return lineOf(L, SM); }
  void fixFor(RefFinding &Out, const clang::CallExpr *Rel, ReleaseFamily Acquired);
  refflow::WitnessTable *Witnesses = nullptr; // of the current run

  // ---- Summaries.cpp
  const FunctionSummary &summaryOf(const clang::FunctionDecl *F);
  const ParamEffect *fieldSummary(const clang::FunctionDecl *F, unsigned Param, const std::string &Suffix,
                                  const ObjectPath &Rest);
  ParamEffect effectFromRun(const clang::FunctionDecl *F, const RunResult &R);
  std::optional<ParamEffect> casesFromExits(const clang::FunctionDecl *F, const RunResult &R, ParamEffect E);
  bool returnsNullThere(const clang::Expr *Ret, const clang::FunctionDecl *F);

  // ---- Async.cpp
  std::vector<RefFinding> analyzeAsync(const clang::FunctionDecl *F);
  std::optional<AtomId> completionAtom(FunctionCtx &FC, const clang::Expr *Kiocb);
  bool kiocbAsyncByDefault(const clang::Expr *Kiocb);
  void asyncSubmission(FunctionCtx &FC, const Tracked &T, ConfigSet &In);
  void asyncDrop(FunctionCtx &FC, const Tracked &T, ConfigSet &In, const clang::CallExpr *Drop,
                 const std::string &What, RunResult &Out);
  void asyncCall(FunctionCtx &FC, const Tracked &T, ConfigSet &In, const clang::CallExpr *C, RunResult &Out);
  void forgetFailure(const Tracked &T, ConfigSet &In, const clang::CallExpr *C);
  void forgetOutParams(FunctionCtx &FC, ConfigSet &In, const clang::CallExpr *C);
  void invalidateAfterCall(FunctionCtx &FC, ConfigSet &In, const clang::CallExpr *C);
  bool underRefcountPut(const clang::Stmt *S, const clang::FunctionDecl *F);
  std::optional<std::string> helperDrops(const clang::FunctionDecl *F, unsigned Param, const std::string &Rest,
                                         bool Pages, unsigned Depth);

  // ---- FieldFacts.cpp
  struct FieldUse {
    const clang::FunctionDecl *F;
    const clang::CallExpr *Call;
    ReleaseFamily Family;
    bool UnderWillPin;
  };
  struct FieldStore {
    const clang::FunctionDecl *F;
    const clang::CallExpr *Acquisition;
    ReleaseFamily Family;
  };
  struct FieldInfo {
    std::vector<FieldUse> Releases;                 // releases of pages kept in the field
    std::set<const clang::FieldDecl *> GuardFields; // fields the releasing functions test
    std::set<const clang::FieldDecl *> CountFields; // fields that say how many they release
    std::vector<FieldStore> Stores;                 // acquired pages stored into it
    bool OtherSources = false;                      // pages of no acquisition stored into it too
  };
  std::map<const clang::FieldDecl *, FieldInfo> FieldFacts;
  std::set<const clang::FieldDecl *> WillPinFields; // fields that hold an iov_iter_extract_will_pin() answer
  std::set<const clang::VarDecl *> CountGlobals;    // globals some release takes its count from
  bool FieldFactsBuilt = false;
  void buildFieldFacts();
  const FieldInfo *fieldInfo(const clang::FieldDecl *F);
  bool splitByFamily(const FieldUse &U, const clang::FieldDecl *FD);
  std::vector<RefFinding> fieldFamilyFindings(const clang::FunctionDecl *F);
};

} // namespace pageref
