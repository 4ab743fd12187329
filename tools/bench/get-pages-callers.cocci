// Coccinelle's answer to pageref's inventory, for the benchmark: every call
// of the get-pages family, function names written literally so that spatch's
// token prefilter skips the files that cannot match. Prints
// file:line:function (the enclosing function is the position's
// current_element).
@r@
position p;
@@
(
iov_iter_get_pages2@p(...)
|
iov_iter_get_pages_alloc2@p(...)
)

@script:python@
p << r.p;
@@
print("%s:%s:%s" % (p[0].file, p[0].line, p[0].current_element))
