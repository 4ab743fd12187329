// RUN: %check_pageref_tidy %s pageref-unbalanced-release,pageref-release-mismatch,pageref-async-bvec-drop %t -- -- -I%S/../include
// Family: drivers/block/loop.c (6.1): loop's direct-I/O path copies a multi-bio request's bvecs
// into a kmalloc'd cmd->bvec, submits an ITER_BVEC over it to the backing file's
// ->read_iter/->write_iter with an async kiocb (ki_complete = lo_rw_aio_complete), and frees
// the array when the last of two references (submitter, completion) is dropped.
#include <linux/mm.h>
#include <linux/slab.h>
#include <linux/uio.h>
#include <linux/fs.h>
#include <linux/bio.h>
#include <linux/blkdev.h>

struct loop_device { struct file *lo_backing_file; };
struct loop_cmd {
	atomic_t ref;
	long ret;
	struct kiocb iocb;
	struct bio_vec *bvec;
};
struct req_iterator { struct bvec_iter iter; struct bio *bio; };
#define rq_for_each_bvec(bvl, _rq, _iter) 	for ((_iter).bio = (_rq)->bio; (_iter).bio && ((bvl) = *(_iter).bio->bi_io_vec, 1); 	     (_iter).bio = (_iter).bio->bi_next)
struct bio_vec *__bvec_iter_bvec(struct bio_vec *bvec, struct bvec_iter iter);
bool blk_should_fake_timeout(struct request_queue *q);
u16 req_get_ioprio(struct request *req);

// helper (not a case), as in loop.c:lo_rw_aio_do_completion(): the last reference frees.
static void lo_rw_aio_do_completion(struct loop_cmd *cmd)
{
	struct request *rq = blk_mq_rq_from_pdu(cmd);

	if (!atomic_dec_and_test(&cmd->ref))
		return;
	kfree(cmd->bvec);
	cmd->bvec = NULL;
	if (likely(!blk_should_fake_timeout(rq->q)))
		blk_mq_complete_request(rq);
}

// helper (not a case), as in loop.c:lo_rw_aio_complete(): the kiocb's completion.
static void lo_rw_aio_complete(struct kiocb *iocb, long ret)
{
	struct loop_cmd *cmd = container_of(iocb, struct loop_cmd, iocb);

	cmd->ret = ret;
	lo_rw_aio_do_completion(cmd);
}

// CASE NEGATIVE async-bvec-drop: modelled on drivers/block/loop.c:lo_rw_aio() in 6.1
// cmd->ref starts at 2: the submitter's lo_rw_aio_do_completion() right after the call only
// drops its own reference, and the array is freed by whichever of submitter and completion
// comes last; lo_rw_aio_complete() is called here only when the result is not -EIOCBQUEUED.
// Correct code.
static int lo_rw_aio(struct loop_device *lo, struct loop_cmd *cmd, loff_t pos, int rw)
{
	struct iov_iter iter;
	struct req_iterator rq_iter;
	struct bio_vec *bvec;
	struct request *rq = blk_mq_rq_from_pdu(cmd);
	struct bio *bio = rq->bio;
	struct file *file = lo->lo_backing_file;
	struct bio_vec tmp;
	unsigned int offset;
	int nr_bvec = 0;
	int ret;

	rq_for_each_bvec(tmp, rq, rq_iter)
		nr_bvec++;

	if (rq->bio != rq->biotail) {
		bvec = kmalloc_array(nr_bvec, sizeof(struct bio_vec), GFP_NOIO);
		if (!bvec)
			return -EIO;
		cmd->bvec = bvec;

		rq_for_each_bvec(tmp, rq, rq_iter) {
			*bvec = tmp;
			bvec++;
		}
		bvec = cmd->bvec;
		offset = 0;
	} else {
		offset = bio->bi_iter.bi_bvec_done;
		bvec = __bvec_iter_bvec(bio->bi_io_vec, bio->bi_iter);
	}
	atomic_set(&cmd->ref, 2);

	iov_iter_bvec(&iter, rw, bvec, nr_bvec, blk_rq_bytes(rq));
	iter.iov_offset = offset;

	cmd->iocb.ki_pos = pos;
	cmd->iocb.ki_filp = file;
	cmd->iocb.ki_complete = lo_rw_aio_complete;
	cmd->iocb.ki_flags = IOCB_DIRECT;
	cmd->iocb.ki_ioprio = req_get_ioprio(rq);

	if (rw == ITER_SOURCE)
		ret = call_write_iter(file, &cmd->iocb, &iter);
	else
		ret = call_read_iter(file, &cmd->iocb, &iter);

	lo_rw_aio_do_completion(cmd);

	if (ret != -EIOCBQUEUED)
		lo_rw_aio_complete(&cmd->iocb, ret);
	return 0;
}

// CASE POSITIVE async-bvec-drop: mutation of drivers/block/loop.c:lo_rw_aio() in 6.1
// The reference counting replaced by a plain kfree() of the array right after the call:
// submitter and completion both drop it, and when the backing file queued the I/O
// (-EIOCBQUEUED) the direct-I/O code is still walking the freed bio_vec array.
static int lo_rw_aio_free_after_submit(struct loop_device *lo, struct loop_cmd *cmd, loff_t pos,
				       int rw)
{
	struct iov_iter iter;
	struct req_iterator rq_iter;
	struct bio_vec *bvec;
	struct request *rq = blk_mq_rq_from_pdu(cmd);
	struct file *file = lo->lo_backing_file;
	struct bio_vec tmp;
	int nr_bvec = 0;
	int ret;

	rq_for_each_bvec(tmp, rq, rq_iter)
		nr_bvec++;

	bvec = kmalloc_array(nr_bvec, sizeof(struct bio_vec), GFP_NOIO);
	if (!bvec)
		return -EIO;
	cmd->bvec = bvec;
	rq_for_each_bvec(tmp, rq, rq_iter) {
		*bvec = tmp;
		bvec++;
	}
	atomic_set(&cmd->ref, 1);

	iov_iter_bvec(&iter, rw, cmd->bvec, nr_bvec, blk_rq_bytes(rq));

	cmd->iocb.ki_pos = pos;
	cmd->iocb.ki_filp = file;
	cmd->iocb.ki_complete = lo_rw_aio_complete;
	cmd->iocb.ki_flags = IOCB_DIRECT;

	if (rw == ITER_SOURCE)
		ret = call_write_iter(file, &cmd->iocb, &iter);
	else
		ret = call_read_iter(file, &cmd->iocb, &iter);

	kfree(cmd->bvec);
	// CHECK-MESSAGES: :[[@LINE-1]]:{{[0-9]+}}: warning: {{.*}} [pageref-async-bvec-drop]

	if (ret != -EIOCBQUEUED)
		lo_rw_aio_complete(&cmd->iocb, ret);
	return 0;
}

// CASE POSITIVE async-bvec-drop: mutation of drivers/block/loop.c:lo_rw_aio() in 6.1
// An error shortcut frees the array when the call "failed": 'ret < 0' is also true for
// -EIOCBQUEUED, the normal result of a queued async direct I/O, so the array is freed under
// in-flight I/O (and again by the completion).
static int lo_rw_aio_err_free(struct loop_device *lo, struct loop_cmd *cmd, loff_t pos, int rw)
{
	struct iov_iter iter;
	struct req_iterator rq_iter;
	struct bio_vec *bvec;
	struct request *rq = blk_mq_rq_from_pdu(cmd);
	struct file *file = lo->lo_backing_file;
	struct bio_vec tmp;
	int nr_bvec = 0;
	int ret;

	rq_for_each_bvec(tmp, rq, rq_iter)
		nr_bvec++;

	bvec = kmalloc_array(nr_bvec, sizeof(struct bio_vec), GFP_NOIO);
	if (!bvec)
		return -EIO;
	cmd->bvec = bvec;
	rq_for_each_bvec(tmp, rq, rq_iter) {
		*bvec = tmp;
		bvec++;
	}
	atomic_set(&cmd->ref, 2);

	iov_iter_bvec(&iter, rw, cmd->bvec, nr_bvec, blk_rq_bytes(rq));

	cmd->iocb.ki_pos = pos;
	cmd->iocb.ki_filp = file;
	cmd->iocb.ki_complete = lo_rw_aio_complete;
	cmd->iocb.ki_flags = IOCB_DIRECT;

	if (rw == ITER_SOURCE)
		ret = call_write_iter(file, &cmd->iocb, &iter);
	else
		ret = call_read_iter(file, &cmd->iocb, &iter);

	if (ret < 0) {
		kfree(cmd->bvec);
		// CHECK-MESSAGES: :[[@LINE-1]]:{{[0-9]+}}: warning: {{.*}} [pageref-async-bvec-drop]
		cmd->bvec = NULL;
		cmd->ret = ret;
		blk_mq_complete_request(rq);
		return 0;
	}

	lo_rw_aio_do_completion(cmd);
	if (ret != -EIOCBQUEUED)
		lo_rw_aio_complete(&cmd->iocb, ret);
	return 0;
}
