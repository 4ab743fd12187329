// What one run follows: an acquisition (its family, its result, every name
// its pages go by, who owns the storage they land in) or the page array an
// acquisition allocated.
#include "Engine.h"

#include "clang/AST/ParentMap.h"
#include "clang/AST/RecursiveASTVisitor.h"

using namespace clang;

namespace pageref {

using namespace refflow;

RefFlow::Impl::~Impl() = default;

const Expr *RefFlow::Impl::stripViews(const Expr *E) {
  while (E) {
    E = E->IgnoreParenCasts();
    // `page_address(page) + off`: still the page.
    if (auto *B = dyn_cast<BinaryOperator>(E); B && B->isAdditiveOp() && B->getLHS()->getType()->isPointerType()) {
      const Expr *L = B->getLHS()->IgnoreParenCasts();
      if (isa<CallExpr>(L)) {
        E = L;
        continue;
      }
      // pfn_to_page(pfn) on x86: `(struct page *)vmemmap_base + (pfn)`
      if (B->getOpcode() == BO_Add && !L->getType()->isPointerType() && L->getType()->isIntegerType()) {
        E = B->getRHS();
        continue;
      }
      return E;
    }
    auto *C = dyn_cast<CallExpr>(E);
    if (!C || C->getNumArgs() < 1)
      return E;
    llvm::StringRef N = calleeName(C);
    if (!Model.isPageView(N) && !Model.isPageHandle(N))
      return E;
    E = C->getArg(0);
  }
  return E;
}

bool RefFlow::Impl::tracked(const Tracked &T, const Expr *E) {
  // `struct bio_vec bv = { .bv_page = pages[i], ... }`, `(struct x){ .page = p }`
  if (auto *CL = dyn_cast_or_null<CompoundLiteralExpr>(E ? E->IgnoreParenCasts() : nullptr))
    E = CL->getInitializer();
  if (auto *IL = dyn_cast_or_null<InitListExpr>(E ? E->IgnoreParenCasts() : nullptr))
    return llvm::any_of(IL->inits(), [&](const Expr *I) { return I && tracked(T, I); });
  // `(dma_addr_t *)(m->page_list + m->nr_pages)`: memory after the array, not its pages.
  if (auto *CE = dyn_cast_or_null<ExplicitCastExpr>(E ? E->IgnoreParens() : nullptr))
    if (const auto *PT = CE->getType()->getAs<PointerType>())
      if (!PT->getPointeeType()->isVoidType() && !PT->getPointeeType()->isCharType() &&
          !isPageCarryingType(CE->getType()) && !isa<CallExpr>(CE->getSubExpr()->IgnoreParenCasts()))
        return false;
  const Expr *S = stripViews(E);
  // `addr[i]` through a page's address is data read from the page, not the page.
  if (auto *X = S ? S->IgnoreParenCasts() : nullptr; X && (isa<ArraySubscriptExpr>(X) ||
      (isa<UnaryOperator>(X) && cast<UnaryOperator>(X)->getOpcode() == UO_Deref)))
    if (!X->getType()->isPointerType() && !X->getType()->isRecordType())
      return false;
  auto P = objectPath(S);
  if (P && llvm::is_contained(T.Paths, *P))
    return true;
  // `bvec[i].bv_page`, `sg_page(&sgt->sgl[i])`: the page read back out of a
  // container the pages were stored into.
  if (auto *M = dyn_cast_or_null<MemberExpr>(S ? S->IgnoreParenImpCasts() : nullptr);
      M && Model.isContainerField(M->getMemberDecl()->getName()))
    if (auto B = objectPath(M->getBase()); B && llvm::is_contained(T.Paths, *B))
      return true;
  if (auto *C = dyn_cast_or_null<CallExpr>(S ? S->IgnoreParenCasts() : nullptr))
    if (const ContainerGetterFn *G = Model.containerGetter(calleeName(C)); G && G->Arg < C->getNumArgs())
      if (auto B = objectPath(C->getArg(G->Arg)); B && llvm::is_contained(T.Paths, *B))
        return true;
  return false;
}

const Stmt *RefFlow::Impl::enclosingLoop(const Stmt *S, const FunctionDecl *F) {
  const BodyParents &BP = Parents.of(F);
  for (const Stmt *P = BP.parent(S); P; P = BP.parent(P))
    if (isa<ForStmt>(P) || isa<WhileStmt>(P) || isa<DoStmt>(P))
      return P;
  return nullptr;
}

/// A local struct (not a pointer to one) of this function: `zc_pfrag` in
/// `struct page **pages = &zc_pfrag.page;`.
bool refflow::isCallersStorage(const ValueDecl *Root) {
  auto *V = dyn_cast_or_null<VarDecl>(Root);
  return V && (isa<ParmVarDecl>(V) || V->hasGlobalStorage());
}

const MemberExpr *refflow::memberAddress(const Expr *Arg) {
  auto *U = dyn_cast<UnaryOperator>(Arg->IgnoreParenCasts());
  if (!U || U->getOpcode() != UO_AddrOf)
    return nullptr;
  return dyn_cast<MemberExpr>(U->getSubExpr()->IgnoreParens());
}

static bool isLocalAggregate(const ValueDecl *D) {
  auto *V = dyn_cast<VarDecl>(D);
  return V && V->isLocalVarDecl() && !isa<ParmVarDecl>(V) && !V->getType()->isPointerType();
}

/// `p + a + b` (pointer arithmetic): the pointer it starts from.
static const Expr *arithmeticBase(const Expr *E) {
  E = E->IgnoreParenCasts();
  while (auto *B = dyn_cast<BinaryOperator>(E)) {
    if (!B->isAdditiveOp() || !B->getLHS()->getType()->isPointerType())
      break;
    E = B->getLHS()->IgnoreParenCasts();
  }
  return E;
}

/// `pages_info = pages_stat + n` where one of the two is the array another
/// acquisition of the function fills: slices of one allocation, each with
/// its own pages, not two names for the same ones (vmw_mksstat_add_ioctl()).
bool RefFlow::Impl::isOtherSlice(const Tracked &T, const VarDecl *V, const Expr *Init) {
  auto *B = dyn_cast<BinaryOperator>(Init->IgnoreParenCasts());
  if (!B || B->getOpcode() != BO_Add || !B->getLHS()->getType()->isPointerType())
    return false;
  if (auto K = constant(B->getRHS()); K && *K == 0)
    return false;
  auto Base = objectPath(B->getLHS());
  for (const CallExpr *C : callsIn(T.F->getBody())) {
    if (C == T.Call)
      continue;
    llvm::StringRef N = calleeName(C);
    if (!Model.acquire(N) && !Model.getPages(N))
      continue;
    for (const Expr *A : C->arguments())
      if (isPageCarryingType(A->getType()) && A->getType()->getPointeeType()->isPointerType())
        if (auto *D = dyn_cast<DeclRefExpr>(A->IgnoreParenImpCasts())) {
          const Decl *Filled = D->getDecl()->getCanonicalDecl();
          if (Filled == V->getCanonicalDecl() || (Base && Base->Suffix.empty() && Filled == Base->Root))
            return true;
        }
  }
  return false;
}

/// A sink call earlier in the same block that put the page \p P into a
/// container the function does not own (a parameter's, a field's).
const CallExpr *RefFlow::Impl::sinkedBefore(const ObjectPath &P, const CallExpr *Acq, const FunctionDecl *F) {
  const BodyParents &BP = Parents.of(F);
  auto TopIn = [&](const Stmt *S, const CompoundStmt *&Block) -> const Stmt * {
    for (const Stmt *Up = BP.parent(S); Up; S = Up, Up = BP.parent(Up))
      if ((Block = dyn_cast<CompoundStmt>(Up)))
        return S;
    return nullptr;
  };
  const CompoundStmt *AcqBlock = nullptr;
  const Stmt *AcqTop = TopIn(Acq, AcqBlock);
  if (!AcqTop)
    return nullptr;
  for (const CallExpr *C : callsIn(F->getBody())) {
    const SinkFn *Sink = Model.sink(calleeName(C));
    if (!Sink || Sink->TakesOwnRef || !Sink->ContainerArg || Sink->Arg >= C->getNumArgs() ||
        *Sink->ContainerArg >= C->getNumArgs())
      continue;
    auto Page = objectPath(stripViews(C->getArg(Sink->Arg)));
    if (!Page || *Page != P)
      continue;
    auto Container = objectPath(C->getArg(*Sink->ContainerArg));
    if (!Container || (Container->Suffix.empty() && !isCallersStorage(Container->Root)))
      continue;
    const CompoundStmt *Block = nullptr;
    const Stmt *Top = TopIn(C, Block);
    if (Block != AcqBlock || !Top)
      continue;
    for (const Stmt *S : AcqBlock->body()) {
      if (S == AcqTop)
        break;
      if (S == Top)
        return C;
    }
  }
  return nullptr;
}

/// `txb->kvec[0].iov_base = whdr; ... get_page(virt_to_head_page(trailer)); return txb;`
/// with whdr and trailer both addresses in one buffer: the object that
/// points into the page (returned, or the caller's) holds the reference.
bool RefFlow::Impl::addressStoredBefore(const ObjectPath &P, const CallExpr *Acq, const FunctionDecl *F) {
  auto *V = dyn_cast<VarDecl>(P.Root);
  if (!P.Suffix.empty() || !V || !V->isLocalVarDecl() || !V->getType()->isPointerType() ||
      isPageCarryingType(V->getType()))
    return false;
  auto Stores = localStoresIn(F->getBody());
  // The buffer an address points into: through `a = b + k` and `a = b` copies.
  auto BaseOf = [&](const VarDecl *X) {
    for (unsigned Hop = 0; Hop < 4; ++Hop) {
      const Expr *Only = nullptr;
      unsigned N = 0;
      for (auto &[W, Value] : Stores)
        if (W->getCanonicalDecl() == X->getCanonicalDecl())
          Only = Value, ++N;
      if (N != 1)
        break;
      auto *D = dyn_cast<DeclRefExpr>(arithmeticBase(Only));
      auto *Next = D ? dyn_cast<VarDecl>(D->getDecl()) : nullptr;
      if (!Next || !Next->isLocalVarDecl())
        break;
      X = Next;
    }
    return X->getCanonicalDecl();
  };
  const VarDecl *Buffer = BaseOf(V);
  if (Buffer == V->getCanonicalDecl())
    return false; // not derived from a buffer: nothing to compare with
  struct Returns : RecursiveASTVisitor<Returns> {
    std::set<const Decl *> Vars;
    bool VisitReturnStmt(ReturnStmt *R) {
      if (auto *D = dyn_cast_or_null<DeclRefExpr>(R->getRetValue() ? R->getRetValue()->IgnoreParenCasts() : nullptr))
        Vars.insert(D->getDecl()->getCanonicalDecl());
      return true;
    }
  } Rets;
  Rets.TraverseStmt(F->getBody());
  const std::set<const Decl *> &Returned = Rets.Vars;
  for (const BinaryOperator *B : assignmentsIn(F->getBody())) {
    if (!SM.isBeforeInTranslationUnit(B->getBeginLoc(), Acq->getBeginLoc()) || !isa<MemberExpr>(B->getLHS()->IgnoreParenImpCasts()))
      continue;
    const VarDecl *Owner = throughPointerRoot(B->getLHS());
    if (!Owner || !(isCallersStorage(Owner) || Returned.count(Owner->getCanonicalDecl())))
      continue;
    auto *D = dyn_cast<DeclRefExpr>(arithmeticBase(B->getRHS()));
    auto *W = D ? dyn_cast<VarDecl>(D->getDecl()) : nullptr;
    if (W && W->isLocalVarDecl() && BaseOf(W) == Buffer)
      return true;
  }
  return false;
}

/// Local pointers that take pages out of the array (`page = pages[i]`), a
/// pfn or physical address of them (`pfn = page_to_pfn(page)`), and local
/// aggregates they are stored into (`bvec[i].bv_page = page`).
void RefFlow::Impl::addAliases(Tracked &T) {
  auto Stores = localStoresIn(T.F->getBody());
  auto Add = [&](const ValueDecl *V) {
    ObjectPath A;
    A.Root = cast<ValueDecl>(V->getCanonicalDecl());
    A.Spelling = V->getNameAsString();
    if (!llvm::is_contained(T.Paths, A)) {
      T.Paths.push_back(A);
      return true;
    }
    return false;
  };
  for (unsigned Round = 0; Round < 3; ++Round) {
    bool Changed = false;
    for (auto &[V, Init] : Stores)
      if ((V->getType()->isPointerType() || V->getType()->isIntegerType() ||
           (V->getType()->isRecordType() && isa<InitListExpr>(Init->IgnoreParenCasts()))) &&
          tracked(T, Init) && !isOtherSlice(T, V, Init))
        Changed |= Add(V);
    // Stores into a local array or struct of this function (not through a
    // pointer): the aggregate now carries the page. Stores into a field
    // (`ubuf->pages[i] = page`, `umem->chunk[i].plist = plist`): the field
    // is a name for them too, for the releases that read it back.
    for (const BinaryOperator *B : assignmentsIn(T.F->getBody())) {
      if (!tracked(T, B->getRHS()))
        continue;
      const Expr *L = B->getLHS()->IgnoreParenImpCasts();
      auto LP = objectPath(L);
      if (!LP || (LP->Suffix.empty() && !isa<ArraySubscriptExpr>(L)))
        continue;
      if (!LP->Suffix.empty() && !llvm::is_contained(T.Paths, *LP) && !isLocalAggregate(LP->Root)) {
        T.Paths.push_back(*LP);
        Changed = true;
        continue;
      }
      auto *V = dyn_cast<VarDecl>(LP->Root);
      if (!V || !V->isLocalVarDecl() || V->getType()->isPointerType())
        continue;
      Changed |= Add(V);
    }
    // A container pointer into the caller's table (`sg = sgtable->sgl +
    // sgtable->nents`, then sg_set_page(sg, page, ...)): the table's field is
    // a name too, for the releases that read the pages back out of it.
    for (size_t I = 0; I < T.Paths.size(); ++I) {
      ObjectPath P = T.Paths[I];
      auto *V = dyn_cast<VarDecl>(P.Root);
      if (!P.Suffix.empty() || !V || !V->isLocalVarDecl() || !V->getType()->isPointerType() ||
          !V->getType()->getPointeeType()->isRecordType() || isPageCarryingType(V->getType()))
        continue;
      for (auto &[W, Value] : Stores) {
        if (W->getCanonicalDecl() != V->getCanonicalDecl())
          continue;
        auto From = objectPath(arithmeticBase(Value));
        if (From && !From->Suffix.empty() && isCallersStorage(From->Root) && !llvm::is_contained(T.Paths, *From)) {
          T.Paths.push_back(*From);
          Changed = true;
        }
      }
    }
    if (!Changed)
      break;
  }
}

std::vector<const Expr *> RefFlow::Impl::pointerSources(const ObjectPath &P, const FunctionDecl *F) {
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


bool RefFlow::Impl::pointsIntoForeignStorage(const ObjectPath &P, const FunctionDecl *F) {
  for (const Expr *E : pointerSources(P, F)) {
    auto From = objectPath(E);
    if (!From)
      continue;
    if (!From->Suffix.empty() && isLocalAggregate(From->Root))
      continue; // a field of a local struct: still this function's
    if (!From->Suffix.empty() || isCallersStorage(From->Root))
      return true;
  }
  return false;
}

/// A local page pointer whose every value is a page someone else holds a
/// pointer to (`page = niu_find_rxpage(rp, addr, &link)`, `page = rp->pages[i]`,
/// `folio = page_folio(vmf->page)`): a get_page() on it is a reference for
/// those holders, not this function's own.
bool RefFlow::Impl::heldByOthers(const ObjectPath &P, const FunctionDecl *F) {
  if (!P.Suffix.empty() || !isa<VarDecl>(P.Root) || !cast<VarDecl>(P.Root)->isLocalVarDecl())
    return false;
  if (pointsIntoForeignStorage(P, F))
    return true;
  // Every value the local takes is a page someone else has a pointer to: a
  // lookup, a view of another object (`virt_to_head_page(from->head)`,
  // `page_folio(vmf->page)`), a walk of the page tables. Only a page this
  // function allocated or acquired is its own.
  auto Sources = pointerSources(P, F);
  if (Sources.empty())
    return false;
  for (const Expr *E : Sources) {
    const Expr *S = stripViews(E)->IgnoreParenCasts();
    if (S->isNullPointerConstant(Ctx, Expr::NPC_ValueDependentIsNotNull))
      continue; // `struct folio *folio = NULL;`
    if (isAllocation(S))
      return false;
    if (auto *Call = dyn_cast<CallExpr>(S)) {
      const FunctionDecl *Def = calleeDefinition(Call, SM, /*AllowHeaderInline=*/true);
      if (Model.acquire(calleeName(Call)) || Model.getPages(calleeName(Call)) || (Def && acquiredBy(Def)))
        return false;
      continue;
    }
    auto From = objectPath(S);
    if (!From || (From->Suffix.empty() && !isCallersStorage(From->Root)))
      return false;
  }
  return true;
}

IterKindSet RefFlow::Impl::extractKinds(const CallExpr *Call) {
  if (!Classifier)
    Classifier = std::make_unique<CallerClassifier>(Ctx, Model);
  const GetPagesFn *G = Model.getPages(calleeName(Call));
  if (!G)
    return IterKindSet::all();
  return Classifier->classify(Call, *G).Iter.Kinds;
}

static bool isZeroConstant(const Expr *E, ASTContext &Ctx) {
  Expr::EvalResult R;
  return E->EvaluateAsInt(R, Ctx) && R.Val.getInt() == 0;
}

std::optional<Tracked> RefFlow::Impl::trackAcquisition(const CallExpr *Call, const FunctionDecl *F) {
  llvm::StringRef Name = calleeName(Call);
  Tracked T;
  T.F = F;
  T.Call = Call;
  T.Callee = Name.str();
  const Expr *PagesArg = nullptr;
  const VarDecl *ReturnedInto = nullptr;
  if (const GetPagesFn *G = Model.getPages(Name)) {
    T.Family = G->Family;
    T.ResultIsBytes = true;
    if (G->PagesArg < Call->getNumArgs())
      PagesArg = Call->getArg(G->PagesArg);
    if (G->IterArg < Call->getNumArgs())
      T.Iter = Call->getArg(G->IterArg);
    if (T.Family == ReleaseFamily::PinIfWillPin)
      T.IterKinds = extractKinds(Call);
  } else if (const AcquireFn *A = Model.acquire(Name)) {
    T.Family = A->Family;
    if (A->ReturnsCount) {
      T.AskedForOne = A->NrArg && *A->NrArg < Call->getNumArgs() && constant(Call->getArg(*A->NrArg)) == 1;
      if (A->PagesArg && *A->PagesArg < Call->getNumArgs())
        PagesArg = Call->getArg(*A->PagesArg);
      else
        for (const Expr *Arg : Call->arguments())
          if (isPageCarryingType(Arg->getType()) && !isZeroConstant(Arg, Ctx)) {
            PagesArg = Arg;
            break;
          }
    } else if (A->ReturnsPage) {
      // `page = follow_page(vma, addr, FOLL_GET)`: the returned page is referenced.
      if (!A->WhenFlagName.empty() &&
          (A->WhenFlagArg >= Call->getNumArgs() ||
           exprText(Call->getArg(A->WhenFlagArg), Ctx, 400).find(A->WhenFlagName) == std::string::npos))
        return std::nullopt;
      ReturnedInto = resultVariable(Call, Parents.of(F));
      if (!ReturnedInto)
        return std::nullopt;
      T.SinglePage = true;
    } else if (A->Arg && *A->Arg < Call->getNumArgs()) {
      T.SinglePage = true;
      PagesArg = Call->getArg(*A->Arg);
    }
  } else if (const FunctionDecl *Def = calleeDefinition(Call, SM, /*AllowHeaderInline=*/true)) {
    // A helper of this file, or an inline one of a header
    // (get_user_page_fast_only()), that acquires pages for its caller.
    const AcquiredPages *A = acquiredBy(Def);
    if (!A)
      return std::nullopt;
    T.Family = A->Family;
    T.Via = A->Via;
    T.HeldOnError = A->HeldOnError;
    if (A->Param >= 0) {
      if (unsigned(A->Param) >= Call->getNumArgs())
        return std::nullopt;
      PagesArg = Call->getArg(A->Param);
    } else {
      const VarDecl *V = resultVariable(Call, Parents.of(F));
      if (!V)
        return std::nullopt;
      ReturnedInto = V;
    }
  } else {
    return std::nullopt;
  }
  std::optional<ObjectPath> Path;
  if (ReturnedInto) {
    ObjectPath P;
    P.Root = cast<ValueDecl>(ReturnedInto->getCanonicalDecl());
    P.Spelling = ReturnedInto->getNameAsString();
    Path = P;
  } else {
    if (!PagesArg || isZeroConstant(PagesArg, Ctx))
      return std::nullopt; // get_user_pages(..., NULL): faults pages in, takes nothing
    Path = objectPath(T.SinglePage ? stripViews(PagesArg) : PagesArg);
  }
  if (!Path)
    return std::nullopt;
  // The returned pointer: a successful result holds them.
  // `pfn_to_page(pfn)` expands to `(struct page *)vmemmap_base + pfn`: an
  // integer is no name for the pages.
  if (Path->Suffix.empty() && !Path->Root->getType()->isPointerType() && !Path->Root->getType()->isArrayType() &&
      !Path->Root->getType()->isRecordType())
    return std::nullopt;
  T.Paths.push_back(*Path);
  if (T.SinglePage && ReturnedInto) {
    T.Foreign = false;
  } else if (T.SinglePage) {
    // `__skb_fill_netmem_desc(to, 0, page_to_netmem(page), ...); get_page(page);`:
    // the page already sits in a container of the caller's; the reference is that container's.
    if (sinkedBefore(*Path, Call, F) || addressStoredBefore(*Path, Call, F))
      return std::nullopt;
    // get_page(x->page), get_page(param): a reference taken for the struct
    // or the caller that holds the pointer; a successful return gives it to them.
    T.Foreign = isCallersStorage(Path->Root) || !Path->Suffix.empty() || heldByOthers(*Path, F);
    if (!Path->Suffix.empty()) {
      T.ForeignOwner = Path->Root;
      T.ForeignField = Path->LastField;
    }
  } else if (ReturnedInto) {
    T.Foreign = false;
  } else {
    // The pages belong to the caller (out-parameter), a struct or a global:
    // a successful return hands them back; only an error return leaks them.
    auto *GV = dyn_cast<VarDecl>(Path->Root);
    T.Foreign = isa<ParmVarDecl>(Path->Root) || !Path->Suffix.empty() || (GV && GV->hasGlobalStorage()) ||
                pointsIntoForeignStorage(*Path, F);
    if (!Path->Suffix.empty()) {
      T.ForeignOwner = Path->Root;
      T.ForeignField = Path->LastField;
    }
    // `struct page *page, **pages = &page;` or `**ppages = pages;`: the
    // pages land in the local storage the pointer points to.
    for (const Expr *Src : pointerSources(*Path, F)) {
      auto From = objectPath(Src);
      if (!From || (Path->Suffix.empty() && isOtherSlice(T, cast<VarDecl>(Path->Root), Src)))
        continue;
      // The field of a local struct: the struct itself carries the page
      // (`tls_append_frag(record, &zc_pfrag, copy)` hands it on).
      if (!From->Suffix.empty() && isLocalAggregate(From->Root)) {
        ObjectPath Whole;
        Whole.Root = From->Root;
        Whole.Spelling = From->Root->getNameAsString();
        From = Whole;
      }
      if (!llvm::is_contained(T.Paths, *From))
        T.Paths.push_back(*From); // `ttm->pages + pinned`: the owner's array is a name for them too
      if (!From->Suffix.empty() && !T.ForeignField) {
        T.ForeignOwner = From->Root;
        T.ForeignField = From->LastField;
      }
    }
  }
  addAliases(T);
  FunctionCtx &FC = functionCtx(F);
  T.Result = resultAtom(FC, Call);
  FC.Atoms.info(T.Result).UnitPos = T.AskedForOne;
  if (T.Iter)
    if (auto A = iterAtom(FC, T.Iter))
      T.IterAtom = *A;
  // iov_iter_extract_pages() takes nothing from an iterator that is not
  // user-backed; a call only such iterators reach has nothing to release.
  if (T.Family == ReleaseFamily::PinIfWillPin && (T.IterKinds & IterKindSet::userBacked()).empty() &&
      T.IterKinds.referenceable().empty())
    return std::nullopt;
  return T;
}

std::optional<Tracked> RefFlow::Impl::trackAllocatedArray(const Tracked &Pages) {
  if (Pages.SinglePage || !Pages.Call)
    return std::nullopt;
  const GetPagesFn *G = Model.getPages(Pages.Callee);
  if (!G || G->Pages == PagesOut::Array || G->PagesArg >= Pages.Call->getNumArgs())
    return std::nullopt;
  // `&pages` with `pages` a local pointer: the call stores the array there.
  auto *U = dyn_cast<UnaryOperator>(Pages.Call->getArg(G->PagesArg)->IgnoreParenCasts());
  if (!U || U->getOpcode() != UO_AddrOf)
    return std::nullopt;
  auto *D = dyn_cast<DeclRefExpr>(U->getSubExpr()->IgnoreParenImpCasts());
  auto *V = D ? dyn_cast<VarDecl>(D->getDecl()) : nullptr;
  if (!V || !V->isLocalVarDecl() || isa<ParmVarDecl>(V))
    return std::nullopt;
  Tracked A = Pages;
  A.What = Tracked::Array;
  A.Foreign = false;
  A.ForeignOwner = nullptr;
  A.ForeignField = nullptr;
  A.AllocatedOnFailure = G->Pages == PagesOut::ArrayOrAllocated;
  A.Paths.clear();
  ObjectPath P;
  P.Root = V->getCanonicalDecl();
  P.Spelling = V->getNameAsString();
  A.Paths.push_back(P);
  FunctionCtx &FC = functionCtx(Pages.F);
  if (auto Atom = atomOf(FC, A, D))
    FC.Interesting.insert(*Atom); // whether it is NULL decides whether the call allocates
  return A;
}

FunctionCtx &RefFlow::Impl::functionCtx(const FunctionDecl *F) {
  auto &Slot = Functions[F];
  if (!Slot)
    Slot = std::make_unique<FunctionCtx>();
  FunctionCtx &FC = *Slot;
  if (!FC.Built) {
    FC.Built = true;
    FC.F = F;
    CFG::BuildOptions Opts;
    Opts.setAllAlwaysAdd();
    FC.Cfg = CFG::buildCFG(F, F->getBody(), &Ctx, Opts);
    collectInteresting(FC);
  }
  return FC;
}

const AcquiredPages *RefFlow::Impl::acquiredBy(const FunctionDecl *F) {
  F = F->getDefinition() ? F->getDefinition() : F;
  if (auto It = Acquirers.find(F); It != Acquirers.end())
    return It->second ? &*It->second : nullptr;
  if (!F->getBody() || SummaryInProgress.count(F) || SummaryInProgress.size() >= Limits.SummaryDepth)
    return nullptr;
  bool Returns = isPageCarryingType(F->getReturnType());
  bool Params = llvm::any_of(F->parameters(), [](const ParmVarDecl *P) { return isPageCarryingType(P->getType()); });
  std::optional<AcquiredPages> Found;
  if (Returns || Params) {
    SummaryInProgress.insert(F);
    for (const CallExpr *Call : callsIn(F->getBody())) {
      auto T = trackAcquisition(Call, F);
      if (!T || T->SinglePage)
        continue;
      RunResult R = run(*T, Config());
      if (R.BoundHit)
        continue;
      AcquiredPages A;
      A.Family = T->Family;
      A.Via = T->Via.empty() ? T->Callee + "() at line " + std::to_string(line(Call->getBeginLoc())) : T->Via;
      if (Returns && R.Returned) {
        Found = A;
        break;
      }
      // Into the caller's array: `pin_user_pages(..., pages)` with `pages` a parameter.
      if (R.HeldOnSuccess && T->Foreign)
        if (auto *P = dyn_cast<ParmVarDecl>(T->Paths.front().Root); P && T->Paths.front().Suffix.empty() &&
                                                                   isPageCarryingType(P->getType())) {
          A.Param = int(P->getFunctionScopeIndex());
          A.HeldOnError = R.HeldOnError;
          Found = A;
          break;
        }
    }
    SummaryInProgress.erase(F);
  }
  auto &Slot = Acquirers[F] = Found;
  return Slot ? &*Slot : nullptr;
}

std::vector<RefFinding> RefFlow::Impl::analyze(const FunctionDecl *F) {
  std::vector<RefFinding> All;
  if (!F->getBody())
    return All;
  for (const CallExpr *Call : callsIn(F->getBody())) {
    auto T = trackAcquisition(Call, F);
    if (!T)
      continue;
    Config Entry;
    RunResult R = run(*T, Entry);
    for (RefFinding &Fd : R.Findings)
      if (!T->Foreign || T->referencesParameterPage() || Fd.Kind != RefFindingKind::DoubleRelease)
        All.push_back(std::move(Fd));
    if (R.BoundHit)
      continue;
    if (auto A = trackAllocatedArray(*T)) {
      RunResult RA = run(*A, Entry);
      for (RefFinding &Fd : RA.Findings)
        if (Fd.Kind == RefFindingKind::Leak || Fd.Kind == RefFindingKind::BoundHit)
          All.push_back(std::move(Fd));
    }
  }
  for (RefFinding &Fd : fieldFamilyFindings(F))
    All.push_back(std::move(Fd));
  return All;
}

bool isPageCarryingType(QualType T) {
  // struct page *, struct page **, struct page *[N], struct folio *
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

RefFlow::RefFlow(ASTContext &Ctx, const ApiModel &Model, const TuIndex &Index, RefFlowLimits Limits)
    : P(std::make_unique<Impl>(Ctx, Model, Index, Limits)) {}
RefFlow::~RefFlow() = default;
std::vector<RefFinding> RefFlow::analyze(const FunctionDecl *F) { return P->analyze(F); }
std::vector<RefFinding> RefFlow::analyzeAsync(const FunctionDecl *F) { return P->analyzeAsync(F); }
const FunctionSummary &RefFlow::summary(const FunctionDecl *F) { return P->summaryOf(F); }
void RefFlow::assumeExternal(std::map<std::string, ParamEffect> Effects) { P->ExternalAssumptions = std::move(Effects); }
std::set<std::string> RefFlow::takeExternalsSeen() { return std::exchange(P->ExternalsSeen, {}); }

} // namespace pageref
