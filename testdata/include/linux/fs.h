#ifndef _PAGEREF_TEST_LINUX_FS_H
#define _PAGEREF_TEST_LINUX_FS_H
#include <linux/uio.h>
struct file;
struct kiocb {
  struct file *ki_filp;
  loff_t ki_pos;
  void (*ki_complete)(struct kiocb *iocb, long ret);
  void *private;
  int ki_flags;
};
struct file_operations {
  ssize_t (*read_iter)(struct kiocb *, struct iov_iter *);
  ssize_t (*write_iter)(struct kiocb *, struct iov_iter *);
};
struct file { const struct file_operations *f_op; };
static inline bool is_sync_kiocb(struct kiocb *kiocb) { return !kiocb->ki_complete; }
void init_sync_kiocb(struct kiocb *kiocb, struct file *filp);
static inline ssize_t call_read_iter(struct file *file, struct kiocb *kio, struct iov_iter *iter)
{ return file->f_op->read_iter(kio, iter); }
static inline ssize_t call_write_iter(struct file *file, struct kiocb *kio, struct iov_iter *iter)
{ return file->f_op->write_iter(kio, iter); }
#endif
