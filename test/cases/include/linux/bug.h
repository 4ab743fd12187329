#ifndef _CASES_LINUX_BUG_H
#define _CASES_LINUX_BUG_H
#include <linux/compiler.h>
void __warn_printk(const char *fmt, ...);
_Noreturn void __bug(const char *file, int line);
#define BUG() __bug(__FILE__, __LINE__)
#define BUG_ON(condition) do { if (unlikely(condition)) BUG(); } while (0)
#define WARN_ON(condition) ({ int __ret_warn_on = !!(condition); if (unlikely(__ret_warn_on)) __warn_printk("WARN_ON"); unlikely(__ret_warn_on); })
#define WARN_ON_ONCE(condition) WARN_ON(condition)
#define WARN(condition, format...) ({ int __ret_warn_on = !!(condition); if (unlikely(__ret_warn_on)) __warn_printk(format); unlikely(__ret_warn_on); })
#define WARN_ONCE(condition, format...) WARN(condition, format)
#define VM_BUG_ON(cond) BUG_ON(cond)
#define VM_WARN_ON_ONCE(cond) WARN_ON_ONCE(cond)
#define BUILD_BUG_ON(cond) ((void)sizeof(char[1 - 2 * !!(cond)]))
#endif
