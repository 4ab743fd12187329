// RUN: %check_pageref_tidy %s pageref-unbalanced-release,pageref-release-mismatch,pageref-async-bvec-drop %t -- -- -I%S/../include
// Family: fs/fuse/dev.c (6.1): the FUSE device copy state keeps the page it is copying through
// in cs->pg; fuse_copy_finish() puts it before the next page is taken.
#include <linux/mm.h>
#include <linux/uio.h>
#include <linux/pipe_fs_i.h>

struct fuse_req;
struct fuse_copy_state {
	int write;
	struct fuse_req *req;
	struct iov_iter *iter;
	struct pipe_buffer *pipebufs;
	struct pipe_buffer *currbuf;
	struct pipe_inode_info *pipe;
	unsigned long nr_segs;
	struct page *pg;
	unsigned len;
	unsigned offset;
	unsigned move_pages:1;
};
int unlock_request(struct fuse_req *req);
int lock_request(struct fuse_req *req);
int pipe_buf_confirm(struct pipe_inode_info *pipe, struct pipe_buffer *buf);

// helper (not a case), as in dev.c:fuse_copy_finish(): puts the page the state holds.
static void fuse_copy_finish(struct fuse_copy_state *cs)
{
	if (cs->currbuf) {
		struct pipe_buffer *buf = cs->currbuf;

		if (cs->write)
			buf->len = PAGE_SIZE - cs->len;
		cs->currbuf = NULL;
	} else if (cs->pg) {
		if (cs->write) {
			flush_dcache_page(cs->pg);
			set_page_dirty_lock(cs->pg);
		}
		put_page(cs->pg);
	}
	cs->pg = NULL;
}

// CASE NEGATIVE unbalanced-release: modelled on fs/fuse/dev.c:fuse_copy_fill() in 6.1
// The single page from iov_iter_get_pages2(..., 1, ...) is stored in cs->pg, which the copy
// state owns: the next fuse_copy_fill() or the final fuse_copy_finish() puts it, also when
// lock_request() fails afterwards. A negative result took nothing. Correct code.
static int fuse_copy_fill(struct fuse_copy_state *cs)
{
	struct page *page;
	int err;

	err = unlock_request(cs->req);
	if (err)
		return err;

	fuse_copy_finish(cs);
	if (cs->pipebufs) {
		struct pipe_buffer *buf = cs->pipebufs;

		if (!cs->write) {
			err = pipe_buf_confirm(cs->pipe, buf);
			if (err)
				return err;

			BUG_ON(!cs->nr_segs);
			cs->currbuf = buf;
			cs->pg = buf->page;
			cs->offset = buf->offset;
			cs->len = buf->len;
			cs->pipebufs++;
			cs->nr_segs--;
		} else {
			if (cs->nr_segs >= cs->pipe->max_usage)
				return -EIO;

			page = alloc_page(GFP_HIGHUSER);
			if (!page)
				return -ENOMEM;

			buf->page = page;
			buf->offset = 0;
			buf->len = 0;

			cs->currbuf = buf;
			cs->pg = page;
			cs->offset = 0;
			cs->len = PAGE_SIZE;
			cs->pipebufs++;
			cs->nr_segs++;
		}
	} else {
		size_t off;
		err = iov_iter_get_pages2(cs->iter, &page, PAGE_SIZE, 1, &off);
		if (err < 0)
			return err;
		BUG_ON(!err);
		cs->len = err;
		cs->offset = off;
		cs->pg = page;
	}

	return lock_request(cs->req);
}

// CASE POSITIVE unbalanced-release: mutation of fs/fuse/dev.c:fuse_copy_fill() in 6.1
// A check of the offset returned by the get added before the page is stored in cs->pg: the
// early return leaves the page referenced and unreachable (cs->pg still NULL).
static int fuse_copy_fill_bad_offset(struct fuse_copy_state *cs)
{
	struct page *page;
	size_t off;
	int err;

	err = unlock_request(cs->req);
	if (err)
		return err;

	fuse_copy_finish(cs);
	err = iov_iter_get_pages2(cs->iter, &page, PAGE_SIZE, 1, &off);
	if (err < 0)
		return err;
	BUG_ON(!err);
	if (off + err > PAGE_SIZE)
		return -EIO;
		// CHECK-MESSAGES: :[[@LINE-1]]:{{[0-9]+}}: warning: {{.*}} [pageref-unbalanced-release]
	cs->len = err;
	cs->offset = off;
	cs->pg = page;

	return lock_request(cs->req);
}
