// `pageref convert`: a draft conversion to iov_iter_extract_pages() for every
// extract-ready get-pages caller, written with Clang's rewriting facilities on
// the AST of the TU parsed with its own compile command, then checked (it
// applies, compiles with the kernel's make, passes checkpatch, re-analyses
// clean) before it is offered. docs/convert.md.
#pragma once

#include "Frontend.h"

#include <nlohmann/json.hpp>

#include <map>
#include <string>
#include <vector>

namespace pageref {

/// One call site to convert, as the scan names it.
struct ConvertSite {
  std::string File; // absolute
  unsigned Line = 0, Column = 0;
  std::string Function, Callee;
  nlohmann::json Record; // the scan's call-site record (docs/facts-schema.md)
};

/// What the rewriter did, or why it refused, for one site.
struct SiteConversion {
  bool Converted = false;
  std::string Reason;                   // refusal: one sentence
  std::vector<std::string> Done;        // what the patch changes, for the commit message
  std::vector<std::string> AuthorChecks; // what the author must still check
  std::string FlagHome;                 // "local pinned", "struct af_alg_sgl::is_pinned", ...
};

struct TuConversion {
  std::string Error;                    // the TU did not parse, or a site was not found
  std::vector<SiteConversion> Sites;    // parallel to the sites asked for
  std::map<std::string, std::string> Original, Rewritten; // absolute path -> content
  bool TreeLacksExtractApi = false;     // the TU sees no iov_iter_extract_pages() declaration
};

/// Parses \p Job and rewrites the sites of \p Sites (all in Job.File) that it
/// can convert; files outside \p Tree are never rewritten. \p Externals: what
/// the scan's summaries say functions of other files do with pages handed to
/// them ("releases (ref) via put_page() in net/9p/trans_common.c", "uses").
TuConversion convertTranslationUnit(const CompileJob &Job, const std::vector<ConvertSite> &Sites,
                                    const std::string &Tree, const std::map<std::string, std::string> &Externals);

/// The prerequisite patch body (unified diff, a/ b/ paths) that adds
/// iov_iter_extract_pages() and iov_iter_extract_will_pin() to a kernel that
/// has neither (before 6.3), rewriting lib/iov_iter.c and include/linux/uio.h
/// of \p Tree with Clang's Rewriter on their text. Empty with \p Err set when
/// the anchors it needs are missing.
std::string extractApiPrerequisite(const std::string &Tree, std::map<std::string, std::string> &Original,
                                   std::map<std::string, std::string> &Rewritten, std::string &Err);

/// A unified diff of \p Old -> \p New for the file \p Rel (relative to the
/// tree), with `a/` and `b/` paths; empty when they are equal.
std::string unifiedDiff(const std::string &Rel, const std::string &Old, const std::string &New, std::string &Err);

int runConvert(int Argc, char **Argv, const std::string &Self);

} // namespace pageref
