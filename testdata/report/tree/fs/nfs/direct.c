// SPDX-License-Identifier: GPL-2.0-only
/*
 * linux/fs/nfs/direct.c (excerpt for pageref's report tests)
 */

#include <linux/nfs_fs.h>

static void nfs_direct_release_pages(struct page **pages, unsigned int npages)
{
	unsigned int i;
	for (i = 0; i < npages; i++)
		put_page(pages[i]);
}

static ssize_t nfs_direct_read_schedule_iovec(struct nfs_direct_req *dreq,
					      struct iov_iter *iter,
					      loff_t pos)
{
	struct nfs_pageio_descriptor desc;
	ssize_t result = -EINVAL;
	size_t requested_bytes = 0;
	size_t rsize = max_t(size_t, NFS_SERVER(dreq->inode)->rsize, PAGE_SIZE);

	while (iov_iter_count(iter)) {
		struct page **pagevec;
		size_t bytes;
		size_t pgbase;
		unsigned npages, i;

		result = iov_iter_get_pages_alloc2(iter, &pagevec,
						  rsize, &pgbase);
		if (result < 0)
			break;

		bytes = result;
		npages = (result + pgbase + PAGE_SIZE - 1) / PAGE_SIZE;
		for (i = 0; i < npages; i++) {
			struct nfs_page *req;
			req = nfs_create_request(dreq->ctx, pagevec[i],
						 pgbase, pos, bytes);
			if (IS_ERR(req)) {
				result = PTR_ERR(req);
				break;
			}
			if (!nfs_pageio_add_request(&desc, req)) {
				result = desc.pg_error;
				nfs_release_request(req);
				break;
			}
			pgbase = 0;
			bytes -= req->wb_bytes;
			requested_bytes += req->wb_bytes;
			pos += req->wb_bytes;
		}
		if (result < 0)
			return result;
		nfs_direct_release_pages(pagevec, npages);
		kvfree(pagevec);
	}
	return requested_bytes;
}
