#include "pageref/AsyncBvec.h"
#include "pageref/AstUtil.h"

#include "clang/AST/ParentMap.h"
#include "clang/AST/RecursiveASTVisitor.h"
#include "clang/Analysis/CFG.h"
#include "clang/Analysis/CFGStmtMap.h"
#include "clang/Basic/SourceManager.h"

#include <deque>
#include <functional>
#include <optional>
#include <set>

using namespace clang;

namespace pageref {

namespace {

bool isKiocbPointer(QualType T) {
  const auto *P = T->getAs<PointerType>();
  const auto *R = P ? P->getPointeeType()->getAs<RecordType>() : nullptr;
  return R && R->getDecl()->getName() == "kiocb";
}

bool isIterPointer(QualType T) {
  const auto *P = T->getAs<PointerType>();
  const auto *R = P ? P->getPointeeType()->getAs<RecordType>() : nullptr;
  return R && R->getDecl()->getName() == "iov_iter";
}

// Whether the call's result may be -EIOCBQUEUED on a path.
enum Queued : unsigned { MayBeQueued = 1, NotQueued = 2 };

} // namespace

/// How the submission reads: call_read_iter(), ->write_iter(), call_iter().
static std::string submission(const CallExpr *Sub) {
  if (llvm::StringRef N = calleeName(Sub); !N.empty())
    return N.str() + "()";
  const Expr *Callee = Sub->getCallee()->IgnoreParenCasts();
  if (auto *M = dyn_cast<MemberExpr>(Callee))
    return "->" + M->getMemberDecl()->getNameAsString() + "()";
  if (auto *D = dyn_cast<DeclRefExpr>(Callee))
    return D->getDecl()->getNameAsString() + "()";
  return "indirect call";
}

AsyncBvecAnalyzer::AsyncBvecAnalyzer(ASTContext &Ctx, const ApiModel &Model, const TuIndex &Index)
    : Ctx(Ctx), Model(Model), Index(Index) {}

std::vector<AsyncBvecFinding> AsyncBvecAnalyzer::analyze(const FunctionDecl *F) {
  std::vector<AsyncBvecFinding> Findings;
  if (!F->getBody())
    return Findings;
  const SourceManager &SM = Ctx.getSourceManager();
  auto Line = [&](SourceLocation L) { return std::to_string(lineOf(L, SM)); };
  auto Text = [&](const Expr *E) { return exprText(E, Ctx, 60); };
  struct {
    std::vector<const CallExpr *> All;
    std::vector<const BinaryOperator *> Assigns;
  } C{callsIn(F->getBody()), assignmentsIn(F->getBody())};
  BodyParents Parents(F->getBody());

  for (const CallExpr *Bv : C.All) {
    const IterConstructorFn *Ctor = Model.iterConstructor(calleeName(Bv));
    if (!Ctor || !Ctor->Kinds.contains(IterKind::Bvec) || Bv->getNumArgs() < 3)
      continue;
    auto IterPath = objectPath(Bv->getArg(Ctor->IterArg));
    auto ArrPath = objectPath(Bv->getArg(2));
    if (!IterPath || !ArrPath)
      continue;

    // Does this function own the array, or references to its pages?
    std::string Owns;
    auto SameArray = [&](const Expr *E) {
      auto P = objectPath(E);
      return P && *P == *ArrPath;
    };
    for (const BinaryOperator *A : C.Assigns) {
      auto L = objectPath(A->getLHS());
      auto *Alloc = dyn_cast<CallExpr>(A->getRHS()->IgnoreParenCasts());
      if (L && *L == *ArrPath && Alloc && llvm::StringRef(calleeName(Alloc)).contains("alloc"))
        Owns = "the bio_vec array '" + ArrPath->Spelling + "' allocated by " + calleeName(Alloc).str() +
               "() at line " + Line(Alloc->getBeginLoc());
    }
    if (auto *V = dyn_cast<VarDecl>(ArrPath->Root); V && ArrPath->Suffix.empty() && V->getInit())
      if (auto *Alloc = dyn_cast<CallExpr>(V->getInit()->IgnoreParenCasts()))
        if (calleeName(Alloc).contains("alloc"))
          Owns = "the bio_vec array '" + ArrPath->Spelling + "' allocated by " + calleeName(Alloc).str() +
                 "() at line " + Line(Alloc->getBeginLoc());
    bool PageRefs = false;
    for (const CallExpr *Acq : C.All)
      if (const AcquireFn *A = Model.acquire(calleeName(Acq)); (A && !A->ReturnsCount) || Model.getPages(calleeName(Acq))) {
        PageRefs = true;
        if (Owns.empty())
          Owns = "page references taken by " + calleeName(Acq).str() + "() at line " + Line(Acq->getBeginLoc());
      }
    // The submission: a call that takes the iterator and a kiocb.
    std::set<const Stmt *> Reported; // one warning per drop, whichever submission it follows
    for (const CallExpr *Sub : C.All) {
      const Expr *Kiocb = nullptr;
      bool TakesIter = false;
      for (const Expr *Arg : Sub->arguments()) {
        if (isKiocbPointer(Arg->getType()))
          Kiocb = Arg;
        if (isIterPointer(Arg->getType()))
          if (auto P = objectPath(Arg); P && *P == *IterPath)
            TakesIter = true;
      }
      if (!Kiocb || !TakesIter)
        continue;
      auto KPath = objectPath(Kiocb);
      if (!KPath)
        continue;
      // Sync or async kiocb?
      bool Sync = false, NullCompletion = false;
      std::string Completion;
      SourceLocation CompletionLoc;
      for (const CallExpr *I : C.All)
        if (calleeName(I) == "init_sync_kiocb" && I->getNumArgs() >= 1)
          if (auto P = objectPath(I->getArg(0)); P && *P == *KPath)
            Sync = true;
      for (const BinaryOperator *A : C.Assigns)
        if (auto *M = dyn_cast<MemberExpr>(A->getLHS()->IgnoreParenImpCasts());
            M && M->getMemberDecl()->getName() == "ki_complete")
          if (auto P = objectPath(M->getBase()); P && *P == *KPath) {
            // `ki_complete = NULL` is sync only if no branch sets a completion
            // (loop's `if (cmd->use_aio) ... else ki_complete = NULL`).
            if (A->getRHS()->isNullPointerConstant(Ctx, Expr::NPC_ValueDependentIsNotNull)) {
              NullCompletion = true;
            } else if (Completion.find(Text(A->getRHS())) == std::string::npos) {
              Completion += (Completion.empty() ? "" : "() or ") + Text(A->getRHS());
              CompletionLoc = A->getBeginLoc();
            }
          }
      if (NullCompletion && Completion.empty())
        Sync = true;
      // `struct kiocb *iocb = &req->f.iocb;` with ki_complete set by another
      // function of this file (nvmet_file_execute_io()).
      std::optional<ObjectPath> KSource = KPath;
      if (auto *KV = dyn_cast<VarDecl>(KPath->Root); KV && KPath->Suffix.empty() && KV->isLocalVarDecl() &&
                                                     KV->getInit())
        if (auto P = objectPath(KV->getInit()))
          KSource = P;
      if (Completion.empty() && !Sync && KSource->LastField)
        for (const FieldDecl *KC : [&] {
               std::vector<const FieldDecl *> Fields;
               if (const auto *RT = Kiocb->getType()->getPointeeType()->getAs<RecordType>())
                 for (const FieldDecl *FD : RT->getDecl()->fields())
                   if (FD->getName() == "ki_complete")
                     Fields.push_back(FD);
               return Fields;
             }())
          for (const FieldWrite &W : Index.writesOf(KC)) {
            auto *M = W.Lhs ? dyn_cast<MemberExpr>(W.Lhs->IgnoreParenImpCasts()) : nullptr;
            auto Base = M ? objectPath(M->getBase()) : std::nullopt;
            if (!Base || !Base->LastField ||
                Base->LastField->getCanonicalDecl() != KSource->LastField->getCanonicalDecl() ||
                W.Rhs->isNullPointerConstant(Ctx, Expr::NPC_ValueDependentIsNotNull))
              continue;
            if (Completion.find(Text(W.Rhs)) == std::string::npos) {
              Completion += (Completion.empty() ? "" : "() or ") + Text(W.Rhs);
              CompletionLoc = W.Lhs->getBeginLoc();
            }
          }
      bool FromCaller = isa<ParmVarDecl>(KSource->Root);
      if (Sync || (Completion.empty() && !FromCaller))
        continue;
      {
        // For the reviewer: how this submission keeps its pages alive.
        std::string Keep;
        // Where the array is kept: its own field, or the field a local array
        // is stored into (`cmd->bvec = bvec`).
        const FieldDecl *ArrField = ArrPath->LastField;
        for (const BinaryOperator *A : C.Assigns)
          if (auto From = objectPath(A->getRHS()); From && *From == *ArrPath)
            if (auto To = objectPath(A->getLHS()); To && To->LastField)
              ArrField = To->LastField;
        const RecordDecl *Holder = ArrField ? ArrField->getParent() : nullptr;
        const FunctionDecl *CF = nullptr;
        for (const FunctionDecl *D : Index.definitions())
          if (llvm::StringRef(Completion).starts_with(D->getNameAsString() + "()") || D->getNameAsString() == Completion)
            CF = D;
        std::vector<const FunctionDecl *> Completions;
        if (CF) {
          Completions.push_back(CF);
          for (const CallExpr *Inner : callsIn(CF->getBody())) // lo_rw_aio_complete -> lo_rw_aio_do_completion
            if (const FunctionDecl *Def = calleeDefinition(Inner, SM))
              Completions.push_back(Def);
        }
        for (const FunctionDecl *CFn : Completions) {
          for (const CallExpr *Drop : callsIn(CFn->getBody())) {
            llvm::StringRef N = calleeName(Drop);
            if ((N != "kfree" && N != "kvfree") || Drop->getNumArgs() < 1 || !Keep.empty())
              continue;
            const Expr *Arg = Drop->getArg(0)->IgnoreParenCasts();
            auto P = objectPath(Arg);
            const auto *PT = Arg->getType()->getAs<PointerType>();
            const auto *RT = PT ? PT->getPointeeType()->getAs<RecordType>() : nullptr;
            if (P && ArrField && P->LastField && P->LastField->getCanonicalDecl() == ArrField->getCanonicalDecl())
              Keep = "the bio_vec array is freed in the completion by " + N.str() + "(" + Text(Arg) + ") in " +
                     CFn->getNameAsString() + "() at line " + Line(Drop->getBeginLoc());
            else if (RT && Holder && RT->getDecl()->getCanonicalDecl() == Holder->getCanonicalDecl())
              Keep = "the bio_vec array lives in 'struct " + Holder->getNameAsString() +
                     "', freed in the completion by " + N.str() + "(" + Text(Arg) + ") in " +
                     CFn->getNameAsString() + "() at line " + Line(Drop->getBeginLoc());
          }
        }
        if (Keep.empty())
          Keep = Owns.empty() ? "the pages and the bio_vec array '" + ArrPath->Spelling +
                                    "' belong to the caller, which must keep them until completion"
                              : "this function owns " + Owns;
        Submissions.push_back({Sub->getBeginLoc(), "async ITER_BVEC submission in " + F->getNameAsString() +
                                                       "(): '" + IterPath->Spelling + "' over '" +
                                                       ArrPath->Spelling + "' through " + submission(Sub) +
                                                       (Completion.empty() ? std::string(", the caller's kiocb")
                                                                           : ", completion " + Completion + "()") +
                                                       "; " + Keep});
      }
    }
  }
  return Findings;
}

} // namespace pageref
