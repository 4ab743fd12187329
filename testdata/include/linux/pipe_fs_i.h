#ifndef _PAGEREF_TEST_LINUX_PIPE_FS_I_H
#define _PAGEREF_TEST_LINUX_PIPE_FS_I_H
#include <linux/mm.h>
struct pipe_buffer { struct page *page; unsigned int offset, len; const void *ops; unsigned int flags; unsigned long private; };
struct pipe_inode_info;
#endif
