#ifndef _CASES_LINUX_MMAN_H
#define _CASES_LINUX_MMAN_H
#include <linux/mm.h>
#define PROT_READ 0x1
#define PROT_WRITE 0x2
#define MADV_HWPOISON 100
#define MADV_SOFT_OFFLINE 101
#endif
