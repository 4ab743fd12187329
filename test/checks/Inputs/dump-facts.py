"""Prints the facts files of a directory in a stable one-line-per-site form for FileCheck."""
import json
import os
import sys

d = sys.argv[1]
for name in sorted(os.listdir(d)):
    with open(os.path.join(d, name)) as f:
        doc = json.load(f)
    print("schema=%s version=%s" % (doc["schema"], doc["version"]))
    for s in doc["call_sites"]:
        missing = [k for k in ("file", "line", "column", "function", "callee", "iter_kinds", "sinks", "releases",
                               "verdict", "reason") if k not in s]
        if missing:
            sys.exit("%s: call site without %s" % (name, missing))
        print("%s:%d:%d function=%s callee=%s iter_kinds=%s verdict=%s releases=%s" % (
            os.path.basename(s["file"]), s["line"], s["column"], s["function"], s["callee"],
            ",".join(s["iter_kinds"]), s["verdict"],
            ",".join("%s@%d" % (r["function"], r["line"]) for r in s["releases"])))
