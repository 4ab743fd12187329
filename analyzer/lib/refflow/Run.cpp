// The walk: a worklist over the function's CFG whose blocks hold sets of
// configurations; the acquisition's own tests, status codes, flags and
// iterator kinds decide which edges a configuration can take. Leaving the
// function with the pages still this function's is a leak, with the
// branches that select the path as notes.
#include "Engine.h"

#include "clang/Analysis/CFG.h"

#include <deque>

using namespace clang;

namespace pageref {

using namespace refflow;

void ConfigSet::widen(size_t Cap) {
  auto Idle = [](const Config &C) {
    return (C.Ref == Own::NotAcquired || C.Ref == Own::HandedOff) && !C.Parked && !C.Prior && !C.Kept;
  };
  size_t Idles = std::count_if(All.begin(), All.end(), Idle);
  if (All.size() <= Cap && Idles <= 1)
    return;
  bool All_ = All.size() > Cap;
  std::vector<Config> Merged;
  for (const Config &C : All) {
    auto It = All_ || Idle(C) ? std::find_if(Merged.begin(), Merged.end(),
                                             [&](const Config &M) { return M.sameOwnership(C); })
                              : Merged.end();
    if (It == Merged.end()) {
      Merged.push_back(C);
      continue;
    }
    // Keep only the facts both know alike; sign classes are united.
    decltype(C.Facts) Common;
    for (auto &[A, V] : It->Facts)
      if (const Value *W = C.get(A)) {
        if (*W == V)
          Common.push_back({A, V});
        else if ((V.K == Value::Signs || V.K == Value::Const) && (W->K == Value::Signs || W->K == Value::Const))
          Common.push_back({A, Value::signs(uint8_t(V.signClasses() | W->signClasses()))});
      }
    It->Facts = std::move(Common);
  }
  All = std::move(Merged);
}

/// Loops whose body releases or hands off elements of the tracked array:
/// leaving them through the condition disposes of the array too (the
/// zero-trip case is a zero count). A loop that hands any element on
/// leaves them handed off, one that only releases leaves them released.
std::map<const Stmt *, Own> RefFlow::Impl::disposingLoops(const Tracked &T) {
  std::map<const Stmt *, Own> Loops;
  if (T.What != Tracked::Pages)
    return Loops;
  const BodyParents &BP = Parents.of(T.F);
  auto Add = [&](const Stmt *S, Own How = Own::HandedOff) {
    if (const Stmt *L = enclosingLoop(S, T.F)) {
      // `if (err) { unpin_user_pages(&pages[i], n - i); goto out; }` in the
      // loop is an error path, not what each iteration does.
      for (const Stmt *P = BP.parent(S), *Child = S; P && P != L; Child = P, P = BP.parent(P))
        if (auto *CS = dyn_cast<CompoundStmt>(P); CS && !CS->body_empty() && CS->body_back() != Child &&
                                                  alwaysExits(CS->body_back()) &&
                                                  !isa<ContinueStmt>(CS->body_back()))
          return;
      auto [It, New] = Loops.try_emplace(L, How);
      if (!New && How == Own::HandedOff)
        It->second = Own::HandedOff;
    }
  };
  for (const CallExpr *Call : callsIn(T.F->getBody())) {
    llvm::StringRef Name = calleeName(Call);
    if (const ReleaseFn *Rel = Model.release(Name)) {
      if (Rel->Arg < Call->getNumArgs() && tracked(T, Call->getArg(Rel->Arg)))
        Add(Call, Own::Released);
      continue;
    }
    if (const SinkFn *Sink = Model.sink(Name)) {
      if (Sink->Arg < Call->getNumArgs() && tracked(T, Call->getArg(Sink->Arg)) && !Sink->TakesOwnRef)
        Add(Call);
      continue;
    }
    if (Model.isPageUser(Name) || Model.isPageView(Name) || Model.isPageHandle(Name) || Model.acquire(Name) ||
        Model.getPages(Name))
      continue;
    // A helper of this file that releases or keeps each element.
    if (const FunctionDecl *Def = calleeDefinition(Call, SM, /*AllowHeaderInline=*/true))
      for (unsigned A = 0; A < Call->getNumArgs(); ++A)
        if (tracked(T, Call->getArg(A))) {
          const FunctionSummary &S = summaryOf(Def);
          auto It = S.Params.find(A);
          if (It == S.Params.end() || It->second.Effect != ParamEffect::Uses)
            Add(Call, It != S.Params.end() && It->second.Effect == ParamEffect::Releases ? Own::Released
                                                                                       : Own::HandedOff);
          break;
        }
  }
  for (const BinaryOperator *B : assignmentsIn(T.F->getBody()))
    if (tracked(T, B->getRHS()) && (isa<MemberExpr>(B->getLHS()->IgnoreParenImpCasts()) ||
                                    throughPointerRoot(B->getLHS())))
      Add(B);
  return Loops;
}

void RefFlow::Impl::checkExit(FunctionCtx &FC, const Tracked &T, const Config &C, const ReturnStmt *Ret,
                              const WitnessTable &W, RunResult &Out, std::set<const Stmt *> &LeakReported) {
  RunResult::Exit E{C.Ref, C.RelFam, {}, C.Kept};
  for (unsigned I = 0; I < T.F->getNumParams(); ++I) {
    const ParmVarDecl *P = T.F->getParamDecl(I);
    if (!P->getType()->isIntegerType())
      continue;
    if (auto A = FC.Atoms.find("v:" + std::to_string(reinterpret_cast<uintptr_t>(P->getCanonicalDecl()))))
      if (const Value *V = C.get(*A); V && V->K == Value::Const)
        E.ParamConsts[I] = V->C;
  }
  Out.Exits.push_back(E);
  // A merge flag (`same_page`) nobody looked at: maybe still held.
  if (C.KeepFlag && (C.Ref == Own::HandedOff || C.Ref == Own::Pending)) {
    Config H = C;
    H.Ref = Own::Held;
    H.KeepFlag = 0;
    H.Undisposed = true;
    return checkExit(FC, T, H, Ret, W, Out, LeakReported);
  }
  if (!C.holds() || C.Kept || T.What == Tracked::Async)
    return;
  const Expr *RetVal = Ret ? Ret->getRetValue() : nullptr;
  // Pages in the caller's or a struct's storage go back with a successful
  // return; an error return leaks them, unless the owner was told.
  if (T.What == Tracked::Pages && (T.Foreign || C.Parked) && !C.OwnerGone &&
      (C.Recorded || !isErrorValue(FC, T, C, RetVal))) {
    if (!C.Recorded)
      Out.HeldOnSuccess = true;
    else if (isErrorValue(FC, T, C, RetVal))
      Out.HeldOnError = true;
    return;
  }
  Out.HeldAtExit = true;
  Out.HeldExitReturns.push_back(RetVal);
  const Stmt *Where = Ret ? static_cast<const Stmt *>(Ret) : T.F->getBody();
  if (!T.Call || !LeakReported.insert(Where).second)
    return;
  RefFinding F;
  F.Kind = RefFindingKind::Leak;
  F.Loc = Ret ? Ret->getBeginLoc() : cast<CompoundStmt>(T.F->getBody())->getRBracLoc();
  std::string Path = Ret ? "returns here" : "falls off the end of " + T.F->getNameAsString() + "()";
  std::string At = std::to_string(line(T.Call->getBeginLoc()));
  if (T.What == Tracked::Array) {
    F.Message = "the page array allocated by " + T.Callee + "() at line " + At +
                " is not freed on the path that " + Path +
                (T.AllocatedOnFailure ? " (" + T.Callee + "() allocates it and does not free it when it fails)"
                                      : "");
    F.Notes.push_back({T.Call->getBeginLoc(), "the array '" + T.Paths.front().Spelling + "' is allocated here"});
  } else {
    F.Message = (T.SinglePage ? "the page reference taken by " : "pages acquired by ") + T.Callee +
                "() at line " + At + (T.Via.empty() ? "" : " (through " + T.Via + ")") + " " +
                (T.SinglePage ? "is" : "are") + " neither released nor handed off on the path that " + Path;
    if (C.Ref == Own::StoredIn)
      F.Message += ", stored in an object this function allocated and did not hand on";
    if (C.OwnerGone)
      F.Message += ", after their owner '" + T.ForeignOwner->getNameAsString() + "' was freed";
    static const char *Words[] = {"references (FOLL_GET)", "pins (FOLL_PIN)",
                                  "pins when iov_iter_extract_will_pin(), otherwise nothing", "bio-owned references",
                                  "pages of the page allocator"};
    F.Notes.push_back({T.Call->getBeginLoc(), std::string("acquired here: ") + Words[unsigned(T.Family)]});
  }
  for (auto &[Cond, Truth] : W.last(C.Witness, 3)) {
    auto *E = static_cast<const Expr *>(Cond);
    F.Notes.push_back({E->getBeginLoc(), std::string("taking this path: '") + text(E) + "' is " +
                                             (Truth ? "true" : "false")});
  }
  if (C.Undisposed && Out.MergeSink)
    F.Notes.push_back({Out.MergeSink->getBeginLoc(),
                       calleeName(Out.MergeSink).str() + "() can merge the page into the segment before it ('" +
                           text(Out.MergeSink->getArg(*Model.sink(calleeName(Out.MergeSink))->NotKeptFlagArg)
                                    ->IgnoreParenCasts())
                               .substr(1) +
                           "' is then true): the owner keeps one reference for both, this one is still the "
                           "caller's to drop"});
  Out.Findings.push_back(std::move(F));
}

/// The condition a block's two-way branch really tests: for `a || b` and
/// `a && b` the block that evaluates `b` ends in the whole condition.
static const Expr *branchCondition(const CFGBlock *B) {
  const Stmt *Term = B->getTerminatorStmt();
  const Stmt *C = B->getTerminatorCondition(/*StripParens=*/false);
  auto *Cond = dyn_cast_or_null<Expr>(C);
  if (!Cond)
    return nullptr;
  if (auto *BO = dyn_cast<BinaryOperator>(Cond->IgnoreParens()); BO && BO->isLogicalOp() && Term != BO)
    return BO->getRHS();
  return Cond;
}

/// PAGEREF_DEBUG=function prints every block's configurations on stderr.
static bool debugging(const FunctionDecl *F) {
  static const char *Want = getenv("PAGEREF_DEBUG");
  return Want && F->getName() == Want;
}

static void dump(const char *What, const CFGBlock *B, const ConfigSet &S, FunctionCtx &FC) {
  static const char *Names[] = {"NotAcquired", "Held", "Released", "HandedOff", "Pending", "Lost", "StoredIn", "NotPinned"};
  llvm::errs() << What << " B" << B->getBlockID() << ": " << S.All.size() << " configs\n";
  for (const Config &C : S.All) {
    llvm::errs() << "   " << Names[unsigned(C.Ref)] << (C.Prior ? " prior" : "") << (C.Recorded ? " recorded" : "")
                 << (C.Kept ? " kept" : "") << (C.Failed ? " failed" : "") << (C.HandedBefore ? " handed-before" : "")
                 << (C.Parked ? " parked" : "") << (C.OwnerGone ? " owner-gone" : "") << " {";
    for (auto &[A, V] : C.Facts) {
      const AtomInfo &I = FC.Atoms.info(A);
      llvm::errs() << " " << (I.Text.empty() ? I.Key.substr(0, 24) : I.Text) << "=";
      switch (V.K) {
      case Value::Signs: llvm::errs() << "S" << unsigned(V.S); break;
      case Value::Const: llvm::errs() << V.C; break;
      case Value::Alias: llvm::errs() << "@" << V.Sym; break;
      case Value::Kinds: llvm::errs() << "K" << V.KindBits; break;
      case Value::KindTest: llvm::errs() << "KT" << V.Sym << "/" << V.KindBits; break;
      }
      llvm::errs() << "(#" << A << ")";
    }
    llvm::errs() << " }\n";
  }
}

RunResult RefFlow::Impl::run(const Tracked &T, Config Entry) {
  RunResult Out;
  FunctionCtx &FC = functionCtx(T.F);
  bool Debug = debugging(T.F);
  if (Debug) {
    llvm::errs() << "run " << T.Callee << (T.Call ? " at line " + std::to_string(line(T.Call->getBeginLoc())) : "")
                 << ", names:";
    for (const ObjectPath &P : T.Paths)
      llvm::errs() << " " << P.Spelling;
    llvm::errs() << "\n";
  }
  if (!FC.Cfg) {
    Out.BoundHit = true;
    return Out;
  }
  const CFG &Cfg = *FC.Cfg;
  WitnessTable W;
  // Summaries run inside a run (a helper met on the way): restore the outer table.
  struct Restore {
    WitnessTable *&Slot;
    WitnessTable *Saved;
    ~Restore() { Slot = Saved; }
  } Keep{Witnesses, Witnesses};
  Witnesses = &W;
  std::map<const Stmt *, Own> Loops = disposingLoops(T);
  std::vector<ConfigSet> In(Cfg.getNumBlockIDs());
  std::deque<const CFGBlock *> Work;
  std::vector<bool> Queued(Cfg.getNumBlockIDs(), false);
  In[Cfg.getEntry().getBlockID()].add(Entry);
  Work.push_back(&Cfg.getEntry());
  std::set<const Stmt *> LeakReported;
  unsigned Visits = 0;
  constexpr size_t Cap = 24;
  while (!Work.empty()) {
    const CFGBlock *B = Work.front();
    Work.pop_front();
    Queued[B->getBlockID()] = false;
    if (++Visits > Limits.MaxBlockVisits) {
      Out.BoundHit = true;
      break;
    }
    ConfigSet S = In[B->getBlockID()];
    if (Debug)
      dump("in ", B, S, FC);
    const Stmt *LastStmt = nullptr;
    const ReturnStmt *Ret = nullptr;
    for (const CFGElement &E : *B)
      if (auto CS = E.getAs<CFGStmt>()) {
        transfer(FC, T, CS->getStmt(), S, Out);
        LastStmt = CS->getStmt();
        if (auto *R = dyn_cast<ReturnStmt>(LastStmt))
          Ret = R;
      }
    if (Debug)
      dump("out", B, S, FC);
    bool NoReturn = false;
    if (auto *C = dyn_cast_or_null<CallExpr>(LastStmt))
      if (const FunctionDecl *Callee = directCallee(C))
        NoReturn = Callee->isNoReturn();
    const Stmt *Term = B->getTerminatorStmt();
    const Expr *Cond = branchCondition(B);
    auto *Switch = dyn_cast_or_null<SwitchStmt>(Term);
    unsigned Index = 0;
    for (const CFGBlock::AdjacentBlock &A : B->succs()) {
      const CFGBlock *Succ = A.getReachableBlock();
      unsigned I = Index++;
      if (!Succ)
        continue;
      ConfigSet Next;
      for (const Config &C : S.All) {
        Config N = C;
        if (Switch) {
          if (!refineSwitchCase(FC, T, N, Switch, Succ->getLabel()))
            continue;
        } else if (Cond && B->succ_size() == 2) {
          bool Truth = I == 0;
          if (!refineBranch(FC, T, N, Cond, Truth))
            continue;
          if (Term && Loops.count(Term) && !Truth && N.holds() && !N.Undisposed) { // leaving a loop that disposes of the array
            N.Ref = Loops[Term];
            N.Prior = false;
          }
          if (Truth && N.holds() && isWarnCondition(Cond)) // a WARN()ed "cannot happen" path: not followed
            N.Ref = Own::HandedOff;
          if (T.Family == ReleaseFamily::PinIfWillPin && !T.IterAtom && !Truth && testsWillPin(Cond) && N.holds())
            N.Ref = Own::NotAcquired; // nothing was pinned
          // Remember the branches the user wrote (not those inside macros,
          // not constant ones) for the "taking this path" notes.
          if (N.holds() && T.Call && Term && Term->getBeginLoc().isFileID() && !constant(Cond))
            N.Witness = W.push(N.Witness, Cond, Truth);
        }
        settle(FC, T, N);
        Next.add(N);
      }
      if (Next.empty())
        continue;
      if (Succ == &Cfg.getExit()) {
        if (!NoReturn)
          for (const Config &C : Next.All)
            checkExit(FC, T, C, Ret, W, Out, LeakReported);
        continue;
      }
      ConfigSet &Slot = In[Succ->getBlockID()];
      bool Changed = false;
      for (const Config &C : Next.All)
        Changed |= Slot.add(C);
      if (Changed) {
        Slot.widen(Cap);
        if (!Queued[Succ->getBlockID()]) {
          Queued[Succ->getBlockID()] = true;
          Work.push_back(Succ);
        }
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

} // namespace pageref
