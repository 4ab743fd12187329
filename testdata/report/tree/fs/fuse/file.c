// SPDX-License-Identifier: GPL-2.0
/*
 * FUSE: Filesystem in Userspace (excerpt for pageref's report tests)
 */

#include "fuse_i.h"

static void fuse_release_user_pages(struct fuse_args_pages *ap,
				    bool should_dirty)
{
	unsigned int i;

	for (i = 0; i < ap->num_pages; i++) {
		if (should_dirty)
			set_page_dirty_lock(ap->pages[i]);
		put_page(ap->pages[i]);
	}
}

static int fuse_get_user_pages(struct fuse_args_pages *ap, struct iov_iter *ii,
			       size_t *nbytesp, int write,
			       unsigned int max_pages)
{
	size_t nbytes = 0;
	ssize_t ret = 0;

	while (nbytes < *nbytesp && ap->num_pages < max_pages) {
		unsigned npages;
		size_t start;
		ret = iov_iter_get_pages2(ii, &ap->pages[ap->num_pages],
					*nbytesp - nbytes,
					max_pages - ap->num_pages,
					&start);
		if (ret < 0)
			break;

		nbytes += ret;
		npages = DIV_ROUND_UP(ret, PAGE_SIZE);
		ap->num_pages += npages;
	}
	*nbytesp = nbytes;
	return ret < 0 ? ret : 0;
}

static ssize_t fuse_direct_io(struct fuse_io_priv *io, struct iov_iter *iter,
			      loff_t *ppos, int flags)
{
	struct fuse_args_pages *ap = &io->ap;
	size_t nbytes = iov_iter_count(iter);
	int err;

	err = fuse_get_user_pages(ap, iter, &nbytes, flags & FUSE_DIO_WRITE,
				  FUSE_MAX_PAGES_PER_REQ);
	if (!err)
		err = fuse_send_pages(io, ap, nbytes);
	fuse_release_user_pages(ap, !(flags & FUSE_DIO_WRITE));
	return err;
}
