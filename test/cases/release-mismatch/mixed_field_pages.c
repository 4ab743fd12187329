// RUN: %check_pageref_tidy %s pageref-unbalanced-release,pageref-release-mismatch,pageref-async-bvec-drop %t -- -- -I%S/../include
// Family: fs/fuse/file.c (6.1): struct fuse_args_pages::pages holds the user pages of direct
// I/O (iov_iter_get_pages2() in fuse_get_user_pages()), page-cache pages and, for writeback,
// pages of the page allocator (alloc_page() in fuse_writepage_locked()); each kind of request
// releases its own kind.
#include <linux/mm.h>
#include <linux/gfp.h>
#include <linux/slab.h>
#include <linux/uio.h>
#include <linux/errno.h>

struct args_pages {
	struct page **pages;
	unsigned int num_pages;
};

// helper (not a case), as in fuse_get_user_pages(): user pages of direct I/O into ap->pages.
int get_user_pages_into(struct args_pages *ap, struct iov_iter *ii, size_t nbytes, unsigned int max_pages)
{
	size_t start;
	ssize_t ret;

	while (nbytes && ap->num_pages < max_pages) {
		ret = iov_iter_get_pages2(ii, &ap->pages[ap->num_pages], nbytes, max_pages - ap->num_pages,
					  &start);
		if (ret < 0)
			return ret;
		nbytes -= ret;
		ap->num_pages += (ret + start + 4095) / 4096;
	}
	return 0;
}

// helper (not a case), as in fuse_writepage_locked(): a temporary page of the allocator.
int writepage_setup(struct args_pages *ap)
{
	struct page *tmp_page = alloc_page(GFP_NOFS);

	if (!tmp_page)
		return -ENOMEM;
	ap->pages[0] = tmp_page;
	ap->num_pages = 1;
	return 0;
}

// CASE NEGATIVE release-mismatch: modelled on fs/fuse/file.c:fuse_writepage_free() in 6.1
// The writeback request's pages are the allocator's: __free_page() is right for them, even
// though the same field holds user pages in direct-I/O requests.
void writepage_free(struct args_pages *ap)
{
	unsigned int i;

	for (i = 0; i < ap->num_pages; i++)
		__free_page(ap->pages[i]);
	kfree(ap->pages);
}

struct dio_pages {
	struct page **pages;
	unsigned int num_pages;
};

// helper (not a case): user pages of direct I/O into dp->pages, the field's only source.
int dio_get_user_pages(struct dio_pages *dp, struct iov_iter *ii, size_t nbytes, unsigned int max_pages)
{
	size_t start;
	ssize_t ret;

	while (nbytes && dp->num_pages < max_pages) {
		ret = iov_iter_get_pages2(ii, &dp->pages[dp->num_pages], nbytes, max_pages - dp->num_pages,
					  &start);
		if (ret < 0)
			return ret;
		nbytes -= ret;
		dp->num_pages += (ret + start + 4095) / 4096;
	}
	return 0;
}

// CASE POSITIVE release-mismatch: mutation of fs/fuse/file.c:fuse_release_user_pages() in 6.1
// Only user pages ever go into dp->pages; handing them to the page allocator with
// __free_page() instead of dropping the references with put_page() is wrong.
void dio_release_pages(struct dio_pages *dp)
{
	unsigned int i;

	for (i = 0; i < dp->num_pages; i++)
		__free_page(dp->pages[i]);
	// CHECK-MESSAGES: :[[@LINE-1]]:{{[0-9]+}}: warning: {{.*}} [pageref-release-mismatch]
	kfree(dp->pages);
}
