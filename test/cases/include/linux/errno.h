#ifndef _CASES_LINUX_ERRNO_H
#define _CASES_LINUX_ERRNO_H
#define EPERM 1
#define ENOENT 2
#define ESRCH 3
#define EINTR 4
#define EIO 5
#define ENXIO 6
#define E2BIG 7
#define EBADF 9
#define EAGAIN 11
#define ENOMEM 12
#define EFAULT 14
#define EBUSY 16
#define EEXIST 17
#define ENODEV 19
#define EINVAL 22
#define ENOSPC 28
#define ERANGE 34
#define ENOSYS 38
#define ENODATA 61
#define EOVERFLOW 75
#define EMSGSIZE 90
#define ENOPROTOOPT 92
#define EOPNOTSUPP 95
#define ENOTCONN 107
#define ETIMEDOUT 110
#define ERESTARTSYS 512
#define EIOCBQUEUED 529
#define ENOTSUPP 524
#endif
