// The classifier on small translation units parsed in memory: the facts the
// check and the JSON report are built from.
#include "pageref/CallerClassifier.h"

#include "clang/ASTMatchers/ASTMatchFinder.h"
#include "clang/ASTMatchers/ASTMatchers.h"
#include "clang/Frontend/ASTUnit.h"
#include "clang/Tooling/Tooling.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

using namespace clang;
using namespace clang::ast_matchers;
using namespace pageref;

namespace {

struct Parsed {
  std::unique_ptr<ASTUnit> AST;
  std::vector<CallerFacts> Facts;
  std::vector<nlohmann::json> Json;
};

Parsed classify(const std::string &Code) {
  Parsed P;
  P.AST = tooling::buildASTFromCodeWithArgs(Code, {"-I" PAGEREF_TEST_INCLUDE, "-std=gnu11"}, "input.c");
  EXPECT_TRUE(P.AST);
  if (!P.AST)
    return P;
  ApiModel Model = ApiModel::builtin();
  CallerClassifier C(P.AST->getASTContext(), Model);
  auto Calls = match(callExpr(isExpansionInMainFile(),
                              callee(functionDecl(hasAnyName("iov_iter_get_pages2", "iov_iter_get_pages_alloc2",
                                                             "iov_iter_extract_pages"))))
                         .bind("c"),
                     P.AST->getASTContext());
  for (auto &N : Calls) {
    auto *Call = N.getNodeAs<CallExpr>("c");
    CallerFacts F = C.classify(Call, *Model.getPages(calleeName(Call)));
    P.Json.push_back(toJson(F, P.AST->getSourceManager()));
    P.Facts.push_back(std::move(F));
  }
  return P;
}

} // namespace

TEST(Classifier, LocalBvecIteratorWithLocalRelease) {
  Parsed P = classify(R"(
#include <linux/uio.h>
int f(struct bio_vec *bv) {
  struct iov_iter it; struct page *pages[4]; size_t off;
  iov_iter_bvec(&it, ITER_SOURCE, bv, 4, 16384);
  ssize_t n = iov_iter_get_pages2(&it, pages, 16384, 4, &off);
  if (n < 0) return n;
  for (int i = 0; i < 4; i++) put_page(pages[i]);
  return 0;
})");
  ASSERT_EQ(P.Facts.size(), 1u);
  const CallerFacts &F = P.Facts[0];
  EXPECT_EQ(F.Function, "f");
  EXPECT_EQ(F.Iter.Kinds, IterKindSet::of(IterKind::Bvec));
  ASSERT_EQ(F.Releases.size(), 1u);
  EXPECT_EQ(F.Releases[0].Function, "put_page");
  EXPECT_FALSE(F.Releases[0].Conditional) << "the `n < 0` error check must not make the release conditional";
  EXPECT_EQ(F.Result, Verdict::ExtractReady);
  const nlohmann::json &J = P.Json[0];
  EXPECT_EQ(J["line"], 6);
  EXPECT_EQ(J["callee"], "iov_iter_get_pages2");
  EXPECT_EQ(J["iter_kinds"], nlohmann::json::array({"BVEC"}));
  EXPECT_EQ(J["verdict"], "extract-ready");
  EXPECT_EQ(J["releases"][0]["line"], 8);
  for (const char *Key : {"file", "line", "column", "function", "callee", "iter_kinds", "sinks", "releases", "verdict", "reason"})
    EXPECT_TRUE(J.contains(Key)) << Key;
}

TEST(Classifier, GuardsNarrowAndTypeComparisons) {
  Parsed P = classify(R"(
#include <linux/uio.h>
int g(struct iov_iter *i, struct page **pages) {
  size_t off;
  if (iov_iter_type(i) != ITER_UBUF && !iter_is_iovec(i)) return -EINVAL;
  ssize_t n = iov_iter_get_pages2(i, pages, 4096, 1, &off);
  if (n > 0) put_page(pages[0]);
  return 0;
})");
  ASSERT_EQ(P.Facts.size(), 1u);
  EXPECT_EQ(P.Facts[0].Iter.Kinds, IterKindSet::userBacked()) << P.Facts[0].Iter.Kinds.str();
}

TEST(Classifier, BranchThatNeverAcquiredIsIgnored) {
  // fuse_copy_fill()'s shape: the same local holds a page on a branch that
  // never called get-pages; that branch's pipe buffer is not this call's sink.
  Parsed P = classify(R"(
#include <linux/uio.h>
#include <linux/pipe_fs_i.h>
struct state { struct pipe_buffer *buf; struct page *pg; struct iov_iter *iter; };
struct page *alloc_page(gfp_t);
int fill(struct state *cs, int pipe) {
  struct page *page; size_t off; ssize_t err;
  if (pipe) {
    page = alloc_page(GFP_KERNEL);
    cs->buf->page = page;
  } else {
    err = iov_iter_get_pages2(cs->iter, &page, PAGE_SIZE, 1, &off);
    if (err < 0) return err;
    cs->pg = page;
  }
  return 0;
}
void finish(struct state *cs) { put_page(cs->pg); }
)");
  ASSERT_EQ(P.Facts.size(), 1u);
  const CallerFacts &F = P.Facts[0];
  for (const PageSink &S : F.Sinks)
    EXPECT_NE(S.Owner, "pipe-buffers") << S.Via;
  ASSERT_FALSE(F.Releases.empty());
  EXPECT_EQ(F.Releases[0].InFunction, "finish");
  EXPECT_EQ(F.Result, Verdict::ExtractReady);
}

TEST(Classifier, ExportedHelperSaysWhereItStopped) {
  Parsed P = classify(R"(
#include <linux/uio.h>
ssize_t exported(struct iov_iter *i, struct page **pages) {
  size_t off;
  return iov_iter_get_pages2(i, pages, 4096, 1, &off);
})");
  ASSERT_EQ(P.Facts.size(), 1u);
  const CallerFacts &F = P.Facts[0];
  // Every kind the TU's `enum iter_type` has (the test headers mirror 6.1: no FOLIOQ).
  EXPECT_EQ(F.Iter.Kinds.str(), "IOVEC|UBUF|BVEC|KVEC|XARRAY|PIPE|DISCARD");
  ASSERT_FALSE(F.Iter.Stops.empty());
  EXPECT_NE(F.Iter.Stops[0].Message.find("exported() is not static"), std::string::npos) << F.Iter.Stops[0].Message;
  // The pages go back to callers outside this TU: nothing here releases them.
  ASSERT_FALSE(F.Sinks.empty());
  EXPECT_EQ(F.Sinks[0].Owner, "returned");
  EXPECT_EQ(F.Result, Verdict::Unknown);
  EXPECT_NE(F.Reason.find("no release of the pages found"), std::string::npos) << F.Reason;
}
