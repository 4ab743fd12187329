#ifndef _CASES_LINUX_DEVICE_H
#define _CASES_LINUX_DEVICE_H
#include <linux/kernel.h>
struct device { void *driver_data; };
#define dev_err(dev, fmt, ...) ((void)(dev), printk(fmt, ##__VA_ARGS__))
#define dev_warn(dev, fmt, ...) ((void)(dev), printk(fmt, ##__VA_ARGS__))
#define dev_dbg(dev, fmt, ...) ((void)(dev), printk(fmt, ##__VA_ARGS__))
#define dev_info(dev, fmt, ...) ((void)(dev), printk(fmt, ##__VA_ARGS__))
#endif
