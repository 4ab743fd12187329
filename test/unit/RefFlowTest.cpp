// The reference-flow engine on in-memory translation units: findings and the
// per-function summaries (and their JSON, read back).
#include "pageref/RefFlow.h"

#include "clang/Frontend/ASTUnit.h"
#include "clang/Tooling/Tooling.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

using namespace clang;
using namespace pageref;

namespace {

struct Analysed {
  std::unique_ptr<ASTUnit> AST;
  std::unique_ptr<TuIndex> Index;
  std::unique_ptr<RefFlow> Flow;
  ApiModel Model = ApiModel::builtin();
  const FunctionDecl *fn(llvm::StringRef Name) {
    for (const FunctionDecl *F : Index->definitions())
      if (F->getName() == Name)
        return F;
    return nullptr;
  }
};

std::unique_ptr<Analysed> parse(const std::string &Code) {
  auto A = std::make_unique<Analysed>();
  A->AST = tooling::buildASTFromCodeWithArgs(Code, {"-I" PAGEREF_TEST_INCLUDE, "-std=gnu11"}, "input.c");
  EXPECT_TRUE(A->AST);
  A->Index = std::make_unique<TuIndex>(A->AST->getASTContext());
  A->Flow = std::make_unique<RefFlow>(A->AST->getASTContext(), A->Model, *A->Index);
  return A;
}

const char *Helpers = R"(
#include <linux/uio.h>
void *kzalloc(size_t, gfp_t);
struct holder { struct page **pages; };
static void drop(struct page **p, int n) { for (int i = 0; i < n; i++) put_page(p[i]); }
static void unpin(struct page **p, int n) { unpin_user_pages(p, n); }
static struct holder *keep(struct page **p) {
  struct holder *h = kzalloc(sizeof(*h), GFP_KERNEL);
  if (h) h->pages = p;
  return h;
}
static void stash(struct holder *h, struct page **p) { h->pages = p; }
static int look(struct page **p) { return page_address(p[0]) != 0; }
)";

} // namespace

TEST(RefFlow, SummariesSayWhatHelpersDoWithThePages) {
  auto A = parse(Helpers);
  struct Case { const char *Fn; unsigned Param; ParamEffect::Kind Effect; };
  for (Case C : {Case{"drop", 0, ParamEffect::Releases}, Case{"unpin", 0, ParamEffect::Releases},
                 Case{"keep", 0, ParamEffect::TakesOverIfNonNull}, Case{"stash", 1, ParamEffect::TakesOver},
                 Case{"look", 0, ParamEffect::Uses}}) {
    const FunctionDecl *F = A->fn(C.Fn);
    ASSERT_NE(F, nullptr) << C.Fn;
    const FunctionSummary &S = A->Flow->summary(F);
    ASSERT_TRUE(S.Params.count(C.Param)) << C.Fn;
    EXPECT_EQ(S.Params.at(C.Param).Effect, C.Effect) << C.Fn;
  }
  EXPECT_EQ(A->Flow->summary(A->fn("drop")).Params.at(0).Family, ReleaseFamily::Ref);
  EXPECT_EQ(A->Flow->summary(A->fn("unpin")).Params.at(0).Family, ReleaseFamily::Pin);
}

TEST(RefFlow, SummaryJsonRoundTrips) {
  auto A = parse(Helpers);
  for (const char *Name : {"drop", "unpin", "keep", "stash", "look"}) {
    const FunctionSummary &S = A->Flow->summary(A->fn(Name));
    nlohmann::json J = toJson(S);
    std::string Err;
    auto Back = summaryFromJson(nlohmann::json::parse(J.dump()), Err);
    ASSERT_TRUE(Back) << Err;
    EXPECT_EQ(toJson(*Back), J) << Name;
  }
  std::string Err;
  EXPECT_FALSE(summaryFromJson(nlohmann::json::parse(R"({"function": "f", "params": {"0": {"effect": "eats"}}})"), Err));
  EXPECT_EQ(Err, "f: unknown effect 'eats'");
}

TEST(RefFlow, LeakNamesTheExitAndThePath) {
  auto A = parse(std::string(Helpers) + R"(
int f(unsigned long addr, int nr, int fail) {
  struct page *pages[8];
  int n = pin_user_pages_fast(addr, nr, 0, pages);
  if (n <= 0)
    return n;
  if (fail)
    return -EIO;
  unpin(pages, n);
  return 0;
})");
  auto Findings = A->Flow->analyze(A->fn("f"));
  ASSERT_EQ(Findings.size(), 1u);
  const RefFinding &F = Findings[0];
  EXPECT_EQ(F.Kind, RefFindingKind::Leak);
  const SourceManager &SM = A->AST->getSourceManager();
  EXPECT_EQ(SM.getSpellingLineNumber(F.Loc), 21u); // `return -EIO;`
  EXPECT_NE(F.Message.find("pin_user_pages_fast() at line 17"), std::string::npos) << F.Message;
  bool NamesCondition = false;
  for (const Evidence &E : F.Notes)
    NamesCondition |= E.Message == "taking this path: 'fail' is true";
  EXPECT_TRUE(NamesCondition);
}

TEST(RefFlow, MismatchThroughAHelperHasNoFixIt) {
  auto A = parse(std::string(Helpers) + R"(
int g(unsigned long addr) {
  struct page *pages[1];
  int n = pin_user_pages_fast(addr, 1, 0, pages);
  if (n != 1)
    return -EFAULT;
  drop(pages, 1);
  return 0;
})");
  auto Findings = A->Flow->analyze(A->fn("g"));
  ASSERT_EQ(Findings.size(), 1u);
  EXPECT_EQ(Findings[0].Kind, RefFindingKind::WrongFamily);
  EXPECT_NE(Findings[0].Message.find("released with drop() (through drop(), which calls put_page() at line 5)"),
            std::string::npos)
      << Findings[0].Message;
  EXPECT_TRUE(Findings[0].FixText.empty());
}

TEST(RefFlow, BoundIsSaidNotGuessed) {
  auto A = parse(std::string(Helpers) + R"(
int h(unsigned long addr, int a, int b, int c) {
  struct page *pages[1];
  int n = pin_user_pages_fast(addr, 1, 0, pages);
  for (int i = 0; i < a; i++) if (b) c++; else c--;
  return n;
})");
  RefFlowLimits Tight;
  Tight.MaxBlockVisits = 3;
  RefFlow Small(A->AST->getASTContext(), A->Model, *A->Index, Tight);
  auto Findings = Small.analyze(A->fn("h"));
  ASSERT_EQ(Findings.size(), 1u);
  EXPECT_EQ(Findings[0].Kind, RefFindingKind::BoundHit);
  EXPECT_NE(Findings[0].Message.find("stopped following the pages acquired by pin_user_pages_fast() after 3 steps"),
            std::string::npos)
      << Findings[0].Message;
}
