#ifndef _CASES_LINUX_PIPE_FS_I_H
#define _CASES_LINUX_PIPE_FS_I_H
#include <linux/mm.h>
struct pipe_buffer;
struct pipe_buf_operations {
	int (*confirm)(struct pipe_inode_info *, struct pipe_buffer *);
	void (*release)(struct pipe_inode_info *, struct pipe_buffer *);
	bool (*try_steal)(struct pipe_inode_info *, struct pipe_buffer *);
	bool (*get)(struct pipe_inode_info *, struct pipe_buffer *);
};
struct pipe_buffer {
	struct page *page;
	unsigned int offset, len;
	const struct pipe_buf_operations *ops;
	unsigned int flags;
	unsigned long private;
};
struct pipe_inode_info {
	unsigned int head;
	unsigned int tail;
	unsigned int max_usage;
	unsigned int ring_size;
	struct pipe_buffer *bufs;
};
#define PIPE_BUF_FLAG_GIFT 0x04
ssize_t add_to_pipe(struct pipe_inode_info *pipe, struct pipe_buffer *buf);
bool pipe_full(unsigned int head, unsigned int tail, unsigned int limit);
#endif
