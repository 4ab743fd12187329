// RUN: %check_pageref_tidy %s pageref-unbalanced-release,pageref-release-mismatch,pageref-async-bvec-drop %t -- -- -I%S/../include
// Family: drivers/target/target_core_file.c (6.1): the SCSI target's file backend. The AIO path
// embeds the bio_vec array in a kmalloc'd struct target_core_file_cmd together with the kiocb,
// and cmd_rw_aio_complete() frees the struct; the synchronous path (fd_do_rw()) kcalloc's an
// array, writes with vfs_iter_write() and frees it.
#include <linux/mm.h>
#include <linux/slab.h>
#include <linux/uio.h>
#include <linux/fs.h>
#include <linux/bvec.h>
#include <linux/scatterlist.h>
#include <linux/dma-mapping.h>

typedef unsigned int sense_reason_t;
#define TCM_LOGICAL_UNIT_COMMUNICATION_FAILURE 3
#define SAM_STAT_GOOD 0x00
#define SAM_STAT_CHECK_CONDITION 0x02
#define SCF_FUA 0x00000100
#define struct_size(p, member, n) (sizeof(*(p)) + sizeof((p)->member[0]) * (n))
struct se_dev_attrib { u32 block_size; };
struct se_device { struct se_dev_attrib dev_attrib; };
struct se_cmd { struct se_device *se_dev; u64 t_task_lba; u32 se_cmd_flags; };
struct fd_dev { struct file *fd_file; };
struct fd_dev *FD_DEV(struct se_device *dev);
void target_complete_cmd(struct se_cmd *cmd, u8 status);

struct target_core_file_cmd {
	unsigned long len;
	struct se_cmd *cmd;
	struct kiocb iocb;
	struct bio_vec bvecs[];
};

// helper (not a case), as in target_core_file.c:cmd_rw_aio_complete(): frees the command and
// the array embedded in it.
static void cmd_rw_aio_complete(struct kiocb *iocb, long ret)
{
	struct target_core_file_cmd *cmd;

	cmd = container_of(iocb, struct target_core_file_cmd, iocb);

	if (ret != cmd->len)
		target_complete_cmd(cmd->cmd, SAM_STAT_CHECK_CONDITION);
	else
		target_complete_cmd(cmd->cmd, SAM_STAT_GOOD);

	kfree(cmd);
}

// CASE NEGATIVE async-bvec-drop: modelled on drivers/target/target_core_file.c:fd_execute_rw_aio() in 6.1
// The array lives in aio_cmd, which only cmd_rw_aio_complete() frees: by the kiocb's
// completion, or here when the result is not -EIOCBQUEUED. Correct code.
static sense_reason_t fd_execute_rw_aio(struct se_cmd *cmd, struct scatterlist *sgl,
					u32 sgl_nents, enum dma_data_direction data_direction)
{
	int is_write = !(data_direction == DMA_FROM_DEVICE);
	struct se_device *dev = cmd->se_dev;
	struct fd_dev *fd_dev = FD_DEV(dev);
	struct file *file = fd_dev->fd_file;
	struct target_core_file_cmd *aio_cmd;
	struct iov_iter iter;
	struct scatterlist *sg;
	ssize_t len = 0;
	int ret = 0, i;

	aio_cmd = kmalloc(struct_size(aio_cmd, bvecs, sgl_nents), GFP_KERNEL);
	if (!aio_cmd)
		return TCM_LOGICAL_UNIT_COMMUNICATION_FAILURE;

	for_each_sg(sgl, sg, sgl_nents, i) {
		aio_cmd->bvecs[i].bv_page = sg_page(sg);
		aio_cmd->bvecs[i].bv_len = sg->length;
		aio_cmd->bvecs[i].bv_offset = sg->offset;

		len += sg->length;
	}

	iov_iter_bvec(&iter, is_write, aio_cmd->bvecs, sgl_nents, len);

	aio_cmd->cmd = cmd;
	aio_cmd->len = len;
	aio_cmd->iocb.ki_pos = cmd->t_task_lba * dev->dev_attrib.block_size;
	aio_cmd->iocb.ki_filp = file;
	aio_cmd->iocb.ki_complete = cmd_rw_aio_complete;
	aio_cmd->iocb.ki_flags = IOCB_DIRECT;

	if (is_write && (cmd->se_cmd_flags & SCF_FUA))
		aio_cmd->iocb.ki_flags |= IOCB_DSYNC;

	if (is_write)
		ret = call_write_iter(file, &aio_cmd->iocb, &iter);
	else
		ret = call_read_iter(file, &aio_cmd->iocb, &iter);

	if (ret != -EIOCBQUEUED)
		cmd_rw_aio_complete(&aio_cmd->iocb, ret);

	return 0;
}

// CASE POSITIVE async-bvec-drop: mutation of drivers/target/target_core_file.c:fd_execute_rw_aio() in 6.1
// An error branch added after the call completes the command and frees aio_cmd (and the
// bio_vec array in it) when 'ret < 0': -EIOCBQUEUED is negative, so every queued AIO takes
// this branch while the I/O still uses the array.
static sense_reason_t fd_execute_rw_aio_err(struct se_cmd *cmd, struct scatterlist *sgl,
					    u32 sgl_nents, enum dma_data_direction data_direction)
{
	int is_write = !(data_direction == DMA_FROM_DEVICE);
	struct se_device *dev = cmd->se_dev;
	struct file *file = FD_DEV(dev)->fd_file;
	struct target_core_file_cmd *aio_cmd;
	struct iov_iter iter;
	struct scatterlist *sg;
	ssize_t len = 0;
	int ret = 0, i;

	aio_cmd = kmalloc(struct_size(aio_cmd, bvecs, sgl_nents), GFP_KERNEL);
	if (!aio_cmd)
		return TCM_LOGICAL_UNIT_COMMUNICATION_FAILURE;

	for_each_sg(sgl, sg, sgl_nents, i) {
		bvec_set_page(&aio_cmd->bvecs[i], sg_page(sg), sg->length, sg->offset);
		len += sg->length;
	}

	iov_iter_bvec(&iter, is_write, aio_cmd->bvecs, sgl_nents, len);

	aio_cmd->cmd = cmd;
	aio_cmd->len = len;
	aio_cmd->iocb.ki_pos = cmd->t_task_lba * dev->dev_attrib.block_size;
	aio_cmd->iocb.ki_filp = file;
	aio_cmd->iocb.ki_complete = cmd_rw_aio_complete;
	aio_cmd->iocb.ki_flags = IOCB_DIRECT;

	if (is_write)
		ret = call_write_iter(file, &aio_cmd->iocb, &iter);
	else
		ret = call_read_iter(file, &aio_cmd->iocb, &iter);

	if (ret < 0) {
		target_complete_cmd(cmd, SAM_STAT_CHECK_CONDITION);
		kfree(aio_cmd);
		// CHECK-MESSAGES: :[[@LINE-1]]:{{[0-9]+}}: warning: {{.*}} [pageref-async-bvec-drop]
		return 0;
	}

	cmd_rw_aio_complete(&aio_cmd->iocb, ret);
	return 0;
}

void target_file_rw_done(struct kiocb *iocb, long ret);

// CASE POSITIVE async-bvec-drop: mutation of drivers/target/target_core_file.c:fd_do_rw() in 6.1
// fd_do_rw() turned into an async direct write: the kiocb is built by a designated
// initialiser with .ki_complete set, so the write may return -EIOCBQUEUED, yet the kcalloc'd
// bio_vec array is freed right after the call as in the synchronous original.
static int fd_do_rw_async(struct se_cmd *cmd, struct file *fd, u32 block_size,
			  struct scatterlist *sgl, u32 sgl_nents, u32 data_length, int is_write)
{
	struct scatterlist *sg;
	struct iov_iter iter;
	struct bio_vec *bvec;
	ssize_t len = 0;
	int ret = 0, i;
	struct kiocb kiocb = {
		.ki_filp = fd,
		.ki_pos = cmd->t_task_lba * block_size,
		.ki_complete = target_file_rw_done,
		.ki_flags = IOCB_DIRECT,
	};

	bvec = kcalloc(sgl_nents, sizeof(struct bio_vec), GFP_KERNEL);
	if (!bvec)
		return -ENOMEM;

	for_each_sg(sgl, sg, sgl_nents, i) {
		bvec[i].bv_page = sg_page(sg);
		bvec[i].bv_len = sg->length;
		bvec[i].bv_offset = sg->offset;
		len += sg->length;
	}

	iov_iter_bvec(&iter, is_write, bvec, sgl_nents, len);
	if (is_write)
		ret = call_write_iter(fd, &kiocb, &iter);
	else
		ret = call_read_iter(fd, &kiocb, &iter);

	kfree(bvec);
	// CHECK-MESSAGES: :[[@LINE-1]]:{{[0-9]+}}: warning: {{.*}} [pageref-async-bvec-drop]
	return ret;
}

// CASE NEGATIVE async-bvec-drop: modelled on drivers/target/target_core_file.c:fd_do_rw() in 6.1
// Synchronous: vfs_iter_write()/vfs_iter_read() use a sync kiocb and return only when the I/O
// is done, so freeing the array right after is fine.
static int fd_do_rw(struct se_cmd *cmd, struct file *fd, u32 block_size, struct scatterlist *sgl,
		    u32 sgl_nents, u32 data_length, int is_write)
{
	struct scatterlist *sg;
	struct iov_iter iter;
	struct bio_vec *bvec;
	ssize_t len = 0;
	loff_t pos = (cmd->t_task_lba * block_size);
	int ret = 0, i;

	bvec = kcalloc(sgl_nents, sizeof(struct bio_vec), GFP_KERNEL);
	if (!bvec) {
		pr_err("Unable to allocate fd_do_readv iov[]\n");
		return -ENOMEM;
	}

	for_each_sg(sgl, sg, sgl_nents, i) {
		bvec[i].bv_page = sg_page(sg);
		bvec[i].bv_len = sg->length;
		bvec[i].bv_offset = sg->offset;

		len += sg->length;
	}

	iov_iter_bvec(&iter, is_write, bvec, sgl_nents, len);
	if (is_write) {
		file_start_write(fd);
		ret = vfs_iter_write(fd, &iter, &pos, 0);
		file_end_write(fd);
	} else {
		ret = vfs_iter_read(fd, &iter, &pos, 0);
	}

	kfree(bvec);
	return ret;
}

// CASE NEGATIVE async-bvec-drop: modelled on drivers/target/target_core_file.c:fd_do_rw() in 6.1 (explicit sync kiocb)
// The same synchronous I/O spelled out: init_sync_kiocb() leaves ki_complete NULL, so
// ->write_iter() does not return before the I/O is done and -EIOCBQUEUED cannot come back.
static int fd_do_rw_sync_kiocb(struct se_cmd *cmd, struct file *fd, u32 block_size,
			       struct scatterlist *sgl, u32 sgl_nents, int is_write)
{
	struct scatterlist *sg;
	struct iov_iter iter;
	struct bio_vec *bvec;
	struct kiocb kiocb;
	ssize_t len = 0;
	int ret = 0, i;

	bvec = kcalloc(sgl_nents, sizeof(struct bio_vec), GFP_KERNEL);
	if (!bvec)
		return -ENOMEM;

	for_each_sg(sgl, sg, sgl_nents, i) {
		bvec_set_page(&bvec[i], sg_page(sg), sg->length, sg->offset);
		len += sg->length;
	}

	init_sync_kiocb(&kiocb, fd);
	kiocb.ki_pos = cmd->t_task_lba * block_size;
	iov_iter_bvec(&iter, is_write, bvec, sgl_nents, len);
	if (is_write)
		ret = call_write_iter(fd, &kiocb, &iter);
	else
		ret = call_read_iter(fd, &kiocb, &iter);

	kfree(bvec);
	return ret;
}
