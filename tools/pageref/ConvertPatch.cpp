// Patch text for `pageref convert`: unified diffs of the rewritten files, and
// the prerequisite that gives a kernel before 6.3 iov_iter_extract_pages().
#include "Convert.h"

#include "clang/Tooling/Core/Replacement.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/Program.h"

namespace pageref {

std::string unifiedDiff(const std::string &Rel, const std::string &Old, const std::string &New, std::string &Err) {
  if (Old == New)
    return "";
  llvm::SmallString<128> A, B, Out;
  int FA, FB;
  if (llvm::sys::fs::createTemporaryFile("pageref-old", "c", FA, A) ||
      llvm::sys::fs::createTemporaryFile("pageref-new", "c", FB, B) ||
      llvm::sys::fs::createTemporaryFile("pageref-diff", "txt", Out)) {
    Err = "cannot create temporary files for diff";
    return "";
  }
  {
    llvm::raw_fd_ostream OA(FA, true), OB(FB, true);
    OA << Old;
    OB << New;
  }
  auto Diff = llvm::sys::findProgramByName("diff");
  std::string Result;
  if (!Diff) {
    Err = "diff (GNU diffutils) not found";
  } else {
    std::string LA = "a/" + Rel, LB = "b/" + Rel;
    std::vector<llvm::StringRef> Args = {*Diff, "-u", "-p", "--label", LA, "--label", LB, A, B};
    std::optional<llvm::StringRef> Redirects[] = {std::nullopt, llvm::StringRef(Out), std::nullopt};
    int RC = llvm::sys::ExecuteAndWait(*Diff, Args, std::nullopt, Redirects);
    auto Buf = llvm::MemoryBuffer::getFile(Out);
    if (RC != 1 || !Buf)
      Err = "diff failed on " + Rel + " (exit " + std::to_string(RC) + ")";
    else
      Result = "diff --git a/" + Rel + " b/" + Rel + "\n" + (*Buf)->getBuffer().str();
  }
  llvm::sys::fs::remove(A);
  llvm::sys::fs::remove(B);
  llvm::sys::fs::remove(Out);
  return Result;
}

namespace {

// For a kernel without iov_iter_extract_pages() (before 6.3): a minimal one
// with the contract of the upstream function that the converted callers rely
// on. User-backed iterators are pinned (FOLL_PIN, released with
// unpin_user_page*()); other kinds get their pages with no reference held
// (taken and dropped at once here, so that the kinds the old call refused,
// KVEC, are refused the same way). *pages is allocated when NULL and never
// freed on failure.
const char *UioDecls = R"(
typedef unsigned int __bitwise iov_iter_extraction_t;

/**
 * iov_iter_extract_will_pin - Indicate how pages from the iterator will be retained
 * @iter: The iterator
 *
 * Return true if iov_iter_extract_pages() pins the pages it extracts from
 * @iter (release them with unpin_user_page*()), false if it takes no
 * reference at all because the iterator's owner keeps them alive.
 */
static inline bool iov_iter_extract_will_pin(const struct iov_iter *iter)
{
	return user_backed_iter(iter);
}

ssize_t iov_iter_extract_pages(struct iov_iter *i, struct page ***pages,
			       size_t maxsize, unsigned int maxpages,
			       iov_iter_extraction_t extraction_flags,
			       size_t *offset0);
)";

const char *IovIterFunction = R"(
/**
 * iov_iter_extract_pages - Extract a list of contiguous pages from an iterator
 * @i: The iterator to extract from
 * @pages: Where to return the list of pages
 * @maxsize: The maximum amount of iterator to extract
 * @maxpages: The maximum size of the list of pages
 * @extraction_flags: Flags to qualify request (none are defined yet)
 * @offset0: Where to return the starting offset into (*@pages)[0]
 *
 * Pages of a user-backed iterator are pinned and must be released with
 * unpin_user_page*(); pages of any other kind are returned without a
 * reference, the iterator's owner keeps them.  iov_iter_extract_will_pin()
 * tells which.  *@pages is allocated when it is NULL and is not freed on
 * failure.  Returns the number of bytes extracted or a negative error.
 */
ssize_t iov_iter_extract_pages(struct iov_iter *i, struct page ***pages,
			       size_t maxsize, unsigned int maxpages,
			       iov_iter_extraction_t extraction_flags,
			       size_t *offset0)
{
	unsigned int gup_flags = 0;
	unsigned long addr;
	ssize_t len;
	int n, res, k;

	if (!maxpages)
		return 0;
	if (!iov_iter_extract_will_pin(i)) {
		len = __iov_iter_get_pages_alloc(i, pages, maxsize, maxpages,
						 offset0);
		if (len <= 0)
			return len;
		/* The iterator's owner keeps these pages: hold no reference. */
		n = DIV_ROUND_UP(*offset0 + len, PAGE_SIZE);
		for (k = 0; k < n; k++)
			put_page((*pages)[k]);
		return len;
	}

	if (maxsize > i->count)
		maxsize = i->count;
	if (!maxsize)
		return 0;
	if (maxsize > MAX_RW_COUNT)
		maxsize = MAX_RW_COUNT;
	if (iov_iter_rw(i) != WRITE)
		gup_flags |= FOLL_WRITE;
	if (i->nofault)
		gup_flags |= FOLL_NOFAULT;

	addr = first_iovec_segment(i, &maxsize);
	*offset0 = addr % PAGE_SIZE;
	addr &= PAGE_MASK;
	n = want_pages_array(pages, maxsize, *offset0, maxpages);
	if (!n)
		return -ENOMEM;
	res = pin_user_pages_fast(addr, n, gup_flags, *pages);
	if (unlikely(res <= 0))
		return res;
	len = min_t(size_t, maxsize, res * PAGE_SIZE - *offset0);
	iov_iter_advance(i, len);
	return len;
}
EXPORT_SYMBOL_GPL(iov_iter_extract_pages);
)";

/// Inserts \p Text after the line of \p Buf that contains \p Anchor and then
/// the first ';' (the end of a declaration that may span lines).
std::optional<unsigned> afterAnchor(llvm::StringRef Buf, llvm::StringRef Anchor) {
  size_t At = Buf.find(Anchor);
  if (At == llvm::StringRef::npos)
    return std::nullopt;
  size_t Semi = Buf.find(';', At);
  if (Semi == llvm::StringRef::npos)
    return std::nullopt;
  size_t NL = Buf.find('\n', Semi);
  return NL == llvm::StringRef::npos ? Buf.size() : NL + 1;
}

} // namespace

std::string extractApiPrerequisite(const std::string &Tree, std::map<std::string, std::string> &Original,
                                   std::map<std::string, std::string> &Rewritten, std::string &Err) {
  struct Part {
    const char *Rel, *Anchor, *Text;
  } Parts[] = {{"include/linux/uio.h", "ssize_t iov_iter_get_pages_alloc2(", UioDecls},
               {"lib/iov_iter.c", "EXPORT_SYMBOL(iov_iter_get_pages_alloc2)", IovIterFunction}};
  std::string Patch;
  for (const Part &P : Parts) {
    std::string Path = Tree + "/" + P.Rel;
    auto Buf = llvm::MemoryBuffer::getFile(Path);
    if (!Buf) {
      Err = Path + ": cannot read it";
      return "";
    }
    llvm::StringRef Old = (*Buf)->getBuffer();
    if (Old.contains("iov_iter_extract_pages")) {
      Err = Path + ": already declares iov_iter_extract_pages()";
      return "";
    }
    auto At = afterAnchor(Old, P.Anchor);
    if (!At) {
      Err = Path + ": no '" + P.Anchor + "' to add iov_iter_extract_pages() after";
      return "";
    }
    clang::tooling::Replacements Reps(clang::tooling::Replacement(Path, *At, 0, P.Text));
    auto New = clang::tooling::applyAllReplacements(Old, Reps);
    if (!New) {
      Err = Path + ": " + llvm::toString(New.takeError());
      return "";
    }
    Original[Path] = Old.str();
    Rewritten[Path] = *New;
    Patch += unifiedDiff(P.Rel, Old.str(), *New, Err);
    if (!Err.empty())
      return "";
  }
  return Patch;
}

} // namespace pageref
