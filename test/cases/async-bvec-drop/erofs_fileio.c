// RUN: %check_pageref_tidy %s pageref-unbalanced-release,pageref-release-mismatch,pageref-async-bvec-drop %t -- -- -I%S/../include
// Family: fs/erofs/fileio.c (6.12): file-backed EROFS reads a bio's worth of folios by
// submitting an ITER_BVEC over rq->bvecs (embedded in the kzalloc'd request) to
// vfs_iocb_iter_read() with ki_complete = erofs_fileio_ki_complete; the request holds two
// references, one dropped by the submitter, one by the completion.
#define CASES_6_12
#include <linux/mm.h>
#include <linux/slab.h>
#include <linux/uio.h>
#include <linux/fs.h>
#include <linux/bio.h>
#include <linux/refcount.h>

#define SECTOR_SHIFT 9
#define FMODE_CAN_ODIRECT 0x400000
struct super_block;
struct erofs_fileio_rq {
	struct bio_vec bvecs[BIO_MAX_VECS];
	struct bio bio;
	struct kiocb iocb;
	struct super_block *sb;
	refcount_t ref;
};
bool erofs_direct_io_enabled(struct super_block *sb);
void erofs_fileio_end_folios(struct bio *bio, int err);
blk_status_t errno_to_blk_status(int errno);

// helper (not a case), as in fileio.c:erofs_fileio_ki_complete(): drops the completion's ref.
static void erofs_fileio_ki_complete(struct kiocb *iocb, long ret)
{
	struct erofs_fileio_rq *rq = container_of(iocb, struct erofs_fileio_rq, iocb);

	if (ret >= 0 && ret != rq->bio.bi_iter.bi_size)
		ret = -EIO;
	if (!rq->bio.bi_end_io)
		erofs_fileio_end_folios(&rq->bio, ret < 0);
	else if (ret < 0 && !rq->bio.bi_status)
		rq->bio.bi_status = errno_to_blk_status(ret);
	bio_endio(&rq->bio);
	bio_uninit(&rq->bio);
	if (refcount_dec_and_test(&rq->ref))
		kfree(rq);
}

// CASE NEGATIVE async-bvec-drop: modelled on fs/erofs/fileio.c:erofs_fileio_rq_submit() in 6.12
// rq (and the bvecs in it) has two references (erofs_fileio_rq_alloc() sets 2): the submitter
// drops only its own with refcount_dec_and_test(), so the array outlives an in-flight read;
// the completion is called here only when the result is not -EIOCBQUEUED. Correct code.
static void erofs_fileio_rq_submit(struct erofs_fileio_rq *rq)
{
	struct iov_iter iter;
	ssize_t ret;

	if (!rq)
		return;
	rq->iocb.ki_pos = rq->bio.bi_iter.bi_sector << SECTOR_SHIFT;
	rq->iocb.ki_ioprio = get_current_ioprio();
	rq->iocb.ki_complete = erofs_fileio_ki_complete;
	if (erofs_direct_io_enabled(rq->sb) && rq->iocb.ki_filp->f_mode & FMODE_CAN_ODIRECT)
		rq->iocb.ki_flags = IOCB_DIRECT;
	iov_iter_bvec(&iter, ITER_DEST, rq->bvecs, rq->bio.bi_vcnt, rq->bio.bi_iter.bi_size);
	ret = vfs_iocb_iter_read(rq->iocb.ki_filp, &rq->iocb, &iter);
	if (ret != -EIOCBQUEUED)
		erofs_fileio_ki_complete(&rq->iocb, ret);
	if (refcount_dec_and_test(&rq->ref))
		kfree(rq);
}

// CASE POSITIVE async-bvec-drop: mutation of fs/erofs/fileio.c:erofs_fileio_rq_submit() in 6.12
// The submitter's refcount_dec_and_test() replaced by a plain kfree(rq): submitter and
// completion both drop, and after -EIOCBQUEUED the read still fills rq->bvecs' pages through
// the freed request.
static void erofs_fileio_rq_submit_free(struct erofs_fileio_rq *rq)
{
	struct iov_iter iter;
	ssize_t ret;

	if (!rq)
		return;
	rq->iocb.ki_pos = rq->bio.bi_iter.bi_sector << SECTOR_SHIFT;
	rq->iocb.ki_ioprio = get_current_ioprio();
	rq->iocb.ki_complete = erofs_fileio_ki_complete;
	rq->iocb.ki_flags = IOCB_DIRECT;
	iov_iter_bvec(&iter, ITER_DEST, rq->bvecs, rq->bio.bi_vcnt, rq->bio.bi_iter.bi_size);
	ret = vfs_iocb_iter_read(rq->iocb.ki_filp, &rq->iocb, &iter);
	if (ret != -EIOCBQUEUED)
		erofs_fileio_ki_complete(&rq->iocb, ret);
	kfree(rq);
	// CHECK-MESSAGES: :[[@LINE-1]]:{{[0-9]+}}: warning: {{.*}} [pageref-async-bvec-drop]
}

// helper (not a case), as in fileio.c:erofs_fileio_rq_alloc().
static struct erofs_fileio_rq *erofs_fileio_rq_alloc(struct file *file, struct super_block *sb)
{
	struct erofs_fileio_rq *rq = kzalloc(sizeof(*rq), GFP_KERNEL);

	if (!rq)
		return NULL;
	bio_init(&rq->bio, NULL, rq->bvecs, BIO_MAX_VECS, REQ_OP_READ);
	rq->iocb.ki_filp = file;
	rq->sb = sb;
	refcount_set(&rq->ref, 2);
	return rq;
}
