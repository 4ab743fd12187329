// The rewriter of `pageref convert`: on the AST of one TU, parsed with its own
// compile command, plans the edits that move each extract-ready call site to
// iov_iter_extract_pages() (tooling::Replacement on file ranges the AST
// gives), or refuses with a reason. docs/convert.md describes the shapes.
#include "Convert.h"

#include "pageref/ApiModel.h"
#include "pageref/AstUtil.h"
#include "pageref/CallerClassifier.h"
#include "pageref/Config.h"

#include "clang/AST/ASTConsumer.h"
#include "clang/AST/RecursiveASTVisitor.h"
#include "clang/Frontend/CompilerInstance.h"
#include "clang/Frontend/FrontendAction.h"
#include "clang/Lex/Lexer.h"
#include "clang/Lex/PreprocessorOptions.h"
#include "clang/Tooling/CompilationDatabase.h"
#include "clang/Tooling/Core/Replacement.h"
#include "clang/Tooling/Tooling.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/Path.h"

#include <functional>
#include <set>

using namespace clang;

namespace pageref {

namespace {

/// Where the pin decision lives at a release: an expression valid there.
struct Edit {
  std::string Path;
  unsigned Offset = 0, Length = 0;
  std::string Text;
  bool operator<(const Edit &O) const {
    return std::tie(Path, Offset, Length, Text) < std::tie(O.Path, O.Offset, O.Length, O.Text);
  }
};

struct SitePlan {
  SiteConversion Result;
  std::vector<Edit> Edits;
  /// Helpers that get a `bool pinned` parameter: every call of each must be
  /// given the flag by a converted site, or the plan is void.
  std::set<const FunctionDecl *> ParamHelpers;
  /// Calls of those helpers this site passes the flag to.
  std::set<const CallExpr *> FlaggedCalls;
};

struct Refusal {
  std::string Why;
};

class Planner {
public:
  Planner(ASTContext &Ctx, const ApiModel &Model, CallerClassifier &CC, const std::string &Tree,
          const std::map<std::string, std::string> &Externals)
      : Ctx(Ctx), SM(Ctx.getSourceManager()), LO(Ctx.getLangOpts()), Model(Model), CC(CC), Tree(Tree),
        Externals(Externals) {}

  SitePlan plan(const CallExpr *Call, const GetPagesFn &Get, const CallerFacts &F) {
    SitePlan P;
    try {
      planOrThrow(Call, Get, F, P);
      P.Result.Converted = true;
    } catch (const Refusal &R) {
      SitePlan Refused;
      Refused.Result.Reason = R.Why;
      return Refused;
    }
    return P;
  }

private:
  ASTContext &Ctx;
  SourceManager &SM;
  const LangOptions &LO;
  const ApiModel &Model;
  CallerClassifier &CC;
  const std::string &Tree;
  const std::map<std::string, std::string> &Externals;
  ParentCache Parents;

  [[noreturn]] static void refuse(const std::string &Why) { throw Refusal{Why}; }

  unsigned line(SourceLocation L) { return lineOf(L, SM); }
  std::string at(const FunctionDecl *F, SourceLocation L) {
    return F->getNameAsString() + "() at line " + std::to_string(line(L));
  }

  std::string text(SourceRange R) {
    CharSourceRange C = Lexer::makeFileCharRange(CharSourceRange::getTokenRange(R), SM, LO);
    if (C.isInvalid())
      refuse("part of the code to rewrite is inside a macro expansion");
    return Lexer::getSourceText(C, SM, LO).str();
  }
  std::string text(const Expr *E) { return text(E->getSourceRange()); }

  std::string pathOf(SourceLocation L) {
    L = SM.getFileLoc(L);
    OptionalFileEntryRef FE = SM.getFileEntryRefForID(SM.getFileID(L));
    if (!FE)
      return "";
    llvm::StringRef Real = FE->getFileEntry().tryGetRealPathName();
    return Real.empty() ? FE->getName().str() : Real.str();
  }

  bool inTree(const std::string &Path) {
    return !Tree.empty() && llvm::StringRef(Path).starts_with(Tree + "/") &&
           !llvm::StringRef(Path).contains("/uapi/");
  }

  /// Leading whitespace of the line \p L is on.
  std::string indentAt(SourceLocation L) {
    L = SM.getFileLoc(L);
    bool Invalid = false;
    llvm::StringRef Buf = SM.getBufferData(SM.getFileID(L), &Invalid);
    unsigned Off = SM.getFileOffset(L);
    size_t Start = Buf.rfind('\n', Off == 0 ? 0 : Off - 1);
    Start = Start == llvm::StringRef::npos ? 0 : Start + 1;
    size_t End = Start;
    while (End < Buf.size() && (Buf[End] == ' ' || Buf[End] == '\t'))
      ++End;
    return Buf.substr(Start, End - Start).str();
  }

  /// One level of indentation in the style of \p Indent: a tab (kernel
  /// style), or two spaces where the code indents with spaces.
  static std::string unit(const std::string &Indent) {
    return Indent.empty() || Indent.find('\t') != std::string::npos ? "\t" : "  ";
  }

  Edit insertAt(SourceLocation L, std::string T) {
    if (L.isMacroID())
      refuse("part of the code to rewrite is inside a macro expansion");
    tooling::Replacement R(SM, L, 0, T);
    return {R.getFilePath().str().empty() ? pathOf(L) : pathOf(L), R.getOffset(), 0, std::move(T)};
  }
  Edit replaceRange(SourceRange Range, std::string T) {
    CharSourceRange C = Lexer::makeFileCharRange(CharSourceRange::getTokenRange(Range), SM, LO);
    if (C.isInvalid())
      refuse("part of the code to rewrite is inside a macro expansion");
    tooling::Replacement R(SM, C, T, LO);
    return {pathOf(C.getBegin()), R.getOffset(), R.getLength(), std::move(T)};
  }
  /// The offset just past the end of the line \p L is on (before its '\n').
  SourceLocation endOfLine(SourceLocation L) {
    L = SM.getFileLoc(L);
    bool Invalid = false;
    llvm::StringRef Buf = SM.getBufferData(SM.getFileID(L), &Invalid);
    unsigned Off = SM.getFileOffset(L);
    size_t NL = Buf.find('\n', Off);
    if (NL == llvm::StringRef::npos)
      NL = Buf.size();
    return L.getLocWithOffset(NL - Off);
  }
  /// The location just after the ';' that ends the statement or declaration ending at \p End.
  SourceLocation afterSemi(SourceLocation End) {
    SourceLocation L = Lexer::findLocationAfterToken(SM.getFileLoc(End), tok::semi, SM, LO, false);
    if (L.isInvalid())
      refuse("no ';' where a statement should end (a macro?)");
    return L;
  }

  const CallExpr *callAt(SourceLocation Loc, const FunctionDecl **In) {
    for (const FunctionDecl *D : CC.index().definitions())
      for (const CallExpr *C : callsIn(D->getBody()))
        if (C->getBeginLoc() == Loc) {
          *In = D;
          return C;
        }
    return nullptr;
  }

  const FunctionDecl *definitionNamed(llvm::StringRef Name) {
    for (const FunctionDecl *D : CC.index().definitions())
      if (D->getName() == Name)
        return D;
    return nullptr;
  }

  /// The statement the call belongs to, directly in a block: where code can
  /// be inserted before (and after) it.
  const Stmt *statementOf(const Stmt *Call, const FunctionDecl *F, const CompoundStmt **Block) {
    const BodyParents &BP = Parents.of(F);
    const Stmt *S = Call;
    for (;;) {
      const Stmt *Pa = BP.parent(S);
      if (!Pa)
        refuse("the call is not inside a statement of a block");
      if (auto *CS = dyn_cast<CompoundStmt>(Pa)) {
        *Block = CS;
        return S;
      }
      if (auto *If = dyn_cast<IfStmt>(Pa); If && If->getCond() == S) {
        S = If;
        continue;
      }
      if (isa<Expr>(Pa)) {
        S = Pa;
        continue;
      }
      if (isa<DeclStmt>(Pa))
        refuse("the call initialises a declaration; the pin decision would have to be taken before it, "
               "between declarations");
      refuse("the call is in a loop condition or an unbraced body, where the pin decision cannot be taken "
             "just before it");
    }
  }

  /// Where a declaration can be added to \p Block: after its leading
  /// declarations. Returns the location and whether a blank line must follow.
  std::pair<SourceLocation, bool> declSlot(const CompoundStmt *Block, std::string &Indent) {
    const Stmt *LastDecl = nullptr, *First = nullptr;
    for (const Stmt *S : Block->body()) {
      if (!isa<DeclStmt>(S)) {
        First = S;
        break;
      }
      LastDecl = S;
    }
    if (LastDecl) {
      Indent = indentAt(LastDecl->getBeginLoc());
      return {endOfLine(LastDecl->getEndLoc()), false};
    }
    if (!First)
      refuse("an empty block");
    Indent = indentAt(First->getBeginLoc());
    SourceLocation L = SM.getFileLoc(First->getBeginLoc());
    return {L.getLocWithOffset(-int(Indent.size())), true};
  }

  bool nameUsedIn(const FunctionDecl *F, llvm::StringRef Name) {
    for (const ParmVarDecl *P : F->parameters())
      if (P->getName() == Name)
        return true;
    struct V : RecursiveASTVisitor<V> {
      llvm::StringRef Name;
      bool Found = false;
      bool VisitNamedDecl(NamedDecl *D) {
        if (D->getIdentifier() && D->getName() == Name)
          Found = true;
        return true;
      }
      bool VisitDeclRefExpr(DeclRefExpr *D) {
        if (D->getDecl()->getIdentifier() && D->getDecl()->getName() == Name)
          Found = true;
        return true;
      }
    } Vis;
    Vis.Name = Name;
    Vis.TraverseStmt(F->getBody());
    return Vis.Found;
  }

  /// The first `base->field` in \p E whose base is a struct of record \p R
  /// (or any struct defined in the tree when \p R is null).
  const MemberExpr *memberOfRecord(const Expr *E, const RecordDecl *R) {
    struct V : RecursiveASTVisitor<V> {
      std::function<bool(const MemberExpr *)> Want;
      const MemberExpr *Found = nullptr;
      bool VisitMemberExpr(MemberExpr *M) {
        if (!Found && Want(M))
          Found = M;
        return true;
      }
    } Vis;
    Vis.Want = [&](const MemberExpr *M) {
      const RecordDecl *Of = baseRecord(M);
      return Of && (R ? Of->getCanonicalDecl() == R->getCanonicalDecl() : recordIsOurs(Of));
    };
    Vis.TraverseStmt(const_cast<Expr *>(E));
    return Vis.Found;
  }
  static const RecordDecl *baseRecord(const MemberExpr *M) {
    QualType T = M->getBase()->getType();
    if (M->isArrow())
      T = T->getPointeeType();
    if (const auto *RT = T.isNull() ? nullptr : T->getAs<RecordType>())
      return RT->getDecl();
    return nullptr;
  }
  /// A struct the patch may add a field to: defined in the tree (not a uapi
  /// header), not one of the kernel's generic page containers.
  bool recordIsOurs(const RecordDecl *R) {
    const RecordDecl *Def = R->getDefinition();
    if (!Def || !R->getIdentifier())
      return false;
    static const std::set<std::string> Generic = {"scatterlist", "bio_vec", "page", "folio", "iov_iter",
                                                  "bio", "sg_table", "kvec", "iovec", "msghdr"};
    if (Generic.count(R->getName().str()))
      return false;
    return inTree(pathOf(Def->getLocation()));
  }

  /// The release argument with a local alias resolved once:
  /// `struct page *page = sg_page(p++)` stands for its initialiser.
  const Expr *resolved(const Expr *E) {
    const Expr *S = E->IgnoreParenImpCasts();
    if (auto *D = dyn_cast<DeclRefExpr>(S))
      if (auto *V = dyn_cast<VarDecl>(D->getDecl()); V && V->isLocalVarDecl() && V->getInit())
        return V->getInit();
    return E;
  }

  /// Does \p From reach one of \p Targets through calls or functions whose
  /// address it takes (a completion it wires), within \p Depth levels?
  bool reaches(const FunctionDecl *From, const std::set<const FunctionDecl *> &Targets, unsigned Depth) {
    std::set<const FunctionDecl *> Seen{From};
    std::vector<const FunctionDecl *> Level{From};
    for (unsigned D = 0; D <= Depth && !Level.empty(); ++D) {
      std::vector<const FunctionDecl *> Next;
      for (const FunctionDecl *F : Level) {
        if (Targets.count(F))
          return true;
        struct V : RecursiveASTVisitor<V> {
          std::vector<const FunctionDecl *> Out;
          bool VisitDeclRefExpr(DeclRefExpr *E) {
            if (auto *Fn = dyn_cast<FunctionDecl>(E->getDecl()))
              Out.push_back(Fn);
            return true;
          }
        } Vis;
        Vis.TraverseStmt(F->getBody());
        for (const FunctionDecl *Fn : Vis.Out) {
          const FunctionDecl *Def = nullptr;
          if (Fn->hasBody(Def) && Def && SM.isInMainFile(SM.getExpansionLoc(Def->getLocation())) &&
              Seen.insert(Def).second)
            Next.push_back(Def);
        }
      }
      Level = std::move(Next);
    }
    return false;
  }

  struct ReleaseAt {
    const PageRelease *R;
    const CallExpr *C;
    const FunctionDecl *In;
    const ReleaseFn *Fn;
  };

  /// Rewrites one release under \p Flag.
  void rewriteRelease(const ReleaseAt &Rel, const std::string &Flag, SitePlan &P) {
    const CallExpr *C = Rel.C;
    if (C->getBeginLoc().isMacroID())
      refuse("the release " + Rel.R->Function + "() in " + at(Rel.In, C->getBeginLoc()) +
             " is inside a macro expansion");
    std::string Unpin = Rel.Fn->Shape == ReleaseShape::Array ? "unpin_user_pages" : "unpin_user_page";
    std::string Args;
    for (unsigned I = 0; I < C->getNumArgs(); ++I)
      Args += (I ? ", " : "") + text(C->getArg(I));
    const Stmt *Pa = Parents.of(Rel.In).parent(C);
    std::string What = Rel.R->Function + "() in " + at(Rel.In, C->getBeginLoc());
    if (auto *If = dyn_cast_or_null<IfStmt>(Pa); If && If->getThen() == C && !If->getElse() &&
                                                  !If->getCond()->getBeginLoc().isMacroID()) {
      // `if (page) put_page(page);` -> `if (page && pinned) unpin_user_page(page);`
      const Expr *Cond = If->getCond()->IgnoreImplicit();
      bool Low = false;
      if (auto *B = dyn_cast<BinaryOperator>(Cond))
        Low = B->getOpcode() == BO_LOr || B->isAssignmentOp() || B->getOpcode() == BO_Comma;
      if (isa<ConditionalOperator>(Cond))
        Low = true;
      std::string CondText = text(If->getCond());
      P.Edits.push_back(replaceRange(If->getCond()->getSourceRange(),
                                     (Low ? "(" + CondText + ")" : CondText) + " && " + Flag));
      P.Edits.push_back(replaceRange(C->getSourceRange(), Unpin + "(" + Args + ")"));
      P.Result.Done.push_back(What + ": " + Unpin + "() when pinned (the condition '" + CondText + "' gains '" +
                              Flag + "')");
      return;
    }
    bool StatementPlace = isa_and_nonnull<CompoundStmt>(Pa) || isa_and_nonnull<ForStmt>(Pa) ||
                          isa_and_nonnull<WhileStmt>(Pa) || isa_and_nonnull<DoStmt>(Pa);
    if (auto *If = dyn_cast_or_null<IfStmt>(Pa); If && If->getElse() == C)
      StatementPlace = true;
    if (auto *If = dyn_cast_or_null<IfStmt>(Pa); If && If->getThen() == C && If->getElse())
      refuse("the release " + What + " is the then-branch of an if with an else; making it conditional "
             "would take the else");
    if (!StatementPlace)
      refuse("the release " + What + " is part of a larger expression");
    std::string Indent = indentAt(C->getBeginLoc());
    P.Edits.push_back(replaceRange(C->getSourceRange(), "if (" + Flag + ")\n" + Indent + unit(Indent) + Unpin + "(" + Args +
                                                            ")"));
    P.Result.Done.push_back(What + ": " + Unpin + "() when pinned, nothing otherwise");
  }

  void planOrThrow(const CallExpr *Call, const GetPagesFn &Get, const CallerFacts &F, SitePlan &P) {
    const FunctionDecl *A = CC.enclosingFunction(Call);
    if (!A)
      refuse("the call is not in a function of this file");
    if (Call->getBeginLoc().isMacroID())
      refuse("the call is inside a macro expansion");
    if (Get.Name == "iov_iter_extract_pages")
      refuse("the call already is iov_iter_extract_pages()");
    if (Get.Name != "iov_iter_get_pages2" && Get.Name != "iov_iter_get_pages_alloc2")
      refuse(Get.Name + "() is not one of the calls the rewriter converts (iov_iter_get_pages2(), "
             "iov_iter_get_pages_alloc2()): the pre-6.0 forms do not advance the iterator, "
             "iov_iter_extract_pages() does");
    for (const PageSink &S : F.Sinks)
      if (Model.ownerDropsRefs(S.Owner))
        refuse("the pages go into " + S.Owner + " (" + S.Via + " in " + S.InFunction + "()), which drops its "
               "references on its own schedule");
    for (const PageSink &S : F.Sinks)
      if (S.Owner == "bio")
        refuse("the pages go into a bio (" + S.Via + " in " + S.InFunction + "()), whose release "
               "(bio_release_pages(), shared with every bio whose pages come from elsewhere) would have to "
               "learn a pinned mode first (upstream: BIO_PAGE_PINNED); not a change this rewriter writes");
    for (const std::string &X : F.ExternalCallees) {
      auto It = Externals.find(X);
      if (It == Externals.end())
        P.Result.AuthorChecks.push_back("the pages are passed to " + X + "(), which no analysed file defines: "
                                        "check that it neither releases them nor keeps them past the release");
      else if (llvm::StringRef(It->second).starts_with("releases"))
        refuse("the pages are passed to " + X + "(), which " + It->second + ": a release in another "
               "translation unit, which would have to change there for every caller");
    }
    if (F.Async && !F.Async->Wait.empty()) {
      llvm::StringRef W = F.Async->Wait;
      if (W.contains("killable") || W.contains("interruptible") || W.contains("timeout"))
        refuse("the references are owned by the async completion " + F.Async->Completion + "() and the "
               "submitting path waits with " + W.split(' ').first.str() + ", which can return while the I/O "
               "still uses the pages: without references of its own the caller would let the iterator's owner "
               "free them under the I/O (Viro's third rule)");
    }
    if (F.Releases.empty())
      refuse("no release of the pages was found");
    if (Get.PagesArg >= Call->getNumArgs() || Get.IterArg >= Call->getNumArgs())
      refuse("the call does not have the arguments of " + Get.Name + "()");

    std::vector<ReleaseAt> Rels;
    for (const PageRelease &R : F.Releases) {
      if (R.OtherTranslationUnit)
        refuse("released by " + R.Function + "() in " + R.InFunction + "(), in another translation unit");
      const ReleaseFn *Fn = Model.release(R.Function);
      if (!Fn || Fn->Family != ReleaseFamily::Ref ||
          (Fn->Shape != ReleaseShape::Page && Fn->Shape != ReleaseShape::Array) ||
          (R.Function != "put_page" && R.Function != "release_pages"))
        refuse("released by " + R.Function + "(), which has no pinned counterpart this rewriter writes");
      const FunctionDecl *In = nullptr;
      const CallExpr *C = callAt(R.Loc, &In);
      if (!C)
        refuse("the release " + R.Function + "() in " + R.InFunction + "() was not found in the AST");
      if (R.KindConditional)
        refuse("the release " + R.Function + "() in " + at(In, C->getBeginLoc()) +
               " already depends on the iterator kind");
      Rels.push_back({&R, C, In, Fn});
    }

    unattributedReleases(A, Rels);

    // Code that reads the pages' reference count (ceph's VM_BUG_ON_PAGE(
    // page_count(page) < 2)) expects the reference the conversion removes.
    {
      std::set<const FunctionDecl *> Fns{A};
      for (const ReleaseAt &R : Rels)
        Fns.insert(R.In);
      for (const FunctionDecl *Fn : Fns)
        for (const CallExpr *C : callsIn(Fn->getBody())) {
          llvm::StringRef N = calleeName(C);
          if (N == "page_count" || N == "page_ref_count" || N == "folio_ref_count" || N == "page_ref_dec_and_test")
            refuse("the code reads the pages' reference count (" + N.str() + "() in " + at(Fn, C->getBeginLoc()) +
                   "), which expects the reference iov_iter_extract_pages() does not take for iterators that are "
                   "not user-backed");
        }
    }

    // Extra references on the same pages (get_page()): the put that balances
    // one cannot be told from the put that drops the extracted pages.
    {
      std::set<const FunctionDecl *> Fns{A};
      for (const ReleaseAt &R : Rels)
        Fns.insert(R.In);
      std::vector<std::optional<ObjectPath>> Released;
      for (const ReleaseAt &R : Rels)
        Released.push_back(objectPath(resolved(R.C->getArg(R.Fn->Arg))));
      for (const FunctionDecl *Fn : Fns)
        for (const CallExpr *C : callsIn(Fn->getBody())) {
          llvm::StringRef N = calleeName(C);
          if ((N != "get_page" && N != "folio_get" && N != "try_get_page") || C->getNumArgs() < 1)
            continue;
          auto Got = objectPath(resolved(C->getArg(0)));
          for (const auto &Rp : Released)
            if (Got && Rp && (*Got == *Rp || (Got->LastField && Rp->LastField &&
                                              Got->LastField->getCanonicalDecl() == Rp->LastField->getCanonicalDecl())))
              refuse("an extra reference is taken with " + N.str() + "() in " + at(Fn, C->getBeginLoc()) +
                     " on pages the converted release drops; the put that balances it cannot be told from the "
                     "one that drops the extracted pages");
        }
    }

    const CompoundStmt *Block = nullptr;
    const Stmt *S = statementOf(Call, A, &Block);
    std::string Ind = indentAt(S->getBeginLoc());
    const Expr *IterArg = Call->getArg(Get.IterArg);
    std::string Iter = text(IterArg);
    const Expr *PagesArg = Call->getArg(Get.PagesArg);

    // Where the decision lives: a local of the acquiring function, or a flag
    // next to the pages in the struct that carries them to their releases.
    bool AllLocal = llvm::all_of(Rels, [&](const ReleaseAt &R) {
      return R.In == A || isParamHelper(R, A);
    });
    const RecordDecl *Home = nullptr;
    std::string BaseInA; // the struct object in A, with "->" or "."
    const FieldDecl *After = nullptr;
    if (!AllLocal) {
      for (const ReleaseAt &R : Rels) {
        if (R.In == A || isParamHelper(R, A))
          continue;
        if (const MemberExpr *M = memberOfRecord(resolved(R.C->getArg(R.Fn->Arg)), nullptr)) {
          Home = baseRecord(M);
          break;
        }
      }
      if (!Home)
        for (const ReleaseAt &R : Rels)
          if (R.In != A && !isParamHelper(R, A))
            refuse("the release " + R.R->Function + "() in " + at(R.In, R.C->getBeginLoc()) +
                   " reads the pages from no struct that the acquiring function " + A->getNameAsString() +
                   "() can reach, and is not a helper it calls with them; the pin decision cannot be carried there");
      // The same struct in A: on the pages argument's path, or the local the
      // pages argument was initialised from, or A's one parameter of that type.
      std::vector<const Expr *> Candidates{PagesArg};
      if (auto *D = dyn_cast<DeclRefExpr>(PagesArg->IgnoreParenImpCasts()))
        if (auto *V = dyn_cast<VarDecl>(D->getDecl()); V && V->getInit())
          Candidates.push_back(V->getInit());
      for (const Expr *E : Candidates)
        if (const MemberExpr *M = memberOfRecord(E, Home)) {
          BaseInA = text(M->getBase()) + (M->isArrow() ? "->" : ".");
          if (auto *FD = dyn_cast<FieldDecl>(M->getMemberDecl()))
            After = FD;
          break;
        }
      if (BaseInA.empty()) {
        const ParmVarDecl *Only = nullptr;
        unsigned N = 0;
        for (const ParmVarDecl *Pv : A->parameters())
          if (Pv->getType()->isPointerType())
            if (const auto *RT = Pv->getType()->getPointeeType()->getAs<RecordType>();
                RT && RT->getDecl()->getCanonicalDecl() == Home->getCanonicalDecl()) {
              Only = Pv;
              ++N;
            }
        if (N != 1)
          refuse("the releases read the pages from struct " + Home->getName().str() + ", which " +
                 A->getNameAsString() + "() does not hold where it takes the pages");
        BaseInA = Only->getNameAsString() + "->";
      }
    }

    std::string Flag; // in A
    std::string FieldName;
    bool AskIterator = false;
    if (!Home && iteratorIsStable(A, IterArg)) {
      // iov_iter_extract_will_pin() is fixed for the life of an iterator:
      // where the releases can ask the very iterator the call extracts
      // from, they do (the form the reference-flow checks follow along the
      // paths); the decision is still the source iterator's.
      AskIterator = true;
      Flag = "iov_iter_extract_will_pin(" + Iter + ")";
      P.Result.FlagHome = "the iterator itself: " + Flag + " (" + Iter + " is not reassigned or re-initialised "
                          "in " + A->getNameAsString() + "())";
    } else if (!Home) {
      Flag = nameUsedIn(A, "is_pinned") ? "pages_pinned" : "is_pinned";
      if (nameUsedIn(A, Flag))
        refuse("no free name for the pin decision in " + A->getNameAsString() + "()");
      std::string DeclIndent;
      auto [Slot, Blank] = declSlot(cast<CompoundStmt>(A->getBody()), DeclIndent);
      if (Blank)
        P.Edits.push_back(insertAt(Slot, DeclIndent + "bool " + Flag + ";\n\n"));
      else
        P.Edits.push_back(insertAt(Slot, "\n" + DeclIndent + "bool " + Flag + ";"));
      P.Result.FlagHome = "local '" + Flag + "' in " + A->getNameAsString() + "()";
    } else {
      const RecordDecl *Def = Home->getDefinition();
      std::string DefPath = pathOf(Def->getLocation());
      if (!inTree(DefPath))
        refuse("the pages travel in struct " + Home->getName().str() + ", defined outside the tree or in a uapi "
               "header, where no flag can be added");
      FieldName = "is_pinned";
      for (const FieldDecl *FD : Def->fields())
        if (FD->getName() == FieldName)
          FieldName = "pages_pinned";
      for (const FieldDecl *FD : Def->fields())
        if (FD->getName() == FieldName)
          refuse("struct " + Home->getName().str() + " already has a field named " + FieldName);
      if (!After || After->getParent()->getCanonicalDecl() != Def->getCanonicalDecl()) {
        After = nullptr;
        for (const FieldDecl *FD : Def->fields())
          After = FD;
      }
      if (!After)
        refuse("struct " + Home->getName().str() + " has no fields to put the flag next to");
      if (After->getBeginLoc().isMacroID())
        refuse("the fields of struct " + Home->getName().str() + " come from a macro");
      std::string FieldIndent = indentAt(After->getBeginLoc());
      SourceLocation EndOfField = endOfLine(afterSemi(After->getEndLoc()));
      P.Edits.push_back(insertAt(EndOfField, "\n" + FieldIndent + "bool" + alignedGap(After, FieldIndent) +
                                                 FieldName + ";"));
      Flag = BaseInA + FieldName;
      P.Result.FlagHome = "struct " + Home->getName().str() + "::" + FieldName + " (next to " +
                          After->getNameAsString() + ")";
      P.Result.Done.push_back("struct " + Home->getName().str() + " (" +
                              llvm::StringRef(DefPath).drop_front(Tree.size() + 1).str() +
                              ") gains '" + FieldName + "', set from iov_iter_extract_will_pin() before each "
                              "extraction, next to the pages it describes");
      otherStores(Def, Rels, A, P);
      P.Result.AuthorChecks.push_back(
          "struct " + Home->getName().str() + "::" + FieldName + " is set by every extraction into the object: "
          "if iterators of different kinds fill the same object, one flag cannot describe all its pages");
    }

    // The call itself, and the decision before it.
    std::string Before = AskIterator ? std::string() : Flag + " = iov_iter_extract_will_pin(" + Iter + ");\n" + Ind;
    std::string OutArg, Max, After2;
    if (Get.Pages == PagesOut::Allocated) {
      const Expr *PA = PagesArg->IgnoreParenImpCasts();
      auto *U = dyn_cast<UnaryOperator>(PA);
      if (!U || U->getOpcode() != UO_AddrOf)
        refuse("the array argument of " + Get.Name + "() is not '&pointer'");
      std::string Ptr = text(U->getSubExpr());
      OutArg = text(PagesArg);
      Max = "UINT_MAX";
      Before += Ptr + " = NULL;\n" + Ind;
      // iov_iter_get_pages_alloc2() freed the array when it got no pages;
      // iov_iter_extract_pages() leaves that to the caller.
      auto *B = dyn_cast<BinaryOperator>(S);
      if (!B || B->getOpcode() != BO_Assign || B->getRHS()->IgnoreParenImpCasts() != Call)
        refuse("the result of " + Get.Name + "() is not assigned by a statement of its own; the array it may "
               "allocate could not be freed on failure");
      std::string Res = text(B->getLHS());
      After2 = "\n" + Ind + "if (" + Res + " <= 0) {\n" + Ind + unit(Ind) + "kvfree(" + Ptr + ");\n" + Ind +
               unit(Ind) + Ptr +
               " = NULL;\n" + Ind + "}";
      P.Result.Done.push_back(Get.Name + "() -> iov_iter_extract_pages() in " + at(A, Call->getBeginLoc()) +
                              ", with '" + Ptr + "' set to NULL first (it allocates the array only then) and "
                              "freed when no pages came back (it does not free on failure)");
    } else {
      const Expr *PA = PagesArg->IgnoreParenImpCasts();
      auto *D = dyn_cast<DeclRefExpr>(PA);
      auto *V = D ? dyn_cast<VarDecl>(D->getDecl()) : nullptr;
      if (V && V->getType()->isPointerType()) {
        OutArg = "&" + V->getNameAsString();
      } else {
        std::string Tmp = nameUsedIn(A, "pages_dst") ? "" : "pages_dst";
        if (Tmp.empty())
          refuse("no free name for the page array pointer in " + A->getNameAsString() + "()");
        std::string DeclIndent;
        auto [Slot, Blank] = declSlot(Block, DeclIndent);
        if (Blank)
          P.Edits.push_back(insertAt(Slot, DeclIndent + "struct page **" + Tmp + ";\n\n"));
        else
          P.Edits.push_back(insertAt(Slot, "\n" + DeclIndent + "struct page **" + Tmp + ";"));
        Before += Tmp + " = " + text(PagesArg) + ";\n" + Ind;
        OutArg = "&" + Tmp;
      }
      Max = text(Call->getArg(3));
      P.Result.Done.push_back(Get.Name + "() -> iov_iter_extract_pages() in " + at(A, Call->getBeginLoc()) +
                              " (the array passed as " + OutArg + ")");
    }
    // The call keeps its layout: the callee's name, the array argument and
    // the new arguments before the last one change.
    unsigned StartArg = Get.Pages == PagesOut::Allocated ? 3 : 4;
    if (Call->getNumArgs() != StartArg + 1)
      refuse(Get.Name + "() is called with " + std::to_string(Call->getNumArgs()) + " arguments");
    P.Edits.push_back(insertAt(SM.getFileLoc(S->getBeginLoc()), Before));
    P.Edits.push_back(replaceRange(Call->getCallee()->IgnoreImpCasts()->getSourceRange(), "iov_iter_extract_pages"));
    if (OutArg != text(PagesArg))
      P.Edits.push_back(replaceRange(PagesArg->getSourceRange(), OutArg));
    P.Edits.push_back(insertAt(SM.getFileLoc(Call->getArg(StartArg)->getBeginLoc()),
                               (Get.Pages == PagesOut::Allocated ? Max + ", " : std::string()) + "0, "));
    if (!After2.empty())
      P.Edits.push_back(insertAt(afterSemi(S->getEndLoc()), After2));
    P.Result.Done.insert(P.Result.Done.begin(),
                         AskIterator ? "the release asks the source iterator '" + Iter + "' itself, " + Flag +
                                           ", which cannot change while it is used"
                                     : "the release is decided once, on '" + Iter + "', before the extraction: " +
                                           Flag + " = iov_iter_extract_will_pin(" + Iter + ")");

    // Each release, under the decision as it is spelled there.
    for (const ReleaseAt &R : Rels) {
      if (R.In == A) {
        rewriteRelease(R, Flag, P);
        continue;
      }
      if (!Home && isParamHelper(R, A) && pureRelease(R.In->getBody())) {
        guardHelperCalls(R, A, Flag, P);
        continue;
      }
      if (!Home && isParamHelper(R, A)) {
        addHelperParam(R.In, P);
        rewriteRelease(R, "is_pinned", P);
        for (const CallSite &CS : CC.index().callersOf(R.In))
          if (CS.Caller == A && CS.Call->getNumArgs() == R.In->getNumParams()) {
            SourceLocation RParen = SM.getFileLoc(CS.Call->getRParenLoc());
            P.Edits.push_back(insertAt(RParen, ", " + Flag));
            P.FlaggedCalls.insert(CS.Call);
          }
        continue;
      }
      const Expr *Arg = resolved(R.C->getArg(R.Fn->Arg));
      if (const MemberExpr *M = memberOfRecord(Arg, Home)) {
        rewriteRelease(R, text(M->getBase()) + (M->isArrow() ? "->" : ".") + FieldName, P);
        continue;
      }
      // A caller of A that holds the same struct: the argument it passes.
      std::string Via;
      if (!BaseInA.empty()) {
        std::string BaseName = BaseInA.substr(0, BaseInA.size() - (BaseInA.back() == '>' ? 2 : 1));
        for (unsigned I = 0; I < A->getNumParams(); ++I)
          if (A->getParamDecl(I)->getName() == BaseName)
            for (const CallSite &CS : CC.index().callersOf(A))
              if (CS.Caller == R.In && I < CS.Call->getNumArgs())
                if (auto *D = dyn_cast<DeclRefExpr>(CS.Call->getArg(I)->IgnoreParenImpCasts()))
                  Via = D->getDecl()->getNameAsString() + BaseInA.substr(BaseName.size());
      }
      if (Via.empty())
        refuse("the release " + R.R->Function + "() in " + at(R.In, R.C->getBeginLoc()) +
               " cannot see the struct that carries the pin decision");
      rewriteRelease(R, Via + FieldName, P);
    }
    P.Result.AuthorChecks.push_back(
        "KVEC and any other iterator that is not user-backed now gives pages without references: every use "
        "of them must end before the iterator's owner may free them (the release list above is what pageref "
        "found in this file)");
  }

  /// The whitespace after "bool" that puts the new field's name in the
  /// column of \p Prev's name when Prev aligns its names with tabs.
  std::string alignedGap(const FieldDecl *Prev, const std::string &Indent) {
    SourceLocation Name = SM.getFileLoc(Prev->getLocation());
    SourceLocation Begin = SM.getFileLoc(Prev->getBeginLoc());
    bool Invalid = false;
    llvm::StringRef Buf = SM.getBufferData(SM.getFileID(Name), &Invalid);
    unsigned B = SM.getFileOffset(Begin), N = SM.getFileOffset(Name);
    if (Invalid || N <= B)
      return " ";
    llvm::StringRef Decl = Buf.slice(B, N);
    llvm::StringRef Gap = Decl.rtrim("*").drop_front(Decl.rtrim("*").rtrim(" \t").size());
    if (!Gap.contains('\t'))
      return " ";
    auto Column = [](llvm::StringRef Text, unsigned From) {
      for (char C : Text)
        From = C == '\t' ? (From / 8 + 1) * 8 : From + 1;
      return From;
    };
    unsigned Target = Column(Decl, Column(Indent, 0));
    unsigned Col = Column("bool", Column(Indent, 0));
    std::string Out;
    while (Col < Target) {
      Col = (Col / 8 + 1) * 8;
      Out += '\t';
    }
    return Out.empty() ? " " : Out;
  }

  /// Releases of pages read back from a scatterlist, a bio_vec or the fields
  /// the site's pages live in, in the functions the pages pass through (the
  /// acquiring function, its callers, the releasing functions, what the first
  /// and the last call, and the completions any of them wires by address),
  /// that the analysis did not attribute to these pages: converting the
  /// others would leave these wrong.
  void unattributedReleases(const FunctionDecl *A, const std::vector<ReleaseAt> &Rels) {
    std::set<const FunctionDecl *> Route{A};
    std::set<const CallExpr *> Known;
    std::set<const FieldDecl *> Fields;
    for (const ReleaseAt &R : Rels) {
      Route.insert(R.In);
      Known.insert(R.C);
      if (auto Path = objectPath(resolved(R.C->getArg(R.Fn->Arg))); Path && Path->LastField)
        Fields.insert(Path->LastField->getCanonicalDecl());
    }
    for (const CallSite &CS : CC.index().callersOf(A))
      if (CS.Caller)
        Route.insert(CS.Caller);
    auto Referenced = [&](const FunctionDecl *F, bool Calls) {
      std::vector<const FunctionDecl *> Out;
      struct V : RecursiveASTVisitor<V> {
        std::vector<std::pair<const FunctionDecl *, bool>> Refs; // function, called
        bool VisitCallExpr(CallExpr *C) {
          if (const FunctionDecl *D = C->getDirectCallee())
            Refs.push_back({D, true});
          return true;
        }
        bool VisitDeclRefExpr(DeclRefExpr *E) {
          if (auto *Fn = dyn_cast<FunctionDecl>(E->getDecl()))
            Refs.push_back({Fn, false});
          return true;
        }
      } Vis;
      Vis.TraverseStmt(F->getBody());
      std::set<const FunctionDecl *> Called;
      for (auto &[D, IsCall] : Vis.Refs)
        if (IsCall)
          Called.insert(D);
      for (auto &[D, IsCall] : Vis.Refs) {
        if (!Calls && Called.count(D))
          continue; // a plain call, not a completion wired by address
        const FunctionDecl *Def = nullptr;
        if (D->hasBody(Def) && Def && SM.isInMainFile(SM.getExpansionLoc(Def->getLocation())))
          Out.push_back(Def);
      }
      return Out;
    };
    // What A and the releasing functions call, and the completions wired
    // (by address) in any of these.
    std::set<const FunctionDecl *> All = Route, Callees{A};
    for (const ReleaseAt &R : Rels)
      Callees.insert(R.In);
    for (const FunctionDecl *F : Callees)
      for (const FunctionDecl *D : Referenced(F, true))
        All.insert(D);
    for (const FunctionDecl *F : std::set<const FunctionDecl *>(All))
      for (const FunctionDecl *E : Referenced(F, false))
        All.insert(E);
    for (const FunctionDecl *F : All)
      for (const CallExpr *C : callsIn(F->getBody())) {
        const ReleaseFn *Fn = Model.release(calleeName(C));
        if (!Fn || Known.count(C) || Fn->Arg >= C->getNumArgs())
          continue;
        const Expr *Arg = resolved(C->getArg(Fn->Arg))->IgnoreParenImpCasts();
        bool FromContainer = false;
        if (auto *G = dyn_cast<CallExpr>(Arg))
          FromContainer = Model.containerGetter(calleeName(G)) != nullptr;
        if (auto *M = dyn_cast<MemberExpr>(Arg))
          FromContainer = Model.isContainerField(M->getMemberDecl()->getName());
        auto Path = objectPath(Arg);
        bool SameField = Path && Path->LastField && Fields.count(Path->LastField->getCanonicalDecl());
        if (FromContainer || SameField)
          refuse(calleeName(C).str() + "() in " + at(F, C->getBeginLoc()) + " drops pages read back from " +
                 (SameField ? Path->Spelling : std::string("a container")) + " on the route of these pages, "
                 "and the analysis did not attribute it to them; converting the others would leave it "
                 "dropping pins or references that are not there");
      }
  }

  /// True if \p Iter denotes the same iterator everywhere in \p F: its
  /// variable is never assigned, and no iterator constructor re-initialises it.
  bool iteratorIsStable(const FunctionDecl *F, const Expr *Iter) {
    auto Path = objectPath(Iter);
    if (!Path || Iter->HasSideEffects(Ctx))
      return false;
    // The iterator, or an object that contains it (`cursor = other`,
    // `*cursor = ...`), not a sibling field (`cursor->lastlen = len`).
    auto Covers = [&](const ObjectPath &To) {
      return To.Root == Path->Root && (To.Suffix.empty() || Path->Suffix == To.Suffix ||
                                       llvm::StringRef(Path->Suffix).starts_with(To.Suffix + "."));
    };
    for (const BinaryOperator *B : assignmentsIn(F->getBody()))
      if (auto To = objectPath(B->getLHS()); To && Covers(*To))
        return false;
    for (const CallExpr *C : callsIn(F->getBody()))
      if (const IterConstructorFn *K = Model.iterConstructor(calleeName(C)); K && K->IterArg < C->getNumArgs())
        if (auto To = objectPath(C->getArg(K->IterArg)); To && Covers(*To))
          return false;
    return true;
  }

  /// A body that only releases pages: declarations, loops without calls in
  /// their headers, release calls.
  bool pureRelease(const Stmt *S) {
    if (!S)
      return true;
    if (auto *C = dyn_cast<CallExpr>(S)) {
      const ReleaseFn *Fn = Model.release(calleeName(C));
      if (!Fn || Fn->Family != ReleaseFamily::Ref)
        return false;
      return llvm::none_of(C->arguments(), [](const Expr *A) { return !callsIn(A).empty(); });
    }
    if (auto *D = dyn_cast<DeclStmt>(S))
      return callsIn(D).empty();
    if (auto *F = dyn_cast<ForStmt>(S))
      return callsIn(F->getInit()).empty() && callsIn(F->getCond()).empty() && callsIn(F->getInc()).empty() &&
             pureRelease(F->getBody());
    if (auto *W = dyn_cast<WhileStmt>(S))
      return callsIn(W->getCond()).empty() && pureRelease(W->getBody());
    if (auto *CS = dyn_cast<CompoundStmt>(S))
      return llvm::all_of(CS->body(), [&](const Stmt *X) { return pureRelease(X); });
    if (auto *R = dyn_cast<ReturnStmt>(S))
      return !R->getRetValue();
    if (isa<NullStmt>(S))
      return true;
    if (auto *E = dyn_cast<Expr>(S))
      return callsIn(E).empty() && !E->HasSideEffects(Ctx) ? true : isa<UnaryOperator>(E) && callsIn(E).empty();
    return false;
  }

  /// A helper that only releases the pages: it now unpins, and the acquiring
  /// function calls it only when the pages are pinned.
  void guardHelperCalls(const ReleaseAt &R, const FunctionDecl *A, const std::string &Flag, SitePlan &P) {
    P.ParamHelpers.insert(R.In->getCanonicalDecl());
    for (const CallExpr *C : callsIn(R.In->getBody())) {
      const ReleaseFn *Fn = Model.release(calleeName(C));
      if (!Fn)
        continue;
      if (calleeName(C) != "put_page" && calleeName(C) != "release_pages")
        refuse("the release helper " + R.In->getNameAsString() + "() calls " + calleeName(C).str() +
               "(), which has no pinned counterpart this rewriter writes");
      P.Edits.push_back(replaceRange(C->getCallee()->IgnoreImpCasts()->getSourceRange(),
                                     Fn->Shape == ReleaseShape::Array ? "unpin_user_pages" : "unpin_user_page"));
    }
    for (const CallSite &CS : CC.index().callersOf(R.In)) {
      if (CS.Caller != A)
        continue;
      const Stmt *Pa = Parents.of(A).parent(CS.Call);
      if (!isa_and_nonnull<CompoundStmt>(Pa))
        refuse("the call of the release helper " + R.In->getNameAsString() + "() in " +
               at(A, CS.Call->getBeginLoc()) + " is not a statement of a block");
      std::string Ind = indentAt(CS.Call->getBeginLoc());
      P.Edits.push_back(insertAt(SM.getFileLoc(CS.Call->getBeginLoc()), "if (" + Flag + ")\n" + Ind + unit(Ind)));
      P.FlaggedCalls.insert(CS.Call);
      P.Result.Done.push_back("the call of " + R.In->getNameAsString() + "() in " + at(A, CS.Call->getBeginLoc()) +
                              " is made only when " + Flag);
    }
    P.Result.Done.push_back(R.In->getNameAsString() + "(), which only releases the pages, unpins them now (" +
                            R.R->Function + "() -> unpin_user_page*()); every caller calls it only for pinned "
                            "pages");
  }

  /// A same-file static helper the acquiring function passes the pages to as
  /// a parameter: it gets a `bool pinned` parameter.
  bool isParamHelper(const ReleaseAt &R, const FunctionDecl *A) {
    if (R.In == A || R.In->isExternallyVisible())
      return false;
    const Expr *Arg = resolved(R.C->getArg(R.Fn->Arg));
    auto Path = objectPath(Arg);
    if (!Path || !isa<ParmVarDecl>(Path->Root) || !Path->Suffix.empty())
      return false;
    if (nameUsedIn(R.In, "is_pinned") || !CC.index().addressUses(R.In).empty())
      return false;
    return llvm::any_of(CC.index().callersOf(R.In), [&](const CallSite &CS) { return CS.Caller == A; });
  }

  void addHelperParam(const FunctionDecl *H, SitePlan &P) {
    P.ParamHelpers.insert(H->getCanonicalDecl());
    for (const FunctionDecl *D : H->redecls()) {
      if (!SM.isInMainFile(SM.getExpansionLoc(D->getLocation())))
        refuse("the release helper " + H->getNameAsString() + "() is declared in a header");
      if (D->getNumParams() == 0)
        refuse("the release helper " + H->getNameAsString() + "() has no parameters to add to");
      const ParmVarDecl *Last = D->getParamDecl(D->getNumParams() - 1);
      SourceLocation End = Lexer::getLocForEndOfToken(SM.getFileLoc(Last->getEndLoc()), 0, SM, LO);
      P.Edits.push_back(insertAt(End, ", bool is_pinned"));
    }
    P.Result.Done.push_back(H->getNameAsString() + "() gains a 'bool is_pinned' parameter; its callers pass the "
                            "decision");
  }

  /// Other stores into the fields that hold the pages: pages of another
  /// origin must not reach a release that now unpins.
  void otherStores(const RecordDecl *Def, const std::vector<ReleaseAt> &Rels, const FunctionDecl *A, SitePlan &P) {
    std::set<const FieldDecl *> Fields;
    for (const ReleaseAt &R : Rels)
      if (auto Path = objectPath(resolved(R.C->getArg(R.Fn->Arg))); Path && Path->LastField)
        Fields.insert(Path->LastField->getCanonicalDecl());
    std::set<const FunctionDecl *> Targets;
    for (const ReleaseAt &R : Rels)
      if (R.In != A)
        Targets.insert(R.In);
    for (const FunctionDecl *D : CC.index().definitions()) {
      if (D == A)
        continue;
      for (const BinaryOperator *B : assignmentsIn(D->getBody())) {
        auto To = objectPath(B->getLHS());
        if (!To || !To->LastField || !Fields.count(To->LastField->getCanonicalDecl()))
          continue;
        if (B->getRHS()->isNullPointerConstant(Ctx, Expr::NPC_ValueDependentIsNull))
          continue;
        // A page stored, not the array that holds them (`ap->pages = array`).
        QualType T = B->getLHS()->getType();
        if (!T->isPointerType() || T->getPointeeType()->isPointerType())
          continue;
        std::string Where = at(D, B->getBeginLoc());
        std::vector<const FunctionDecl *> Roots{D};
        for (const CallSite &CS : CC.index().callersOf(D))
          if (CS.Caller)
            Roots.push_back(CS.Caller);
        for (const FunctionDecl *Root : Roots)
          if (reaches(Root, Targets, 4))
            refuse("pages of another origin are stored into " + To->Spelling + " in " + Where + ", and " +
                   Root->getNameAsString() + "() reaches the release that would now unpin them");
        P.Result.AuthorChecks.push_back(To->Spelling + " is also written in " + Where +
                                        "; pageref found no path from there to the converted releases");
      }
    }
  }
};

/// What one conversion parse is asked and where its answer goes, shared by
/// the factory, the action and the consumer.
struct ConvertRequest {
  const std::vector<ConvertSite> &Sites;
  const std::string &Tree;
  const std::map<std::string, std::string> &Externals;
  TuConversion &Out;
};

class ConvertConsumer : public ASTConsumer {
public:
  explicit ConvertConsumer(ConvertRequest &R) : R(R) {}

  void HandleTranslationUnit(ASTContext &Ctx) override {
    const std::vector<ConvertSite> &Sites = R.Sites;
    TuConversion &Out = R.Out;
    SourceManager &SM = Ctx.getSourceManager();
    ApiModel Model = ApiModel::builtin();
    CallerClassifier CC(Ctx, Model);
    Planner Pl(Ctx, Model, CC, R.Tree, R.Externals);
    Out.TreeLacksExtractApi = true;
    for (Decl *D : Ctx.getTranslationUnitDecl()->decls())
      if (auto *F = dyn_cast<FunctionDecl>(D); F && F->getIdentifier() && F->getName() == "iov_iter_extract_pages")
        Out.TreeLacksExtractApi = false;

    std::vector<SitePlan> Plans;
    for (const ConvertSite &Site : Sites) {
      const CallExpr *Found = nullptr;
      for (const FunctionDecl *D : CC.index().definitions())
        for (const CallExpr *C : callsIn(D->getBody())) {
          PresumedLoc P = SM.getPresumedLoc(SM.getExpansionLoc(C->getBeginLoc()));
          if (P.isValid() && P.getLine() == Site.Line && P.getColumn() == Site.Column &&
              calleeName(C) == Site.Callee)
            Found = C;
        }
      const GetPagesFn *Get = Model.getPages(Site.Callee);
      if (!Found || !Get) {
        SitePlan Missing;
        Missing.Result.Reason = "no call of " + Site.Callee + "() at line " + std::to_string(Site.Line) +
                                ", column " + std::to_string(Site.Column) + " in the parsed file";
        Plans.push_back(std::move(Missing));
        continue;
      }
      CallerFacts F = CC.classify(Found, *Get);
      Plans.push_back(Pl.plan(Found, *Get, F));
    }

    // A helper that gained a parameter needs the flag at every call: a site
    // whose helper has a call no converted site flags is refused, and so on
    // until nothing changes.
    for (bool Changed = true; Changed;) {
      Changed = false;
      std::set<const CallExpr *> Flagged;
      for (const SitePlan &P : Plans)
        if (P.Result.Converted)
          Flagged.insert(P.FlaggedCalls.begin(), P.FlaggedCalls.end());
      for (SitePlan &P : Plans) {
        if (!P.Result.Converted)
          continue;
        for (const FunctionDecl *H : P.ParamHelpers)
          for (const CallSite &CS : CC.index().callersOf(H))
            if (!Flagged.count(CS.Call) && P.Result.Converted) {
              P.Result.Converted = false;
              P.Result.Reason = "the release helper " + H->getNameAsString() + "() is also called from " +
                                (CS.Caller ? CS.Caller->getNameAsString() + "()" : std::string("file scope")) +
                                " at line " + std::to_string(lineOf(CS.Call->getBeginLoc(), SM)) +
                                " with pages that are not converted";
              Changed = true;
            }
      }
    }

    // Merge the edits of the converted sites: insertions at one place are
    // joined in order (a declaration for the flag and one for the array
    // pointer after the same declarations), the same edit from two sites is
    // made once, and an overlap refuses the later site.
    std::set<Edit> Taken;
    std::map<std::pair<std::string, unsigned>, std::string> Inserts;
    std::map<std::string, tooling::Replacements> Changes;
    auto InsideChange = [](const tooling::Replacements &Reps, unsigned Off) {
      return llvm::any_of(Reps, [&](const tooling::Replacement &R) {
        return R.getOffset() < Off && Off < R.getOffset() + R.getLength();
      });
    };
    for (SitePlan &P : Plans) {
      if (!P.Result.Converted)
        continue;
      auto TrialChanges = Changes;
      auto TrialInserts = Inserts;
      std::string Clash;
      for (const Edit &E : P.Edits) {
        if (Taken.count(E))
          continue;
        if (E.Length == 0) {
          std::string &T = TrialInserts[{E.Path, E.Offset}];
          if (T.find(E.Text) == std::string::npos)
            T += E.Text;
          continue;
        }
        if (auto Err = TrialChanges[E.Path].add(tooling::Replacement(E.Path, E.Offset, E.Length, E.Text)))
          Clash = llvm::toString(std::move(Err));
      }
      for (auto &[At, Text] : TrialInserts)
        if (InsideChange(TrialChanges[At.first], At.second))
          Clash = "an insertion at offset " + std::to_string(At.second) + " falls inside a replaced range";
      if (!Clash.empty()) {
        P.Result.Converted = false;
        P.Result.Reason = "two of the edits it needs overlap (its own, or another site's of this file): " + Clash;
        continue;
      }
      Changes = std::move(TrialChanges);
      Inserts = std::move(TrialInserts);
      Taken.insert(P.Edits.begin(), P.Edits.end());
    }
    std::map<std::string, tooling::Replacements> ByFile = Changes;
    for (auto &[At, Text] : Inserts)
      if (auto Err = ByFile[At.first].add(tooling::Replacement(At.first, At.second, 0, Text))) {
        Out.Error = llvm::toString(std::move(Err));
        return;
      }
    for (auto &[Path, Reps] : ByFile) {
      auto Buf = llvm::MemoryBuffer::getFile(Path);
      if (!Buf) {
        Out.Error = Path + ": cannot read it back";
        return;
      }
      std::string Old = (*Buf)->getBuffer().str();
      auto New = tooling::applyAllReplacements(Old, Reps);
      if (!New) {
        Out.Error = Path + ": " + llvm::toString(New.takeError());
        return;
      }
      Out.Original[Path] = Old;
      Out.Rewritten[Path] = *New;
    }
    for (SitePlan &P : Plans)
      Out.Sites.push_back(std::move(P.Result));
  }

private:
  ConvertRequest &R;
};

class ConvertAction : public ASTFrontendAction {
public:
  explicit ConvertAction(ConvertRequest &R) : R(R) {}
  std::unique_ptr<ASTConsumer> CreateASTConsumer(CompilerInstance &, llvm::StringRef) override {
    return std::make_unique<ConvertConsumer>(R);
  }

private:
  ConvertRequest &R;
};

class ConvertFactory : public tooling::FrontendActionFactory {
public:
  explicit ConvertFactory(ConvertRequest &R) : R(R) {}
  std::unique_ptr<FrontendAction> create() override { return std::make_unique<ConvertAction>(R); }

private:
  ConvertRequest &R;
};

class OneCommand : public tooling::CompilationDatabase {
public:
  explicit OneCommand(tooling::CompileCommand C) : Cmd(std::move(C)) {}
  std::vector<tooling::CompileCommand> getCompileCommands(llvm::StringRef) const override { return {Cmd}; }
  std::vector<std::string> getAllFiles() const override { return {Cmd.Filename}; }

private:
  tooling::CompileCommand Cmd;
};

/// Collects the parse's errors, to name them.
class ErrorCollector : public DiagnosticConsumer {
public:
  void HandleDiagnostic(DiagnosticsEngine::Level L, const Diagnostic &Info) override {
    DiagnosticConsumer::HandleDiagnostic(L, Info);
    if (L >= DiagnosticsEngine::Error && First.empty()) {
      llvm::SmallString<128> Msg;
      Info.FormatDiagnostic(Msg);
      std::string Where;
      if (Info.hasSourceManager() && Info.getLocation().isValid()) {
        PresumedLoc P = Info.getSourceManager().getPresumedLoc(Info.getLocation());
        if (P.isValid())
          Where = std::string(P.getFilename()) + ":" + std::to_string(P.getLine()) + ": ";
      }
      First = Where + Msg.str().str();
    }
  }
  std::string First;
};

} // namespace

TuConversion convertTranslationUnit(const CompileJob &Job, const std::vector<ConvertSite> &Sites,
                                    const std::string &Tree, const std::map<std::string, std::string> &Externals) {
  TuConversion Out;
  std::vector<std::string> Args = Job.Args;
  adjustForClang(Args);
  Args.push_back("-Wno-unknown-warning-option");
  Args.push_back("-Wno-error");
  Args.push_back("-w");
  OneCommand DB(tooling::CompileCommand(Job.Directory, Job.File, Args, ""));
  tooling::ClangTool Tool(DB, {Job.File});
  if (llvm::none_of(Args, [](const std::string &A) { return llvm::StringRef(A).starts_with("-resource-dir"); }))
    Tool.appendArgumentsAdjuster(tooling::getInsertArgumentAdjuster(
        "-resource-dir=" PAGEREF_CLANG_RESOURCE_DIR, tooling::ArgumentInsertPosition::BEGIN));
  ErrorCollector Errors;
  Tool.setDiagnosticConsumer(&Errors);
  ConvertRequest Request{Sites, Tree, Externals, Out};
  ConvertFactory Factory(Request);
  int RC = Tool.run(&Factory);
  if (RC != 0 || !Errors.First.empty()) {
    Out.Error = Errors.First.empty() ? Job.File + ": clang could not parse it" : Errors.First;
    Out.Sites.clear();
    Out.Original.clear();
    Out.Rewritten.clear();
  }
  if (Out.Error.empty() && Out.Sites.size() != Sites.size())
    Out.Error = Job.File + ": the parse produced no AST";
  return Out;
}

} // namespace pageref
