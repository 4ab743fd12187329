// RUN: %check_pageref_tidy %s pageref-unbalanced-release,pageref-release-mismatch,pageref-async-bvec-drop %t -- -- -I%S/../include
// Family: drivers/nvme/target/io-cmd-file.c (6.1): the NVMe target's file backend fills
// req->f.bvec from the request's scatterlist, submits an ITER_BVEC over it through the
// backing file's read_iter/write_iter (nvmet_file_submit_bvec()) with an async kiocb
// (ki_complete = nvmet_file_io_done, set in nvmet_file_execute_io()), and frees the array in
// nvmet_file_io_done().
#include <linux/mm.h>
#include <linux/slab.h>
#include <linux/uio.h>
#include <linux/fs.h>
#include <linux/bvec.h>
#include <linux/scatterlist.h>
#include <linux/string.h>

#define NVMET_MAX_MPOOL_BVEC 16
#define NVME_SC_SUCCESS 0
#define NVME_RW_FUA (1 << 14)
enum { nvme_cmd_write = 0x01, nvme_cmd_read = 0x02 };
struct nvme_rw_command { u8 opcode; u16 control; u64 slba; };
struct nvme_command { struct nvme_rw_command rw; };
struct nvmet_ns { struct file *file; u8 blksize_shift; loff_t size; void *bvec_pool; };
struct nvmet_req {
	struct nvme_command *cmd;
	struct nvmet_ns *ns;
	struct scatterlist *sg;
	int sg_cnt;
	size_t transfer_len;
	struct bio_vec inline_bvec[8];
	struct {
		struct kiocb iocb;
		struct bio_vec *bvec;
		bool mpool_alloc;
	} f;
};
u16 errno_to_nvme_status(struct nvmet_req *req, int errno);
void nvmet_req_complete(struct nvmet_req *req, u16 status);
void mempool_free(void *element, void *pool);
u64 le64_to_cpu(u64 x);
u16 cpu_to_le16(u16 x);

// CASE NEGATIVE async-bvec-drop: modelled on drivers/nvme/target/io-cmd-file.c:nvmet_file_submit_bvec() in 6.1
// Builds the ITER_BVEC over req->f.bvec and submits it through the f_op pointer; it drops
// nothing. Correct code.
static ssize_t nvmet_file_submit_bvec(struct nvmet_req *req, loff_t pos, unsigned long nr_segs,
				      size_t count, int ki_flags)
{
	struct kiocb *iocb = &req->f.iocb;
	ssize_t (*call_iter)(struct kiocb *iocb, struct iov_iter *iter);
	struct iov_iter iter;
	int rw;

	if (req->cmd->rw.opcode == nvme_cmd_write) {
		if (req->cmd->rw.control & cpu_to_le16(NVME_RW_FUA))
			ki_flags |= IOCB_DSYNC;
		call_iter = req->ns->file->f_op->write_iter;
		rw = ITER_SOURCE;
	} else {
		call_iter = req->ns->file->f_op->read_iter;
		rw = ITER_DEST;
	}

	iov_iter_bvec(&iter, rw, req->f.bvec, nr_segs, count);

	iocb->ki_pos = pos;
	iocb->ki_filp = req->ns->file;
	iocb->ki_flags = ki_flags | iocb->ki_filp->f_iocb_flags;

	return call_iter(iocb, &iter);
}

// helper (not a case), as in io-cmd-file.c:nvmet_file_io_done(): the completion frees the array.
static void nvmet_file_io_done(struct kiocb *iocb, long ret)
{
	struct nvmet_req *req = container_of(iocb, struct nvmet_req, f.iocb);
	u16 status = NVME_SC_SUCCESS;

	if (req->f.bvec != req->inline_bvec) {
		if (likely(req->f.mpool_alloc == false))
			kfree(req->f.bvec);
		else
			mempool_free(req->f.bvec, req->ns->bvec_pool);
	}

	if (unlikely(ret != req->transfer_len))
		status = errno_to_nvme_status(req, ret);
	nvmet_req_complete(req, status);
}

// CASE NEGATIVE async-bvec-drop: modelled on drivers/nvme/target/io-cmd-file.c:nvmet_file_execute_io() in 6.1
// The array is freed only by nvmet_file_io_done(): called here at 'complete', which the
// -EIOCBQUEUED case never reaches (it returns); otherwise by the kiocb's completion. The
// mempool batches before it are submitted with ki_complete still NULL (memset), i.e. sync.
// Correct code.
static bool nvmet_file_execute_io(struct nvmet_req *req, int ki_flags)
{
	ssize_t nr_bvec = req->sg_cnt;
	unsigned long bv_cnt = 0;
	bool is_sync = false;
	size_t len = 0, total_len = 0;
	ssize_t ret = 0;
	loff_t pos;
	int i;
	struct scatterlist *sg;

	if (req->f.mpool_alloc && nr_bvec > NVMET_MAX_MPOOL_BVEC)
		is_sync = true;

	pos = le64_to_cpu(req->cmd->rw.slba) << req->ns->blksize_shift;
	if (unlikely(pos + req->transfer_len > req->ns->size)) {
		nvmet_req_complete(req, errno_to_nvme_status(req, -ENOSPC));
		return true;
	}

	memset(&req->f.iocb, 0, sizeof(struct kiocb));
	for_each_sg(req->sg, sg, req->sg_cnt, i) {
		bvec_set_page(&req->f.bvec[bv_cnt], sg_page(sg), sg->length, sg->offset);
		len += req->f.bvec[bv_cnt].bv_len;
		total_len += req->f.bvec[bv_cnt].bv_len;
		bv_cnt++;

		WARN_ON_ONCE((nr_bvec - 1) < 0);

		if (unlikely(is_sync) && (nr_bvec - 1 == 0 || bv_cnt == NVMET_MAX_MPOOL_BVEC)) {
			ret = nvmet_file_submit_bvec(req, pos, bv_cnt, len, 0);
			if (ret < 0)
				goto complete;

			pos += len;
			bv_cnt = 0;
			len = 0;
		}
		nr_bvec--;
	}

	if (WARN_ON_ONCE(total_len != req->transfer_len)) {
		ret = -EIO;
		goto complete;
	}

	if (unlikely(is_sync)) {
		ret = total_len;
		goto complete;
	}

	if (!(ki_flags & IOCB_NOWAIT))
		req->f.iocb.ki_complete = nvmet_file_io_done;

	ret = nvmet_file_submit_bvec(req, pos, bv_cnt, total_len, ki_flags);

	switch (ret) {
	case -EIOCBQUEUED:
		return true;
	case -EAGAIN:
		if (WARN_ON_ONCE(!(ki_flags & IOCB_NOWAIT)))
			goto complete;
		return false;
	case -EOPNOTSUPP:
		if ((ki_flags & IOCB_NOWAIT))
			return false;
		break;
	}

complete:
	nvmet_file_io_done(&req->f.iocb, ret);
	return true;
}

// CASE POSITIVE async-bvec-drop: mutation of drivers/nvme/target/io-cmd-file.c:nvmet_file_execute_io() in 6.1
// The array is freed right after the submission, before the result is looked at: with
// ki_complete set the call may have returned -EIOCBQUEUED, and the backing file's direct I/O
// still uses req->f.bvec (and nvmet_file_io_done() frees it again).
static bool nvmet_file_execute_io_early_free(struct nvmet_req *req, int ki_flags)
{
	unsigned long bv_cnt = 0;
	size_t total_len = 0;
	ssize_t ret = 0;
	loff_t pos;
	int i;
	struct scatterlist *sg;

	pos = le64_to_cpu(req->cmd->rw.slba) << req->ns->blksize_shift;

	memset(&req->f.iocb, 0, sizeof(struct kiocb));
	for_each_sg(req->sg, sg, req->sg_cnt, i) {
		bvec_set_page(&req->f.bvec[bv_cnt], sg_page(sg), sg->length, sg->offset);
		total_len += req->f.bvec[bv_cnt].bv_len;
		bv_cnt++;
	}

	if (!(ki_flags & IOCB_NOWAIT))
		req->f.iocb.ki_complete = nvmet_file_io_done;

	ret = nvmet_file_submit_bvec(req, pos, bv_cnt, total_len, ki_flags);

	if (req->f.bvec != req->inline_bvec && !req->f.mpool_alloc) {
		kfree(req->f.bvec);
		// CHECK-MESSAGES: :[[@LINE-1]]:{{[0-9]+}}: warning: {{.*}} [pageref-async-bvec-drop]
		req->f.bvec = req->inline_bvec;
	}

	if (ret == -EIOCBQUEUED)
		return true;

	nvmet_file_io_done(&req->f.iocb, ret);
	return true;
}

// helper (not a case): a completion that also drops the page references the submitter took.
static void nvmet_file_io_done_put(struct kiocb *iocb, long ret)
{
	struct nvmet_req *req = container_of(iocb, struct nvmet_req, f.iocb);
	int i;

	for (i = 0; i < req->sg_cnt; i++)
		put_page(req->f.bvec[i].bv_page);
	nvmet_file_io_done(iocb, ret);
}

// CASE POSITIVE async-bvec-drop: mutation of drivers/nvme/target/io-cmd-file.c:nvmet_file_execute_io() in 6.1
// Viro's second rule broken: the submitter takes its own get_page() reference on every page
// it puts in the bio_vec array, submits the ITER_BVEC to the async read_iter/write_iter, and
// drops those references right after the call, counting on the direct-I/O code's own
// references. With -EIOCBQUEUED the I/O is still in flight.
static bool nvmet_file_execute_io_page_refs(struct nvmet_req *req, int ki_flags)
{
	unsigned long bv_cnt = 0;
	size_t total_len = 0;
	ssize_t ret = 0;
	loff_t pos;
	int i;
	struct scatterlist *sg;

	pos = le64_to_cpu(req->cmd->rw.slba) << req->ns->blksize_shift;

	memset(&req->f.iocb, 0, sizeof(struct kiocb));
	for_each_sg(req->sg, sg, req->sg_cnt, i) {
		get_page(sg_page(sg));
		bvec_set_page(&req->f.bvec[bv_cnt], sg_page(sg), sg->length, sg->offset);
		total_len += req->f.bvec[bv_cnt].bv_len;
		bv_cnt++;
	}

	req->f.iocb.ki_complete = nvmet_file_io_done;

	ret = nvmet_file_submit_bvec(req, pos, bv_cnt, total_len, ki_flags);

	for (i = 0; i < bv_cnt; i++)
		put_page(req->f.bvec[i].bv_page);
		// CHECK-MESSAGES: :[[@LINE-1]]:{{[0-9]+}}: warning: {{.*}} [pageref-async-bvec-drop]

	if (ret == -EIOCBQUEUED)
		return true;

	nvmet_file_io_done(&req->f.iocb, ret);
	return true;
}

// CASE NEGATIVE async-bvec-drop: modelled on drivers/nvme/target/io-cmd-file.c:nvmet_file_execute_io() in 6.1 (own page references)
// The same references, dropped where they belong: by the completion
// (nvmet_file_io_done_put()), called here only when the result is not -EIOCBQUEUED.
static bool nvmet_file_execute_io_refs_in_completion(struct nvmet_req *req, int ki_flags)
{
	unsigned long bv_cnt = 0;
	size_t total_len = 0;
	ssize_t ret = 0;
	loff_t pos;
	int i;
	struct scatterlist *sg;

	pos = le64_to_cpu(req->cmd->rw.slba) << req->ns->blksize_shift;

	memset(&req->f.iocb, 0, sizeof(struct kiocb));
	for_each_sg(req->sg, sg, req->sg_cnt, i) {
		get_page(sg_page(sg));
		bvec_set_page(&req->f.bvec[bv_cnt], sg_page(sg), sg->length, sg->offset);
		total_len += req->f.bvec[bv_cnt].bv_len;
		bv_cnt++;
	}

	req->f.iocb.ki_complete = nvmet_file_io_done_put;

	ret = nvmet_file_submit_bvec(req, pos, bv_cnt, total_len, ki_flags);
	if (ret != -EIOCBQUEUED)
		nvmet_file_io_done_put(&req->f.iocb, ret);
	return true;
}
