// The reference-flow engine. Per acquisition, a forward may-analysis over
// Clang's CFG whose state is a set of (references, result) pairs:
//   references: not acquired | held | released | handed off
//   result:     the acquisition's count is <= 0 | > 0 | unknown | no longer
//               tracked (the variable was overwritten)
// Pairing the two lets `n = pin_user_pages(...); if (n <= 0) goto out;`
// carry "nothing acquired" down the failure edge and keeps `if (n > 0)
// unpin_user_pages(...)` at a shared label from looking like a leak.
// Why not clang/Analysis/FlowSensitive: see docs/architecture.md.
#include "pageref/RefFlow.h"
#include "pageref/CallerClassifier.h"

#include "clang/AST/ParentMap.h"
#include "clang/AST/RecursiveASTVisitor.h"
#include "clang/Analysis/CFG.h"
#include "clang/Basic/SourceManager.h"
#include "clang/Lex/Lexer.h"
#include "llvm/ADT/DenseSet.h"
#include "llvm/ADT/StringExtras.h"

#include <nlohmann/json.hpp>

#include <deque>
#include <functional>
#include <tuple>
#include <set>

using namespace clang;

namespace pageref {

namespace {

// Pending: handed to a constructor that keeps them only if it returns non-NULL.
// Lost: held, but the pointer to them was overwritten (`pages = ERR_PTR(ret)`).
enum Ref : unsigned { NotAcquired = 0, Held = 1, Released = 2, HandedOff = 3, Pending = 4, Lost = 5 };
constexpr unsigned NumRefs = 5 + 1;
enum Sign : unsigned { NonPos = 0, Pos = 1, Unknown = 2, Detached = 3 };

// What the function's status variable (`ret`, `err`: the local that takes
// -E... constants) holds on a path: 0, negative, or unknown. Keeps
// `ret = -EFAULT; ... if (ret) ...` from taking the impossible branch.
enum Status : unsigned { StZero = 0, StNegative = 1, StUnknown = 2 };

/// A set of (Ref, Sign, Status) triples, one bit each.
struct State {
  using Word = unsigned __int128; // 6 x 4 x 3 = 72 triples
  Word Bits = 0;
  static Word bit(Ref R, Sign S, Status St) { return Word(1) << ((R * 4 + S) * 3 + St); }
  static Word refMask(Ref R) { return Word(0xFFF) << (R * 12); }
  void add(Ref R, Sign S, Status St = StUnknown) { Bits |= bit(R, S, St); }
  bool has(Ref R) const { return Bits & refMask(R); }
  bool empty() const { return Bits == 0; }
  bool onlyRef(Ref R) const { return Bits && !(Bits & ~refMask(R)); }
  /// Changes (Ref, Sign); the status goes along unchanged.
  template <typename Fn> State map(Fn F) const {
    return mapAll([&](Ref R, Sign S, Status St) -> std::optional<std::tuple<Ref, Sign, Status>> {
      auto P = F(R, S);
      if (!P)
        return std::nullopt;
      return std::make_tuple(P->first, P->second, St);
    });
  }
  template <typename Fn> State mapAll(Fn F) const {
    State Out;
    for (unsigned R = 0; R < NumRefs; ++R)
      for (unsigned S = 0; S < 4; ++S)
        for (unsigned St = 0; St < 3; ++St)
          if (Bits & bit(Ref(R), Sign(S), Status(St)))
            if (auto P = F(Ref(R), Sign(S), Status(St)))
              Out.add(std::get<0>(*P), std::get<1>(*P), std::get<2>(*P));
    return Out;
  }
  bool operator==(const State &O) const { return Bits == O.Bits; }
};

enum class ResultTest { NoInfo, Failed, Acquired };

const char *familyWord(ReleaseFamily F) {
  switch (F) {
  case ReleaseFamily::Ref: return "references (FOLL_GET)";
  case ReleaseFamily::Pin: return "pins (FOLL_PIN)";
  case ReleaseFamily::PinIfWillPin: return "pins when iov_iter_extract_will_pin(), otherwise nothing";
  case ReleaseFamily::Bio: return "bio-owned references";
  }
  return "";
}

bool isPageCarrying(QualType T) {
  // struct page *, struct page **, struct page *[N]
  for (unsigned Depth = 0; Depth < 3; ++Depth) {
    if (const auto *P = T->getAs<PointerType>())
      T = P->getPointeeType();
    else if (const auto *A = T->getAsArrayTypeUnsafe())
      T = A->getElementType();
    else
      break;
    if (const auto *R = T->getAs<RecordType>())
      return R->getDecl()->getName() == "page" || R->getDecl()->getName() == "folio";
  }
  return false;
}

} // namespace

struct RefFlow::Impl {
  ASTContext &Ctx;
  const SourceManager &SM;
  const ApiModel &Model;
  const TuIndex &Index;
  RefFlowLimits Limits;
  ParentCache Parents;
  std::map<const FunctionDecl *, FunctionSummary> Summaries;
  std::set<const FunctionDecl *> SummaryInProgress;
  std::unique_ptr<CallerClassifier> Classifier; // iterator kinds for extract calls
  // Functions of other files that were handed tracked pages, and what the
  // whole-tree driver asks us to assume they do (see docs/summaries.md).
  std::set<std::string> ExternalsSeen;
  std::map<std::string, ParamEffect> ExternalAssumptions;

  Impl(ASTContext &C, const ApiModel &M, const TuIndex &I, RefFlowLimits L)
      : Ctx(C), SM(C.getSourceManager()), Model(M), Index(I), Limits(L) {}

  /// One acquisition being followed.
  struct Tracked {
    const FunctionDecl *F = nullptr;
    const CallExpr *Call = nullptr; // null for a summary's parameter
    std::string Callee;
    ReleaseFamily Family = ReleaseFamily::Ref;
    std::vector<ObjectPath> Paths;
    const VarDecl *Result = nullptr;
    bool AskedForOne = false; // `get_user_pages_fast(addr, 1, ...)`: `n != 1` means none
    bool FamilyOnly = false;  // the array is the caller's or a struct's: leaks only on error returns
    // Conditions the acquisition sits under (`if (flags & USER_MAPPED) pin...`),
    // as written, with their truth: the same test later takes the same branch.
    std::vector<std::pair<std::string, bool>> Guards;
    const VarDecl *StatusVar = nullptr; // the local that carries -E... codes
  };

  // Results of one run.
  struct Run {
    std::vector<RefFinding> Findings;
    std::set<const Stmt *> Reported;
    std::vector<std::pair<const CallExpr *, ReleaseFamily>> ReleasesSeen;
    bool HandedOff = false;
    bool HeldAtExit = false;
    std::vector<const Expr *> HeldExitReturns; // what the function returns where it leaves with them held
    const VarDecl *PendingVar = nullptr;       // the result of the constructor that may have taken them
    bool BoundHit = false;
  };

  const Expr *stripViews(const Expr *E) {
    while (E) {
      E = E->IgnoreParenCasts();
      auto *C = dyn_cast<CallExpr>(E);
      if (!C || C->getNumArgs() < 1 || !Model.isPageView(calleeName(C)))
        return E;
      E = C->getArg(0);
    }
    return E;
  }

  bool tracked(const Tracked &T, const Expr *E) {
    auto P = objectPath(stripViews(E));
    return P && llvm::is_contained(T.Paths, *P);
  }

  std::string text(const Expr *E) { return exprText(E, Ctx, 70); }
  unsigned line(SourceLocation L) { return lineOf(L, SM); }

  /// Local pointers that take pages out of the array: `page = pages[i]`.
  void addAliases(Tracked &T) {
    auto Stores = localStoresIn(T.F->getBody());
    for (unsigned Round = 0; Round < 3; ++Round)
      for (auto &[V, Init] : Stores) {
        if (!isPageCarrying(V->getType()) || !tracked(T, Init))
          continue;
        ObjectPath A;
        A.Root = cast<ValueDecl>(V->getCanonicalDecl());
        A.Spelling = V->getNameAsString();
        if (!llvm::is_contained(T.Paths, A))
          T.Paths.push_back(A);
      }
  }

  /// The variable holding the acquisition's result, if any.
  const VarDecl *resultVar(const CallExpr *Call, const FunctionDecl *F) {
    return resultVariable(Call, Parents.of(F));
  }

  bool refersTo(const Expr *E, const VarDecl *V) {
    if (!E || !V)
      return false;
    if (auto *D = dyn_cast<DeclRefExpr>(E->IgnoreParenCasts()))
      return D->getDecl()->getCanonicalDecl() == V->getCanonicalDecl();
    return false;
  }

  bool isNegative(const Expr *E) {
    Expr::EvalResult R;
    return E->EvaluateAsInt(R, Ctx) && R.Val.getInt().isNegative();
  }

  /// WARN(), WARN_ON(), WARN_ON_ONCE(), BUG_ON() around a condition: its
  /// true edge is a "cannot happen" path; the kernel accepts leaks there.
  bool isWarnCondition(const Expr *Cond) {
    for (SourceLocation L = Cond->getBeginLoc(); L.isMacroID(); L = SM.getImmediateMacroCallerLoc(L)) {
      llvm::StringRef Name = Lexer::getImmediateMacroName(L, SM, Ctx.getLangOpts());
      if (Name.starts_with("WARN") || Name == "BUG_ON")
        return true;
    }
    return false;
  }

  bool isOne(const Expr *E) {
    Expr::EvalResult R;
    return E->EvaluateAsInt(R, Ctx) && R.Val.getInt() == 1;
  }

  bool isZero(const Expr *E) {
    Expr::EvalResult R;
    return E->EvaluateAsInt(R, Ctx) && R.Val.getInt() == 0;
  }

  /// What the truth of \p C says about the acquisition's result.
  ResultTest test(const Expr *C, bool Truth, const Tracked &T) {
    const VarDecl *R = T.Result;
    if (!C || !R)
      return ResultTest::NoInfo;
    C = C->IgnoreParenCasts();
    if (auto *U = dyn_cast<UnaryOperator>(C); U && U->getOpcode() == UO_LNot)
      return test(U->getSubExpr(), !Truth, T);
    if (refersTo(C, R)) // `if (n)`
      return Truth ? ResultTest::Acquired : ResultTest::Failed;
    if (auto *Call = dyn_cast<CallExpr>(C)) {
      if (Call->getBuiltinCallee() == Builtin::BI__builtin_expect && Call->getNumArgs() >= 1)
        return test(Call->getArg(0), Truth, T);
      llvm::StringRef N = calleeName(Call);
      if ((N == "IS_ERR" || N == "IS_ERR_OR_NULL") && Call->getNumArgs() == 1 && refersTo(Call->getArg(0), R))
        return Truth ? ResultTest::Failed : ResultTest::NoInfo;
      return ResultTest::NoInfo;
    }
    auto *B = dyn_cast<BinaryOperator>(C);
    if (!B || !B->isComparisonOp())
      return ResultTest::NoInfo;
    BinaryOperatorKind Op = B->getOpcode();
    const Expr *L = B->getLHS(), *Rt = B->getRHS();
    if (refersTo(Rt, R)) { // `0 > n`: mirror it
      std::swap(L, Rt);
      Op = BinaryOperator::reverseComparisonOp(Op);
    }
    if (refersTo(L, R) && T.AskedForOne && isOne(Rt) && (Op == BO_NE || Op == BO_LT || Op == BO_EQ || Op == BO_GE)) {
      // One page asked for: anything but 1 is nothing.
      bool OneWhenTrue = Op == BO_EQ || Op == BO_GE;
      return Truth == OneWhenTrue ? ResultTest::Acquired : ResultTest::Failed;
    }
    if (refersTo(L, R) && isNegative(Rt) && (Op == BO_EQ || Op == BO_NE)) {
      // `err == -EFAULT`: that error, so nothing was obtained.
      bool ErrorWhenTrue = Op == BO_EQ;
      return Truth == ErrorWhenTrue ? ResultTest::Failed : ResultTest::NoInfo;
    }
    if (!refersTo(L, R) || !isZero(Rt))
      return ResultTest::NoInfo; // `n != nr_pages`: a partial result still holds pages
    bool FailWhenTrue;
    switch (Op) {
    case BO_LT: // n < 0: true = failed; false = n >= 0, may be 0
      return Truth ? ResultTest::Failed : ResultTest::NoInfo;
    case BO_LE: FailWhenTrue = true; break;
    case BO_EQ: FailWhenTrue = true; break;
    case BO_GT: FailWhenTrue = false; break;
    case BO_NE: FailWhenTrue = false; break;
    case BO_GE: // n >= 0: false = failed
      return Truth ? ResultTest::NoInfo : ResultTest::Failed;
    default: return ResultTest::NoInfo;
    }
    return Truth == FailWhenTrue ? ResultTest::Failed : ResultTest::Acquired;
  }

  static State refine(const State &S, ResultTest T) {
    if (T == ResultTest::NoInfo)
      return S;
    return S.map([&](Ref R, Sign Sg) -> std::optional<std::pair<Ref, Sign>> {
      if (Sg == Detached)
        return std::make_pair(R, Sg);
      if (T == ResultTest::Failed) {
        if (Sg == Pos)
          return std::nullopt; // infeasible
        return std::make_pair(R == Held ? NotAcquired : R, NonPos);
      }
      if (Sg == NonPos)
        return std::nullopt;
      return std::make_pair(R, Pos);
    });
  }

  /// Innermost loop statement around \p S in \p F, if any.
  const Stmt *enclosingLoop(const Stmt *S, const FunctionDecl *F) {
    const BodyParents &BP = Parents.of(F);
    for (const Stmt *P = BP.parent(S); P; P = BP.parent(P))
      if (isa<ForStmt>(P) || isa<WhileStmt>(P) || isa<DoStmt>(P))
        return P;
    return nullptr;
  }

  /// True if the enclosing iterator tests leave only non-user kinds at \p S
  /// (`if (!iov_iter_is_kvec(iter)) unpin...; else put...;`): the put drops
  /// references the function took itself (tee_shm's shm_get_kernel_pages()).
  bool onlyNonUserKindsAt(const Stmt *S, const FunctionDecl *F) {
    const BodyParents &BP = Parents.of(F);
    IterKindSet Kinds = IterKindSet::all();
    const Stmt *Cur = S;
    for (const Stmt *P = BP.parent(Cur); P; Cur = P, P = BP.parent(P)) {
      auto *If = dyn_cast<IfStmt>(P);
      if (!If || Cur == If->getCond())
        continue;
      bool Truth = Cur == If->getThen();
      const Expr *C = If->getCond()->IgnoreParenCasts();
      while (auto *U = dyn_cast<UnaryOperator>(C)) {
        if (U->getOpcode() != UO_LNot)
          break;
        Truth = !Truth;
        C = U->getSubExpr()->IgnoreParenCasts();
      }
      if (auto *Call = dyn_cast<CallExpr>(C))
        if (const IterGuardFn *G = Model.iterGuard(calleeName(Call)))
          Kinds = Kinds & (Truth ? G->Kinds : ~G->Kinds);
    }
    return (Kinds & IterKindSet::userBacked()).empty();
  }

  bool underWillPinTest(const Stmt *S, const FunctionDecl *F) {
    const BodyParents &BP = Parents.of(F);
    const Stmt *Cur = S;
    for (const Stmt *P = BP.parent(Cur); P; Cur = P, P = BP.parent(P)) {
      const Expr *Cond = nullptr;
      if (auto *I = dyn_cast<IfStmt>(P); I && Cur != I->getCond())
        Cond = I->getCond();
      else if (auto *CO = dyn_cast<ConditionalOperator>(P); CO && Cur != CO->getCond())
        Cond = CO->getCond();
      if (!Cond)
        continue;
      std::string T = exprText(Cond, Ctx, 200);
      for (const std::string &M : Model.conditionalReleaseMarkers())
        if (llvm::StringRef(T).contains(M))
          return true;
    }
    return false;
  }

  /// For `v`, `!v`, `v == NULL`, `v != NULL`: the truth value for which the
  /// pointer variable \p V is NULL.
  std::optional<bool> nullTestOf(const Expr *Cond, const VarDecl *V) {
    Cond = Cond->IgnoreParenCasts();
    if (auto *C = dyn_cast<CallExpr>(Cond); C && C->getBuiltinCallee() == Builtin::BI__builtin_expect &&
                                            C->getNumArgs() >= 1)
      return nullTestOf(C->getArg(0), V);
    if (auto *U = dyn_cast<UnaryOperator>(Cond); U && U->getOpcode() == UO_LNot) {
      auto Inner = nullTestOf(U->getSubExpr(), V);
      return Inner ? std::optional<bool>(!*Inner) : std::nullopt;
    }
    auto IsVar = [&](const Expr *E) { return refersTo(E, V) && E->getType()->isPointerType(); };
    if (IsVar(Cond))
      return false;
    if (auto *B = dyn_cast<BinaryOperator>(Cond); B && (B->getOpcode() == BO_EQ || B->getOpcode() == BO_NE)) {
      const Expr *L = B->getLHS(), *R = B->getRHS();
      if (!IsVar(L))
        std::swap(L, R);
      if (IsVar(L) && R->isNullPointerConstant(Ctx, Expr::NPC_ValueDependentIsNotNull))
        return B->getOpcode() == BO_EQ;
    }
    return std::nullopt;
  }

  /// For `pages`, `!pages`, `pages == NULL`, `pages != NULL` on the tracked
  /// array: the truth value for which the pointer is NULL.
  std::optional<bool> nullTest(const Expr *Cond, const Tracked &T) {
    if (T.Paths.empty() || !T.Paths.front().Suffix.empty())
      return std::nullopt;
    auto *V = dyn_cast<VarDecl>(T.Paths.front().Root);
    return V ? nullTestOf(Cond, V) : std::nullopt;
  }

  /// `iov_iter_extract_will_pin(i)` / `user_backed_iter(i)` as a condition.
  bool testsWillPin(const Expr *Cond) {
    auto *C = dyn_cast<CallExpr>(Cond->IgnoreParenCasts());
    if (C && C->getBuiltinCallee() == Builtin::BI__builtin_expect && C->getNumArgs() >= 1)
      return testsWillPin(C->getArg(0));
    const IterGuardFn *G = C ? Model.iterGuard(calleeName(C)) : nullptr;
    return G && (G->WillPin || G->Kinds == IterKindSet::userBacked());
  }

  void fixFor(RefFinding &Out, const CallExpr *Rel, ReleaseFamily Acquired) {
    static const std::pair<const char *, const char *> PinFixes[] = {
        {"put_page", "unpin_user_page"}, {"release_pages", "unpin_user_pages"}, {"folio_put", "unpin_folio"}};
    static const std::pair<const char *, const char *> RefFixes[] = {
        {"unpin_user_page", "put_page"}, {"unpin_user_pages", "release_pages"}, {"unpin_folio", "folio_put"}};
    llvm::StringRef Name = calleeName(Rel);
    const Expr *Callee = Rel->getCallee()->IgnoreParenImpCasts();
    if (Callee->getBeginLoc().isMacroID())
      return;
    auto Try = [&](auto &Table) {
      for (auto &[From, To] : Table)
        if (Name == From) {
          Out.FixRange = Callee->getSourceRange();
          Out.FixText = To;
        }
    };
    if (Acquired == ReleaseFamily::Pin)
      Try(PinFixes);
    else if (Acquired == ReleaseFamily::Ref)
      Try(RefFixes);
  }

  /// A release of the tracked pages by \p Rel (directly or through a helper).
  State onRelease(const Tracked &T, const State &In, const CallExpr *Rel, ReleaseFamily RelFamily,
                  llvm::StringRef RelName, const std::string &Through, Run &Out, bool Element) {
    if (!In.has(Held) && !In.has(Released))
      return In;
    Out.ReleasesSeen.push_back({Rel, RelFamily});
    if (T.Call && In.has(Held) && Out.Reported.insert(Rel).second) {
      bool Wrong = false;
      RefFinding F;
      F.Loc = Rel->getBeginLoc();
      if (T.Family == ReleaseFamily::Pin && RelFamily == ReleaseFamily::Ref) {
        Wrong = true;
        F.Message = "pages pinned by " + T.Callee + "() at line " + std::to_string(line(T.Call->getBeginLoc())) +
                    " are released with " + RelName.str() + "()" + Through +
                    ": FOLL_PIN pages must go back through unpin_user_page*(); put_page() leaves the pin "
                    "count behind";
      } else if (T.Family == ReleaseFamily::Ref && RelFamily == ReleaseFamily::Pin) {
        Wrong = true;
        F.Message = "page references taken by " + T.Callee + "() at line " +
                    std::to_string(line(T.Call->getBeginLoc())) + " are released with " + RelName.str() + "()" +
                    Through + ": FOLL_GET references must be dropped with put_page() or release_pages(); "
                              "unpinning them underflows the pin count";
      } else if (T.Family == ReleaseFamily::PinIfWillPin && RelFamily == ReleaseFamily::Ref &&
                 !onlyNonUserKindsAt(Rel, T.F)) {
        Wrong = true;
        F.Message = "pages from " + T.Callee + "() at line " + std::to_string(line(T.Call->getBeginLoc())) +
                    " are released with " + RelName.str() + "()" + Through +
                    ": iov_iter_extract_pages() takes pins (user-backed iterators) or nothing; release with "
                    "unpin_user_page*() only when iov_iter_extract_will_pin()";
      } else if (T.Family == ReleaseFamily::PinIfWillPin && RelFamily == ReleaseFamily::Pin &&
                 !underWillPinTest(Rel, T.F) && !extractUserOnly(T)) {
        F.Kind = RefFindingKind::ExtractUnconditional;
        F.Message = "pages from " + T.Callee + "() at line " + std::to_string(line(T.Call->getBeginLoc())) +
                    " are unpinned by " + RelName.str() + "()" + Through +
                    " without a test of iov_iter_extract_will_pin(): for iterators that are not user-backed "
                    "nothing was pinned";
        F.Notes.push_back({T.Call->getBeginLoc(), "pages extracted here; iterator kinds that can reach it: " +
                                                      extractKinds(T).str()});
        Out.Findings.push_back(std::move(F));
      }
      if (Wrong) {
        F.Kind = RefFindingKind::WrongFamily;
        F.Notes.push_back({T.Call->getBeginLoc(), std::string("acquired here as ") + familyWord(T.Family)});
        if (!Through.empty())
          fixFor(F, Rel, ReleaseFamily::Bio); // no 1:1 fix through a helper
        else
          fixFor(F, Rel, T.Family);
        Out.Findings.push_back(std::move(F));
      }
    }
    if (T.Call && !Element && In.onlyRef(Released) && Out.Reported.insert(Rel).second) {
      RefFinding F;
      F.Kind = RefFindingKind::DoubleRelease;
      F.Loc = Rel->getBeginLoc();
      F.Message = "pages acquired by " + T.Callee + "() at line " + std::to_string(line(T.Call->getBeginLoc())) +
                  " are released twice: " + RelName.str() + "()" + Through +
                  " runs on a path where they were already released";
      F.Notes.push_back({T.Call->getBeginLoc(), "acquired here"});
      Out.Findings.push_back(std::move(F));
    }
    return In.map([](Ref R, Sign S) -> std::optional<std::pair<Ref, Sign>> {
      return std::make_pair(R == Held ? Released : R, S);
    });
  }

  IterKindSet extractKinds(const Tracked &T) {
    if (!Classifier)
      Classifier = std::make_unique<CallerClassifier>(Ctx, Model);
    const GetPagesFn *G = Model.getPages(T.Callee);
    if (!G)
      return IterKindSet::all();
    return Classifier->classify(T.Call, *G).Iter.Kinds;
  }
  bool extractUserOnly(const Tracked &T) {
    IterKindSet K = extractKinds(T).referenceable();
    return !K.empty() && K.subsetOf(IterKindSet::userBacked());
  }

  /// A function whose body this TU has: its own, or an inline one of a header.
  const FunctionDecl *definition(const CallExpr *C) { return calleeDefinition(C, SM, /*AllowHeaderInline=*/true); }

  State transfer(const Tracked &T, const Stmt *S, State In, Run &Out) {
    if (T.Call && S == T.Call) {
      Sign Fresh = T.Result ? Unknown : Detached;
      return In.mapAll([&](Ref, Sign, Status St) -> std::optional<std::tuple<Ref, Sign, Status>> {
        return std::make_tuple(Held, Fresh, St);
      });
    }
    if (auto *C = dyn_cast<CallExpr>(S)) {
      llvm::StringRef Name = calleeName(C);
      if (const ReleaseFn *Rel = Model.release(Name)) {
        if (Rel->Arg < C->getNumArgs() && tracked(T, C->getArg(Rel->Arg))) {
          bool Element = enclosingLoop(C, T.F) != nullptr;
          return onRelease(T, In, C, Rel->Family, Name, "", Out, Element);
        }
        return In;
      }
      for (unsigned A = 0; A < C->getNumArgs(); ++A) {
        if (!tracked(T, C->getArg(A)))
          continue;
        if (const SinkFn *Sink = Model.sink(Name); Sink && Sink->Arg == A)
          return handOff(In, Out);
        if (Model.getPages(Name) || Model.acquire(Name) || Model.isPageUser(Name) ||
            Model.containerGetter(Name) || Model.isPageView(Name))
          continue;
        if (const FunctionDecl *Callee = directCallee(C); Callee && A < Callee->getNumParams()) {
          QualType PT = Callee->getParamDecl(A)->getType();
          if (const auto *Ptr = PT->getAs<PointerType>(); Ptr && Ptr->getPointeeType().isConstQualified())
            continue; // page_to_nid(const struct page *): looks, does not keep
        }
        const ParamEffect *Effect = nullptr;
        if (const FunctionDecl *Def = definition(C)) {
          const FunctionSummary &Sum = summaryOf(Def);
          auto It = Sum.Params.find(A);
          // A parameter that is not a page pointer (the struct holding the
          // page, `void *`): not summarised, so it may keep them.
          if (It == Sum.Params.end())
            return handOff(In, Out);
          Effect = &It->second;
        } else if (const FunctionDecl *Callee = directCallee(C);
                   Callee && Callee->isExternallyVisible() && A < Callee->getNumParams() &&
                   isPageCarrying(Callee->getParamDecl(A)->getType())) {
          // A function of another file: it may keep or release them. Alone,
          // the TU cannot know; the whole-tree driver asks again under each
          // assumption and resolves with that file's summary.
          ExternalsSeen.insert(Name.str());
          auto It = ExternalAssumptions.find(Name.str());
          if (It == ExternalAssumptions.end())
            return handOff(In, Out);
          Effect = &It->second;
        } else {
          return handOff(In, Out);
        }
        if (Effect->Effect == ParamEffect::Uses)
          continue;
        if (Effect->Effect == ParamEffect::TakesOver)
          return handOff(In, Out);
        if (Effect->Effect == ParamEffect::TakesOverIfNonNull) {
          const VarDecl *V = resultVar(C, T.F);
          if (!V || (Out.PendingVar && Out.PendingVar != V))
            return handOff(In, Out);
          Out.PendingVar = V;
          return In.map([](Ref R, Sign S) -> std::optional<std::pair<Ref, Sign>> {
            return std::make_pair(R == Held ? Pending : R, S);
          });
        }
        bool Element = enclosingLoop(C, T.F) != nullptr;
        return onRelease(T, In, C, Effect->Family, Name,
                         " (through " + Name.str() + "(), which calls " + Effect->Via + ")", Out, Element);
      }
      return In;
    }
    if (auto *B = dyn_cast<BinaryOperator>(S)) {
      if (B->getOpcode() != BO_Assign)
        return In;
      State Out2 = In;
      bool Touched = false;
      if (T.StatusVar && refersTo(B->getLHS(), T.StatusVar)) {
        Out2 = setStatus(Out2, B->getRHS(), T);
        Touched = true;
      }
      // The result variable overwritten: its tests no longer say anything
      // about the acquisition (it may be the status variable too: `ret`).
      if (T.Result && refersTo(B->getLHS(), T.Result) && B->getRHS()->IgnoreParenCasts() != T.Call) {
        Out2 = Out2.map([](Ref R, Sign) -> std::optional<std::pair<Ref, Sign>> { return std::make_pair(R, Detached); });
        Touched = true;
      }
      if (Touched)
        return Out2;
      // `pages = ERR_PTR(ret);` / `pages = NULL;`: the pointer no longer leads to the pages.
      if (auto LP = objectPath(B->getLHS()); LP && !T.Paths.empty() && *LP == T.Paths.front() &&
                                             isa<DeclRefExpr>(B->getLHS()->IgnoreParenImpCasts())) {
        const Expr *R = B->getRHS()->IgnoreParenCasts();
        auto *RC = dyn_cast<CallExpr>(R);
        if (R->isNullPointerConstant(Ctx, Expr::NPC_ValueDependentIsNotNull) ||
            (RC && (calleeName(RC) == "ERR_PTR" || calleeName(RC) == "ERR_CAST")))
          return In.map([](Ref Rf, Sign Sg) -> std::optional<std::pair<Ref, Sign>> {
            return std::make_pair(Rf == Held ? Lost : Rf, Sg);
          });
      }
      if (tracked(T, B->getRHS())) {
        const Expr *L = B->getLHS()->IgnoreParenImpCasts();
        auto LP = objectPath(L);
        bool LocalAlias = LP && LP->Suffix.empty() && isa<VarDecl>(LP->Root) &&
                          cast<VarDecl>(LP->Root)->isLocalVarDecl() && !isa<UnaryOperator>(L);
        if (!LocalAlias)
          return handOff(In, Out); // into a struct, a global, *out
      }
      return In;
    }
    if (auto *DS = dyn_cast<DeclStmt>(S)) {
      for (const Decl *D : DS->decls())
        if (auto *V = dyn_cast<VarDecl>(D); V && V->getInit() && T.StatusVar &&
                                             V->getCanonicalDecl() == T.StatusVar->getCanonicalDecl())
          return setStatus(In, V->getInit(), T);
      for (const Decl *D : DS->decls())
        if (auto *V = dyn_cast<VarDecl>(D); V && V->getInit() && T.Result &&
                                             V->getCanonicalDecl() == T.Result->getCanonicalDecl() &&
                                             V->getInit()->IgnoreParenCasts() != T.Call)
          return In.map([](Ref R, Sign) -> std::optional<std::pair<Ref, Sign>> { return std::make_pair(R, Detached); });
      return In;
    }
    if (auto *R = dyn_cast<ReturnStmt>(S))
      if (R->getRetValue() && tracked(T, R->getRetValue()))
        return handOff(In, Out);
    return In;
  }

  /// `ret = -EFAULT;`, `ret = 0;`; a conditional operator's arms were
  /// already accounted for on the CFG edges into the assignment.
  State setStatus(const State &In, const Expr *Rhs, const Tracked &T) {
    Rhs = Rhs->IgnoreParenCasts();
    if (isa<ConditionalOperator>(Rhs))
      return In;
    Status New = statusOf(Rhs);
    return In.mapAll([&](Ref R, Sign S, Status) -> std::optional<std::tuple<Ref, Sign, Status>> {
      return std::make_tuple(R, S, New);
    });
  }
  Status statusOf(const Expr *E) {
    Expr::EvalResult V;
    if (E->EvaluateAsInt(V, Ctx))
      return V.Val.getInt() == 0 ? StZero : V.Val.getInt().isNegative() ? StNegative : StUnknown;
    return StUnknown;
  }

  /// The statuses a condition on the status variable allows, and what it
  /// says about an unknown one.
  State refineStatus(const State &In, const Expr *Cond, bool Truth, const Tracked &T) {
    if (!T.StatusVar)
      return In;
    Cond = Cond->IgnoreParenCasts();
    if (auto *C = dyn_cast<CallExpr>(Cond); C && C->getBuiltinCallee() == Builtin::BI__builtin_expect &&
                                            C->getNumArgs() >= 1)
      return refineStatus(In, C->getArg(0), Truth, T);
    if (auto *U = dyn_cast<UnaryOperator>(Cond); U && U->getOpcode() == UO_LNot)
      return refineStatus(In, U->getSubExpr(), !Truth, T);
    // Which of {zero, negative, positive} the edge allows.
    bool Zero, Negative, Positive;
    if (refersTo(Cond, T.StatusVar)) {
      Zero = !Truth;
      Negative = Positive = Truth;
    } else if (auto *B = dyn_cast<BinaryOperator>(Cond); B && B->isComparisonOp() &&
                                                       refersTo(B->getLHS(), T.StatusVar) && isZero(B->getRHS())) {
      switch (B->getOpcode()) {
      case BO_EQ: Zero = Truth; Negative = Positive = !Truth; break;
      case BO_NE: Zero = !Truth; Negative = Positive = Truth; break;
      case BO_LT: Negative = Truth; Zero = Positive = !Truth; break;
      case BO_GE: Negative = !Truth; Zero = Positive = Truth; break;
      case BO_GT: Positive = Truth; Zero = Negative = !Truth; break;
      case BO_LE: Positive = !Truth; Zero = Negative = Truth; break;
      default: return In;
      }
    } else {
      return In;
    }
    return In.mapAll([&](Ref R, Sign S, Status St) -> std::optional<std::tuple<Ref, Sign, Status>> {
      if ((St == StZero && !Zero) || (St == StNegative && !Negative))
        return std::nullopt; // this path cannot take that edge
      if (St == StUnknown && Zero && !Negative && !Positive)
        St = StZero;
      else if (St == StUnknown && Negative && !Zero && !Positive)
        St = StNegative;
      return std::make_tuple(R, S, St);
    });
  }

  /// `ret = pret < 0 ? pret : -EFAULT;`: the status on each arm's edge.
  State statusOnArm(const State &In, const Stmt *Term, unsigned Edge, const Tracked &T) {
    auto *CO = dyn_cast_or_null<ConditionalOperator>(Term);
    if (!CO || !T.StatusVar)
      return In;
    const BodyParents &BP = Parents.of(T.F);
    const Stmt *P = BP.parent(CO);
    while (P && (isa<ImplicitCastExpr>(P) || isa<ParenExpr>(P)))
      P = BP.parent(P);
    bool ToStatus = false;
    if (auto *B = dyn_cast_or_null<BinaryOperator>(P); B && B->getOpcode() == BO_Assign)
      ToStatus = refersTo(B->getLHS(), T.StatusVar);
    if (auto *DS = dyn_cast_or_null<DeclStmt>(P))
      ToStatus = DS->isSingleDecl() && DS->getSingleDecl()->getCanonicalDecl() == T.StatusVar->getCanonicalDecl();
    if (!ToStatus)
      return In;
    const Expr *Arm = (Edge == 0 ? CO->getTrueExpr() : CO->getFalseExpr())->IgnoreParenCasts();
    Status New = statusOf(Arm);
    // `pret < 0 ? pret : ...`: the true arm is negative.
    if (New == StUnknown && T.Result && refersTo(Arm, T.Result) && Edge == 0)
      if (auto *B = dyn_cast<BinaryOperator>(CO->getCond()->IgnoreParenCasts());
          B && B->getOpcode() == BO_LT && refersTo(B->getLHS(), T.Result) && isZero(B->getRHS()))
        New = StNegative;
    return In.mapAll([&](Ref R, Sign S, Status) -> std::optional<std::tuple<Ref, Sign, Status>> {
      return std::make_tuple(R, S, New);
    });
  }

  bool errorReturn(const ReturnStmt *Ret, const State &Leaving, const Tracked &T) {
    const Expr *V = Ret ? Ret->getRetValue() : nullptr;
    if (!V)
      return false;
    V = V->IgnoreParenCasts();
    if (statusOf(V) == StNegative)
      return true;
    if (auto *C = dyn_cast<CallExpr>(V); C && (calleeName(C) == "ERR_PTR" || calleeName(C) == "ERR_CAST"))
      return true;
    if (T.StatusVar && refersTo(V, T.StatusVar)) {
      // Some path reaching this return holds the pages and returns an error.
      bool HeldOnError = false;
      Leaving.mapAll([&](Ref R, Sign S, Status St) -> std::optional<std::tuple<Ref, Sign, Status>> {
        if ((R == Held || R == Lost) && St == StNegative)
          HeldOnError = true;
        return std::nullopt;
      });
      return HeldOnError;
    }
    return false;
  }

  /// The local that carries error codes: assigned negative constants most often.
  const VarDecl *statusVariable(const FunctionDecl *F, const VarDecl *Result) {
    std::function<bool(const Expr *)> Negative = [&](const Expr *R) {
      R = R->IgnoreParenCasts();
      if (auto *CO = dyn_cast<ConditionalOperator>(R))
        return Negative(CO->getTrueExpr()) || Negative(CO->getFalseExpr());
      return statusOf(R) == StNegative;
    };
    std::map<const VarDecl *, unsigned> Count;
    for (auto &[V, Value] : localStoresIn(F->getBody()))
      if (V->getType()->isIntegerType() && Negative(Value))
        ++Count[cast<VarDecl>(V->getCanonicalDecl())];
    const VarDecl *Best = nullptr;
    unsigned BestCount = 0;
    for (auto &[V, N] : Count)
      if (N > BestCount) {
        Best = V;
        BestCount = N;
      }
    return Best;
  }

  State handOff(const State &In, Run &Out) {
    if (In.has(Held))
      Out.HandedOff = true;
    return In.map([](Ref R, Sign S) -> std::optional<std::pair<Ref, Sign>> {
      return std::make_pair(R == Held ? HandedOff : R, S);
    });
  }

  /// Loops whose body releases or hands off elements of the tracked array:
  /// leaving them through the condition disposes of the array too (the
  /// zero-trip case is a zero count).
  std::set<const Stmt *> disposingLoops(const Tracked &T) {
    std::set<const Stmt *> Loops;
    auto Add = [&](const Stmt *S) {
      if (const Stmt *L = enclosingLoop(S, T.F))
        Loops.insert(L);
    };
    for (const CallExpr *Call : callsIn(T.F->getBody())) {
      llvm::StringRef Name = calleeName(Call);
      if (const ReleaseFn *Rel = Model.release(Name)) {
        if (Rel->Arg < Call->getNumArgs() && tracked(T, Call->getArg(Rel->Arg)))
          Add(Call);
      } else if (const SinkFn *Sink = Model.sink(Name)) {
        if (Sink->Arg < Call->getNumArgs() && tracked(T, Call->getArg(Sink->Arg)))
          Add(Call);
      }
    }
    for (const BinaryOperator *B : assignmentsIn(T.F->getBody()))
      if (isa<MemberExpr>(B->getLHS()->IgnoreParenImpCasts()) && tracked(T, B->getRHS()))
        Add(B);
    return Loops;
  }

  struct Witness {
    std::vector<std::pair<const Expr *, bool>> Branches;
  };

  Run run(const Tracked &T, State Entry) {
    Run Out;
    CFG::BuildOptions Opts;
    Opts.setAllAlwaysAdd();
    std::unique_ptr<CFG> Cfg = CFG::buildCFG(T.F, T.F->getBody(), &Ctx, Opts);
    if (!Cfg) {
      Out.BoundHit = true;
      return Out;
    }
    std::set<const Stmt *> Loops = disposingLoops(T);
    std::vector<std::optional<State>> In(Cfg->getNumBlockIDs());
    std::vector<Witness> Why(Cfg->getNumBlockIDs());
    std::deque<const CFGBlock *> Work;
    In[Cfg->getEntry().getBlockID()] = Entry;
    Work.push_back(&Cfg->getEntry());
    std::set<const Stmt *> LeakReported;
    unsigned Visits = 0;
    while (!Work.empty()) {
      const CFGBlock *B = Work.front();
      Work.pop_front();
      if (++Visits > Limits.MaxBlockVisits) {
        Out.BoundHit = true;
        break;
      }
      State S = *In[B->getBlockID()];
      const Stmt *LastStmt = nullptr;
      const ReturnStmt *Ret = nullptr;
      for (const CFGElement &E : *B)
        if (auto CS = E.getAs<CFGStmt>()) {
          S = transfer(T, CS->getStmt(), S, Out);
          LastStmt = CS->getStmt();
          if (auto *R = dyn_cast<ReturnStmt>(LastStmt))
            Ret = R;
        }
      bool NoReturn = false;
      if (auto *C = dyn_cast_or_null<CallExpr>(LastStmt))
        if (const FunctionDecl *Callee = directCallee(C))
          NoReturn = Callee->isNoReturn();
      // Leaving the function with references held.
      auto CheckExit = [&](const State &Leaving, const Witness &W) {
        if (NoReturn || (!Leaving.has(Held) && !Leaving.has(Lost)))
          return;
        // An array the caller or a struct owns is handed back by a successful
        // return; only an error return (-E..., ERR_PTR(), or the status
        // variable negative on a path that holds them) leaks it.
        if (T.FamilyOnly && !errorReturn(Ret, Leaving, T))
          return;
        Out.HeldAtExit = true;
        Out.HeldExitReturns.push_back(Ret ? Ret->getRetValue() : nullptr);
        const Stmt *Where = Ret ? static_cast<const Stmt *>(Ret) : T.F->getBody();
        if (!T.Call || !LeakReported.insert(Where).second)
          return;
        RefFinding F;
        F.Kind = RefFindingKind::Leak;
        F.Loc = Ret ? Ret->getBeginLoc() : cast<CompoundStmt>(T.F->getBody())->getRBracLoc();
        F.Message = "pages acquired by " + T.Callee + "() at line " + std::to_string(line(T.Call->getBeginLoc())) +
                    " are neither released nor handed off on the path that " +
                    (Ret ? "returns here" : "falls off the end of " + T.F->getNameAsString() + "()");
        F.Notes.push_back({T.Call->getBeginLoc(), std::string("acquired here: ") + familyWord(T.Family)});
        for (auto &[Cond, Truth] : W.Branches)
          F.Notes.push_back({Cond->getBeginLoc(), std::string("taking this path: '") + text(Cond) + "' is " +
                                                       (Truth ? "true" : "false")});
        Out.Findings.push_back(std::move(F));
      };
      // Successors, refining on tests of the acquisition's result.
      const Stmt *Term = B->getTerminatorStmt();
      const Expr *Cond = B->getTerminatorCondition(/*StripParens=*/false)
                             ? dyn_cast<Expr>(B->getTerminatorCondition(false))
                             : nullptr;
      unsigned Index = 0;
      for (const CFGBlock::AdjacentBlock &A : B->succs()) {
        const CFGBlock *Succ = A.getReachableBlock();
        unsigned I = Index++;
        if (!Succ)
          continue;
        State Next = S;
        Witness W = Why[B->getBlockID()];
        if (Cond && B->succ_size() == 2 && !isa_and_nonnull<SwitchStmt>(Term)) {
          bool Truth = I == 0;
          Next = refine(S, test(Cond, Truth, T));
          Next = refineStatus(Next, Cond, Truth, T);
          Next = statusOnArm(Next, Term, I, T);
          if (T.Family == ReleaseFamily::PinIfWillPin && !Truth && testsWillPin(Cond))
            Next = Next.map([](Ref R, Sign Sg) -> std::optional<std::pair<Ref, Sign>> {
              return std::make_pair(R == Held ? NotAcquired : R, Sg); // nothing was pinned
            });
          if (Term && Loops.count(Term) && !Truth) // leaving a loop that disposes of the array
            Next = Next.map([](Ref R, Sign Sg) -> std::optional<std::pair<Ref, Sign>> {
              return std::make_pair(R == Held ? Released : R, Sg);
            });
          if (Truth && isWarnCondition(Cond)) // a WARN()ed "cannot happen" path: not followed
            Next = Next.map([](Ref R, Sign Sg) -> std::optional<std::pair<Ref, Sign>> {
              return std::make_pair(R == Held ? HandedOff : R, Sg);
            });
          if (Out.PendingVar) // `if (!rdata)`: the constructor failed and did not keep them
            if (auto Null = nullTestOf(Cond, Out.PendingVar))
              Next = Next.map([&](Ref R, Sign Sg) -> std::optional<std::pair<Ref, Sign>> {
                if (R != Pending)
                  return std::make_pair(R, Sg);
                return std::make_pair(*Null == Truth ? Held : HandedOff, Sg);
              });
          for (auto &[GuardText, GuardTruth] : T.Guards)
            if (GuardTruth != Truth && text(Cond) == GuardText) // the other branch of the acquisition's own test
              Next = Next.map([](Ref R, Sign Sg) -> std::optional<std::pair<Ref, Sign>> {
                return std::make_pair(R == Held ? NotAcquired : R, Sg);
              });
          if (auto Null = nullTest(Cond, T); Null && *Null == Truth) // the array pointer is NULL here
            Next = Next.map([](Ref R, Sign Sg) -> std::optional<std::pair<Ref, Sign>> {
              return std::make_pair(R == Held ? NotAcquired : R, Sg);
            });
          // Remember the branches the user wrote (not those inside macros,
          // not constant ones) for the "taking this path" notes.
          Expr::EvalResult Const;
          if (Next.has(Held) && T.Call && Term && Term->getBeginLoc().isFileID() &&
              !Cond->EvaluateAsInt(Const, Ctx)) {
            W.Branches.push_back({Cond, Truth});
            if (W.Branches.size() > 3)
              W.Branches.erase(W.Branches.begin());
          }
        }
        if (Next.empty())
          continue; // infeasible edge
        if (Succ == &Cfg->getExit()) {
          CheckExit(Next, W);
          continue;
        }
        auto &Slot = In[Succ->getBlockID()];
        State Joined = Slot ? State{Slot->Bits | Next.Bits} : Next;
        if (!Slot || !(Joined == *Slot)) {
          bool HadHeld = Slot && Slot->has(Held);
          Slot = Joined;
          if (!HadHeld && Joined.has(Held))
            Why[Succ->getBlockID()] = W;
          Work.push_back(Succ);
        }
      }
    }
    if (Out.BoundHit && T.Call) {
      Out.Findings.clear();
      RefFinding F;
      F.Kind = RefFindingKind::BoundHit;
      F.Loc = T.Call->getBeginLoc();
      F.Message = "pageref stopped following the pages acquired by " + T.Callee + "() after " +
                  std::to_string(Limits.MaxBlockVisits) + " steps in " + T.F->getNameAsString() +
                  "(); nothing is reported for them";
      Out.Findings.push_back(std::move(F));
    }
    return Out;
  }

  /// The function returns NULL where it kept nothing: `return NULL;`, or
  /// `return v;` for a pointer \p F tests against NULL (`if (v != NULL) { keep }`).
  bool returnsNullThere(const Expr *Ret, const FunctionDecl *F) {
    if (!Ret)
      return false;
    if (Ret->isNullPointerConstant(Ctx, Expr::NPC_ValueDependentIsNotNull))
      return true;
    auto *D = dyn_cast<DeclRefExpr>(Ret->IgnoreParenCasts());
    auto *V = D ? dyn_cast<VarDecl>(D->getDecl()) : nullptr;
    if (!V || !V->isLocalVarDecl())
      return false;
    struct Tests : RecursiveASTVisitor<Tests> {
      Impl *I;
      const VarDecl *V;
      bool Found = false;
      bool VisitIfStmt(IfStmt *S) {
        Found |= I->nullTestOf(S->getCond(), V).has_value();
        return true;
      }
    } T;
    T.I = this;
    T.V = V;
    T.TraverseStmt(F->getBody());
    return T.Found;
  }

  const FunctionSummary &summaryOf(const FunctionDecl *F) {
    F = F->getDefinition() ? F->getDefinition() : F;
    if (auto It = Summaries.find(F); It != Summaries.end())
      return It->second;
    static const FunctionSummary Empty;
    if (SummaryInProgress.count(F) || SummaryInProgress.size() >= Limits.SummaryDepth || !F->getBody())
      return Empty;
    SummaryInProgress.insert(F);
    FunctionSummary S;
    S.Name = F->getNameAsString();
    S.ExternallyVisible = F->isExternallyVisible();
    for (unsigned I = 0; I < F->getNumParams(); ++I) {
      const ParmVarDecl *P = F->getParamDecl(I);
      if (!isPageCarrying(P->getType()))
        continue;
      Tracked T;
      T.F = F;
      T.Paths.push_back(paramPath(F, I));
      addAliases(T);
      State Entry;
      Entry.add(Held, Detached);
      Run R = run(T, Entry);
      // Releases: on every path. Takes over: keeps them on some path (a
      // constructor that stores them, or releases only sometimes); callers
      // then stop tracking, which can miss a leak but never invents one.
      ParamEffect E;
      if (R.BoundHit) {
        E.Effect = ParamEffect::TakesOver;
      } else if (!R.HeldAtExit && !R.ReleasesSeen.empty() && !R.HandedOff) {
        E.Effect = ParamEffect::Releases;
        E.Family = R.ReleasesSeen.front().second;
        E.Via = calleeName(R.ReleasesSeen.front().first).str() + "() at line " +
                std::to_string(line(R.ReleasesSeen.front().first->getBeginLoc()));
      } else if (R.HandedOff && R.HeldAtExit && F->getReturnType()->isPointerType() &&
                 llvm::all_of(R.HeldExitReturns, [&](const Expr *Ret) { return returnsNullThere(Ret, F); })) {
        E.Effect = ParamEffect::TakesOverIfNonNull;
      } else if (R.HandedOff || !R.ReleasesSeen.empty()) {
        E.Effect = ParamEffect::TakesOver;
      }
      S.Params[I] = E;
    }
    SummaryInProgress.erase(F);
    return Summaries[F] = std::move(S);
  }

  /// What a local pointer is initialised or assigned from.
  std::vector<const Expr *> pointerSources(const ObjectPath &P, const FunctionDecl *F) {
    std::vector<const Expr *> Sources;
    auto *V = dyn_cast<VarDecl>(P.Root);
    if (!V || !V->getType()->isPointerType() || !P.Suffix.empty())
      return Sources;
    if (V->getInit())
      Sources.push_back(V->getInit());
    for (auto &[Var, Value] : localStoresIn(F->getBody()))
      if (Var->getCanonicalDecl() == V->getCanonicalDecl() && Value != V->getInit())
        Sources.push_back(Value);
    return Sources;
  }

  /// A local struct (not a pointer to one) of this function: `zc_pfrag` in
  /// `struct page **pages = &zc_pfrag.page;`.
  static bool isLocalAggregate(const ValueDecl *D) {
    auto *V = dyn_cast<VarDecl>(D);
    return V && V->isLocalVarDecl() && !isa<ParmVarDecl>(V) && !V->getType()->isPointerType();
  }

  bool pointsIntoForeignStorage(const ObjectPath &P, const FunctionDecl *F) {
    for (const Expr *E : pointerSources(P, F)) {
      auto From = objectPath(E);
      if (!From)
        continue;
      if (!From->Suffix.empty() && isLocalAggregate(From->Root))
        continue; // a field of a local struct: still this function's
      if (!From->Suffix.empty() || isa<ParmVarDecl>(From->Root) ||
          (isa<VarDecl>(From->Root) && cast<VarDecl>(From->Root)->hasGlobalStorage()))
        return true;
    }
    return false;
  }

  std::vector<RefFinding> analyze(const FunctionDecl *F) {
    std::vector<RefFinding> All;
    if (!F->getBody())
      return All;
    for (const CallExpr *Call : callsIn(F->getBody())) {
      llvm::StringRef Name = calleeName(Call);
      Tracked T;
      T.F = F;
      T.Call = Call;
      T.Callee = Name.str();
      const Expr *PagesArg = nullptr;
      if (const GetPagesFn *G = Model.getPages(Name)) {
        T.Family = G->Family;
        if (G->PagesArg < Call->getNumArgs())
          PagesArg = Call->getArg(G->PagesArg);
      } else if (const AcquireFn *A = Model.acquire(Name); A && A->ReturnsCount) {
        T.Family = A->Family;
        T.AskedForOne = A->NrArg && *A->NrArg < Call->getNumArgs() && isOne(Call->getArg(*A->NrArg));
        if (A->PagesArg && *A->PagesArg < Call->getNumArgs())
          PagesArg = Call->getArg(*A->PagesArg);
        else
          for (const Expr *Arg : Call->arguments())
            if (isPageCarrying(Arg->getType()) && !isZero(Arg)) {
              PagesArg = Arg;
              break;
            }
      } else {
        continue;
      }
      if (!PagesArg || isZero(PagesArg))
        continue; // get_user_pages(..., NULL): faults pages in, takes nothing
      auto Path = objectPath(PagesArg);
      if (!Path)
        continue;
      // The pages belong to the caller (out-parameter), a struct or a global:
      // whether they must be released here is the owner's business, so only
      // the family of the releases this function does make is checked.
      auto *GV = dyn_cast<VarDecl>(Path->Root);
      T.FamilyOnly = isa<ParmVarDecl>(Path->Root) || !Path->Suffix.empty() || (GV && GV->hasGlobalStorage()) ||
                     pointsIntoForeignStorage(*Path, F);
      T.Paths.push_back(*Path);
      // `struct page *page, **pages = &page;` or `**ppages = pages;`: the
      // pages land in the local storage the pointer points to.
      for (const Expr *Src : pointerSources(*Path, F)) {
        auto From = objectPath(Src);
        if (!From)
          continue;
        // The field of a local struct: the struct itself carries the page
        // (`tls_append_frag(record, &zc_pfrag, copy)` hands it on).
        if (!From->Suffix.empty() && isLocalAggregate(From->Root)) {
          ObjectPath Whole;
          Whole.Root = From->Root;
          Whole.Spelling = From->Root->getNameAsString();
          From = Whole;
        }
        if (From->Suffix.empty() && !llvm::is_contained(T.Paths, *From))
          T.Paths.push_back(*From);
      }
      addAliases(T);
      T.Result = resultVar(Call, F);
      T.StatusVar = statusVariable(F, T.Result);
      {
        const BodyParents &BP = Parents.of(F);
        const Stmt *Cur = Call;
        for (const Stmt *P = BP.parent(Cur); P; Cur = P, P = BP.parent(P))
          if (auto *If = dyn_cast<IfStmt>(P); If && Cur != If->getCond())
            T.Guards.push_back({text(If->getCond()), Cur == If->getThen()});
      }
      // iov_iter_extract_pages() takes nothing from a non-user iterator.
      if (T.Family == ReleaseFamily::PinIfWillPin && (extractKinds(T) & IterKindSet::userBacked()).empty())
        continue;
      State Entry;
      Entry.add(NotAcquired, Detached);
      Run R = run(T, Entry);
      for (RefFinding &Fd : R.Findings)
        if (!T.FamilyOnly || Fd.Kind != RefFindingKind::DoubleRelease)
          All.push_back(std::move(Fd));
    }
    return All;
  }
};

RefFlow::RefFlow(ASTContext &Ctx, const ApiModel &Model, const TuIndex &Index, RefFlowLimits Limits)
    : P(std::make_unique<Impl>(Ctx, Model, Index, Limits)) {}
RefFlow::~RefFlow() = default;
std::vector<RefFinding> RefFlow::analyze(const FunctionDecl *F) { return P->analyze(F); }
const FunctionSummary &RefFlow::summary(const FunctionDecl *F) { return P->summaryOf(F); }
void RefFlow::assumeExternal(std::map<std::string, ParamEffect> Effects) { P->ExternalAssumptions = std::move(Effects); }
std::set<std::string> RefFlow::takeExternalsSeen() { return std::exchange(P->ExternalsSeen, {}); }
bool isPageCarryingType(clang::QualType T) { return isPageCarrying(T); }

std::optional<ParamEffect> callEffect(const FunctionSummary &S) {
  if (S.Params.empty())
    return std::nullopt;
  std::string Via = "a release";
  for (const auto &P : S.Params)
    if (!P.second.Via.empty())
      Via = P.second.Via;
  bool KeepsIfNonNull = false, Keeps = false;
  for (const auto &P : S.Params) {
    const ParamEffect &E = P.second;
    if (E.Effect == ParamEffect::Releases && (E.Family == ReleaseFamily::Ref || E.Family == ReleaseFamily::Pin)) {
      ParamEffect R = E;
      R.Via = Via;
      return R;
    }
    KeepsIfNonNull |= E.Effect == ParamEffect::TakesOverIfNonNull;
    // A release of another family (a bio's) is not one the variants model.
    Keeps |= E.Effect == ParamEffect::TakesOver || E.Effect == ParamEffect::Releases;
  }
  ParamEffect R;
  R.Effect = KeepsIfNonNull ? ParamEffect::TakesOverIfNonNull : Keeps ? ParamEffect::TakesOver : ParamEffect::Uses;
  return R;
}

const char *assumptionName(const ParamEffect &E) {
  switch (E.Effect) {
  case ParamEffect::Uses: return "uses";
  case ParamEffect::TakesOver: return "takes-over";
  case ParamEffect::TakesOverIfNonNull: return "takes-over-if-non-null";
  case ParamEffect::Releases:
    return E.Family == ReleaseFamily::Pin ? "releases-pin" : E.Family == ReleaseFamily::Ref ? "releases-ref" : "releases";
  }
  return "uses";
}

nlohmann::json toJson(const FunctionSummary &S) {
  nlohmann::json Params = nlohmann::json::object();
  for (auto &[Index, E] : S.Params) {
    const char *Effect = E.Effect == ParamEffect::Releases             ? "releases"
                         : E.Effect == ParamEffect::TakesOver          ? "takes-over"
                         : E.Effect == ParamEffect::TakesOverIfNonNull ? "takes-over-if-non-null"
                                                                       : "uses";
    nlohmann::json J = {{"effect", Effect}};
    if (E.Effect == ParamEffect::Releases) {
      J["family"] = familyName(E.Family);
      J["via"] = E.Via;
    }
    Params[std::to_string(Index)] = J;
  }
  return {{"function", S.Name}, {"external", S.ExternallyVisible}, {"params", Params}};
}

std::optional<FunctionSummary> summaryFromJson(const nlohmann::json &J, std::string &Error) {
  if (!J.is_object() || !J.contains("function") || !J["function"].is_string() || !J.contains("params") ||
      !J["params"].is_object()) {
    Error = "a summary needs 'function' (string) and 'params' (object)";
    return std::nullopt;
  }
  FunctionSummary S;
  S.Name = J["function"].get<std::string>();
  S.ExternallyVisible = J.value("external", false);
  for (auto &[Key, P] : J["params"].items()) {
    unsigned Index;
    if (!llvm::to_integer(Key, Index) || !P.is_object() || !P.contains("effect") || !P["effect"].is_string()) {
      Error = S.Name + ": parameter '" + Key + "' needs a numeric key and an 'effect'";
      return std::nullopt;
    }
    ParamEffect E;
    std::string Effect = P["effect"].get<std::string>();
    if (Effect == "releases") E.Effect = ParamEffect::Releases;
    else if (Effect == "takes-over") E.Effect = ParamEffect::TakesOver;
    else if (Effect == "takes-over-if-non-null") E.Effect = ParamEffect::TakesOverIfNonNull;
    else if (Effect == "uses") E.Effect = ParamEffect::Uses;
    else {
      Error = S.Name + ": unknown effect '" + Effect + "'";
      return std::nullopt;
    }
    if (E.Effect == ParamEffect::Releases) {
      auto F = parseFamily(P.value("family", ""));
      if (!F) {
        Error = S.Name + ": parameter " + Key + " releases with an unknown family";
        return std::nullopt;
      }
      E.Family = *F;
      E.Via = P.value("via", "");
    }
    S.Params[Index] = E;
  }
  return S;
}

} // namespace pageref
