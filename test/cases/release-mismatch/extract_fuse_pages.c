// RUN: %check_pageref_tidy %s pageref-unbalanced-release,pageref-release-mismatch,pageref-async-bvec-drop %t -- -- -I%S/../include
// Family: fs/fuse/file.c (6.12): FUSE direct I/O extracts the user's pages into ap->pages with
// iov_iter_extract_pages() and stores iov_iter_extract_will_pin(ii) in ap->args.is_pinned;
// fuse_release_user_pages() unpins only when that field says so. The iterator can be a KVEC
// (virtio-fs asks for pages for kernel I/O: use_pages_for_kvec_io), whose pages are not pinned.
#define CASES_6_12
#include <linux/mm.h>
#include <linux/uio.h>

struct fuse_arg { unsigned size; void *value; };
struct fuse_page_desc { unsigned int length; unsigned int offset; };
struct fuse_args {
	struct fuse_arg in_args[3];
	struct fuse_arg out_args[2];
	bool user_pages:1;
	bool in_pages:1;
	bool out_pages:1;
	bool is_pinned:1;
	bool invalidate_vmap:1;
	void *vmap_base;
};
struct fuse_args_pages {
	struct fuse_args args;
	struct page **pages;
	struct fuse_page_desc *descs;
	unsigned int num_pages;
};
unsigned long fuse_get_user_addr(const struct iov_iter *ii);
size_t fuse_get_frag_size(const struct iov_iter *ii, size_t max_size);
void fuse_page_descs_length_init(struct fuse_page_desc *descs, unsigned int index,
				 unsigned int nr_pages);
bool is_vmalloc_addr(const void *x);
void flush_kernel_vmap_range(void *vaddr, int size);
void invalidate_kernel_vmap_range(void *vaddr, int size);

// CASE NEGATIVE release-mismatch: modelled on fs/fuse/file.c:fuse_get_user_pages() in 6.12
// Extracted pages accumulate in ap->pages / ap->num_pages (the request owns them) and the
// will-pin answer for this very iterator is stored in ap->args.is_pinned. No release here.
static int fuse_get_user_pages(struct fuse_args_pages *ap, struct iov_iter *ii, size_t *nbytesp,
			       int write, unsigned int max_pages, bool use_pages_for_kvec_io)
{
	bool flush_or_invalidate = false;
	size_t nbytes = 0;
	ssize_t ret = 0;

	if (iov_iter_is_kvec(ii)) {
		void *user_addr = (void *)fuse_get_user_addr(ii);

		if (!use_pages_for_kvec_io) {
			size_t frag_size = fuse_get_frag_size(ii, *nbytesp);

			if (write)
				ap->args.in_args[1].value = user_addr;
			else
				ap->args.out_args[0].value = user_addr;

			iov_iter_advance(ii, frag_size);
			*nbytesp = frag_size;
			return 0;
		}

		if (is_vmalloc_addr(user_addr)) {
			ap->args.vmap_base = user_addr;
			flush_or_invalidate = true;
		}
	}

	while (nbytes < *nbytesp && ap->num_pages < max_pages) {
		unsigned npages;
		size_t start;
		struct page **pt_pages;

		pt_pages = &ap->pages[ap->num_pages];
		ret = iov_iter_extract_pages(ii, &pt_pages, *nbytesp - nbytes,
					     max_pages - ap->num_pages, 0, &start);
		if (ret < 0)
			break;

		nbytes += ret;

		ret += start;
		npages = DIV_ROUND_UP(ret, PAGE_SIZE);

		ap->descs[ap->num_pages].offset = start;
		fuse_page_descs_length_init(ap->descs, ap->num_pages, npages);

		ap->num_pages += npages;
		ap->descs[ap->num_pages - 1].length -= (PAGE_SIZE - ret) & (PAGE_SIZE - 1);
	}

	if (write && flush_or_invalidate)
		flush_kernel_vmap_range(ap->args.vmap_base, nbytes);

	ap->args.invalidate_vmap = !write && flush_or_invalidate;
	ap->args.is_pinned = iov_iter_extract_will_pin(ii);
	ap->args.user_pages = true;
	if (write)
		ap->args.in_pages = true;
	else
		ap->args.out_pages = true;

	*nbytesp = nbytes;

	return ret < 0 ? ret : 0;
}

// CASE NEGATIVE release-mismatch: modelled on fs/fuse/file.c:fuse_release_user_pages() in 6.12
// Unpins only when ap->args.is_pinned (the stored will-pin answer). Correct code.
static void fuse_release_user_pages(struct fuse_args_pages *ap, ssize_t nres, bool should_dirty)
{
	unsigned int i;

	for (i = 0; i < ap->num_pages; i++) {
		if (should_dirty)
			set_page_dirty_lock(ap->pages[i]);
		if (ap->args.is_pinned)
			unpin_user_page(ap->pages[i]);
	}

	if (nres > 0 && ap->args.invalidate_vmap)
		invalidate_kernel_vmap_range(ap->args.vmap_base, nres);
}

// CASE POSITIVE release-mismatch: mutation of fs/fuse/file.c:fuse_release_user_pages() in 6.12
// The is_pinned test is gone: for a KVEC iterator (virtio-fs kernel I/O through
// fuse_get_user_pages() with use_pages_for_kvec_io) the pages were only listed, and unpinning
// them drops pins nobody took.
static void fuse_release_user_pages_unpin_all(struct fuse_args_pages *ap, ssize_t nres,
					      bool should_dirty)
{
	unsigned int i;

	for (i = 0; i < ap->num_pages; i++) {
		if (should_dirty)
			set_page_dirty_lock(ap->pages[i]);
		unpin_user_page(ap->pages[i]);
		// CHECK-MESSAGES: :[[@LINE-1]]:{{[0-9]+}}: warning: {{.*}} [pageref-release-mismatch]
	}

	if (nres > 0 && ap->args.invalidate_vmap)
		invalidate_kernel_vmap_range(ap->args.vmap_base, nres);
}
