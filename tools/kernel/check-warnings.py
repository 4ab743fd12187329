#!/usr/bin/env python3
"""Real-kernel warning review test: run pageref checks over every translation unit
of a prepared Debian kernel tree that calls a tracked function and compare the
warnings with the reviewed list in testdata/kernel/ (every warning there carries
a verdict: real bug, or false positive and what the engine misses).

Reviewed-list lines: file<TAB>line<TAB>check<TAB>verdict<TAB>why
verdict is `bug` or `false-positive`. The test fails on a warning not in the list
(a new warning must be read and judged), on a listed warning that no longer
appears (say so in the list), on a crash, and when false positives outnumber bugs.
"""
import argparse
import concurrent.futures
import os
import re
import subprocess
import sys
import time

from kerneltree import debian_tree

WARNING = re.compile(r"^(?P<file>[^:\s]+):(?P<line>\d+):\d+: warning: (?P<msg>.*) \[(?P<check>pageref-[a-z-]+)\]$")


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--debian", required=True)
    ap.add_argument("--plugin", required=True)
    ap.add_argument("--clang-tidy", default="/usr/lib/llvm-19/bin/clang-tidy")
    ap.add_argument("--checks", required=True)
    ap.add_argument("--reviewed", required=True)
    ap.add_argument("--names", required=True,
                    help="comma-separated function names; only TUs mentioning one are analysed")
    ap.add_argument("-j", type=int, default=2)
    a = ap.parse_args()
    a.plugin = os.path.abspath(a.plugin)
    if not os.path.exists(a.plugin):
        sys.exit("%s: the plugin does not exist (build pageref first)" % a.plugin)
    tree = debian_tree(a.debian)
    names = [n for n in a.names.split(",") if n]
    ident = re.compile(r"\b(%s)\s*\(" % "|".join(map(re.escape, names)))
    with open(os.path.join(tree, ".pageref-tus.txt")) as f:
        tus = [l.strip() for l in f if l.strip()]
    selected = []
    for tu in tus:
        with open(os.path.join(tree, tu), errors="replace") as f:
            if ident.search(f.read()):
                selected.append(tu)

    reviewed = {}
    with open(a.reviewed) as f:
        for n, line in enumerate(f, 1):
            if not line.strip() or line.startswith("#"):
                continue
            cols = line.rstrip("\n").split("\t")
            if len(cols) != 5 or cols[3] not in ("bug", "false-positive"):
                sys.exit("%s:%d: expected file, line, check, bug|false-positive, why" % (a.reviewed, n))
            reviewed[(cols[0], int(cols[1]), cols[2])] = (cols[3], cols[4])

    def run(tu):
        t0 = time.monotonic()
        r = subprocess.run([a.clang_tidy, "--load=" + a.plugin, "--checks=-*," + a.checks, "-p", tree,
                            os.path.join(tree, tu)], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                           cwd=tree)
        return tu, r.returncode, r.stdout, time.monotonic() - t0

    found, crashes, total = {}, [], 0.0
    t0 = time.monotonic()
    with concurrent.futures.ThreadPoolExecutor(a.j) as pool:
        for tu, rc, out, secs in pool.map(run, selected):
            total += secs
            if rc < 0 or rc > 1 or "Stack dump" in out:
                crashes.append("%s: clang-tidy exited %d" % (tu, rc))
            for line in out.splitlines():
                m = WARNING.match(line)
                if m:
                    found[(os.path.relpath(os.path.join(tree, m["file"]), tree), int(m["line"]), m["check"])] = m["msg"]
    elapsed = time.monotonic() - t0

    failures = list(crashes)
    bugs = fps = 0
    for key, msg in sorted(found.items()):
        if key not in reviewed:
            failures.append("%s:%d [%s] not reviewed: %s" % (key[0], key[1], key[2], msg))
            continue
        verdict, why = reviewed[key]
        if verdict == "bug":
            bugs += 1
        else:
            fps += 1
        print("%s:%d [%s] %s: %s\n    %s" % (key[0], key[1], key[2], verdict, msg, why))
    for key in sorted(set(reviewed) - set(found)):
        failures.append("%s:%d [%s] is in %s but was not reported" % (key[0], key[1], key[2], a.reviewed))
    print("linux-%s: %d translation units, %d warnings (%d bugs, %d false positives), %d crashes; "
          "%.1f s wall at -j%d, %.2f s per TU" % (a.debian, len(selected), len(found), bugs, fps, len(crashes),
                                                   elapsed, a.j, total / max(1, len(selected))))
    if fps > bugs:
        failures.append("false positives (%d) outnumber real bugs (%d)" % (fps, bugs))
    for f in failures:
        print("FAIL: " + f)
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
