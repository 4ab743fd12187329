// What each statement does to the tracked pages on every path: the
// acquisition itself, releases (directly, through a helper of this file, or
// through a function of another file under the driver's assumption), sinks
// that take the pages over (some only when they succeed), stores into a
// struct that outlives the call or into an object this function allocated,
// and the values assignments give to the atoms the function's tests read.
#include "Engine.h"

#include "clang/AST/ParentMap.h"

using namespace clang;

namespace pageref {

using namespace refflow;

namespace {

const ParamEffect &takesOver() {
  static const ParamEffect E = [] {
    ParamEffect P;
    P.Effect = ParamEffect::TakesOver;
    return P;
  }();
  return E;
}

} // namespace

/// The variable at the root of an lvalue written through a pointer
/// (`x->f`, `*x`, `x[i]` with x a pointer), or of a global; else null.
const VarDecl *refflow::throughPointerRoot(const Expr *L) {
  L = L->IgnoreParenCasts();
  bool Through = false;
  while (true) {
    if (auto *M = dyn_cast<MemberExpr>(L)) {
      Through |= M->isArrow();
      L = M->getBase()->IgnoreParenCasts();
    } else if (auto *A = dyn_cast<ArraySubscriptExpr>(L)) {
      Through |= A->getBase()->getType()->isPointerType();
      L = A->getBase()->IgnoreParenCasts();
    } else if (auto *U = dyn_cast<UnaryOperator>(L); U && U->getOpcode() == UO_Deref) {
      // WRITE_ONCE(x, v): `*(volatile T *)&(x) = v`
      L = U->getSubExpr()->IgnoreParenCasts();
      if (auto *A = dyn_cast<UnaryOperator>(L); A && A->getOpcode() == UO_AddrOf)
        L = A->getSubExpr()->IgnoreParenCasts();
      else
        Through = true;
    } else {
      break;
    }
  }
  auto *D = dyn_cast<DeclRefExpr>(L);
  auto *V = D ? dyn_cast<VarDecl>(D->getDecl()) : nullptr;
  if (!V)
    return nullptr;
  if (V->hasGlobalStorage())
    return V;
  return Through ? V : nullptr;
}

namespace {

/// The root variable of an argument (`x`, `&x->f`, `x->a[i]`).
const VarDecl *argumentRoot(const Expr *E) {
  auto P = objectPath(E);
  return P ? dyn_cast<VarDecl>(P->Root) : nullptr;
}

bool mentionsName(const Expr *E, llvm::StringRef Name, const ASTContext &Ctx) {
  std::string T = exprText(E, Ctx, 400);
  size_t At = 0;
  while ((At = T.find(Name.str(), At)) != std::string::npos) {
    auto Ident = [](char C) { return std::isalnum(static_cast<unsigned char>(C)) || C == '_'; };
    bool Before = At == 0 || !Ident(T[At - 1]);
    bool After = At + Name.size() >= T.size() || !Ident(T[At + Name.size()]);
    if (Before && After)
      return true;
    At += Name.size();
  }
  return false;
}

} // namespace

bool RefFlow::Impl::isAllocation(const Expr *E, bool *Zeroed) {
  auto *C = dyn_cast_or_null<CallExpr>(E ? E->IgnoreParenCasts() : nullptr);
  if (!C)
    return false;
  const AllocatorFn *A = Model.allocator(calleeName(C));
  if (A && Zeroed)
    *Zeroed = A->Zeroed;
  return A != nullptr;
}

void RefFlow::Impl::setOwn(ConfigSet &In, Own From, Own To) {
  for (Config &C : In.All)
    if (C.Ref == From)
      C.Ref = To;
}

void RefFlow::Impl::handOff(ConfigSet &In, RunResult &Out, const Tracked *T) {
  // Lost pages stay lost: the pointer handed on no longer leads to them.
  for (Config &C : In.All) {
    if (C.OwnRef || C.Undisposed)
      continue; // what is handed on is the function's own reference, or not the element still held
    if (C.Ref == Own::Held || C.Ref == Own::StoredIn || C.Ref == Own::Pending) {
      Out.HandedOff = true;
      C.Ref = Own::HandedOff;
    }
    // `sg_set_page(sge, page, ...); get_page(page);`: the reference about to
    // be taken is for the owner the page was just given to.
    if (T && T->What == Tracked::Pages &&
        (C.Ref == Own::NotAcquired || C.Ref == Own::Released || C.Ref == Own::HandedOff))
      C.Parked = true;
  }
}

void RefFlow::Impl::keep(ConfigSet &In, RunResult &Out) {
  for (Config &C : In.All)
    if (C.OwnRef) {
      continue; // what is kept is the function's own reference
    } else if (C.Ref == Own::Held || C.Ref == Own::StoredIn) {
      Out.HandedOff = true;
      C.Kept = true;
    } else if (C.Ref == Own::Pending) {
      Out.HandedOff = true;
      C.Ref = Own::HandedOff;
    }
}

void RefFlow::Impl::onAcquisition(FunctionCtx &FC, const Tracked &T, ConfigSet &In) {
  ConfigSet Out;
  for (const Config &C : In.All) {
    Config N = C;
    if (T.Result)
      N.set(T.Result, Value::signs(AnySign));
    auto Fresh = [&](Config &X, Own Taken) {
      X.DeadNames.clear(); // the acquisition fills what its arguments name now
      X.Failed = false;
      // Pages an earlier round took and handed off are still released through
      // their owner's names, by their family (not one page referenced again).
      if (X.Ref == Own::HandedOff && !T.SinglePage)
        X.HandedBefore = true;
      if (X.Parked && T.SinglePage) {
        X.Parked = false;
        X.Ref = Own::HandedOff;
        return;
      }
      // An array given to its owner before it was filled: the pages are the
      // owner's (Parked stays: a successful return hands them back).
      if (X.holds() && Taken == Own::Held) {
        X.Ref = Own::Held;
        X.Prior = true;
      } else if (!(X.holds() && Taken == Own::NotPinned)) {
        X.Ref = Taken;
        X.Prior = false;
      }
    };
    if (T.What == Tracked::Array) {
      // iov_iter_extract_pages() allocates only into a NULL pointer.
      Own Taken = Own::Held;
      if (T.AllocatedOnFailure) {
        auto A = atomOf(FC, T, nullptr);
        (void)A;
        Taken = Own::NotAcquired;
        if (!T.Paths.empty())
          if (auto Atom = FC.Atoms.find("v:" + std::to_string(reinterpret_cast<uintptr_t>(T.Paths.front().Root))))
            if (resolve(N, FC, *Atom).signClasses() == Zero)
              Taken = Own::Held;
      }
      Fresh(N, Taken);
      Out.add(N);
      continue;
    }
    if (T.Family == ReleaseFamily::PinIfWillPin && T.IterAtom) {
      // Split by what the iterator can be here: user-backed iterators are
      // pinned, the others give pages without pins.
      Value K = resolve(N, FC, T.IterAtom);
      uint16_t Bits = (K.K == Value::Kinds ? K.KindBits : uint16_t(IterKindSet::all().bits())) & T.IterKinds.bits();
      uint16_t User = Bits & IterKindSet::userBacked().bits(), Other = Bits & ~IterKindSet::userBacked().bits();
      if (User) {
        Config U = N;
        U.set(T.IterAtom, Value::kinds(User));
        Fresh(U, Own::Held);
        Out.add(U);
      }
      if (Other) {
        Config O = N;
        O.set(T.IterAtom, Value::kinds(Other));
        Fresh(O, Own::NotPinned);
        Out.add(O);
      }
      continue;
    }
    Fresh(N, Own::Held);
    Out.add(N);
  }
  In = std::move(Out);
}

/// The last two branches the path \p C took, as notes of \p F.
void RefFlow::Impl::addPathNotes(RefFinding &F, const Config &C) {
  for (auto &[Cond, Truth] : Witnesses->last(C.Witness, 2)) {
    auto *E = static_cast<const Expr *>(Cond);
    F.Notes.push_back({E->getBeginLoc(), std::string("taking this path: '") + text(E) + "' is " +
                                             (Truth ? "true" : "false")});
  }
}

/// `unpin_user_pages(pages, ret)` where `ret` may still be the acquisition's
/// error: a negative count is a huge one to the release (vmci's qp_release_pages()).
void RefFlow::Impl::checkCount(FunctionCtx &FC, const Tracked &T, ConfigSet &In, const CallExpr *Rel,
                               const Expr *Count, llvm::StringRef Name, const std::string &Through, RunResult &Out) {
  if (!T.Call || !T.Result || T.ResultIsBytes)
    return;
  checkAskedCount(FC, T, In, Rel, Count, Name, Through, Out);
  for (const Config &C : In.All) {
    Value V = valueOf(FC, T, C, Count);
    if (V.K != Value::Alias || V.Sym != T.Result)
      continue;
    uint8_t S = resolve(C, FC, T.Result).signClasses();
    if (!(S & Neg) || !Out.Reported.insert(Rel).second)
      continue;
    RefFinding F;
    F.Kind = RefFindingKind::NegativeCount;
    F.Loc = Rel->getBeginLoc();
    F.Message = Name.str() + "()" + Through + " releases '" + exprText(Count, Ctx, 40) + "' pages, the result of " +
                T.Callee + "() at line " + std::to_string(line(T.Call->getBeginLoc())) +
                ", on a path where it may be a negative error: as a page count it releases entries that hold "
                "nothing; test it (> 0) first";
    F.Notes.push_back({T.Call->getBeginLoc(), "acquired here; its result can be -errno"});
    addPathNotes(F, C);
    Out.Findings.push_back(std::move(F));
    return;
  }
}

// `unpin_user_pages(pages, nr_pages)` after `pinned = pin_user_pages_fast(addr,
// nr_pages, ...)` on a path where the test said `pinned != nr_pages`: a short
// result filled only the first entries, so the count asked for releases
// entries that hold nothing (rio_dma_transfer() before ffca476a0a8d).
void RefFlow::Impl::checkAskedCount(FunctionCtx &FC, const Tracked &T, ConfigSet &In, const CallExpr *Rel,
                                    const Expr *Count, llvm::StringRef Name, const std::string &Through,
                                    RunResult &Out) {
  const AcquireFn *A = Model.acquire(T.Callee);
  if (!A || !A->NrArg || *A->NrArg >= T.Call->getNumArgs() || T.AskedForOne)
    return;
  const Expr *Asked = T.Call->getArg(*A->NrArg)->IgnoreParenImpCasts();
  auto *AskedRef = dyn_cast<DeclRefExpr>(Asked);
  auto *CountRef = dyn_cast<DeclRefExpr>(Count->IgnoreParenImpCasts());
  if (!AskedRef || !CountRef || AskedRef->getDecl()->getCanonicalDecl() != CountRef->getDecl()->getCanonicalDecl())
    return;
  const VarDecl *Result = resultVariable(T.Call, Parents.of(T.F));
  if (!Result)
    return;
  for (const Config &C : In.All) {
    if (!C.holds() || knownEqual(FC, C, Result, Count) != false || !Out.Reported.insert(Rel).second)
      continue;
    RefFinding F;
    F.Kind = RefFindingKind::CountMismatch;
    F.Loc = Rel->getBeginLoc();
    F.Message = Name.str() + "()" + Through + " releases '" + exprText(Count, Ctx, 40) +
                "' pages, the number asked of " + T.Callee + "() at line " +
                std::to_string(line(T.Call->getBeginLoc())) + ", on a path where it returned another ('" +
                Result->getName().str() + "'): the entries past what it returned hold nothing; release '" +
                Result->getName().str() + "' pages";
    F.Notes.push_back({T.Call->getBeginLoc(), "acquired here; a short result fills only the first entries"});
    addPathNotes(F, C);
    Out.Findings.push_back(std::move(F));
    return;
  }
}

void RefFlow::Impl::fixFor(RefFinding &Out, const CallExpr *Rel, ReleaseFamily Acquired) {
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

static const char *familyWord(ReleaseFamily F) {
  switch (F) {
  case ReleaseFamily::Ref: return "references (FOLL_GET)";
  case ReleaseFamily::Pin: return "pins (FOLL_PIN)";
  case ReleaseFamily::PinIfWillPin: return "pins when iov_iter_extract_will_pin(), otherwise nothing";
  case ReleaseFamily::Bio: return "bio-owned references";
  case ReleaseFamily::Free: return "pages of the page allocator";
  }
  return "";
}
const char *acquiredWord(ReleaseFamily F) { return familyWord(F); }

void RefFlow::Impl::onRelease(FunctionCtx &FC, const Tracked &T, ConfigSet &In, const CallExpr *Rel,
                              ReleaseFamily Family, llvm::StringRef Name, const std::string &Through,
                              RunResult &Out, bool Element, const Expr *Arg) {
  // On paths where the argument's name was pointed elsewhere, this releases
  // some other page.
  if (Arg) {
    const Expr *S = stripViews(Arg);
    if (auto P = objectPath(S); P && P->Suffix.empty()) {
      ConfigSet Live, Dead;
      for (const Config &C : In.All)
        (llvm::is_contained(C.DeadNames, static_cast<const void *>(P->Root)) ? Dead : Live).All.push_back(C);
      if (!Dead.empty()) {
        if (!Live.empty())
          onRelease(FC, T, Live, Rel, Family, Name, Through, Out, Element, nullptr);
        In.All = std::move(Live.All);
        In.All.insert(In.All.end(), Dead.All.begin(), Dead.All.end());
        return;
      }
    }
  }
  std::string At = T.Call ? std::to_string(line(T.Call->getBeginLoc())) : "";
  // `if (p) put_page(p);` after a failed get_user_page_fast_only(virt, 0, &p):
  // only the result says what was taken, whatever the out-parameter holds.
  const ReleaseFn *One = Model.release(Name);
  if (T.Call && T.What == Tracked::Pages && !Element && !T.HeldOnError && Arg && One && !One->CountArg)
    for (const Config &C : In.All) {
      if (C.Ref != Own::NotAcquired || !C.Failed || !Out.Reported.insert(Rel).second)
        continue;
      RefFinding F;
      F.Kind = RefFindingKind::ReleaseUnacquired;
      F.Loc = Rel->getBeginLoc();
      F.Message = Name.str() + "()" + Through + " releases '" + exprText(Arg, Ctx, 40) + "' on a path where " +
                  T.Callee + "() at line " + At +
                  " failed and took nothing: the release drops a reference or pin that belongs to someone else; "
                  "release only what its result says it took";
      F.Notes.push_back({T.Call->getBeginLoc(), "acquired here; its result is the only record of what it took"});
      addPathNotes(F, C);
      Out.Findings.push_back(std::move(F));
      break;
    }
  bool Any = false, Probed = false;
  for (const Config &C : In.All) {
    Any |= C.holds() || C.Ref == Own::Released || C.Ref == Own::NotPinned || C.Ref == Own::Pending;
    Probed |= C.Ref == Own::HandedOff || C.HandedBefore; // only the family is checked
  }
  if (!Any && !Probed)
    return;
  if (Any)
    Out.ReleasesSeen.push_back({Rel, Family});
  bool Pinned = T.Family == ReleaseFamily::Pin || T.Family == ReleaseFamily::PinIfWillPin;
  for (Config &C : In.All) {
    // Handed-off pages keep their family: a release through the owner they
    // were given to (`put_page(sg_page(sg))`) is checked like any other.
    // Pending: a callee that may have kept them; releasing them now ends that.
    if (C.Ref == Own::Pending)
      C.Ref = Own::Held;
    if (C.Ref == Own::HandedOff || (C.HandedBefore && !C.holds())) {
      // A page this function referenced again and handed off still has the
      // reference it came with (alloc_page()'s): __free_page() may drop that one.
      if (T.SinglePage && Family == ReleaseFamily::Free)
        continue;
      Config Probe = C;
      Probe.HandedBefore = false;
      Probe.Ref = Own::Held;
      ConfigSet One;
      One.add(Probe);
      RunResult Scratch;
      Scratch.Reported = Out.Reported;
      onRelease(FC, T, One, Rel, Family, Name, Through, Scratch, /*Element=*/true);
      for (RefFinding &F : Scratch.Findings)
        if (F.Kind == RefFindingKind::WrongFamily || F.Kind == RefFindingKind::ExtractUnconditional)
          Out.Findings.push_back(std::move(F));
      Out.Reported.insert(Scratch.Reported.begin(), Scratch.Reported.end());
      continue;
    }
    if (C.OwnRef && (C.Ref == Own::Held || C.Ref == Own::StoredIn)) {
      C.OwnRef = false; // the function drops the reference it took itself
      continue;
    }
    if (C.Ref == Own::Held || C.Ref == Own::StoredIn) {
      bool Wrong = false;
      RefFinding F;
      F.Loc = Rel->getBeginLoc();
      if (Pinned && (Family == ReleaseFamily::Ref || Family == ReleaseFamily::Free)) {
        Wrong = true;
        F.Message = (T.Family == ReleaseFamily::Pin ? "pages pinned by " : "pages from ") + T.Callee + "() at line " +
                    At + " are released with " + Name.str() + "()" + Through +
                    (T.Family == ReleaseFamily::Pin
                         ? ": FOLL_PIN pages must go back through unpin_user_page*(); " + Name.str() +
                               "() leaves the pin count behind"
                         : ": iov_iter_extract_pages() takes pins (user-backed iterators) or nothing; release "
                           "with unpin_user_page*() only when iov_iter_extract_will_pin()");
      } else if (T.Family == ReleaseFamily::Ref && Family == ReleaseFamily::Pin) {
        Wrong = true;
        F.Message = "page references taken by " + T.Callee + "() at line " + At + " are released with " +
                    Name.str() + "()" + Through +
                    ": FOLL_GET references must be dropped with put_page() or release_pages(); unpinning them "
                    "underflows the pin count";
      } else if (T.Family == ReleaseFamily::Ref && Family == ReleaseFamily::Free) {
        Wrong = true;
        F.Message = "page references taken by " + T.Callee + "() at line " + At + " are released with " +
                    Name.str() + "()" + Through +
                    ": pages of user memory are not the page allocator's to free; drop the reference with "
                    "put_page()";
      } else if (T.Family == ReleaseFamily::PinIfWillPin && Family == ReleaseFamily::Pin && !T.IterAtom &&
                 !underWillPinTest(Rel, T.F) && !extractUserOnly(T)) {
        F.Kind = RefFindingKind::ExtractUnconditional;
        F.Message = "pages from " + T.Callee + "() at line " + At + " are unpinned by " + Name.str() + "()" +
                    Through +
                    " without a test of iov_iter_extract_will_pin(): for iterators that are not user-backed "
                    "nothing was pinned";
        F.Notes.push_back({T.Call->getBeginLoc(), "pages extracted here; iterator kinds that can reach it: " +
                                                      T.IterKinds.str()});
        if (T.Call && Out.Reported.insert(Rel).second)
          Out.Findings.push_back(std::move(F));
      }
      if (Wrong && T.Call && Out.Reported.insert(Rel).second) {
        F.Kind = RefFindingKind::WrongFamily;
        F.Notes.push_back({T.Call->getBeginLoc(), std::string("acquired here as ") + familyWord(T.Family)});
        fixFor(F, Rel, Through.empty() ? T.Family : ReleaseFamily::Bio); // no 1:1 fix through a helper
        Out.Findings.push_back(std::move(F));
      }
      C.Ref = Own::Released;
      C.RelFam = Family;
      C.Prior = false;
      C.Kept = false;
      C.Undisposed = false;
      continue;
    }
    if (C.Ref == Own::NotPinned) {
      if (Family == ReleaseFamily::Pin && T.Call && Out.Reported.insert(Rel).second) {
        RefFinding F;
        F.Kind = RefFindingKind::ExtractUnconditional;
        F.Loc = Rel->getBeginLoc();
        F.Message = "pages from " + T.Callee + "() at line " + At + " are unpinned by " + Name.str() + "()" +
                    Through +
                    " without a test of iov_iter_extract_will_pin(): for iterators that are not user-backed "
                    "nothing was pinned";
        F.Notes.push_back({T.Call->getBeginLoc(), "pages extracted here; iterator kinds that can reach it: " +
                                                      T.IterKinds.str() + "; on this path: " +
                                                      IterKindSet::fromBits(resolve(C, FC, T.IterAtom).KindBits).str()});
        Out.Findings.push_back(std::move(F));
      }
      continue;
    }
    if (C.Ref == Own::Released && T.Call && !Element && (!T.Foreign || T.referencesParameterPage()) &&
        Out.Reported.insert(Rel).second) {
      RefFinding F;
      F.Kind = RefFindingKind::DoubleRelease;
      F.Loc = Rel->getBeginLoc();
      F.Message = "pages acquired by " + T.Callee + "() at line " + At + " are released twice: " + Name.str() +
                  "()" + Through + " runs on a path where they were already released";
      F.Notes.push_back({T.Call->getBeginLoc(), "acquired here"});
      Out.Findings.push_back(std::move(F));
    }
  }
}

const ParamEffect *RefFlow::Impl::effectOfCall(const CallExpr *C, unsigned Arg, const Tracked &T, bool &Unknown) {
  Unknown = false;
  llvm::StringRef Name = calleeName(C);
  if (const FunctionDecl *Def = calleeDefinition(C, SM, /*AllowHeaderInline=*/true)) {
    const FunctionSummary &Sum = summaryOf(Def);
    auto It = Sum.Params.find(Arg);
    // A parameter that is not a page pointer (the struct holding the
    // page, `void *`): not summarised, so it may keep them.
    if (It == Sum.Params.end())
      return &takesOver();
    return &It->second;
  }
  const FunctionDecl *Callee = directCallee(C);
  if (Callee && Callee->isExternallyVisible() && Arg < Callee->getNumParams() &&
      isPageCarryingType(Callee->getParamDecl(Arg)->getType())) {
    // A function of another file: alone, the TU cannot know; the whole-tree
    // driver asks again under each assumption (docs/summaries.md).
    ExternalsSeen.insert(Name.str());
    auto It = ExternalAssumptions.find(Name.str());
    if (It != ExternalAssumptions.end())
      return &It->second;
  }
  Unknown = true;
  return &takesOver();
}

/// Applies what a called function does with the pages to every path.
static void applyEffect(RefFlow::Impl &I, FunctionCtx &FC, const Tracked &T, ConfigSet &In, const CallExpr *C,
                        const ParamEffect &E, RunResult &Out) {
  llvm::StringRef Name = calleeName(C);
  switch (E.Effect) {
  case ParamEffect::Uses:
    return;
  case ParamEffect::TakesOver:
    I.keep(In, Out);
    return;
  case ParamEffect::TakesOverIfNonNull: {
    AtomId Sym = I.resultAtom(FC, C);
    for (Config &X : In.All)
      if (X.holds()) {
        X.Ref = Own::Pending;
        X.Container = Sym;
      }
    return;
  }
  case ParamEffect::Releases:
    break;
  }
  bool Element = I.enclosingLoop(C, T.F) != nullptr;
  std::string Through = " (through " + Name.str() + "(), which calls " + E.Via + ")";
  if (E.CountParam && *E.CountParam < C->getNumArgs())
    I.checkCount(FC, T, In, C, C->getArg(*E.CountParam), Name, Through, Out);
  if (E.Cases.empty()) {
    I.onRelease(FC, T, In, C, E.Family, Name, Through, Out, Element);
    return;
  }
  // The family depends on another argument (`put_back_pages(cmd, ...)`):
  // decided per path by what the path knows of it.
  ConfigSet Result;
  for (const Config &X : In.All) {
    ConfigSet One;
    One.add(X);
    std::optional<ConditionalRelease> Chosen;
    unsigned P = E.Cases.front().Param;
    bool Known = false;
    if (P < C->getNumArgs()) {
      Value V = I.valueOf(FC, T, X, C->getArg(P));
      if (V.K == Value::Alias)
        if (const Value *S = X.get(V.Sym))
          V = *S;
      if (V.K == Value::Const) {
        Known = true;
        for (const ConditionalRelease &K : E.Cases)
          if (K.Equals == V.C)
            Chosen = K;
        if (!Chosen)
          Chosen = E.Otherwise ? E.Otherwise : ConditionalRelease{P, 0, ReleaseFamily::Ref, false};
      }
    }
    if (!Known) {
      // Unknown value: only a release every value agrees on is certain.
      std::set<std::pair<bool, ReleaseFamily>> All;
      for (const ConditionalRelease &K : E.Cases)
        All.insert({K.Releases, K.Releases ? K.Family : ReleaseFamily::Ref});
      if (E.Otherwise)
        All.insert({E.Otherwise->Releases, E.Otherwise->Releases ? E.Otherwise->Family : ReleaseFamily::Ref});
      if (All.size() == 1 && All.begin()->first)
        Chosen = ConditionalRelease{P, 0, All.begin()->second, true};
    }
    if (Chosen && Chosen->Releases)
      I.onRelease(FC, T, One, C, Chosen->Family, Name, Through, Out, Element);
    else if (!Chosen)
      I.keep(One, Out);
    for (const Config &Y : One.All)
      Result.add(Y);
  }
  In = std::move(Result);
}

bool RefFlow::Impl::storesIntoAllocated(FunctionCtx &FC, const Expr *Lhs, const FunctionDecl *F,
                                        const ValueDecl *&Root) {
  const VarDecl *V = throughPointerRoot(Lhs);
  Root = V;
  return V && V->isLocalVarDecl() && !isa<ParmVarDecl>(V) && !V->hasGlobalStorage();
}

void RefFlow::Impl::onCall(FunctionCtx &FC, const Tracked &T, ConfigSet &In, const CallExpr *C, RunResult &Out) {
  forgetFailure(T, In, C);
  llvm::StringRef Name = calleeName(C);
  bool ModelKnown = false;
  // The array an acquisition allocated: freed, or kept by someone.
  if (T.What == Tracked::Array) {
    if (Model.isFreeFunction(Name)) {
      ModelKnown = true;
      if (C->getNumArgs() >= 1 && tracked(T, C->getArg(0)))
        for (Config &X : In.All)
          if (X.holds())
            X.Ref = Own::Released;
    } else if (!Model.release(Name) && !Model.isPageUser(Name) && !Model.getPages(Name) && !Model.acquire(Name)) {
      for (unsigned A = 0; A < C->getNumArgs(); ++A) {
        if (!tracked(T, C->getArg(A)))
          continue;
        const FunctionDecl *Callee = directCallee(C);
        if (Callee && A < Callee->getNumParams()) {
          QualType PT = Callee->getParamDecl(A)->getType();
          if (const auto *Ptr = PT->getAs<PointerType>(); Ptr && Ptr->getPointeeType().isConstQualified())
            continue;
        }
        keep(In, Out);
        break;
      }
    }
  } else if (const ReleaseFn *Rel = Model.release(Name)) {
    ModelKnown = true;
    if (Rel->Arg < C->getNumArgs() && tracked(T, C->getArg(Rel->Arg))) {
      if (Rel->CountArg && *Rel->CountArg < C->getNumArgs()) {
        checkCount(FC, T, In, C, C->getArg(*Rel->CountArg), Name, "", Out);
        if (auto *D = dyn_cast<DeclRefExpr>(C->getArg(*Rel->CountArg)->IgnoreParenImpCasts()))
          if (auto *P = dyn_cast<ParmVarDecl>(D->getDecl()); P && !T.Call)
            Out.CountParam = P->getFunctionScopeIndex();
      }
      onRelease(FC, T, In, C, Rel->Family, Name, "", Out, enclosingLoop(C, T.F) != nullptr, C->getArg(Rel->Arg));
    }
  } else if (Model.isFreeFunction(Name)) {
    ModelKnown = true;
    // Freeing the object the pages were stored in gives them back to us;
    // freeing their owner's storage leaves them with nobody.
    if (C->getNumArgs() >= 1)
      if (const VarDecl *R = argumentRoot(C->getArg(0))) {
        auto A = atomOf(FC, T, C->getArg(0)->IgnoreParenCasts());
        for (Config &X : In.All) {
          if (X.Ref == Own::StoredIn && A && X.Container == *A)
            X.Ref = Own::Held;
          if (X.holds() && T.Foreign && T.ForeignOwner == R->getCanonicalDecl() &&
              objectPath(C->getArg(0)) && objectPath(C->getArg(0))->Suffix.empty())
            X.OwnerGone = true;
          // kfree(m->page_list) with the pins still in it: nobody can release them now.
          if (X.holds() && !T.SinglePage && T.Foreign && tracked(T, C->getArg(0)))
            X.OwnerGone = true;
        }
      }
  } else if (const SinkFn *Sink = Model.sink(Name);
             Sink && Sink->Arg < C->getNumArgs() && tracked(T, C->getArg(Sink->Arg))) {
    ModelKnown = true;
    bool Applies = !Sink->TakesOwnRef;
    if (Applies && !Sink->WhenFlagName.empty())
      Applies = Sink->WhenFlagArg < C->getNumArgs() &&
                mentionsName(C->getArg(Sink->WhenFlagArg), Sink->WhenFlagName, Ctx);
    if (Applies) {
      if (Sink->Success == SinkFn::Always) {
        handOff(In, Out, &T);
      } else {
        AtomId Sym = resultAtom(FC, C);
        std::optional<AtomId> Flag;
        if (Sink->NotKeptFlagArg && *Sink->NotKeptFlagArg < C->getNumArgs())
          if (auto *U = dyn_cast<UnaryOperator>(C->getArg(*Sink->NotKeptFlagArg)->IgnoreParenCasts());
              U && U->getOpcode() == UO_AddrOf)
            if ((Flag = atomOf(FC, T, U->getSubExpr())))
              FC.Interesting.insert(*Flag);
        if (Flag)
          Out.MergeSink = C;
        for (Config &X : In.All)
          if (X.holds() && !X.Undisposed) { // an element it did not take stays ours
            X.Ref = Own::Pending;
            X.Container = Sym;
            X.KeepFlag = Flag ? *Flag : 0;
          }
      }
    }
  } else if (const AcquireFn *Acq = Model.acquire(Name); Acq && !T.Call && Acq->Arg && *Acq->Arg < C->getNumArgs() &&
                                                        tracked(T, C->getArg(*Acq->Arg))) {
    // A summary: the function takes its own reference on the page it was
    // given (nfs_create_request(), skb_append_pagefrags()): what it keeps
    // afterwards is that reference, not the caller's.
    ModelKnown = true;
    for (Config &X : In.All)
      if (X.holds())
        X.OwnRef = true;
  } else if (Model.isPageUser(Name) || Model.getPages(Name) || Model.acquire(Name) || Model.containerGetter(Name) ||
             Model.isPageView(Name) || Model.isPageHandle(Name) || Model.iterGuard(Name) ||
             Model.iterConstructor(Name) || C->getBuiltinCallee()) {
    ModelKnown = true;
  } else {
    for (unsigned A = 0; A < C->getNumArgs(); ++A) {
      const Expr *Arg = C->getArg(A);
      bool Pages = tracked(T, Arg);
      // A pointer to the pages' owner (`xdp_umem_unpin_pages(umem)` for
      // pages in umem->pgs): what the function does with that field.
      std::optional<ObjectPath> Owner;
      if (!Pages) {
        auto AP = objectPath(Arg);
        if (AP)
          for (const ObjectPath &P : T.Paths)
            if (P.Root == AP->Root && P.Suffix.size() > AP->Suffix.size() &&
                llvm::StringRef(P.Suffix).starts_with(AP->Suffix) && P.Suffix[AP->Suffix.size()] == '.') {
              Owner = P;
              Owner->Suffix = P.Suffix.substr(AP->Suffix.size());
              break;
            }
      }
      // A field of a single tracked page (`list_add(&page->lru, ...)`): it
      // is being linked somewhere.
      if (!Pages && !Owner && T.SinglePage)
        if (auto AP = objectPath(Arg); AP && !AP->Suffix.empty())
          for (const ObjectPath &P : T.Paths)
            if (P.Root == AP->Root && P.Suffix.empty()) {
              keep(In, Out);
              break;
            }
      // `list_add(&region->entry, &enclave->regions)`: the object this
      // function made, which holds the pages, is linked into a structure of
      // the caller's (a parameter's or a global's); its teardown owns them now.
      if (!Pages && !Owner && T.Foreign && linksOwnerIntoForeignStorage(T, C, Arg)) {
        for (Config &X : In.All)
          if (X.holds()) {
            X.Ref = Own::HandedOff;
            Out.HandedOff = true;
          }
        continue;
      }
      // `kref_put(&req->refcount, dma_req_free)`, `call_rcu(&obj->rcu, free_fn)`:
      // the object holding the pages goes to a function of this file that
      // releases pages kept in that object's type.
      if (!Pages && !Owner && handsOwnerToItsRelease(FC, T, C, Arg, In)) {
        Out.HandedOff = true;
        continue;
      }
      // The object the pages were stored into escapes through the call.
      if (!Pages && !Owner)
        if (const VarDecl *R = argumentRoot(Arg))
          if (auto RA = FC.Atoms.find("v:" + std::to_string(reinterpret_cast<uintptr_t>(R->getCanonicalDecl()))))
            for (Config &X : In.All)
              if (X.Ref == Own::StoredIn && X.Container == *RA) {
                X.Ref = Own::HandedOff;
                Out.HandedOff = true;
              }
      if (!Pages && !Owner)
        continue;
      if (const FunctionDecl *Callee = directCallee(C); Pages && Callee && A < Callee->getNumParams()) {
        QualType PT = Callee->getParamDecl(A)->getType();
        if (const auto *Ptr = PT->getAs<PointerType>(); Ptr && Ptr->getPointeeType().isConstQualified())
          continue; // page_to_nid(const struct page *): looks, does not keep
      }
      if (Owner) {
        const FunctionDecl *Def = calleeDefinition(C, SM, /*AllowHeaderInline=*/true);
        if (!Def) {
          keep(In, Out); // a function of another file is given what holds them
          break;
        }
        if (const ParamEffect *E = fieldSummary(Def, A, Owner->Suffix, *Owner))
          applyEffect(*this, FC, T, In, C, *E, Out);
        break;
      }
      bool Unknown = false;
      const ParamEffect *E = effectOfCall(C, A, T, Unknown);
      // A function of another file whose result the caller looks at: if it
      // fails, it kept nothing (`rc = genwqe_map_pages(...); if (rc) goto
      // unpin;`). Errors are negative, false, or a NULL / ERR_PTR pointer.
      const Stmt *Use = Parents.of(T.F).parent(C);
      while (Use && (isa<ImplicitCastExpr>(Use) || isa<ParenExpr>(Use)))
        Use = Parents.of(T.F).parent(Use);
      QualType RT = C->getType();
      // page_size(page), page_to_nid(page): an unsigned number cannot say
      // "failed", so the function is no taker; it looks at the page.
      if (Unknown && E->Effect == ParamEffect::TakesOver && RT->isUnsignedIntegerType() && !RT->isBooleanType())
        break;
      if (Unknown && E->Effect == ParamEffect::TakesOver && Use && !isa<CompoundStmt>(Use) &&
          !isa<LabelStmt>(Use) && (RT->isIntegerType() || RT->isPointerType())) {
        AtomId Sym = resultAtom(FC, C);
        AtomInfo &I = FC.Atoms.info(Sym);
        I.KeepsOnlyOnSuccess = true;
        // int: 0 or -errno (nonzero fails); ssize_t, long: a count or -errno.
        bool Status = RT->isSpecificBuiltinType(BuiltinType::Int) && !RT->getAs<TypedefType>();
        I.FailureClasses = RT->isBooleanType()   ? uint8_t(Zero)
                           : RT->isPointerType() ? uint8_t(Zero | Neg)
                           : Status              ? uint8_t(Neg | Pos)
                                                 : uint8_t(Neg);
        for (Config &X : In.All)
          if (X.holds() && !X.OwnRef) {
            X.Ref = Own::Pending;
            X.Container = Sym;
            Out.HandedOff = true;
          }
        break;
      }
      applyEffect(*this, FC, T, In, C, *E, Out);
      break;
    }
    // Pages held in a global: a function of this file may release them
    // without being given anything (`_ceph_msgr_exit()`).
    for (const ObjectPath &P : T.Paths) {
      auto *GV = dyn_cast<VarDecl>(P.Root);
      if (!GV || !GV->hasGlobalStorage())
        continue;
      if (const FunctionDecl *Def = calleeDefinition(C, SM, /*AllowHeaderInline=*/false))
        if (const ParamEffect *E = fieldSummary(Def, ~0u, P.Suffix, P); E && E->Effect != ParamEffect::Uses)
          applyEffect(*this, FC, T, In, C, *E, Out);
      break;
    }
  }
  if (ModelKnown && !Model.isFreeFunction(Name)) {
    forgetOutParams(FC, In, C);
    return;
  }
  invalidateAfterCall(FC, In, C);
}

void RefFlow::Impl::forgetOutParams(FunctionCtx &FC, ConfigSet &In, const CallExpr *C) {
  // A known function still writes its out-parameters (`&same_page`, the
  // `&page` of get_user_page_fast_only()).
  for (Config &X : In.All)
    for (const Expr *Arg : C->arguments())
      if (auto *U = dyn_cast<UnaryOperator>(Arg->IgnoreParenCasts()); U && U->getOpcode() == UO_AddrOf)
        if (auto *D = dyn_cast<DeclRefExpr>(U->getSubExpr()->IgnoreParenImpCasts()))
          if (auto *V = dyn_cast<VarDecl>(D->getDecl()); V && !V->getType()->isRecordType() && !V->getType()->isArrayType())
            if (auto VA = FC.Atoms.find("v:" + std::to_string(reinterpret_cast<uintptr_t>(V->getCanonicalDecl()))))
              X.erase(*VA);
}

void RefFlow::Impl::forgetFailure(const Tracked &T, ConfigSet &In, const CallExpr *C) {
  // `err = get_user_pages_fast(addr, 1, 0, &page)` again after the first one
  // failed: `page` may hold what another call put there.
  for (Config &X : In.All)
    if (X.Failed)
      for (const Expr *Arg : C->arguments())
        if (auto *U = dyn_cast<UnaryOperator>(Arg->IgnoreParenCasts()); U && U->getOpcode() == UO_AddrOf)
          if (auto *D = dyn_cast<DeclRefExpr>(U->getSubExpr()->IgnoreParenImpCasts()))
            if (llvm::any_of(T.Paths, [&](const ObjectPath &P) {
                  return P.Root && P.Root->getCanonicalDecl() == D->getDecl()->getCanonicalDecl() &&
                         P.Suffix.empty();
                }))
              X.Failed = false;
}

void RefFlow::Impl::invalidateAfterCall(FunctionCtx &FC, ConfigSet &In, const CallExpr *C) {
  // What the callee may have written: variables whose address it gets,
  // fields of objects it gets a pointer to, and whatever any call can change.
  for (Config &X : In.All) {
    for (unsigned A = 0; A < C->getNumArgs(); ++A) {
      const Expr *Arg = C->getArg(A)->IgnoreParenCasts();
      bool Address = false;
      if (auto *U = dyn_cast<UnaryOperator>(Arg); U && U->getOpcode() == UO_AddrOf) {
        Arg = U->getSubExpr()->IgnoreParenCasts();
        Address = true;
      } else if (!Arg->getType()->isPointerType()) {
        continue;
      }
      while (auto *AS = dyn_cast<ArraySubscriptExpr>(Arg)) // `&x->a[i]`: all of a
        Arg = AS->getBase()->IgnoreParenCasts();
      auto K = fieldKey(Arg);
      if (!K)
        continue;
      bool Whole = isa<DeclRefExpr>(Arg);
      // `&v`: v itself; `p`: what p points to; `&p->f`, `p->f`: that field.
      forget(FC, X, K->first, Whole && Address, Whole ? "" : K->second);
    }
    for (auto It = X.Facts.begin(); It != X.Facts.end();)
      if (FC.Atoms.info(It->first).K == AtomInfo::CallOpaque)
        It = X.Facts.erase(It);
      else
        ++It;
  }
}

void RefFlow::Impl::onAssign(FunctionCtx &FC, const Tracked &T, ConfigSet &In, const Expr *Lhs, const Expr *Rhs,
                             const Stmt *S, RunResult &Out, bool Compound) {
  auto LA = atomOf(FC, T, Lhs);
  bool Zeroed = false;
  bool Alloc = !Compound && isAllocation(Rhs, &Zeroed);
  const VarDecl *LV = nullptr;
  if (auto *D = dyn_cast<DeclRefExpr>(Lhs->IgnoreParenImpCasts()))
    LV = dyn_cast<VarDecl>(D->getDecl());
  const Expr *RhsStripped = Rhs->IgnoreParenCasts();
  bool RhsTracked = tracked(T, Rhs);
  // The value stored is not the page pointer but a number for it (page_to_pfn()).
  bool StoresHandle = false;
  for (const Expr *E = RhsStripped; E;) {
    E = E->IgnoreParenCasts();
    if (auto *B = dyn_cast<BinaryOperator>(E); B && B->isAdditiveOp()) {
      E = B->getLHS();
      continue;
    }
    auto *HC = dyn_cast<CallExpr>(E);
    if (HC && Model.isPageHandle(calleeName(HC)))
      StoresHandle = true;
    if (!HC || !(Model.isPageHandle(calleeName(HC)) || Model.isPageView(calleeName(HC))) || HC->getNumArgs() < 1)
      break;
    E = HC->getArg(0);
  }
  // `pages = ERR_PTR(ret);` / `pages = NULL;` on the pages' own pointer.
  bool Overwrites = false;
  if (LV && !T.Paths.empty() && T.Paths.front().Suffix.empty() &&
      T.Paths.front().Root == LV->getCanonicalDecl() && !RhsTracked && RhsStripped != T.Call) {
    auto *RC = dyn_cast<CallExpr>(RhsStripped);
    Overwrites = RhsStripped->isNullPointerConstant(Ctx, Expr::NPC_ValueDependentIsNotNull) ||
                 (RC && (calleeName(RC) == "ERR_PTR" || calleeName(RC) == "ERR_CAST")) ||
                 // the only name the pages had now names something else
                 (LV->getType()->isPointerType() && LV->isLocalVarDecl() && !Compound && T.Paths.size() == 1);
  }
  // Where the pages (or the array) go when stored.
  const ValueDecl *StoreRoot = nullptr;
  bool Through = RhsTracked && !LV && storesIntoAllocated(FC, Lhs, T.F, StoreRoot);
  bool IntoNonLocal = false;
  if (RhsTracked && !LV) {
    const VarDecl *R = throughPointerRoot(Lhs);
    IntoNonLocal = R != nullptr;
    if (const auto *M = dyn_cast<MemberExpr>(Lhs->IgnoreParenImpCasts()); M && IntoNonLocal)
      if (auto *FD = dyn_cast<FieldDecl>(M->getMemberDecl()))
        Out.FieldStores.push_back({FD, S});
  }
  // `pin_longterm_test_pages = pages`: a global outlives the call like a field.
  bool IntoGlobal = RhsTracked && LV && LV->hasGlobalStorage() && LV->getType()->isPointerType();
  IntoNonLocal |= IntoGlobal;
  // The stored value is the object the pages sit in: it escapes.
  std::optional<AtomId> RhsContainer;
  if (!LV || LV->hasGlobalStorage())
    if (auto *D = dyn_cast<DeclRefExpr>(RhsStripped))
      if (auto *V = dyn_cast<VarDecl>(D->getDecl()))
        RhsContainer = FC.Atoms.find("v:" + std::to_string(reinterpret_cast<uintptr_t>(V->getCanonicalDecl())));
  if (T.What == Tracked::Async) {
    // The array submitted asynchronously has no owner to change here: only
    // the values its tests read (`iocb->ki_complete = done`, `ret = ...`).
    for (Config &C : In.All)
      if (LA)
        assign(FC, C, *LA, Compound ? Value::signs(AnySign) : valueOf(FC, T, C, Rhs));
    return;
  }
  for (Config &C : In.All) {
    // Facts.
    if (LA) {
      Value V = Compound ? Value::signs(AnySign) : valueOf(FC, T, C, Rhs);
      assign(FC, C, *LA, V);
      if (LV) {
        std::string K = std::to_string(reinterpret_cast<uintptr_t>(LV->getCanonicalDecl()));
        AtomInfo ZI;
        ZI.K = AtomInfo::Zeroed;
        ZI.Root = cast<ValueDecl>(LV->getCanonicalDecl());
        AtomId Z = FC.Atoms.intern("z:" + K, ZI);
        AtomInfo AI = ZI;
        AI.K = AtomInfo::Zeroed;
        AtomId Al = FC.Atoms.intern("a:" + K, AI);
        C.erase(Z);
        C.erase(Al);
        if (Alloc) {
          C.set(Al, Value::constant(1));
          if (Zeroed)
            C.set(Z, Value::constant(1));
        }
      }
    } else if (LV) {
      forget(FC, C, LV->getCanonicalDecl(), false);
    }
    // A name of the pages now names something else on this path.
    if (LV && LV->getType()->isPointerType() && LV->isLocalVarDecl() && !Compound && RhsStripped != T.Call) {
      const void *Key = LV->getCanonicalDecl();
      bool IsName = llvm::any_of(T.Paths, [&](const ObjectPath &P) { return P.Root == Key && P.Suffix.empty(); });
      auto It = llvm::find(C.DeadNames, Key);
      if (IsName && !RhsTracked)
        C.Failed = false; // `page = ZERO_PAGE(0)`: no longer the failed acquisition's name
      if (IsName && !RhsTracked && It == C.DeadNames.end() && C.Ref != Own::NotAcquired)
        C.DeadNames.push_back(Key);
      else if (RhsTracked && It != C.DeadNames.end())
        C.DeadNames.erase(It);
    }
    if (Overwrites && C.holds() && T.What == Tracked::Pages)
      C.Ref = Own::Lost;
    if (Overwrites && C.holds() && T.What == Tracked::Array)
      C.Ref = Own::Lost;
    // Ownership.
    if (RhsTracked && C.holds() && (!LV || IntoGlobal)) {
      bool Allocated = false;
      if (Through && StoreRoot)
        if (auto Al = FC.Atoms.find("a:" + std::to_string(reinterpret_cast<uintptr_t>(StoreRoot))))
          Allocated = C.get(*Al) != nullptr;
      if (Allocated) {
        if (auto RA = FC.Atoms.find("v:" + std::to_string(reinterpret_cast<uintptr_t>(StoreRoot)))) {
          C.Ref = Own::StoredIn;
          C.Container = *RA;
        }
      } else if (IntoNonLocal && StoresHandle) {
        C.Kept = true; // a pfn or an address: maybe the owner's, maybe only for a lookup
        Out.HandedOff = true;
      } else if (IntoNonLocal) {
        C.Ref = Own::HandedOff;
        Out.HandedOff = true;
      }
    } else if (RhsTracked && (!LV || IntoGlobal) && IntoNonLocal && T.What == Tracked::Pages && !C.holds()) {
      C.Parked = true;
    }
    if (RhsContainer && C.Ref == Own::StoredIn && C.Container == *RhsContainer) {
      C.Ref = Own::HandedOff;
      Out.HandedOff = true;
    }
    // The pages' owner learns about them: an out-count (`*pinned += n`), or
    // a field its cleanup tests before releasing (`vsg->state = ...`).
    if ((T.Foreign || C.Parked) && C.holds() && !C.Recorded && T.Result) {
      const Expr *L = Lhs->IgnoreParenImpCasts();
      // A global count some release of the file uses (`pin_longterm_test_nr_pages
      // += cur_pages`, released by pin_longterm_test_stop()).
      if (auto *D = dyn_cast<DeclRefExpr>(L))
        if (auto *G = dyn_cast<VarDecl>(D->getDecl()); G && G->hasGlobalStorage() && G->getType()->isIntegerType()) {
          buildFieldFacts();
          Value V = valueOf(FC, T, C, Rhs);
          if (CountGlobals.count(G->getCanonicalDecl()) && V.K == Value::Alias && V.Sym == T.Result)
            C.Recorded = true;
        }
      if (auto *U = dyn_cast<UnaryOperator>(L); U && U->getOpcode() == UO_Deref && U->getType()->isIntegerType())
        if (auto *D = dyn_cast<DeclRefExpr>(U->getSubExpr()->IgnoreParenImpCasts()); D && isa<ParmVarDecl>(D->getDecl())) {
          Value V = valueOf(FC, T, C, Rhs);
          if (V.K == Value::Alias && V.Sym == T.Result)
            C.Recorded = true;
        }
      if (auto *M = dyn_cast<MemberExpr>(L); M && T.ForeignOwner && T.ForeignField)
        if (auto P = objectPath(M); P && P->Root == T.ForeignOwner)
          if (auto *FD = dyn_cast<FieldDecl>(M->getMemberDecl()); FD && FD != T.ForeignField)
            if (const FieldInfo *Info = fieldInfo(T.ForeignField)) {
              if (Info->GuardFields.count(FD->getCanonicalDecl()))
                C.Recorded = true;
              // The count the owner's teardown releases (`dma->nr_pages = err`,
              // `ap->num_pages += npages`); a constant (`= 0`) forgets them.
              else if (Info->CountFields.count(FD->getCanonicalDecl()) &&
                       valueOf(FC, T, C, Rhs).K != Value::Const)
                C.Recorded = true;
            }
    }
  }
}

bool RefFlow::Impl::handsOwnerToItsRelease(FunctionCtx &FC, const Tracked &T, const CallExpr *C, const Expr *Arg,
                                           ConfigSet &In) {
  const MemberExpr *M = memberAddress(Arg);
  auto *Member = M ? dyn_cast<FieldDecl>(M->getMemberDecl()) : nullptr;
  const VarDecl *Root = argumentRoot(Arg);
  if (!Member || !Root)
    return false;
  const RecordDecl *Rec = Member->getParent();
  std::set<const FieldDecl *> Released; // the fields of Rec the callback releases
  for (const Expr *Other : C->arguments()) {
    auto *D = dyn_cast<DeclRefExpr>(Other->IgnoreParenImpCasts());
    auto *Fn = D ? dyn_cast<FunctionDecl>(D->getDecl()) : nullptr;
    if (!Fn || !(Fn = Fn->getDefinition()))
      continue;
    buildFieldFacts();
    for (auto &[FD, Info] : FieldFacts)
      if (FD->getParent() == Rec)
        for (const FieldUse &Use : Info.Releases)
          if (Use.F == Fn)
            Released.insert(FD);
  }
  if (Released.empty())
    return false;
  // The pages are in the object: tracked through its field, or kept in one
  // of those fields by this function (`req->page_list = page_list`) on this
  // path: the field does not read 0 there (a kzalloc()ed request's field is
  // 0 until the store).
  bool Owned = T.ForeignOwner && T.ForeignOwner->getCanonicalDecl() == Root->getCanonicalDecl();
  std::vector<AtomId> Fields;
  for (const BinaryOperator *B : assignmentsIn(T.F->getBody()))
    if (auto *LM = dyn_cast<MemberExpr>(B->getLHS()->IgnoreParenImpCasts()))
      if (auto *FD = dyn_cast<FieldDecl>(LM->getMemberDecl()); FD && Released.count(FD->getCanonicalDecl()))
        if (auto LP = objectPath(LM); LP && LP->Root->getCanonicalDecl() == Root->getCanonicalDecl() &&
                                      tracked(T, B->getRHS()))
          if (auto A = atomOf(FC, T, LM))
            Fields.push_back(*A);
  auto RA = FC.Atoms.find("v:" + std::to_string(reinterpret_cast<uintptr_t>(Root->getCanonicalDecl())));
  bool Any = false;
  for (Config &X : In.All) {
    bool StoredThere = Owned;
    for (AtomId A : Fields)
      StoredThere |= resolve(X, FC, A).signClasses() != Zero;
    if ((X.Ref == Own::StoredIn && RA && X.Container == *RA) || (X.holds() && StoredThere)) {
      X.Ref = Own::HandedOff;
      Any = true;
    }
  }
  return Any;
}

bool RefFlow::Impl::linksOwnerIntoForeignStorage(const Tracked &T, const CallExpr *C, const Expr *Arg) {
  const MemberExpr *M = memberAddress(Arg);
  std::optional<ObjectPath> AP;
  if (M)
    AP = objectPath(M);
  auto *Root = AP ? dyn_cast<VarDecl>(AP->Root) : nullptr;
  if (!Root || !Root->isLocalVarDecl() || !T.ForeignOwner ||
      T.ForeignOwner->getCanonicalDecl() != Root->getCanonicalDecl())
    return false;
  for (const Expr *Other : C->arguments()) {
    if (Other == Arg)
      continue;
    if (auto OP = objectPath(Other->IgnoreParenCasts()); OP && isCallersStorage(OP->Root))
      return true;
  }
  return false;
}

void RefFlow::Impl::transfer(FunctionCtx &FC, const Tracked &T, const Stmt *S, ConfigSet &In, RunResult &Out) {
  if (T.Call && S == T.Call) {
    if (T.What == Tracked::Async)
      asyncSubmission(FC, T, In);
    else {
      onAcquisition(FC, T, In);
      forgetOutParams(FC, In, T.Call);
    }
    return;
  }
  // The arm of a conditional operator: its value, for the statement that
  // uses the operator (`ret = pret < 0 ? pret : -EFAULT`, `return err ?: -E`).
  if (auto *E = dyn_cast<Expr>(S)) {
    const BodyParents &BP = Parents.of(T.F);
    const Stmt *Child = S, *P = BP.parent(S);
    while (P && (isa<ParenExpr>(P) || isa<ImplicitCastExpr>(P) || isa<CStyleCastExpr>(P))) {
      Child = P;
      P = BP.parent(P);
    }
    if (auto *CO = dyn_cast_or_null<AbstractConditionalOperator>(P))
      if (Child == CO->getTrueExpr() || Child == CO->getFalseExpr()) {
        AtomInfo I;
        I.K = AtomInfo::Temp;
        AtomId Tmp = FC.Atoms.intern("t:" + std::to_string(reinterpret_cast<uintptr_t>(CO)), I);
        for (Config &C : In.All)
          C.set(Tmp, valueOf(FC, T, C, E));
      }
  }
  if (auto *C = dyn_cast<CallExpr>(S)) {
    if (T.What == Tracked::Async)
      asyncCall(FC, T, In, C, Out);
    else
      onCall(FC, T, In, C, Out);
    return;
  }
  if (auto *B = dyn_cast<BinaryOperator>(S)) {
    if (B->isAssignmentOp())
      onAssign(FC, T, In, B->getLHS(), B->getRHS(), S, Out, B->isCompoundAssignmentOp());
    return;
  }
  if (auto *U = dyn_cast<UnaryOperator>(S)) {
    // `n++` from 0 is positive: a count of what the loop took so far.
    if (U->isIncrementDecrementOp())
      if (auto A = atomOf(FC, T, U->getSubExpr()))
        for (Config &C : In.All) {
          Value V = resolve(C, FC, *A);
          uint8_t S = V.signClasses(), N = 0;
          if (V.K != Value::Const && V.K != Value::Signs)
            S = AnySign;
          if (U->isIncrementOp())
            N = uint8_t((S & Neg ? Neg | Zero : 0) | (S & (Zero | Pos) ? Pos : 0));
          else
            N = uint8_t((S & Pos ? Zero | Pos : 0) | (S & (Zero | Neg) ? Neg : 0));
          if (U->getSubExpr()->getType()->isUnsignedIntegerType() && !U->isIncrementOp())
            N = AnySign;
          assign(FC, C, *A, Value::signs(N));
        }
    return;
  }
  if (auto *DS = dyn_cast<DeclStmt>(S)) {
    for (const Decl *D : DS->decls()) {
      auto *V = dyn_cast<VarDecl>(D);
      if (!V || !V->getInit())
        continue;
      DeclRefExpr Ref(Ctx, const_cast<VarDecl *>(V), false, V->getType(), VK_LValue, V->getLocation());
      onAssign(FC, T, In, &Ref, V->getInit(), S, Out, false);
      // `struct kiocb kiocb = { .ki_complete = done, ... }`: the fields' values.
      if (auto *IL = dyn_cast<InitListExpr>(V->getInit()->IgnoreParenCasts()))
        if (const auto *RT = V->getType()->getAs<RecordType>()) {
          std::string Base = std::to_string(reinterpret_cast<uintptr_t>(V->getCanonicalDecl()));
          unsigned I = 0;
          for (const FieldDecl *FD : RT->getDecl()->fields()) {
            if (I >= IL->getNumInits())
              break;
            const Expr *Init = IL->getInit(I++);
            auto A = FC.Atoms.find("p:" + Base + "." + std::to_string(reinterpret_cast<uintptr_t>(FD->getCanonicalDecl())));
            if (A && Init)
              for (Config &C : In.All)
                assign(FC, C, *A, valueOf(FC, T, C, Init));
          }
        }
    }
    return;
  }
  if (auto *R = dyn_cast<ReturnStmt>(S)) {
    const Expr *V = R->getRetValue();
    if (!V)
      return;
    if (tracked(T, V)) {
      for (const Config &C : In.All)
        Out.Returned |= C.Ref == Own::Held || C.Ref == Own::StoredIn;
      handOff(In, Out, &T);
      return;
    }
    if (auto *D = dyn_cast<DeclRefExpr>(V->IgnoreParenCasts()))
      if (auto RA = FC.Atoms.find("v:" + std::to_string(reinterpret_cast<uintptr_t>(D->getDecl()->getCanonicalDecl()))))
        for (Config &C : In.All)
          if (C.Ref == Own::StoredIn && C.Container == *RA) {
            C.Ref = Own::HandedOff;
            Out.HandedOff = true;
          }
    return;
  }
}

} // namespace pageref
