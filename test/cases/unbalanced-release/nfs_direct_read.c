// RUN: %check_pageref_tidy %s pageref-unbalanced-release,pageref-release-mismatch,pageref-async-bvec-drop %t -- -- -I%S/../include
// Family: fs/nfs/direct.c (6.1): O_DIRECT reads take page references with
// iov_iter_get_pages_alloc2(), wrap each page in an nfs_page (nfs_create_request() takes its
// own reference) and then put their own references on every page of the vector.
#include <linux/mm.h>
#include <linux/slab.h>
#include <linux/uio.h>
#include <linux/fs.h>

struct nfs_server { unsigned int rsize; };
struct nfs_open_context;
struct nfs_page { pgoff_t wb_index; unsigned int wb_offset; };
struct nfs_direct_req {
	struct inode *inode;
	struct nfs_open_context *ctx;
	ssize_t bytes_left;
};
struct nfs_pageio_descriptor { int pg_error; struct nfs_direct_req *pg_dreq; };
struct nfs_pgio_completion_ops;
extern const struct nfs_pgio_completion_ops nfs_direct_read_completion_ops;
struct nfs_server *NFS_SERVER(const struct inode *inode);
void nfs_pageio_init_read(struct nfs_pageio_descriptor *pgio, struct inode *inode,
			  bool force_mds, const struct nfs_pgio_completion_ops *compl_ops);
struct nfs_page *nfs_create_request(struct nfs_open_context *ctx, struct page *page,
				    unsigned int offset, unsigned int count);
int nfs_pageio_add_request(struct nfs_pageio_descriptor *desc, struct nfs_page *req);
void nfs_release_request(struct nfs_page *req);
void nfs_pageio_complete(struct nfs_pageio_descriptor *desc);
void get_dreq(struct nfs_direct_req *dreq);
int put_dreq(struct nfs_direct_req *dreq);
void nfs_direct_complete(struct nfs_direct_req *dreq);
void nfs_direct_req_release(struct nfs_direct_req *dreq);
void inode_dio_begin(struct inode *inode);
void inode_dio_end(struct inode *inode);

// helper (not a case), as in direct.c:nfs_direct_release_pages().
static void nfs_direct_release_pages(struct page **pages, unsigned int npages)
{
	unsigned int i;
	for (i = 0; i < npages; i++)
		put_page(pages[i]);
}

// CASE NEGATIVE unbalanced-release: modelled on fs/nfs/direct.c:nfs_direct_read_schedule_iovec() in 6.1
// nfs_create_request() takes its own reference on each page, so the function puts all npages
// of its own references after the inner loop, whether it completed or broke out; a negative
// result left nothing (alloc2 freed its array). Correct code.
static ssize_t nfs_direct_read_schedule_iovec(struct nfs_direct_req *dreq, struct iov_iter *iter,
					      loff_t pos)
{
	struct nfs_pageio_descriptor desc;
	struct inode *inode = dreq->inode;
	ssize_t result = -EINVAL;
	size_t requested_bytes = 0;
	size_t rsize = max_t(size_t, NFS_SERVER(inode)->rsize, PAGE_SIZE);

	nfs_pageio_init_read(&desc, dreq->inode, false, &nfs_direct_read_completion_ops);
	get_dreq(dreq);
	desc.pg_dreq = dreq;
	inode_dio_begin(inode);

	while (iov_iter_count(iter)) {
		struct page **pagevec;
		size_t bytes;
		size_t pgbase;
		unsigned npages, i;

		result = iov_iter_get_pages_alloc2(iter, &pagevec, rsize, &pgbase);
		if (result < 0)
			break;

		bytes = result;
		npages = (result + pgbase + PAGE_SIZE - 1) / PAGE_SIZE;
		for (i = 0; i < npages; i++) {
			struct nfs_page *req;
			unsigned int req_len = min_t(size_t, bytes, PAGE_SIZE - pgbase);

			req = nfs_create_request(dreq->ctx, pagevec[i], pgbase, req_len);
			if (IS_ERR(req)) {
				result = PTR_ERR(req);
				break;
			}
			req->wb_index = pos >> PAGE_SHIFT;
			req->wb_offset = pos & ~PAGE_MASK;
			if (!nfs_pageio_add_request(&desc, req)) {
				result = desc.pg_error;
				nfs_release_request(req);
				break;
			}
			pgbase = 0;
			bytes -= req_len;
			requested_bytes += req_len;
			pos += req_len;
			dreq->bytes_left -= req_len;
		}
		nfs_direct_release_pages(pagevec, npages);
		kvfree(pagevec);
		if (result < 0)
			break;
	}

	nfs_pageio_complete(&desc);

	if (requested_bytes == 0) {
		inode_dio_end(inode);
		nfs_direct_req_release(dreq);
		return result < 0 ? result : -EIO;
	}

	if (put_dreq(dreq))
		nfs_direct_complete(dreq);
	return requested_bytes;
}

// CASE POSITIVE unbalanced-release: mutation of fs/nfs/direct.c:nfs_direct_read_schedule_iovec() in 6.1
// An nfs_create_request() failure frees the page vector and leaves the function directly,
// skipping nfs_direct_release_pages(): every page of this vector keeps the reference
// iov_iter_get_pages_alloc2() took (the requests made so far hold their own).
static ssize_t nfs_direct_read_schedule_iovec_req_fail(struct nfs_direct_req *dreq,
						       struct iov_iter *iter, loff_t pos)
{
	struct nfs_pageio_descriptor desc;
	struct inode *inode = dreq->inode;
	ssize_t result = -EINVAL;
	size_t requested_bytes = 0;
	size_t rsize = max_t(size_t, NFS_SERVER(inode)->rsize, PAGE_SIZE);

	nfs_pageio_init_read(&desc, dreq->inode, false, &nfs_direct_read_completion_ops);
	get_dreq(dreq);
	desc.pg_dreq = dreq;
	inode_dio_begin(inode);

	while (iov_iter_count(iter)) {
		struct page **pagevec;
		size_t bytes;
		size_t pgbase;
		unsigned npages, i;

		result = iov_iter_get_pages_alloc2(iter, &pagevec, rsize, &pgbase);
		if (result < 0)
			break;

		bytes = result;
		npages = (result + pgbase + PAGE_SIZE - 1) / PAGE_SIZE;
		for (i = 0; i < npages; i++) {
			struct nfs_page *req;
			unsigned int req_len = min_t(size_t, bytes, PAGE_SIZE - pgbase);

			req = nfs_create_request(dreq->ctx, pagevec[i], pgbase, req_len);
			if (IS_ERR(req)) {
				result = PTR_ERR(req);
				kvfree(pagevec);
				goto out;
			}
			req->wb_index = pos >> PAGE_SHIFT;
			req->wb_offset = pos & ~PAGE_MASK;
			if (!nfs_pageio_add_request(&desc, req)) {
				result = desc.pg_error;
				nfs_release_request(req);
				break;
			}
			pgbase = 0;
			bytes -= req_len;
			requested_bytes += req_len;
			pos += req_len;
		}
		nfs_direct_release_pages(pagevec, npages);
		kvfree(pagevec);
		if (result < 0)
			break;
	}

out:
	nfs_pageio_complete(&desc);

	if (requested_bytes == 0) {
		inode_dio_end(inode);
		nfs_direct_req_release(dreq);
		return result < 0 ? result : -EIO;
		// CHECK-MESSAGES: :[[@LINE-1]]:{{[0-9]+}}: warning: {{.*}} [pageref-unbalanced-release]
	}

	if (put_dreq(dreq))
		nfs_direct_complete(dreq);
	return requested_bytes;
}
