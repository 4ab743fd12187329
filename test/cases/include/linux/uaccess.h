#ifndef _CASES_LINUX_UACCESS_H
#define _CASES_LINUX_UACCESS_H
#include <linux/kernel.h>
unsigned long copy_from_user(void *to, const void __user *from, unsigned long n);
unsigned long copy_to_user(void __user *to, const void *from, unsigned long n);
#define get_user(x, ptr) ({ (x) = *(ptr); 0; })
#define put_user(x, ptr) ({ *(ptr) = (x); 0; })
#define u64_to_user_ptr(x) ((void __user *)(uintptr_t)(x))
bool access_ok(const void __user *addr, unsigned long size);
#endif
