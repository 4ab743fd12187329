// The API model: the built-in table, user extensions, and the errors a user
// sees for a bad file.
#include "pageref/ApiModel.h"

#include <gtest/gtest.h>

using namespace pageref;

TEST(ApiModel, BuiltinKnowsTheFamilies) {
  ApiModel M = ApiModel::builtin();
  ASSERT_NE(M.getPages("iov_iter_get_pages2"), nullptr);
  EXPECT_EQ(M.getPages("iov_iter_get_pages_alloc2")->Pages, PagesOut::Allocated);
  EXPECT_EQ(M.getPages("iov_iter_extract_pages")->Family, ReleaseFamily::PinIfWillPin);
  ASSERT_NE(M.release("unpin_user_pages_dirty_lock"), nullptr);
  EXPECT_EQ(M.release("unpin_user_pages_dirty_lock")->Family, ReleaseFamily::Pin);
  EXPECT_EQ(M.release("release_pages")->Shape, ReleaseShape::Array);
  EXPECT_EQ(M.release("put_page")->Family, ReleaseFamily::Ref);
  EXPECT_EQ(M.iterConstructor("iov_iter_bvec")->Kinds, IterKindSet::of(IterKind::Bvec));
  EXPECT_EQ(M.iterGuard("user_backed_iter")->Kinds, IterKindSet::userBacked());
  EXPECT_TRUE(M.ownerDropsRefs("pipe-buffers"));
  EXPECT_FALSE(M.ownerDropsRefs("bio"));
  EXPECT_EQ(M.ownerOfRecord("pipe_buffer"), "pipe-buffers");
}

TEST(ApiModel, UserFileAddsAWrapper) {
  ApiModel M = ApiModel::builtin();
  std::string Before = M.digest();
  auto Err = M.mergeJson(R"({"release": [{"name": "my_drv_put_pages", "family": "ref", "shape": "array", "arg": 0, "count_arg": 1}]})",
                         "my.json");
  ASSERT_FALSE(Err) << *Err;
  ASSERT_NE(M.release("my_drv_put_pages"), nullptr);
  EXPECT_EQ(*M.release("my_drv_put_pages")->CountArg, 1u);
  EXPECT_NE(M.digest(), Before) << "the digest keys caches: it must change with the model";
}

TEST(ApiModel, ErrorsNameTheFileAndTheEntry) {
  ApiModel M = ApiModel::builtin();
  auto E1 = M.mergeJson("{ not json", "bad.json");
  ASSERT_TRUE(E1);
  EXPECT_EQ(*E1, "bad.json: not valid JSON");
  auto E2 = M.mergeJson(R"({"release": [{"name": "x", "family": "pinned"}]})", "fam.json");
  ASSERT_TRUE(E2);
  EXPECT_NE(E2->find("fam.json: release[0] (x): unknown family 'pinned'"), std::string::npos) << *E2;
  auto E3 = M.mergeJson(R"({"iter_guards": [{"name": "g", "kinds": ["BVEC", "FOLIO"]}]})", "k.json");
  ASSERT_TRUE(E3);
  EXPECT_NE(E3->find("unknown iterator kind \"FOLIO\""), std::string::npos) << *E3;
  auto E4 = M.mergeJson(R"({"relase": []})", "typo.json");
  ASSERT_TRUE(E4);
  EXPECT_NE(E4->find("typo.json: unknown key 'relase'"), std::string::npos) << *E4;
  auto E5 = M.mergeJson(R"({"version": 7})", "v.json");
  ASSERT_TRUE(E5);
  EXPECT_NE(E5->find("version 7 is not supported"), std::string::npos) << *E5;
  auto E6 = M.mergeFile("/nonexistent/model.json");
  ASSERT_TRUE(E6);
  EXPECT_NE(E6->find("/nonexistent/model.json: cannot read API model file"), std::string::npos) << *E6;
}

TEST(ApiModel, BadFileChangesNothing) {
  ApiModel M = ApiModel::builtin();
  std::string Before = M.digest();
  auto Err = M.mergeJson(R"({"release": [{"name": "ok_put", "family": "ref"}, {"name": "bad", "family": "?"}]})", "x.json");
  ASSERT_TRUE(Err);
  EXPECT_EQ(M.release("ok_put"), nullptr);
  EXPECT_EQ(M.digest(), Before);
}

TEST(IterKindSet, SetAlgebra) {
  IterKindSet U = IterKindSet::userBacked();
  EXPECT_EQ(U.str(), "IOVEC|UBUF");
  EXPECT_EQ((~U & IterKindSet::of(IterKind::Bvec)).str(), "BVEC");
  EXPECT_TRUE(IterKindSet::all().isAll());
  EXPECT_EQ(IterKindSet().str(), "none");
  EXPECT_EQ(IterKindSet::all().referenceable().str(), "IOVEC|UBUF|BVEC|XARRAY|PIPE|FOLIOQ");
  EXPECT_EQ(parseIterKind("ITER_XARRAY"), IterKind::Xarray);
  EXPECT_EQ(parseIterKind("ITER_FOLIOQ"), IterKind::Folioq);
  EXPECT_FALSE(parseIterKind("ITER_NONSENSE"));
}
