#ifndef _CASES_LINUX_WORKQUEUE_H
#define _CASES_LINUX_WORKQUEUE_H
#include <linux/types.h>
struct work_struct;
typedef void (*work_func_t)(struct work_struct *work);
struct work_struct { atomic_long_t data; struct list_head entry; work_func_t func; };
#define INIT_WORK(_work, _func) ((_work)->func = (_func))
bool schedule_work(struct work_struct *work);
struct workqueue_struct;
bool queue_work(struct workqueue_struct *wq, struct work_struct *work);
#endif
