// Where the pages from a get-pages call go: through local aliases, into
// helpers defined in this translation unit, into owners that take them over
// (bio, skb frags, scatterlist, pipe buffers, struct fields), and which calls
// release them, under which conditions. Then the verdict.
#include "ClassifierImpl.h"

#include "clang/AST/Attr.h"

#include "clang/AST/ParentMap.h"
#include "clang/AST/RecursiveASTVisitor.h"
#include "clang/Analysis/CFG.h"
#include "clang/Analysis/CFGStmtMap.h"

#include <set>

using namespace clang;

namespace pageref {

namespace {

/// Every expression in a body that names one of the tracked objects.
struct UseFinder : RecursiveASTVisitor<UseFinder> {
  const std::vector<ObjectPath> &Paths;
  std::vector<const Expr *> Uses;
  explicit UseFinder(const std::vector<ObjectPath> &P) : Paths(P) {}
  bool match(const Expr *E) {
    auto P = objectPath(E);
    return P && llvm::is_contained(Paths, *P);
  }
  bool TraverseMemberExpr(MemberExpr *M) {
    if (match(M)) {
      Uses.push_back(M);
      return true; // do not also report its base
    }
    return RecursiveASTVisitor::TraverseMemberExpr(M);
  }
  bool VisitDeclRefExpr(DeclRefExpr *D) {
    if (match(D))
      Uses.push_back(D);
    return true;
  }
};

bool isTransparent(const Stmt *Parent, const Stmt *Child, const ApiModel &Model) {
  if (auto *C = dyn_cast<CallExpr>(Parent))
    return C->getNumArgs() >= 1 && C->getArg(0) == Child && Model.isPageView(calleeName(C));
  if (isa<ParenExpr>(Parent) || isa<ImplicitCastExpr>(Parent) || isa<CStyleCastExpr>(Parent))
    return true;
  if (auto *U = dyn_cast<UnaryOperator>(Parent))
    return U->getOpcode() == UO_AddrOf || U->getOpcode() == UO_Deref;
  if (isa<DesignatedInitExpr>(Parent))
    return true;
  // A transparent union argument (6.12's release_pages_arg).
  if (auto *CL = dyn_cast<CompoundLiteralExpr>(Parent))
    if (const auto *U = CL->getType()->getAsUnionType(); U && U->getDecl()->hasAttr<TransparentUnionAttr>())
      return true;
  if (auto *IL = dyn_cast<InitListExpr>(Parent))
    if (const auto *U = IL->getType()->getAsUnionType(); U && U->getDecl()->hasAttr<TransparentUnionAttr>())
      return true;
  if (auto *U = dyn_cast<UnaryOperator>(Parent); U && U->isIncrementDecrementOp())
    return true;
  if (auto *A = dyn_cast<ArraySubscriptExpr>(Parent))
    return A->getBase()->IgnoreParenImpCasts() == Child || A->getBase() == Child;
  if (auto *B = dyn_cast<BinaryOperator>(Parent))
    return B->isAdditiveOp() && B->getLHS() == Child;
  return false;
}

bool containsMarker(llvm::StringRef Text, const std::vector<std::string> &Markers, std::string &Which) {
  for (const std::string &M : Markers)
    if (Text.contains(M)) {
      Which = M;
      return true;
    }
  return false;
}

} // namespace

/// Which statements of a function the acquisition can reach: a local such as
/// fuse_copy_fill()'s `page` is also used on a branch that never acquired.
class Reachability {
public:
  Reachability(const FunctionDecl *F, const Stmt *From, ASTContext &Ctx) : From(From) {
    CFG::BuildOptions Opts;
    Cfg = CFG::buildCFG(F, F->getBody(), &Ctx, Opts);
    if (!Cfg)
      return;
    PM = std::make_unique<ParentMap>(F->getBody());
    Map.reset(CFGStmtMap::Build(Cfg.get(), PM.get()));
    FromBlock = Map ? Map->getBlock(From) : nullptr;
    if (!FromBlock)
      return;
    llvm::SmallVector<const CFGBlock *, 32> Work(FromBlock->succ_begin(), FromBlock->succ_end());
    while (!Work.empty()) {
      const CFGBlock *B = Work.pop_back_val();
      if (!B || !Reached.insert(B).second)
        continue;
      Work.append(B->succ_begin(), B->succ_end());
    }
  }
  /// True if \p S may run after the acquisition; true when unsure.
  bool mayFollow(const Stmt *S, const SourceManager &SM) const {
    if (!FromBlock)
      return true;
    const CFGBlock *B = Map->getBlock(S);
    if (!B || Reached.count(B))
      return true;
    return B == FromBlock && SM.isBeforeInTranslationUnit(From->getBeginLoc(), S->getBeginLoc());
  }

private:
  const Stmt *From;
  std::unique_ptr<CFG> Cfg;
  std::unique_ptr<ParentMap> PM;
  std::unique_ptr<CFGStmtMap> Map;
  const CFGBlock *FromBlock = nullptr;
  llvm::DenseSet<const CFGBlock *> Reached;
};

struct PageTracker {
  PageTracker(CallerClassifier::Impl &I, CallerFacts &Out, const CallExpr *Acquire)
      : I(I), Out(Out), Acquire(Acquire) {}
  CallerClassifier::Impl &I;
  CallerFacts &Out;
  const CallExpr *Acquire;
  std::set<std::string> Visited;
  std::vector<std::string> Unresolved; // functions outside the TU that received the pages
  std::set<const Stmt *> SeenReleases;
  const VarDecl *ResultVar = nullptr; // holds the get-pages call's result
  std::unique_ptr<Reachability> Reach; // for the acquiring function
  const FunctionDecl *AcquiringFunction = nullptr;
  std::vector<const FieldDecl *> HolderFields; // struct fields the pages were stored into
  std::set<const FieldDecl *> ScannedContainerFields;

  static bool mentions(const Stmt *S, const VarDecl *V) {
    if (!S)
      return false;
    if (auto *D = dyn_cast<DeclRefExpr>(S))
      if (D->getDecl()->getCanonicalDecl() == V->getCanonicalDecl())
        return true;
    for (const Stmt *Child : S->children())
      if (mentions(Child, V))
        return true;
    return false;
  }

  /// Conditions between the body of \p F and \p S (innermost first).
  std::vector<const Expr *> conditionsAbove(const Stmt *S, const FunctionDecl *F) {
    std::vector<const Expr *> R;
    const BodyParents &BP = I.Parents.of(F);
    const Stmt *Cur = S;
    for (const Stmt *P = BP.parent(Cur); P; Cur = P, P = BP.parent(P)) {
      if (auto *If = dyn_cast<IfStmt>(P)) {
        if (Cur != If->getCond())
          R.push_back(If->getCond());
      } else if (auto *CO = dyn_cast<ConditionalOperator>(P)) {
        if (Cur != CO->getCond())
          R.push_back(CO->getCond());
      } else if (auto *B = dyn_cast<BinaryOperator>(P)) {
        if (B->isLogicalOp() && Cur == B->getRHS())
          R.push_back(B->getLHS());
      }
    }
    // A test of the acquisition's own result (`if (bytes <= 0)`) selects the
    // failure path; it does not make the release conditional.
    llvm::erase_if(R, [&](const Expr *C) { return ResultVar && mentions(C, ResultVar); });
    return R;
  }

  void addRelease(const CallExpr *C, const ReleaseFn &Rel, const FunctionDecl *F, const std::string &Route,
                  const std::vector<std::string> &OuterConds) {
    if (!SeenReleases.insert(C).second)
      return;
    PageRelease R;
    R.Function = Rel.Name;
    R.Family = Rel.Family;
    R.InFunction = I.fnName(F);
    R.Loc = C->getBeginLoc();
    R.Route = Route;
    std::vector<std::string> Conds;
    for (const Expr *E : conditionsAbove(C, F))
      Conds.push_back(I.text(E));
    Conds.insert(Conds.end(), OuterConds.begin(), OuterConds.end());
    if (!Conds.empty()) {
      R.Conditional = true;
      R.Condition = Conds.front();
      std::string Marker;
      for (const std::string &Cond : Conds)
        if (containsMarker(Cond, I.Model.conditionalReleaseMarkers(), Marker)) {
          R.KindConditional = true;
          R.Condition = Cond;
          break;
        }
    }
    Out.Releases.push_back(std::move(R));
  }

  void addSink(const std::string &Owner, const std::string &Via, const FunctionDecl *F, SourceLocation Loc,
               bool TakesOwnRef = false) {
    for (const PageSink &S : Out.Sinks)
      if (S.Loc == Loc && S.Owner == Owner)
        return;
    Out.Sinks.push_back({Owner, Via, I.fnName(F), Loc, TakesOwnRef});
  }

  /// Looks through compound_head(), page_folio() and the like.
  const Expr *stripViews(const Expr *E) {
    while (E) {
      E = E->IgnoreParenCasts();
      auto *C = dyn_cast<CallExpr>(E);
      if (!C || C->getNumArgs() < 1 || !I.Model.isPageView(calleeName(C)))
        return E;
      E = C->getArg(0);
    }
    return E;
  }

  /// The owner a container stands for: an sg entry inside a struct sk_msg is
  /// the sk_msg's, not a free-standing scatterlist.
  std::string ownerOfContainer(const Expr *Container, llvm::StringRef Default, const FunctionDecl *F) {
    unsigned Hops = 0;
    for (const Expr *E = stripToObject(Container); E;) {
      // Through a local alias: `sg = rm->data.op_sg;`
      if (auto *D = dyn_cast<DeclRefExpr>(E)) {
        auto P = objectPath(D);
        if (!P || ++Hops > 4)
          break;
        const Expr *Next = nullptr;
        for (auto &[Lhs, Rhs] : I.assignmentsTo(*P, F))
          if (objectPath(Rhs)) {
            Next = stripToObject(Rhs);
            break;
          }
        E = Next;
        continue;
      }
      auto *M = dyn_cast<MemberExpr>(E);
      if (!M)
        break;
      if (auto *F = dyn_cast<FieldDecl>(M->getMemberDecl())) {
        llvm::StringRef Owner = I.Model.ownerOfRecord(F->getParent()->getName());
        if (!Owner.empty() && Owner != Default && I.Model.ownerDropsRefs(Owner))
          return Owner.str();
      }
      E = stripToObject(M->getBase());
    }
    return Default.str();
  }

  /// Releases of pages read back out of a container (put_page(sg_page(sg))),
  /// in \p F, in helpers it is passed to, in callers that passed it in, and
  /// wherever the same struct field is read in this TU.
  void trackContainer(const ObjectPath &Cont, const FunctionDecl *F, unsigned Depth, const std::string &Route) {
    if (!F || !F->getBody())
      return;
    std::string Key = "container/" + std::to_string(reinterpret_cast<uintptr_t>(F)) + "/" + Cont.key();
    if (!Visited.insert(Key).second)
      return;
    auto SameContainer = [&](const ObjectPath &P) {
      return P == Cont || (P.LastField && Cont.LastField &&
                           P.LastField->getCanonicalDecl() == Cont.LastField->getCanonicalDecl());
    };
    for (const CallExpr *Call : callsIn(F->getBody())) {
      llvm::StringRef Name = calleeName(Call);
      if (const ReleaseFn *Rel = I.Model.release(Name)) {
        if (Rel->Arg >= Call->getNumArgs())
          continue;
        auto P = releasedContainer(Call->getArg(Rel->Arg));
        if (P && SameContainer(*P))
          addRelease(Call, *Rel, F, Route, {});
        continue;
      }
      // The container handed to a helper of this TU.
      if (Depth + 1 > I.Limits.HelperDepth)
        continue;
      const FunctionDecl *Def = definitionOf(Call);
      if (!Def)
        continue;
      for (unsigned A = 0; A < Call->getNumArgs() && A < Def->getNumParams(); ++A) {
        auto P = objectPath(Call->getArg(A));
        if (!P || *P != Cont)
          continue;
        trackContainer(paramPath(Def, A), Def, Depth + 1, "helper " + Name.str() + "()");
      }
    }
    // A local pointer into a container: `struct scatterlist *sg = rm->data.op_sg;`
    if (Cont.Suffix.empty() && !isa<ParmVarDecl>(Cont.Root))
      for (auto &[Lhs, Rhs] : I.assignmentsTo(Cont, F))
        if (auto P = objectPath(Rhs))
          trackContainer(*P, F, Depth, Route);
    // The container copied elsewhere: `bvecs[n] = bv;`, `ctx->bv = bv;`
    {
      for (const BinaryOperator *B : assignmentsIn(F->getBody())) {
        auto From = objectPath(B->getRHS());
        auto To = objectPath(B->getLHS());
        if (From && To && *From == Cont && *To != Cont)
          trackContainer(*To, F, Depth, Route);
      }
      // ... or a local initialised from it: `struct scatterlist *p = sg;`
      // (vhost_scsi_iov_to_sgl()'s error unwind walks `p` up to `sg`).
      for (auto &[V, Init] : localStoresIn(F->getBody())) {
        auto From = objectPath(Init);
        if (!From || *From != Cont || V->getCanonicalDecl() == Cont.Root)
          continue;
        ObjectPath To;
        To.Root = llvm::cast<ValueDecl>(V->getCanonicalDecl());
        To.Spelling = V->getNameAsString();
        trackContainer(To, F, Depth, Route);
      }
    }
    // A container that came in as a parameter: the callers hold it.
    if (auto *Parm = dyn_cast<ParmVarDecl>(Cont.Root); Parm && Depth < I.Limits.CallerDepth) {
      unsigned Index = Parm->getFunctionScopeIndex();
      for (const CallSite &CS : I.Index.callersOf(F)) {
        if (!CS.Caller || Index >= CS.Call->getNumArgs())
          continue;
        if (auto P = objectPath(CS.Call->getArg(Index)))
          trackContainer(appendSuffix(*P, Cont), CS.Caller, Depth + 1, "caller " + I.fnName(CS.Caller) + "()");
      }
    }
    // A container in a struct field: wherever that field is read.
    if (Cont.LastField && ScannedContainerFields.insert(Cont.LastField->getCanonicalDecl()).second)
      for (const FunctionDecl *D : I.Index.definitions())
        if (D != F)
          trackContainer(Cont, D, I.Limits.HelperDepth, "field " + Cont.LastField->getName().str());
  }

  /// `holder->field = page`: the holder keeps the page; its release is
  /// wherever this TU reads the field back and drops it.
  void storedIntoField(const FieldDecl *Field, const Expr *Base, const FunctionDecl *F, SourceLocation Loc,
                       unsigned Depth) {
    if (!Field)
      return;
    std::string Record = Field->getParent()->getName().str();
    std::string Owner = I.Model.ownerOfRecord(Record).str();
    if (Owner.empty())
      Owner = ownerOfContainer(Base, "", F);
    addSink(Owner.empty() ? "struct-field" : Owner, Record + "::" + Field->getName().str(), F, Loc);
    if (!llvm::is_contained(HolderFields, Field->getCanonicalDecl()))
      HolderFields.push_back(Field->getCanonicalDecl());
    if (auto P = objectPath(Base))
      trackContainer(*P, F, Depth, Owner.empty() ? "struct" : Owner);
  }

  /// The container a released page is read back from: sg_page(&sg[i]),
  /// bvec[i].bv_page, or a local initialised from one of those.
  std::optional<ObjectPath> releasedContainer(const Expr *Arg) {
    const Expr *E = stripViews(Arg);
    if (auto *D = dyn_cast<DeclRefExpr>(E))
      if (auto *V = dyn_cast<VarDecl>(D->getDecl()); V && V->isLocalVarDecl() && V->getInit())
        E = stripViews(V->getInit());
    if (auto *Get = dyn_cast<CallExpr>(E)) {
      const ContainerGetterFn *G = I.Model.containerGetter(calleeName(Get));
      if (G && G->Arg < Get->getNumArgs())
        return objectPath(Get->getArg(G->Arg));
      return std::nullopt;
    }
    if (auto *M = dyn_cast<MemberExpr>(E))
      if (I.Model.isContainerField(M->getMemberDecl()->getName()))
        return objectPath(M->getBase());
    return std::nullopt;
  }

  /// Locals that take a page out of the tracked array: `page = pages[i]`.
  void addAliases(std::vector<ObjectPath> &Paths, const FunctionDecl *F) {
    auto Stores = localStoresIn(F->getBody());
    for (unsigned Round = 0; Round < 3; ++Round) {
      bool Changed = false;
      for (auto &[V, Init] : Stores) {
        auto P = objectPath(stripViews(Init));
        if (!P || !llvm::is_contained(Paths, *P))
          continue;
        ObjectPath A;
        A.Root = llvm::cast<ValueDecl>(V->getCanonicalDecl());
        A.Spelling = V->getNameAsString();
        if (!llvm::is_contained(Paths, A)) {
          Paths.push_back(A);
          Changed = true;
        }
      }
      if (!Changed)
        break;
    }
  }

  void track(const ObjectPath &Start, const FunctionDecl *F, unsigned Depth, const std::string &Route,
             const std::vector<std::string> &OuterConds) {
    if (!F || !F->getBody())
      return;
    std::string Key = std::to_string(reinterpret_cast<uintptr_t>(F)) + "/" + Start.key();
    if (!Visited.insert(Key).second)
      return;
    std::vector<ObjectPath> Paths{Start};
    addAliases(Paths, F);
    UseFinder Finder(Paths);
    Finder.TraverseStmt(F->getBody());
    const BodyParents &BP = I.Parents.of(F);

    for (const Expr *Use : Finder.Uses) {
      if (F == AcquiringFunction && Reach && !Reach->mayFollow(Use, I.SM))
        continue;
      const Stmt *Child = Use;
      const Stmt *Parent = BP.parent(Child);
      const Stmt *Value = Child; // the expression itself, without a designator around it
      while (Parent && isTransparent(Parent, Child, I.Model)) {
        if (!isa<DesignatedInitExpr>(Parent))
          Value = Parent;
        Child = Parent;
        Parent = BP.parent(Parent);
      }
      if (!Parent)
        continue;
      if (auto *Call = dyn_cast<CallExpr>(Parent)) {
        if (Call == Acquire || Call->getCallee() == Child)
          continue;
        unsigned ArgNo = 0;
        for (; ArgNo < Call->getNumArgs(); ++ArgNo)
          if (Call->getArg(ArgNo) == Child)
            break;
        if (ArgNo == Call->getNumArgs())
          continue;
        llvm::StringRef Name = calleeName(Call);
        if (const ReleaseFn *Rel = I.Model.release(Name)) {
          addRelease(Call, *Rel, F, Route, OuterConds);
        } else if (const SinkFn *Sink = I.Model.sink(Name)) {
          const Expr *Container =
              Sink->ContainerArg && *Sink->ContainerArg < Call->getNumArgs() ? Call->getArg(*Sink->ContainerArg) : nullptr;
          addSink(Container ? ownerOfContainer(Container, Sink->Owner, F) : Sink->Owner, Name.str() + "()", F,
                  Call->getBeginLoc(), Sink->TakesOwnRef);
          if (Container)
            if (auto P = objectPath(Container))
              trackContainer(*P, F, Depth, Sink->Owner);
        } else if (I.Model.getPages(Name) || Name.empty()) {
          continue;
        } else if (const FunctionDecl *Def = definitionOf(Call)) {
          if (Depth + 1 > I.Limits.HelperDepth) {
            Out.FlowStops.push_back({Call->getBeginLoc(), "stopped following the pages into " + Name.str() +
                                                              "() after " + std::to_string(Depth) + " helpers"});
            continue;
          }
          if (ArgNo >= Def->getNumParams())
            continue;
          ObjectPath P = paramPath(Def, ArgNo);
          std::vector<std::string> Conds = OuterConds;
          for (const Expr *E : conditionsAbove(Call, F))
            Conds.push_back(I.text(E));
          size_t Before = Out.Releases.size() + Out.Sinks.size();
          track(P, Def, Depth + 1, "helper " + Name.str() + "()", Conds);
          if (Out.Releases.size() + Out.Sinks.size() == Before)
            continue;
        } else if (!I.Model.isPageUser(Name)) {
          if (!llvm::is_contained(Unresolved, Name.str()))
            Unresolved.push_back(Name.str());
        }
        continue;
      }
      if (auto *B = dyn_cast<BinaryOperator>(Parent)) {
        if (B->getOpcode() != BO_Assign || B->getRHS() != Child)
          continue;
        const Expr *Lhs = B->getLHS()->IgnoreParenImpCasts();
        if (auto *M = dyn_cast<MemberExpr>(Lhs)) {
          auto *Field = dyn_cast<FieldDecl>(M->getMemberDecl());
          storedIntoField(Field, M->getBase(), F, B->getBeginLoc(), Depth);
        } else if (auto *U = dyn_cast<UnaryOperator>(Lhs); U && U->getOpcode() == UO_Deref) {
          auto P = objectPath(U->getSubExpr());
          if (P && isa<ParmVarDecl>(P->Root))
            addSink("returned", "*" + P->Spelling, F, B->getBeginLoc());
        } else if (auto *D = dyn_cast<DeclRefExpr>(Lhs)) {
          if (auto *V = dyn_cast<VarDecl>(D->getDecl()); V && V->hasGlobalStorage())
            addSink("global", V->getNameAsString(), F, B->getBeginLoc());
        }
        continue;
      }
      if (isa<ReturnStmt>(Parent)) {
        addSink("returned", "return", F, Parent->getBeginLoc());
        // dio_get_page() hands a page back: follow it into the callers' locals.
        if (Depth < I.Limits.HelperDepth)
          for (const CallSite &CS : I.Index.callersOf(F))
            if (CS.Caller)
              if (const VarDecl *V = I.resultVariable(CS.Call, CS.Caller)) {
                ObjectPath P;
                P.Root = V->getCanonicalDecl();
                P.Spelling = V->getNameAsString();
                track(P, CS.Caller, Depth + 1, "caller " + I.fnName(CS.Caller) + "()", OuterConds);
              }
      }
      if (auto *L = dyn_cast<InitListExpr>(Parent)) {
        // `struct bio_vec bv = { .bv_page = pages[i], ... }`
        const InitListExpr *Sem = L->isSemanticForm() ? L : L->getSemanticForm();
        const auto *RT = Sem ? Sem->getType()->getAs<RecordType>() : nullptr;
        if (!RT)
          continue;
        unsigned Index = 0;
        for (const FieldDecl *Field : RT->getDecl()->fields()) {
          if (Index < Sem->getNumInits() && Sem->getInit(Index)->IgnoreParenImpCasts() ==
                                                 cast<Expr>(Value)->IgnoreParenImpCasts()) {
            const Stmt *Holder = BP.parent(Parent);
            const VarDecl *Var = nullptr;
            if (auto *DS = dyn_cast_or_null<DeclStmt>(Holder))
              for (const Decl *D : DS->decls())
                if (auto *V = dyn_cast<VarDecl>(D); V && V->getInit() &&
                                                    V->getInit()->IgnoreParenImpCasts() == Parent)
                  Var = V;
            std::string Record = Field->getParent()->getName().str();
            llvm::StringRef Owner = I.Model.ownerOfRecord(Record);
            addSink(Owner.empty() ? "struct-field" : Owner.str(), Record + "::" + Field->getName().str(), F,
                    Parent->getBeginLoc());
            if (Var) {
              ObjectPath P;
              P.Root = Var->getCanonicalDecl();
              P.Spelling = Var->getNameAsString();
              trackContainer(P, F, Depth, Owner.empty() ? "struct" : Owner.str());
            }
          }
          ++Index;
        }
      }
    }
  }

  const FunctionDecl *definitionOf(const CallExpr *Call) { return calleeDefinition(Call, I.SM); }
};

const VarDecl *CallerClassifier::Impl::resultVariable(const CallExpr *Call, const FunctionDecl *F) {
  return pageref::resultVariable(Call, Parents.of(F));
}

void CallerClassifier::Impl::followPages(const CallExpr *Call, const GetPagesFn &Get, const FunctionDecl *F,
                                         CallerFacts &Out) {
  if (Get.PagesArg >= Call->getNumArgs())
    return;
  const Expr *Arg = Call->getArg(Get.PagesArg);
  auto Start = objectPath(Arg);
  if (!Start) {
    Out.FlowStops.push_back({Arg->getBeginLoc(), "pages argument '" + text(Arg) + "' is not a variable or field"});
    return;
  }
  PageTracker T(*this, Out, Call);
  T.ResultVar = resultVariable(Call, F);
  T.AcquiringFunction = F;
  T.Reach = std::make_unique<Reachability>(F, Call, Ctx);
  T.track(*Start, F, 0, "local", {});
  // `struct page **pages = dio->pages;` (or `= local_array`, `= &page`) then
  // get-pages into `&pages`: the pages land in what the pointer points to.
  if (Start->Suffix.empty() && !isa<ParmVarDecl>(Start->Root))
    for (auto &[Lhs, Rhs] : assignmentsTo(*Start, F))
      if (auto From = objectPath(Rhs); From && *From != *Start) {
        if (From->LastField && !llvm::is_contained(T.HolderFields, From->LastField->getCanonicalDecl()))
          T.HolderFields.push_back(From->LastField->getCanonicalDecl());
        T.track(*From, F, 0, From->LastField ? "field " + From->LastField->getName().str() : "local", {});
      }

  // An out-parameter (`struct page ***pages`): the callers get the pages.
  if (auto *Parm = dyn_cast<ParmVarDecl>(Start->Root); Parm && Start->Suffix.empty()) {
    T.addSink("returned", "*" + Start->Spelling, F, Arg->getBeginLoc());
    unsigned Index = Parm->getFunctionScopeIndex();
    for (const CallSite &CS : this->Index.callersOf(F)) {
      if (!CS.Caller || Index >= CS.Call->getNumArgs())
        continue;
      if (auto P = objectPath(CS.Call->getArg(Index)))
        T.track(*P, CS.Caller, 1, "caller " + fnName(CS.Caller) + "()", {});
    }
  }

  // Pages kept in a struct field are released wherever that field is read in
  // this TU (a completion, a request destructor).
  if (Start->LastField && !llvm::is_contained(T.HolderFields, Start->LastField->getCanonicalDecl()))
    T.HolderFields.push_back(Start->LastField->getCanonicalDecl());
  for (size_t H = 0; H < T.HolderFields.size(); ++H) {
    const FieldDecl *Holder = T.HolderFields[H];
    std::vector<ObjectPath> Holders;
    for (const FunctionDecl *D : Index.definitions()) {
      if (D == F)
        continue;
      struct FieldUses : RecursiveASTVisitor<FieldUses> {
        const FieldDecl *Field;
        std::vector<ObjectPath> Found;
        bool VisitMemberExpr(MemberExpr *M) {
          if (M->getMemberDecl()->getCanonicalDecl() == Field)
            if (auto P = objectPath(M))
              Found.push_back(*P);
          return true;
        }
      } U;
      U.Field = Holder;
      U.TraverseStmt(D->getBody());
      for (const ObjectPath &P : U.Found)
        T.track(P, D, 1, "field " + Holder->getName().str(), {});
    }
  }

  // Pages added to a bio come back through the bio's release, which obeys the
  // bio's flags (BIO_NO_PAGE_REF in 6.1, BIO_PAGE_PINNED in 6.3+).
  bool ToBio = llvm::any_of(Out.Sinks, [](const PageSink &S) { return S.Owner == "bio"; });
  if (ToBio) {
    // The bio's release depends on the iterator only if the flag that governs
    // it is set under a kind or pin test (6.3+: `if (iov_iter_extract_will_pin(
    // iter)) bio_set_flag(bio, BIO_PAGE_PINNED)`). 6.1's BIO_NO_PAGE_REF is set
    // only on the BVEC path that never reaches iov_iter_get_pages2().
    std::string FlagText;
    for (const char *Setter : {"bio_set_flag", "bio_clear_flag"})
      for (const CallSite &CS : Index.callsTo(Setter)) {
        if (!CS.Caller || !FlagText.empty())
          continue;
        std::string Marker;
        if (!containsMarker(text(CS.Call, 120), Model.conditionalReleaseMarkers(), Marker))
          continue;
        for (const Expr *Cond : T.conditionsAbove(CS.Call, CS.Caller))
          if (containsMarker(text(Cond, 120), Model.conditionalReleaseMarkers(), Marker)) {
            FlagText = text(CS.Call, 120) + " under '" + text(Cond, 120) + "'";
            break;
          }
      }
    for (const char *Name : {"bio_release_pages", "__bio_release_pages", "bio_release_page"}) {
      const ReleaseFn *Rel = Model.release(Name);
      if (!Rel)
        continue;
      for (const CallSite &CS : Index.callsTo(Name)) {
        if (!CS.Caller)
          continue;
        size_t N = Out.Releases.size();
        T.addRelease(CS.Call, *Rel, CS.Caller, "bio", {});
        if (Out.Releases.size() > N && !FlagText.empty()) {
          Out.Releases.back().KindConditional = true;
          Out.Releases.back().Conditional = true;
          Out.Releases.back().Condition = FlagText;
        }
      }
    }
  }
  for (const std::string &U : T.Unresolved)
    Out.FlowStops.push_back({Call->getBeginLoc(), "pages passed to " + U + "(), not defined in this translation unit"});
  Out.ExternalCallees = T.Unresolved;
}

void CallerClassifier::Impl::findAsyncOwner(const FunctionDecl *F, CallerFacts &Out) {
  auto Definition = [&](llvm::StringRef Name) -> const FunctionDecl * {
    for (const FunctionDecl *D : Index.definitions())
      if (D->getName() == Name)
        return D;
    return nullptr;
  };
  // How a function is wired as a callback: a completion field, or a
  // function pointer handed to another call (kref_put(), an allocator).
  auto Wiring = [&](const FunctionDecl *D) -> std::optional<std::pair<std::string, SourceLocation>> {
    for (const AddressUse &U : Index.addressUses(D)) {
      if (!U.Field.empty() && Model.isCompletionField(U.Field))
        return std::make_pair(U.Field, U.Ref->getBeginLoc());
      if (U.Field.empty() && U.InFunction)
        return std::make_pair("callback passed in " + fnName(U.InFunction) + "()", U.Ref->getBeginLoc());
    }
    return std::nullopt;
  };
  for (const PageRelease &R : Out.Releases) {
    if (R.InFunction == Out.Function)
      continue;
    const FunctionDecl *D = Definition(R.InFunction);
    if (!D)
      continue;
    // The releasing function itself, or one caller up.
    std::vector<const FunctionDecl *> Candidates{D};
    for (const CallSite &CS : Index.callersOf(D))
      if (CS.Caller && !llvm::is_contained(Candidates, CS.Caller))
        Candidates.push_back(CS.Caller);
    for (const FunctionDecl *C : Candidates)
      if (auto W = Wiring(C)) {
        AsyncOwnership A;
        A.Completion = fnName(C);
        A.Via = W->first;
        A.WiredAt = W->second;
        Out.Async = A;
        break;
      }
    if (Out.Async)
      break;
  }
  if (!Out.Async)
    return;
  // A wait on the submitting path: in the acquiring function or a caller.
  std::vector<const FunctionDecl *> Path{F};
  for (unsigned Level = 0; Level < 2; ++Level) {
    size_t N = Path.size();
    for (size_t I = 0; I < N; ++I)
      for (const CallSite &CS : Index.callersOf(Path[I]))
        if (CS.Caller && !llvm::is_contained(Path, CS.Caller))
          Path.push_back(CS.Caller);
  }
  for (const FunctionDecl *P : Path)
    for (const CallExpr *C : callsIn(P->getBody()))
      if (Model.isWaitFunction(calleeName(C))) {
        Out.Async->Wait = calleeName(C).str() + "() in " + fnName(P) + "() at line " +
                          std::to_string(lineOf(C->getBeginLoc(), SM));
        Out.Async->WaitAt = C->getBeginLoc();
        return;
      }
  Out.Async->Unwaited = true;
}

static std::string at(const SourceManager &SM, SourceLocation L) {
  return "line " + std::to_string(lineOf(L, SM));
}

void CallerClassifier::Impl::decideVerdict(const GetPagesFn &Get, CallerFacts &Out) {
  IterKindSet Refs = Out.Iter.Kinds.referenceable();
  bool UserOnly = !Refs.empty() && Refs.subsetOf(IterKindSet::userBacked());
  auto FirstRelease = [&](auto Pred) -> const PageRelease * {
    for (const PageRelease &R : Out.Releases)
      if (Pred(R))
        return &R;
    return nullptr;
  };
  auto Describe = [&](const PageRelease &R) {
    if (R.OtherTranslationUnit)
      return R.Function + "() in " + R.InFunction + "() ({{file:" + R.InFunction + "}}, another translation unit)";
    return R.Function + "() in " + R.InFunction + "() at " + at(SM, R.Loc);
  };

  // A sink that takes its own reference (get_page() inside) keeps none of
  // the caller's: whatever the owner does later, it does with its own.
  for (const PageSink &S : Out.Sinks)
    if (Model.ownerDropsRefs(S.Owner) && !S.TakesOwnRef) {
      Out.Result = Verdict::NeedsRefs;
      llvm::StringRef Note = Model.ownerNote(S.Owner);
      Out.Reason = "pages go into " + S.Owner + " (" + S.Via + " in " + S.InFunction + "() at " + at(SM, S.Loc) +
                   "), which drop their references on their own schedule, not while the iterator's owner holds "
                   "the pages" + (Note.empty() ? std::string() : ": " + Note.str());
      return;
    }
  if (Get.Family == ReleaseFamily::PinIfWillPin) {
    if (UserOnly && FirstRelease([](const PageRelease &R) { return R.Family == ReleaseFamily::Pin; })) {
      const PageRelease *R = FirstRelease([](const PageRelease &R) { return R.Family == ReleaseFamily::Pin; });
      Out.Result = Verdict::AlreadyConditional;
      Out.Reason = "only user-backed iterators (" + Refs.str() + ") reach it, so " + Get.Name +
                   "() always pins and " + Describe(*R) + " is the matching release";
      return;
    }
    if (auto *R = FirstRelease([](const PageRelease &R) { return R.KindConditional || R.Family == ReleaseFamily::Bio; })) {
      Out.Result = Verdict::AlreadyConditional;
      Out.Reason = Get.Name + "() pins only user-backed iterators and the release follows that: " + Describe(*R) +
                   (R->Condition.empty() ? "" : " under '" + R->Condition + "'");
    } else if (auto *R = FirstRelease([](const PageRelease &) { return true; })) {
      Out.Result = Verdict::Unknown;
      Out.Reason = "pages from " + Get.Name + "() are released unconditionally by " + Describe(*R) +
                   ", without testing iov_iter_extract_will_pin()";
    } else if ((Out.Iter.Kinds & IterKindSet::userBacked()).empty()) {
      Out.Result = Verdict::AlreadyConditional;
      Out.Reason = "only " + Out.Iter.Kinds.str() + " iterators reach it: " + Get.Name +
                   "() takes no references for them and none are released";
    } else {
      Out.Result = Verdict::Unknown;
      Out.Reason = "no release of the extracted pages found in this translation unit";
    }
    return;
  }
  if (auto *R = FirstRelease([](const PageRelease &R) { return R.KindConditional; })) {
    Out.Result = Verdict::AlreadyConditional;
    Out.Reason = "the release already depends on the iterator kind or pin state: " + Describe(*R) + " under '" +
                 R->Condition + "'";
    return;
  }
  if (Refs.empty()) {
    Out.Result = Verdict::Unknown;
    Out.Reason = "no iterator kind that takes page references was found to reach this call";
    return;
  }
  // Name the release on the normal path first; error-path drops come after.
  const PageRelease *Main = FirstRelease([](const PageRelease &R) { return !R.Conditional; });
  if (!Main)
    Main = FirstRelease([](const PageRelease &) { return true; });
  if (auto *R = Main) {
    Out.Result = Verdict::ExtractReady;
    if (UserOnly)
      Out.Reason = "only user-backed iterators (" + Refs.str() + ") reach it and the pages are released by " +
                   Describe(*R) + "; iov_iter_extract_pages() would pin them, released with unpin_user_page*()";
    else
      Out.Reason = "the pages are released by " + Describe(*R) +
                   " and handed to no owner that keeps them; for BVEC/XARRAY/PIPE the iterator's owner holds "
                   "them, so the release can be made conditional (iov_iter_extract_pages())";
    return;
  }
  Out.Result = Verdict::Unknown;
  Out.Reason = "no release of the pages found in this translation unit";
  if (!Out.FlowStops.empty())
    Out.Reason += " (" + Out.FlowStops.front().Message + ")";
}

} // namespace pageref
