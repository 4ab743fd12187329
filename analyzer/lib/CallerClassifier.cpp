#include "ClassifierImpl.h"

using namespace clang;

namespace pageref {

CallerClassifier::CallerClassifier(ASTContext &Ctx, const ApiModel &Model, ClassifierLimits Limits)
    : Index(std::make_unique<TuIndex>(Ctx)) {
  P = std::make_unique<Impl>(Ctx, Model, Limits, *Index);
}

CallerClassifier::~CallerClassifier() = default;

const FunctionDecl *CallerClassifier::enclosingFunction(const Stmt *S) const {
  auto *Call = dyn_cast<CallExpr>(S);
  if (!Call)
    return nullptr;
  for (const CallSite &CS : Index->callsTo(calleeName(Call)))
    if (CS.Call == Call)
      return CS.Caller;
  return nullptr;
}

CallerFacts CallerClassifier::classify(const CallExpr *Call, const GetPagesFn &Get) {
  CallerFacts Out;
  Out.Call = Call;
  Out.Callee = Get.Name;
  const FunctionDecl *F = enclosingFunction(Call);
  Out.Function = P->fnName(F);

  if (Get.IterArg < Call->getNumArgs() && F) {
    const Expr *IterArg = Call->getArg(Get.IterArg);
    std::set<std::string> Visiting;
    Out.Iter = P->kindsOfExpr(IterArg, F, 0, Visiting);
    if (auto Path = objectPath(IterArg)) {
      std::vector<Evidence> Narrowing;
      IterKindSet Allowed = P->narrowAt(Call, F, *Path, Narrowing);
      Out.Iter.Kinds = Out.Iter.Kinds & Allowed;
      for (auto &N : Narrowing)
        Out.Iter.Why.push_back(std::move(N));
    }
  } else {
    Out.Iter.Kinds = IterKindSet::all();
  }
  Out.Iter.Kinds = Out.Iter.Kinds & P->Universe;
  if (F) {
    P->followPages(Call, Get, F, Out);
    P->findAsyncOwner(F, Out);
  }
  P->decideVerdict(Get, Out);
  // The same evidence can be reached along two routes; say it once.
  for (auto *List : {&Out.Iter.Why, &Out.Iter.Stops, &Out.FlowStops}) {
    std::vector<Evidence> Unique;
    for (Evidence &E : *List)
      if (llvm::none_of(Unique, [&](const Evidence &U) { return U.Loc == E.Loc && U.Message == E.Message; }))
        Unique.push_back(std::move(E));
    *List = std::move(Unique);
  }
  return Out;
}

CallerFacts CallerClassifier::assumeExternalRelease(const CallerFacts &F, const GetPagesFn &Get,
                                                   llvm::StringRef Callee, ReleaseFamily Family,
                                                   llvm::StringRef ReleaseName) {
  CallerFacts Out = F;
  PageRelease R;
  R.Function = ReleaseName.str();
  R.Family = Family;
  R.InFunction = Callee.str();
  R.Route = "helper " + Callee.str() + "() of another translation unit";
  R.OtherTranslationUnit = true;
  for (const Evidence &E : F.FlowStops)
    if (E.Message.find(" " + Callee.str() + "()") != std::string::npos)
      R.Loc = E.Loc;
  Out.Releases.push_back(R);
  P->decideVerdict(Get, Out);
  return Out;
}

} // namespace pageref
