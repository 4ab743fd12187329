// RUN: %check_pageref_tidy %s pageref-unbalanced-release,pageref-release-mismatch,pageref-async-bvec-drop %t -- -- -I%S/../include
// Family: synchronous ITER_BVEC writes (6.1): fs/coredump.c writes dump pages one at a time
// with __kernel_write_iter() (a sync kiocb inside), and fs/splice.c:iter_file_splice_write()
// writes a kcalloc'd bio_vec array over pipe buffers with vfs_iter_write(); last, a mutation that
// makes the splice write async.
#include <linux/mm.h>
#include <linux/slab.h>
#include <linux/uio.h>
#include <linux/fs.h>
#include <linux/bvec.h>
#include <linux/pipe_fs_i.h>

struct coredump_params { struct file *file; unsigned long limit; loff_t written; loff_t pos;
			 loff_t to_skip; };
struct page *get_dump_page(unsigned long addr);
bool __dump_skip(struct coredump_params *cprm, size_t nr);
bool dump_interrupted(void);

// CASE NEGATIVE async-bvec-drop: modelled on fs/coredump.c:dump_emit_page() in 6.1
// An on-stack bio_vec over the caller's page written synchronously; nothing owned is dropped.
static int dump_emit_page(struct coredump_params *cprm, struct page *page)
{
	struct bio_vec bvec = {
		.bv_page = page,
		.bv_offset = 0,
		.bv_len = PAGE_SIZE,
	};
	struct iov_iter iter;
	struct file *file = cprm->file;
	loff_t pos;
	ssize_t n;

	if (cprm->to_skip) {
		if (!__dump_skip(cprm, cprm->to_skip))
			return 0;
		cprm->to_skip = 0;
	}
	if (cprm->written + PAGE_SIZE > cprm->limit)
		return 0;
	if (dump_interrupted())
		return 0;
	pos = file->f_pos;
	iov_iter_bvec(&iter, ITER_SOURCE, &bvec, 1, PAGE_SIZE);
	n = __kernel_write_iter(cprm->file, &iter, &pos);
	if (n != PAGE_SIZE)
		return 0;
	file->f_pos = pos;
	cprm->written += PAGE_SIZE;
	cprm->pos += PAGE_SIZE;

	return 1;
}

// CASE NEGATIVE async-bvec-drop: modelled on fs/coredump.c:dump_user_range() in 6.1
// The reference from get_dump_page() is dropped after dump_emit_page() returns; the write was
// synchronous, so the page is no longer in use. Correct code.
int dump_user_range(struct coredump_params *cprm, unsigned long start, unsigned long len)
{
	unsigned long addr;

	for (addr = start; addr < start + len; addr += PAGE_SIZE) {
		struct page *page;

		page = get_dump_page(addr);
		if (page) {
			int stop = !dump_emit_page(cprm, page);
			put_page(page);
			if (stop)
				return 0;
		} else {
			cprm->to_skip += PAGE_SIZE;
		}
		cond_resched();
	}
	return 1;
}

struct splice_desc { size_t total_len; unsigned int flags; loff_t pos; size_t num_spliced;
		     bool need_wakeup; struct file *file; };
void pipe_lock(struct pipe_inode_info *pipe);
void pipe_unlock(struct pipe_inode_info *pipe);
void splice_from_pipe_begin(struct splice_desc *sd);
void splice_from_pipe_end(struct pipe_inode_info *pipe, struct splice_desc *sd);
int splice_from_pipe_next(struct pipe_inode_info *pipe, struct splice_desc *sd);
bool pipe_empty(unsigned int head, unsigned int tail);
int pipe_buf_confirm(struct pipe_inode_info *pipe, struct pipe_buffer *buf);
void pipe_buf_release(struct pipe_inode_info *pipe, struct pipe_buffer *buf);

// CASE NEGATIVE async-bvec-drop: modelled on fs/splice.c:iter_file_splice_write() in 6.1
// The function owns the kcalloc'd bio_vec array, but vfs_iter_write() is synchronous, so
// freeing (or reallocating) the array after the call is fine.
ssize_t iter_file_splice_write(struct pipe_inode_info *pipe, struct file *out, loff_t *ppos,
			       size_t len, unsigned int flags)
{
	struct splice_desc sd = {
		.total_len = len,
		.flags = flags,
		.pos = *ppos,
		.file = out,
	};
	int nbufs = pipe->max_usage;
	struct bio_vec *array = kcalloc(nbufs, sizeof(struct bio_vec), GFP_KERNEL);
	ssize_t ret;

	if (unlikely(!array))
		return -ENOMEM;

	pipe_lock(pipe);

	splice_from_pipe_begin(&sd);
	while (sd.total_len) {
		struct iov_iter from;
		unsigned int head, tail, mask;
		size_t left;
		int n;

		ret = splice_from_pipe_next(pipe, &sd);
		if (ret <= 0)
			break;

		if (unlikely(nbufs < pipe->max_usage)) {
			kfree(array);
			nbufs = pipe->max_usage;
			array = kcalloc(nbufs, sizeof(struct bio_vec), GFP_KERNEL);
			if (!array) {
				ret = -ENOMEM;
				break;
			}
		}

		head = pipe->head;
		tail = pipe->tail;
		mask = pipe->ring_size - 1;

		left = sd.total_len;
		for (n = 0; !pipe_empty(head, tail) && left && n < nbufs; tail++) {
			struct pipe_buffer *buf = &pipe->bufs[tail & mask];
			size_t this_len = buf->len;

			if (!this_len)
				continue;
			this_len = min(this_len, left);

			ret = pipe_buf_confirm(pipe, buf);
			if (unlikely(ret)) {
				if (ret == -ENODATA)
					ret = 0;
				goto done;
			}

			array[n].bv_page = buf->page;
			array[n].bv_len = this_len;
			array[n].bv_offset = buf->offset;
			left -= this_len;
			n++;
		}

		iov_iter_bvec(&from, ITER_SOURCE, array, n, sd.total_len - left);
		ret = vfs_iter_write(out, &from, &sd.pos, 0);
		if (ret <= 0)
			break;

		sd.num_spliced += ret;
		sd.total_len -= ret;
		*ppos = sd.pos;

		tail = pipe->tail;
		while (ret) {
			struct pipe_buffer *buf = &pipe->bufs[tail & mask];
			if (ret >= buf->len) {
				ret -= buf->len;
				buf->len = 0;
				pipe_buf_release(pipe, buf);
				tail++;
				pipe->tail = tail;
			} else {
				buf->offset += ret;
				buf->len -= ret;
				ret = 0;
			}
		}
	}
done:
	kfree(array);
	splice_from_pipe_end(pipe, &sd);

	pipe_unlock(pipe);

	if (sd.num_spliced)
		ret = sd.num_spliced;

	return ret;
}

void splice_write_done(struct kiocb *iocb, long ret);

// CASE POSITIVE async-bvec-drop: mutation of fs/splice.c:iter_file_splice_write() in 6.1
// The write goes straight to ->write_iter() with a kiocb that starts as init_sync_kiocb() but
// then gets ki_complete = splice_write_done (and IOCB_DIRECT): the call may return
// -EIOCBQUEUED, and the loop then frees the bio_vec array at 'done' (ret < 0 breaks out) while
// the write still reads it.
ssize_t iter_file_splice_write_aio(struct pipe_inode_info *pipe, struct file *out, loff_t *ppos,
				   size_t len, unsigned int flags)
{
	struct splice_desc sd = {
		.total_len = len,
		.flags = flags,
		.pos = *ppos,
		.file = out,
	};
	int nbufs = pipe->max_usage;
	struct bio_vec *array = kcalloc(nbufs, sizeof(struct bio_vec), GFP_KERNEL);
	struct kiocb kiocb;
	ssize_t ret;

	if (unlikely(!array))
		return -ENOMEM;

	pipe_lock(pipe);

	splice_from_pipe_begin(&sd);
	while (sd.total_len) {
		struct iov_iter from;
		unsigned int head, tail, mask;
		size_t left;
		int n;

		ret = splice_from_pipe_next(pipe, &sd);
		if (ret <= 0)
			break;

		head = pipe->head;
		tail = pipe->tail;
		mask = pipe->ring_size - 1;

		left = sd.total_len;
		for (n = 0; !pipe_empty(head, tail) && left && n < nbufs; tail++) {
			struct pipe_buffer *buf = &pipe->bufs[tail & mask];
			size_t this_len = buf->len;

			if (!this_len)
				continue;
			this_len = min(this_len, left);

			array[n].bv_page = buf->page;
			array[n].bv_len = this_len;
			array[n].bv_offset = buf->offset;
			left -= this_len;
			n++;
		}

		iov_iter_bvec(&from, ITER_SOURCE, array, n, sd.total_len - left);
		init_sync_kiocb(&kiocb, out);
		kiocb.ki_pos = sd.pos;
		kiocb.ki_flags |= IOCB_DIRECT;
		kiocb.ki_complete = splice_write_done;
		ret = call_write_iter(out, &kiocb, &from);
		if (ret <= 0)
			break;

		sd.num_spliced += ret;
		sd.total_len -= ret;
		sd.pos += ret;
		*ppos = sd.pos;
	}
	kfree(array);
	// CHECK-MESSAGES: :[[@LINE-1]]:{{[0-9]+}}: warning: {{.*}} [pageref-async-bvec-drop]
	splice_from_pipe_end(pipe, &sd);

	pipe_unlock(pipe);

	if (sd.num_spliced)
		ret = sd.num_spliced;

	return ret;
}
