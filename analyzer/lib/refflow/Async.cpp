// Viro's second rule on the same walk: an ITER_BVEC iterator built over a
// bio_vec array is submitted with a kiocb to ->read_iter()/->write_iter();
// when the kiocb is async the call may return -EIOCBQUEUED with the I/O still
// running, so the array, and the page references in it, must be dropped at
// completion, not after the call. The tracked resource is the array: held
// before the submission, in flight after an async one (the call's result
// decides: -EIOCBQUEUED, or anything else, when the I/O is done), and a drop
// while in flight is the finding. Whether a kiocb is async is a fact of the
// path like any other: init_sync_kiocb(), `.ki_complete = fn` (also in an
// initialiser), `ki_complete = NULL`, is_sync_kiocb() tests.
#include "Engine.h"

using namespace clang;

namespace pageref {

using namespace refflow;

namespace {

bool isRecordPointer(QualType T, llvm::StringRef Name) {
  const auto *P = T->getAs<PointerType>();
  const auto *R = P ? P->getPointeeType()->getAs<RecordType>() : nullptr;
  return R && R->getDecl()->getName() == Name;
}

std::string submissionName(const CallExpr *Sub) {
  if (llvm::StringRef N = calleeName(Sub); !N.empty())
    return N.str() + "()";
  const Expr *Callee = Sub->getCallee()->IgnoreParenCasts();
  if (auto *M = dyn_cast<MemberExpr>(Callee))
    return "->" + M->getMemberDecl()->getNameAsString() + "()";
  return "an indirect call";
}

} // namespace

/// `K->ki_complete` as an atom, for the kiocb argument \p Kiocb.
std::optional<AtomId> RefFlow::Impl::completionAtom(FunctionCtx &FC, const Expr *Kiocb) {
  auto P = fieldKey(Kiocb->IgnoreParenCasts());
  const Expr *K = Kiocb->IgnoreParenCasts();
  if (auto *U = dyn_cast<UnaryOperator>(K); U && U->getOpcode() == UO_AddrOf)
    K = U->getSubExpr()->IgnoreParenCasts();
  P = fieldKey(K);
  if (!P)
    return std::nullopt;
  const RecordDecl *Kiocb_ = nullptr;
  if (const auto *RT = K->getType()->getAs<RecordType>())
    Kiocb_ = RT->getDecl();
  else if (const auto *PT = K->getType()->getAs<PointerType>())
    if (const auto *R = PT->getPointeeType()->getAs<RecordType>())
      Kiocb_ = R->getDecl();
  if (!Kiocb_)
    return std::nullopt;
  for (const FieldDecl *FD : Kiocb_->fields())
    if (Model.isCompletionField(FD->getName()) && FD->getName() == "ki_complete") {
      AtomInfo I;
      I.K = AtomInfo::Path;
      I.Root = P->first;
      I.Pointer = true;
      I.Text = exprText(K, Ctx, 30) + "->ki_complete";
      AtomId A = FC.Atoms.intern("p:" + P->second + "." +
                                     std::to_string(reinterpret_cast<uintptr_t>(FD->getCanonicalDecl())),
                                 I);
      FC.Interesting.insert(A);
      return A;
    }
  return std::nullopt;
}

std::vector<RefFinding> RefFlow::Impl::analyzeAsync(const FunctionDecl *F) {
  std::vector<RefFinding> All;
  if (!F->getBody())
    return All;
  std::vector<const CallExpr *> Calls = callsIn(F->getBody());
  std::set<const Stmt *> Reported;
  for (const CallExpr *Bv : Calls) {
    const IterConstructorFn *Ctor = Model.iterConstructor(calleeName(Bv));
    if (!Ctor || !Ctor->Kinds.contains(IterKind::Bvec) || Bv->getNumArgs() < 3 || Ctor->IterArg >= Bv->getNumArgs())
      continue;
    auto IterPath = objectPath(Bv->getArg(Ctor->IterArg));
    auto ArrPath = objectPath(Bv->getArg(2));
    if (!IterPath || !ArrPath)
      continue;
    for (const CallExpr *Sub : Calls) {
      const Expr *Kiocb = nullptr;
      bool TakesIter = false;
      for (const Expr *Arg : Sub->arguments()) {
        if (isRecordPointer(Arg->getType(), "kiocb"))
          Kiocb = Arg;
        if (isRecordPointer(Arg->getType(), "iov_iter"))
          if (auto P = objectPath(Arg); P && *P == *IterPath)
            TakesIter = true;
      }
      if (!Kiocb || !TakesIter)
        continue;
      Tracked T;
      T.What = Tracked::Async;
      T.F = F;
      T.Call = Sub;
      T.Callee = submissionName(Sub);
      T.Iter = Bv;
      T.Kiocb = Kiocb;
      T.Paths.push_back(*ArrPath);
      // `cmd->bvec = bvec;` the local the array was built in is a name too.
      for (const BinaryOperator *B : assignmentsIn(F->getBody()))
        if (auto L = objectPath(B->getLHS()); L && *L == *ArrPath)
          if (auto R = objectPath(B->getRHS()); R && R->Suffix.empty() && !llvm::is_contained(T.Paths, *R))
            T.Paths.push_back(*R);
      addAliases(T);
      FunctionCtx &FC = functionCtx(F);
      T.Result = resultAtom(FC, Sub);
      FC.Atoms.info(T.Result).MayQueue = true;
      if (auto A = completionAtom(FC, Kiocb))
        T.CompletionAtom = *A;
      T.AsyncByDefault = kiocbAsyncByDefault(Kiocb);
      // Page references the function took for the array are dropped with it.
      for (const CallExpr *Acq : Calls)
        if (const AcquireFn *A = Model.acquire(calleeName(Acq)); (A && !A->ReturnsCount) || Model.getPages(calleeName(Acq)))
          T.OwnsPageRefs = true;
      Config Entry;
      Entry.Ref = Own::Held;
      RunResult R = run(T, Entry);
      for (RefFinding &Fd : R.Findings)
        if (Reported.insert(nullptr).second || true)
          All.push_back(std::move(Fd));
    }
  }
  // One warning per drop, whichever submission it follows.
  std::vector<RefFinding> Unique;
  std::set<unsigned> Seen;
  for (RefFinding &Fd : All)
    if (Seen.insert(Fd.Loc.getRawEncoding()).second)
      Unique.push_back(std::move(Fd));
  return Unique;
}

/// Without a fact on the path, a kiocb the caller passed, or whose
/// completion some function of this file sets, may be async; a local one
/// nobody gave a completion is sync.
bool RefFlow::Impl::kiocbAsyncByDefault(const Expr *Kiocb) {
  auto P = objectPath(Kiocb);
  if (!P)
    return true;
  auto *V = dyn_cast<VarDecl>(P->Root);
  bool Foreign = !V || isa<ParmVarDecl>(V) || V->hasGlobalStorage() || !P->Suffix.empty() ||
                 V->getType()->isPointerType();
  if (!Foreign)
    return false;
  // A completion written anywhere in the file for a kiocb in the same field
  // (nvmet_file_execute_io() sets req->f.iocb.ki_complete).
  return true;
}

void RefFlow::Impl::asyncSubmission(FunctionCtx &FC, const Tracked &T, ConfigSet &In) {
  for (Config &C : In.All) {
    if (!C.holds())
      continue;
    bool Async = T.AsyncByDefault;
    if (T.CompletionAtom) {
      Value V = resolve(C, FC, T.CompletionAtom);
      uint8_t S = V.signClasses();
      if (V.K == Value::Const || V.K == Value::Signs) {
        if (S == Zero)
          Async = false;
        else if (!(S & Zero))
          Async = true;
      }
    }
    if (!Async)
      continue;
    C.set(T.Result, Value::signs(AnySign));
    C.Ref = Own::Pending;
    C.Container = T.Result;
  }
}

/// A drop of the array, or of the page references in it, after the
/// submission: a finding where the I/O may still be running.
void RefFlow::Impl::asyncDrop(FunctionCtx &FC, const Tracked &T, ConfigSet &In, const CallExpr *Drop,
                              const std::string &What, RunResult &Out) {
  for (Config &C : In.All) {
    if (C.Ref == Own::Pending && Out.Reported.insert(Drop).second) {
      RefFinding F;
      F.Kind = RefFindingKind::AsyncDrop;
      F.Loc = Drop->getBeginLoc();
      const ObjectPath &Arr = T.Paths.front();
      const auto *Bv = cast<CallExpr>(T.Iter);
      auto IterPath = objectPath(Bv->getArg(0));
      std::string Iter = IterPath ? IterPath->Spelling : "the iterator";
      F.Message = T.F->getNameAsString() + "() " + What + " after submitting ITER_BVEC iterator '" + Iter +
                  "' to an async " + T.Callee + " at line " + std::to_string(line(T.Call->getBeginLoc())) +
                  ", on a path where that call may have returned -EIOCBQUEUED: the I/O may still be using them";
      F.Notes.push_back({Bv->getBeginLoc(), "ITER_BVEC iterator '" + Iter + "' built over '" + Arr.Spelling + "' here"});
      F.Notes.push_back({T.Call->getBeginLoc(), "submitted here with kiocb '" + exprText(T.Kiocb, Ctx, 40) +
                                                    "', which may be async on this path"});
      for (auto &[Cond, Truth] : Witnesses->last(C.Witness, 2)) {
        auto *E = static_cast<const Expr *>(Cond);
        F.Notes.push_back({E->getBeginLoc(), std::string("taking this path: '") + text(E) + "' is " +
                                                 (Truth ? "true" : "false")});
      }
      F.Notes.push_back({Drop->getBeginLoc(), "drop it in the completion (ki_complete), or only where the result "
                                              "is not -EIOCBQUEUED"});
      Out.Findings.push_back(std::move(F));
    }
    if (C.holds() || C.Ref == Own::Pending)
      C.Ref = Own::Released;
  }
}

/// A drop that runs only when a shared reference count reaches zero: under
/// `if (refcount_dec_and_test(&x->ref))`, or after `if (!atomic_dec_and_test(...)) return;`.
bool RefFlow::Impl::underRefcountPut(const Stmt *S, const FunctionDecl *F) {
  const BodyParents &BP = Parents.of(F);
  auto Puts = [&](const Expr *Cond) {
    for (const CallExpr *C : callsIn(Cond))
      if (Model.isRefcountPut(calleeName(C)))
        return true;
    if (auto *C = dyn_cast<CallExpr>(Cond->IgnoreParenCasts()))
      return Model.isRefcountPut(calleeName(C));
    return false;
  };
  for (const Stmt *Cur = S, *P = BP.parent(S); P; Cur = P, P = BP.parent(P)) {
    if (auto *I = dyn_cast<IfStmt>(P); I && Cur != I->getCond() && Puts(I->getCond()))
      return true;
    if (auto *CS = dyn_cast<CompoundStmt>(P))
      for (const Stmt *Before : CS->body()) {
        if (Before == Cur)
          break;
        if (auto *I = dyn_cast<IfStmt>(Before); I && alwaysExits(I->getThen()) && Puts(I->getCond()))
          return true;
      }
  }
  return false;
}

/// Whether \p F frees what parameter \p Param leads to along \p Rest (the
/// array, or an object that holds it), or drops the pages in it: "calls
/// kfree() at line N".
std::optional<std::string> RefFlow::Impl::helperDrops(const FunctionDecl *F, unsigned Param, const std::string &Rest,
                                                      bool Pages, unsigned Depth) {
  if (!F->getBody() || Param >= F->getNumParams())
    return std::nullopt;
  const ValueDecl *P = F->getParamDecl(Param)->getCanonicalDecl();
  auto Covers = [&](const Expr *E, std::string *Below) {
    const Expr *X = stripViews(E);
    if (auto *M = dyn_cast<MemberExpr>(X->IgnoreParenCasts()); M && Model.isContainerField(M->getMemberDecl()->getName()))
      X = M->getBase();
    auto Q = objectPath(X);
    if (!Q || Q->Root != P || !llvm::StringRef(Rest).starts_with(Q->Suffix) ||
        !(Rest.size() == Q->Suffix.size() || Rest[Q->Suffix.size()] == '.'))
      return false;
    if (Below)
      *Below = Rest.substr(Q->Suffix.size());
    return true;
  };
  for (const CallExpr *Inner : callsIn(F->getBody())) {
    llvm::StringRef IN = calleeName(Inner);
    std::string At = "() at line " + std::to_string(line(Inner->getBeginLoc()));
    if ((Model.isFreeFunction(IN) || (Pages && Model.release(IN))) && Inner->getNumArgs() >= 1) {
      for (const Expr *IA : Inner->arguments())
        if (Covers(IA, nullptr) && !underRefcountPut(Inner, F))
          return "calls " + IN.str() + At;
      continue;
    }
    if (Depth <= 1)
      continue;
    if (const FunctionDecl *Def = calleeDefinition(Inner, SM))
      for (unsigned A = 0; A < Inner->getNumArgs() && A < Def->getNumParams(); ++A) {
        std::string Below;
        if (Covers(Inner->getArg(A), &Below))
          if (auto Deeper = helperDrops(Def, A, Below, Pages, Depth - 1))
            return "calls " + IN.str() + "(), which " + *Deeper;
      }
  }
  return std::nullopt;
}

void RefFlow::Impl::asyncCall(FunctionCtx &FC, const Tracked &T, ConfigSet &In, const CallExpr *C, RunResult &Out) {
  llvm::StringRef Name = calleeName(C);
  // init_sync_kiocb(kiocb, file): its completion is NULL from here.
  if (Model.isSyncKiocbInit(Name) && C->getNumArgs() >= 1) {
    if (auto A = completionAtom(FC, C->getArg(0)))
      for (Config &X : In.All)
        assign(FC, X, *A, Value::constant(0));
    return;
  }
  // Waiting for the I/O: it is done whatever the call returned.
  if (Model.isWaitFunction(Name)) {
    for (Config &X : In.All)
      if (X.Ref == Own::Pending)
        X.Ref = Own::Held;
    invalidateAfterCall(FC, In, C);
    return;
  }
  std::string What;
  const ObjectPath &Arr = T.Paths.front();
  // The argument as the array itself, or as the object that holds it
  // (`kfree(aio_cmd)` frees aio_cmd->bvecs too): what remains of the
  // array's path below it.
  auto Within = [&](const Expr *Arg) -> std::optional<std::string> {
    if (tracked(T, Arg))
      return std::string();
    auto P = objectPath(Arg);
    if (!P)
      return std::nullopt;
    for (const ObjectPath &Q : T.Paths)
      if (Q.Root == P->Root && llvm::StringRef(Q.Suffix).starts_with(P->Suffix) &&
          (Q.Suffix.size() == P->Suffix.size() || Q.Suffix[P->Suffix.size()] == '.'))
        return Q.Suffix.substr(P->Suffix.size());
    return std::nullopt;
  };
  if (Model.isFreeFunction(Name) && C->getNumArgs() >= 1) {
    if (auto Rest = Within(C->getArg(0)))
      What = Rest->empty() ? "frees the bio_vec array '" + Arr.Spelling + "' with " + Name.str() + "()"
                           : "frees '" + exprText(C->getArg(0), Ctx, 40) + "', which holds the bio_vec array '" +
                                 Arr.Spelling + "', with " + Name.str() + "()";
  } else if (const ReleaseFn *Rel = Model.release(Name);
             Rel && T.OwnsPageRefs && Rel->Arg < C->getNumArgs() && tracked(T, C->getArg(Rel->Arg))) {
    What = "drops the references in '" + Arr.Spelling + "' with " + Name.str() + "()";
  } else if (const FunctionDecl *Def = calleeDefinition(C, SM)) {
    // A helper of this file that frees the array, or the object holding it,
    // or drops its pages (two levels deep).
    for (unsigned A = 0; A < C->getNumArgs() && A < Def->getNumParams() && What.empty(); ++A)
      if (auto Rest = Within(C->getArg(A)))
        if (auto Inner = helperDrops(Def, A, *Rest, T.OwnsPageRefs, 2))
          What = "drops '" + Arr.Spelling + "' through " + Name.str() + "(), which " + *Inner;
  }
  if (!What.empty() && underRefcountPut(C, T.F))
    What.clear(); // the last of the submitter's and the completion's references
  if (!What.empty()) {
    asyncDrop(FC, T, In, C, What, Out);
    return;
  }
  invalidateAfterCall(FC, In, C);
}

} // namespace pageref
