#ifndef _CASES_LINUX_FS_H
#define _CASES_LINUX_FS_H
#include <linux/kernel.h>
#include <linux/uio.h>
#include <linux/list.h>
#include <linux/mutex.h>
#include <linux/spinlock.h>

#define IOCB_EVENTFD (1 << 16)
#define IOCB_DIRECT (1 << 17)
#define IOCB_WRITE (1 << 18)
#define IOCB_NOWAIT (1 << 20)
#define IOCB_HIPRI (1 << 3)
#define IOCB_DSYNC (1 << 4)

struct inode {
	umode_t i_mode;
	loff_t i_size;
	struct address_space *i_mapping;
	void *i_private;
};

struct kiocb;
struct file_operations {
	ssize_t (*read)(struct file *, char __user *, size_t, loff_t *);
	ssize_t (*write)(struct file *, const char __user *, size_t, loff_t *);
	ssize_t (*read_iter)(struct kiocb *, struct iov_iter *);
	ssize_t (*write_iter)(struct kiocb *, struct iov_iter *);
	long (*unlocked_ioctl)(struct file *, unsigned int, unsigned long);
	int (*open)(struct inode *, struct file *);
	int (*release)(struct inode *, struct file *);
};

struct file {
	const struct file_operations *f_op;
	struct inode *f_inode;
	struct address_space *f_mapping;
	fmode_t f_mode;
	unsigned int f_flags;
	int f_iocb_flags;
	loff_t f_pos;
	void *private_data;
};

struct kiocb {
	struct file *ki_filp;
	loff_t ki_pos;
	void (*ki_complete)(struct kiocb *iocb, long ret);
	void *private;
	int ki_flags;
	u16 ki_ioprio;
};

static inline bool is_sync_kiocb(struct kiocb *kiocb)
{
	return kiocb->ki_complete == NULL;
}

static inline struct inode *file_inode(const struct file *f)
{
	return f->f_inode;
}

int get_current_ioprio(void);
static inline void init_sync_kiocb(struct kiocb *kiocb, struct file *filp)
{
	*kiocb = (struct kiocb) {
		.ki_filp = filp,
		.ki_flags = filp->f_iocb_flags,
		.ki_ioprio = get_current_ioprio(),
	};
}

#ifndef CASES_6_12
static inline ssize_t call_read_iter(struct file *file, struct kiocb *kio, struct iov_iter *iter)
{
	return file->f_op->read_iter(kio, iter);
}
static inline ssize_t call_write_iter(struct file *file, struct kiocb *kio, struct iov_iter *iter)
{
	return file->f_op->write_iter(kio, iter);
}
#endif

ssize_t vfs_iter_read(struct file *file, struct iov_iter *iter, loff_t *ppos, rwf_t flags);
ssize_t vfs_iter_write(struct file *file, struct iov_iter *iter, loff_t *ppos, rwf_t flags);
ssize_t vfs_iocb_iter_read(struct file *file, struct kiocb *iocb, struct iov_iter *iter);
ssize_t vfs_iocb_iter_write(struct file *file, struct kiocb *iocb, struct iov_iter *iter);
ssize_t __kernel_write_iter(struct file *file, struct iov_iter *from, loff_t *pos);
ssize_t kernel_write(struct file *file, const void *buf, size_t count, loff_t *pos);
void kiocb_start_write(struct kiocb *iocb);
void kiocb_end_write(struct kiocb *iocb);
void file_start_write(struct file *file);
void file_end_write(struct file *file);
struct file *get_file(struct file *f);
void fput(struct file *file);
#endif
