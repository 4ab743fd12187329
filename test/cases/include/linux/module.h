#ifndef _CASES_LINUX_MODULE_H
#define _CASES_LINUX_MODULE_H
#include <linux/kernel.h>
#define MODULE_LICENSE(x)
#endif
