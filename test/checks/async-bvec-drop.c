// RUN: %check_pageref_tidy %s pageref-async-bvec-drop %t -- -- -I%kernel_include

#include <linux/fs.h>
#include <linux/scatterlist.h>

struct se_cmd { int flags; };
struct target_core_file_cmd {
  unsigned long len;
  struct se_cmd *cmd;
  struct kiocb iocb;
  struct bio_vec bvecs[];
};
void target_complete_cmd(struct se_cmd *cmd, int status);
static void cmd_rw_aio_complete(struct kiocb *iocb, long ret) {
  struct target_core_file_cmd *cmd = (struct target_core_file_cmd *)((char *)iocb - 24);
  target_complete_cmd(cmd->cmd, ret < 0);
  kfree(cmd);
}

// --- drivers/target/target_core_file.c fd_execute_rw_aio() before its fix:
// the bio_vec array was freed right after the async submission.
int fd_execute_rw_aio_before(struct file *file, struct se_cmd *cmd, struct scatterlist *sgl,
                             unsigned int sgl_nents, int is_write) {
  struct target_core_file_cmd *aio_cmd = kmalloc(sizeof(*aio_cmd), GFP_KERNEL);
  struct bio_vec *bvec;
  struct iov_iter iter;
  ssize_t len = 0;
  int ret = 0, i;

  bvec = kcalloc(sgl_nents, sizeof(struct bio_vec), GFP_KERNEL);
  for (i = 0; i < sgl_nents; i++) {
    bvec[i].bv_page = sg_page(&sgl[i]);
    bvec[i].bv_len = sgl[i].length;
    bvec[i].bv_offset = sgl[i].offset;
    len += sgl[i].length;
  }
  iov_iter_bvec(&iter, is_write, bvec, sgl_nents, len);
  aio_cmd->cmd = cmd;
  aio_cmd->len = len;
  aio_cmd->iocb.ki_filp = file;
  aio_cmd->iocb.ki_complete = cmd_rw_aio_complete;
  if (is_write)
    ret = call_write_iter(file, &aio_cmd->iocb, &iter);
  else
    ret = call_read_iter(file, &aio_cmd->iocb, &iter);
  kfree(bvec);
  // CHECK-MESSAGES: :[[@LINE-1]]:3: warning: fd_execute_rw_aio_before() frees the bio_vec array 'bvec' with kfree() after submitting ITER_BVEC iterator 'iter' to an async call_{{read|write}}_iter() at line {{4[34]}}, on a path where that call may have returned -EIOCBQUEUED: the I/O may still be using them [pageref-async-bvec-drop]
  if (ret != -EIOCBQUEUED)
    cmd_rw_aio_complete(&aio_cmd->iocb, ret);
  return 0;
}

// --- The fixed shape: the bio_vec array lives in the command and the
// completion frees both.
int fd_execute_rw_aio_after(struct file *file, struct se_cmd *cmd, struct scatterlist *sgl,
                            unsigned int sgl_nents, int is_write) {
  struct target_core_file_cmd *aio_cmd;
  struct iov_iter iter;
  ssize_t len = 0;
  int ret = 0, i;

  aio_cmd = kmalloc(sizeof(*aio_cmd) + sgl_nents * sizeof(struct bio_vec), GFP_KERNEL);
  for (i = 0; i < sgl_nents; i++) {
    aio_cmd->bvecs[i].bv_page = sg_page(&sgl[i]);
    len += sgl[i].length;
  }
  iov_iter_bvec(&iter, is_write, aio_cmd->bvecs, sgl_nents, len);
  aio_cmd->iocb.ki_complete = cmd_rw_aio_complete;
  if (is_write)
    ret = call_write_iter(file, &aio_cmd->iocb, &iter);
  else
    ret = call_read_iter(file, &aio_cmd->iocb, &iter);
  if (ret != -EIOCBQUEUED)
    cmd_rw_aio_complete(&aio_cmd->iocb, ret);
  return 0;
}

// --- A drop guarded by the -EIOCBQUEUED test is fine.
static void done(struct kiocb *iocb, long ret) {}
ssize_t guarded(struct file *file, struct kiocb *iocb, struct bio_vec *src, int n) {
  struct bio_vec *bv = kcalloc(n, sizeof(*bv), GFP_KERNEL);
  struct iov_iter iter;
  ssize_t ret;
  for (int i = 0; i < n; i++) {
    get_page(src[i].bv_page);
    bv[i] = src[i];
  }
  iov_iter_bvec(&iter, ITER_SOURCE, bv, n, 4096);
  iocb->ki_complete = done;
  ret = file->f_op->write_iter(iocb, &iter);
  if (ret != -EIOCBQUEUED) {
    for (int i = 0; i < n; i++)
      put_page(bv[i].bv_page);
    kfree(bv);
  }
  return ret;
}

// --- The same with the drop unguarded: the references go while the I/O runs.
ssize_t unguarded(struct file *file, struct kiocb *iocb, struct bio_vec *src, int n) {
  struct bio_vec *bv = kcalloc(n, sizeof(*bv), GFP_KERNEL);
  struct iov_iter iter;
  ssize_t ret;
  for (int i = 0; i < n; i++) {
    get_page(src[i].bv_page);
    bv[i] = src[i];
  }
  iov_iter_bvec(&iter, ITER_SOURCE, bv, n, 4096);
  iocb->ki_complete = done;
  ret = file->f_op->write_iter(iocb, &iter);
  for (int i = 0; i < n; i++)
    put_page(bv[i].bv_page);
  // CHECK-MESSAGES: :[[@LINE-1]]:5: warning: unguarded() drops the references in 'bv' with put_page() after submitting ITER_BVEC iterator 'iter' to an async ->write_iter() at line [[@LINE-3]]{{.*}}
  kfree(bv);
  // CHECK-MESSAGES: :[[@LINE-1]]:3: warning: unguarded() frees the bio_vec array 'bv' with kfree() after{{.*}}
  return ret;
}

// --- A synchronous kiocb: dropping right after the call is fine.
ssize_t sync_io(struct file *file, struct bio_vec *src, int n) {
  struct bio_vec *bv = kcalloc(n, sizeof(*bv), GFP_KERNEL);
  struct kiocb kiocb;
  struct iov_iter iter;
  ssize_t ret;
  init_sync_kiocb(&kiocb, file);
  iov_iter_bvec(&iter, ITER_SOURCE, bv, n, 4096);
  ret = call_write_iter(file, &kiocb, &iter);
  kfree(bv);
  return ret;
}

// --- The loop driver's shape (lo_rw_aio): the array lives in the command and
// the completion frees it; nothing is dropped after submission.
struct loop_cmd { struct kiocb iocb; struct bio_vec *bvec; };
static void lo_rw_aio_complete(struct kiocb *iocb, long ret) {
  struct loop_cmd *cmd = (struct loop_cmd *)iocb;
  kfree(cmd->bvec);
}
int lo_rw_aio(struct loop_cmd *cmd, struct file *file, int n, int rw) {
  struct iov_iter iter;
  int ret;
  cmd->bvec = kmalloc(n * sizeof(struct bio_vec), GFP_KERNEL);
  iov_iter_bvec(&iter, rw, cmd->bvec, n, 4096);
  cmd->iocb.ki_filp = file;
  cmd->iocb.ki_complete = lo_rw_aio_complete;
  if (rw)
    ret = call_write_iter(file, &cmd->iocb, &iter);
  else
    ret = call_read_iter(file, &cmd->iocb, &iter);
  if (ret != -EIOCBQUEUED)
    lo_rw_aio_complete(&cmd->iocb, ret);
  return 0;
}

// --- is_sync_kiocb() on the caller's kiocb makes the drop safe.
ssize_t caller_kiocb(struct kiocb *iocb, struct file *file, struct bio_vec *src, int n) {
  struct bio_vec *bv = kcalloc(n, sizeof(*bv), GFP_KERNEL);
  struct iov_iter iter;
  ssize_t ret;
  iov_iter_bvec(&iter, ITER_DEST, bv, n, 4096);
  ret = call_read_iter(file, iocb, &iter);
  if (is_sync_kiocb(iocb))
    kfree(bv);
  return ret;
}

// --- The drop through a release helper of this file.
static void put_bvecs(struct bio_vec *bv, int n) {
  for (int i = 0; i < n; i++)
    put_page(bv[i].bv_page);
  kvfree(bv);
}
ssize_t helper_drop(struct file *file, struct kiocb *iocb, struct bio_vec *src, int n) {
  struct bio_vec *bv = kcalloc(n, sizeof(*bv), GFP_KERNEL);
  struct iov_iter iter;
  ssize_t ret;
  for (int i = 0; i < n; i++) {
    get_page(src[i].bv_page);
    bv[i] = src[i];
  }
  iov_iter_bvec(&iter, ITER_DEST, bv, n, 4096);
  iocb->ki_complete = done;
  ret = call_read_iter(file, iocb, &iter);
  put_bvecs(bv, n);
  // CHECK-MESSAGES: :[[@LINE-1]]:3: warning: helper_drop() drops 'bv' through put_bvecs(), which calls put_page() at line {{[0-9]+}} after submitting ITER_BVEC iterator 'iter' to an async call_read_iter() at line [[@LINE-2]]{{.*}}
  return ret;
}
