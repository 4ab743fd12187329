// Pages kept in struct fields across the functions of a translation unit:
// which acquisitions store pages into a field (and with which family), which
// functions release what a field holds (with which family, under which
// tests), and which fields hold a will-pin answer. A release of the wrong
// family in another function (detach, completion, cleanup) is reported at the
// release; the fields a releasing function tests are the state its callers
// may set to hand the pages over (`vsg->state = dr_via_pages_locked`).
#include "Engine.h"

#include "clang/AST/RecursiveASTVisitor.h"

using namespace clang;

namespace pageref {

using namespace refflow;

namespace {

/// The field a release argument reads the pages from: `req->pages[i]` is
/// req's pages; `bvec[i].bv_page` through a container field is the array's.
const FieldDecl *heldField(const Expr *E, const ApiModel &Model) {
  E = E->IgnoreParenCasts();
  if (auto *C = dyn_cast<CallExpr>(E))
    if (const ContainerGetterFn *G = Model.containerGetter(calleeName(C)); G && G->Arg < C->getNumArgs())
      E = C->getArg(G->Arg)->IgnoreParenCasts();
  auto P = objectPath(E);
  if (!P || !P->LastField)
    return nullptr;
  if (Model.isContainerField(P->LastField->getName())) {
    // The member that holds the containers.
    const Expr *Cur = stripToObject(E);
    if (auto *M = dyn_cast<MemberExpr>(Cur))
      if (auto Base = objectPath(M->getBase()); Base && Base->LastField)
        return Base->LastField->getCanonicalDecl();
    return nullptr;
  }
  return P->LastField->getCanonicalDecl();
}

bool compatible(ReleaseFamily Stored, ReleaseFamily Released) {
  if (Released == ReleaseFamily::Bio || Stored == ReleaseFamily::Bio)
    return true;
  switch (Stored) {
  case ReleaseFamily::Pin: return Released == ReleaseFamily::Pin;
  case ReleaseFamily::PinIfWillPin: return Released == ReleaseFamily::Pin;
  case ReleaseFamily::Ref: return Released == ReleaseFamily::Ref;
  default: return true;
  }
}

} // namespace

void RefFlow::Impl::buildFieldFacts() {
  if (FieldFactsBuilt)
    return;
  FieldFactsBuilt = true;
  for (const FunctionDecl *F : Index.definitions()) {
    if (!F->getBody())
      continue;
    const BodyParents &BP = Parents.of(F);
    for (const CallExpr *Call : callsIn(F->getBody())) {
      const ReleaseFn *Rel = Model.release(calleeName(Call));
      if (!Rel || Rel->Arg >= Call->getNumArgs())
        continue;
      const Expr *Arg = stripViews(Call->getArg(Rel->Arg));
      // `struct page *page = sg_page(ao->op_sg); ... put_page(page);`
      for (unsigned Depth = 0; Depth < 3; ++Depth) {
        auto *D = dyn_cast<DeclRefExpr>(Arg->IgnoreParenCasts());
        auto *V = D ? dyn_cast<VarDecl>(D->getDecl()) : nullptr;
        if (!V || !V->isLocalVarDecl() || isa<ParmVarDecl>(V))
          break;
        const Expr *Only = nullptr;
        unsigned Stores = 0;
        for (auto &[W, Value] : localStoresIn(F->getBody()))
          if (W->getCanonicalDecl() == V->getCanonicalDecl()) {
            Only = Value;
            ++Stores;
          }
        if (Stores != 1)
          break;
        Arg = stripViews(Only);
      }
      // Global counts: `unpin_user_pages(g_pages, g_nr)`, `for (i = 0; i < g_nr; i++) put_page(...)`.
      {
        struct Globals : RecursiveASTVisitor<Globals> {
          std::set<const VarDecl *> &Out;
          explicit Globals(std::set<const VarDecl *> &O) : Out(O) {}
          bool VisitDeclRefExpr(DeclRefExpr *D) {
            if (auto *G = dyn_cast<VarDecl>(D->getDecl()); G && G->hasGlobalStorage() && G->getType()->isIntegerType())
              Out.insert(G->getCanonicalDecl());
            return true;
          }
        } V(CountGlobals);
        for (unsigned I = 0; I < Call->getNumArgs(); ++I)
          if (I != Rel->Arg)
            V.TraverseStmt(const_cast<Expr *>(Call->getArg(I)));
        if (const Stmt *L = enclosingLoop(Call, F)) {
          if (auto *Fo = dyn_cast<ForStmt>(L); Fo && Fo->getCond())
            V.TraverseStmt(const_cast<Expr *>(Fo->getCond()));
          else if (auto *W = dyn_cast<WhileStmt>(L))
            V.TraverseStmt(const_cast<Expr *>(W->getCond()));
        }
      }
      const FieldDecl *FD = heldField(Arg, Model);
      if (!FD)
        continue;
      FieldInfo &Info = FieldFacts[FD];
      Info.Releases.push_back({F, Call, Rel->Family, false});
      // The fields of the same struct its enclosing tests read.
      const RecordDecl *Rec = FD->getParent();
      const Stmt *Cur = Call;
      for (const Stmt *P = BP.parent(Cur); P; Cur = P, P = BP.parent(P)) {
        const Expr *Cond = nullptr;
        if (auto *I = dyn_cast<IfStmt>(P); I && Cur != I->getCond())
          Cond = I->getCond();
        else if (auto *S = dyn_cast<SwitchStmt>(P); S && Cur != S->getCond())
          Cond = S->getCond();
        // The bound of the loop that releases one page at a time
        // (`for (i = 0; i < dma->nr_pages; i++) put_page(dma->pages[i])`):
        // the count the owner's teardown releases.
        bool Bound = false;
        if (auto *L = dyn_cast<ForStmt>(P); L && Cur == L->getBody())
          Cond = L->getCond(), Bound = true;
        else if (auto *L = dyn_cast<WhileStmt>(P); L && Cur == L->getBody())
          Cond = L->getCond(), Bound = true;
        if (!Cond)
          continue;
        struct Members : RecursiveASTVisitor<Members> {
          const RecordDecl *Rec;
          std::set<const FieldDecl *> &Out;
          Members(const RecordDecl *R, std::set<const FieldDecl *> &O) : Rec(R), Out(O) {}
          bool VisitMemberExpr(MemberExpr *M) {
            if (auto *G = dyn_cast<FieldDecl>(M->getMemberDecl()); G && G->getParent() == Rec)
              Out.insert(G->getCanonicalDecl());
            return true;
          }
        } V(Rec, Bound ? Info.CountFields : Info.GuardFields);
        V.TraverseStmt(const_cast<Expr *>(Cond));
      }
      // The release's count argument (`unpin_user_pages(dma->pages, dma->nr_pages)`).
      for (unsigned I = 0; I < Call->getNumArgs(); ++I)
        if (I != Rel->Arg)
          if (auto *M = dyn_cast<MemberExpr>(Call->getArg(I)->IgnoreParenImpCasts()))
            if (auto *G = dyn_cast<FieldDecl>(M->getMemberDecl()); G && G->getParent() == Rec)
              Info.CountFields.insert(G->getCanonicalDecl());
    }
    for (const BinaryOperator *B : assignmentsIn(F->getBody())) {
      auto *M = dyn_cast<MemberExpr>(B->getLHS()->IgnoreParenImpCasts());
      auto *C = dyn_cast<CallExpr>(B->getRHS()->IgnoreParenCasts());
      if (!M || !C)
        continue;
      if (const IterGuardFn *G = Model.iterGuard(calleeName(C)); G && (G->WillPin || G->Kinds == IterKindSet::userBacked()))
        if (auto *FD = dyn_cast<FieldDecl>(M->getMemberDecl()))
          WillPinFields.insert(FD->getCanonicalDecl());
    }
  }
  // Stores: an acquisition into a field, or its pages assigned to one.
  for (const FunctionDecl *F : Index.definitions()) {
    if (!F->getBody())
      continue;
    std::vector<const BinaryOperator *> Assigns = assignmentsIn(F->getBody());
    std::vector<Tracked> Here;
    for (const CallExpr *Call : callsIn(F->getBody())) {
      llvm::StringRef N = calleeName(Call);
      if (!Model.getPages(N) && !Model.acquire(N) && !calleeDefinition(Call, SM))
        continue;
      auto T = trackAcquisition(Call, F);
      if (!T)
        continue;
      Here.push_back(*T);
      if (T->SinglePage)
        continue;
      if (T->ForeignField)
        FieldFacts[T->ForeignField->getCanonicalDecl()].Stores.push_back({F, Call, T->Family});
      for (const BinaryOperator *B : Assigns)
        if (auto *M = dyn_cast<MemberExpr>(B->getLHS()->IgnoreParenImpCasts()); M && tracked(*T, B->getRHS()))
          if (auto *FD = dyn_cast<FieldDecl>(M->getMemberDecl()); FD && !Model.isContainerField(FD->getName()))
            FieldFacts[FD->getCanonicalDecl()].Stores.push_back({F, Call, T->Family});
      // Into a container a field holds: `sg_set_page(rm->atomic.op_sg, page, ...)`.
      for (const CallExpr *S : callsIn(F->getBody()))
        if (const SinkFn *Sink = Model.sink(calleeName(S)); Sink && Sink->ContainerArg &&
                                                           Sink->Arg < S->getNumArgs() &&
                                                           *Sink->ContainerArg < S->getNumArgs() &&
                                                           tracked(*T, S->getArg(Sink->Arg)))
          if (auto P = objectPath(S->getArg(*Sink->ContainerArg)); P && P->LastField)
            FieldFacts[P->LastField->getCanonicalDecl()].Stores.push_back({F, Call, T->Family});
    }
    // Pages of another source stored into a field (`ap->pages[n] = page` of
    // the page cache, `= alloc_page()`): the field is mixed, and a release of
    // such pages' families (put_page(), __free_page()) may be theirs.
    for (const BinaryOperator *B : Assigns) {
      QualType Ty = B->getRHS()->getType();
      if (!Ty->isPointerType())
        continue;
      auto *RD = Ty->getPointeeType()->getAsRecordDecl();
      if (!RD || (RD->getName() != "page" && RD->getName() != "folio"))
        continue;
      const FieldDecl *FD = heldField(B->getLHS(), Model);
      if (!FD)
        continue;
      bool FromAcquisition = false;
      for (const Tracked &T : Here)
        FromAcquisition |= tracked(T, B->getRHS());
      if (!FromAcquisition)
        FieldFacts[FD].OtherSources = true;
    }
  }
  for (auto &[FD, Info] : FieldFacts)
    for (FieldUse &U : Info.Releases)
      U.UnderWillPin = underWillPinTest(U.Call, U.F) || splitByFamily(U, FD);
}

/// `if (shm->flags & TEE_SHM_USER_MAPPED) unpin_user_pages(shm->pages, n);
/// else shm_put_kernel_pages(shm->pages, n);`: the test chooses between the
/// families, so it is the recorded answer to "were they pinned?" (a flag set
/// with the pages, as `dio->is_pinned` is), whatever it is spelled as.
bool RefFlow::Impl::splitByFamily(const FieldUse &U, const FieldDecl *FD) {
  const BodyParents &BP = Parents.of(U.F);
  const Stmt *Cur = U.Call;
  for (const Stmt *P = BP.parent(Cur); P; Cur = P, P = BP.parent(P)) {
    auto *I = dyn_cast<IfStmt>(P);
    if (!I || Cur == I->getCond())
      continue;
    const Stmt *Other = Cur == I->getThen() ? I->getElse() : I->getThen();
    if (!Other)
      continue;
    for (const CallExpr *C : callsIn(Other)) {
      for (unsigned A = 0; A < C->getNumArgs(); ++A) {
        if (heldField(stripViews(C->getArg(A)), Model) != FD)
          continue;
        std::optional<ReleaseFamily> Fam;
        if (const ReleaseFn *Rel = Model.release(calleeName(C)); Rel && Rel->Arg == A)
          Fam = Rel->Family;
        else if (const FunctionDecl *Def = calleeDefinition(C, SM)) {
          const FunctionSummary &S = summaryOf(Def);
          if (auto It = S.Params.find(A); It != S.Params.end() && It->second.Effect == ParamEffect::Releases)
            Fam = It->second.Family;
        }
        if (Fam && *Fam != U.Family)
          return true;
      }
    }
    return false; // only the innermost test decides between the two
  }
  return false;
}

const RefFlow::Impl::FieldInfo *RefFlow::Impl::fieldInfo(const FieldDecl *F) {
  buildFieldFacts();
  auto It = FieldFacts.find(F->getCanonicalDecl());
  return It == FieldFacts.end() ? nullptr : &It->second;
}

std::vector<RefFinding> RefFlow::Impl::fieldFamilyFindings(const FunctionDecl *F) {
  std::vector<RefFinding> Out;
  buildFieldFacts();
  static const char *Words[] = {"references (FOLL_GET)", "pins (FOLL_PIN)",
                                "pins when iov_iter_extract_will_pin(), otherwise nothing", "bio-owned references",
                                "pages of the page allocator"};
  for (auto &[FD, Info] : FieldFacts) {
    for (const FieldUse &U : Info.Releases) {
      if (U.F != F || Info.Stores.empty())
        continue;
      // Only what other functions stored: this function's own acquisitions
      // are followed path by path.
      const FieldStore *Bad = nullptr;
      bool AnyCompatible = false, Extracted = false;
      for (const FieldStore &S : Info.Stores) {
        if (S.F == F)
          continue;
        if (compatible(S.Family, U.Family))
          AnyCompatible = true;
        else if (!Bad)
          Bad = &S;
        if (S.Family == ReleaseFamily::PinIfWillPin && !Extracted) {
          Extracted = true;
          if (!Bad && U.Family == ReleaseFamily::Pin && !U.UnderWillPin)
            Bad = &S;
        }
      }
      if (!Bad || (AnyCompatible && Bad->Family != ReleaseFamily::PinIfWillPin) || U.UnderWillPin)
        continue;
      if (Info.OtherSources && (U.Family == ReleaseFamily::Ref || U.Family == ReleaseFamily::Free))
        continue;
      const RecordDecl *Rec = FD->getParent();
      std::string Field = "'" + (Rec->getName().empty() ? std::string("(anonymous)") : "struct " + Rec->getNameAsString()) +
                          "::" + FD->getNameAsString() + "'";
      std::string Acq = calleeName(Bad->Acquisition).str() + "() at line " +
                        std::to_string(line(Bad->Acquisition->getBeginLoc())) + " in " +
                        Bad->F->getNameAsString() + "()";
      RefFinding Fd;
      Fd.Loc = U.Call->getBeginLoc();
      llvm::StringRef Rel = calleeName(U.Call);
      if (Bad->Family == ReleaseFamily::PinIfWillPin && U.Family == ReleaseFamily::Pin) {
        Fd.Kind = RefFindingKind::ExtractUnconditional;
        Fd.Message = "pages kept in " + Field + " come from " + Acq +
                     ", which pins only user-backed iterators, and are unpinned here by " + Rel.str() +
                     "() without a test of iov_iter_extract_will_pin() (or a flag set from it)";
      } else {
        Fd.Kind = RefFindingKind::WrongFamily;
        Fd.Message = "pages kept in " + Field + " were acquired as " + Words[unsigned(Bad->Family)] + " by " + Acq +
                     " and are released here with " + Rel.str() + "()";
        fixFor(Fd, U.Call, Bad->Family == ReleaseFamily::PinIfWillPin ? ReleaseFamily::Bio : Bad->Family);
      }
      Fd.Notes.push_back({Bad->Acquisition->getBeginLoc(), std::string("acquired here as ") +
                                                              Words[unsigned(Bad->Family)] + ", kept in " + Field});
      Out.push_back(std::move(Fd));
    }
  }
  return Out;
}

} // namespace pageref
