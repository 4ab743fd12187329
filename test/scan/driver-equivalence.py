#!/usr/bin/env python3
"""The driver and the plugin report the same: `pageref scan` (its own front end,
header bodies skipped) against `clang-tidy-19 --load` with the same checks, on
every translation unit of the scan of a prepared Debian kernel.

Compared per TU: every diagnostic (get-pages call sites included) as
(file, line, column, severity, check, message) plus its notes. Also checks that
the scan's JSON call sites and findings agree with those diagnostics. Fails on
any difference, naming the TU and the diagnostic."""
import argparse
import concurrent.futures
import json
import os
import re
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))), "tools", "kernel"))
from kerneltree import debian_tree  # noqa: E402

DIAG = re.compile(r"^(?P<file>[^:\s]+):(?P<line>\d+):(?P<col>\d+): (?P<sev>warning|remark|note|error): (?P<msg>.*?)(?: \[(?P<check>[a-z-]+(?:,-warnings-as-errors)?)\])?$")


def tidy_diags(clang_tidy, plugin, tree, path):
    r = subprocess.run([clang_tidy, "--load=" + plugin, "--checks=-*,pageref-*", "-p", tree, path,
                        "--extra-arg=-Wno-error"],
                       stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    out, cur = [], None
    for line in r.stdout.splitlines():
        m = DIAG.match(line)
        if not m:
            continue
        m = dict(m.groupdict(), file=os.path.normpath(os.path.join(tree, m["file"])))
        if m["sev"] == "note":
            if cur is not None:
                cur[-1].append((m["file"], int(m["line"]), int(m["col"]), m["msg"]))
            continue
        if not (m["check"] or "").startswith("pageref-"):
            cur = None
            continue
        cur = [m["file"], int(m["line"]), int(m["col"]), m["sev"], m["check"], m["msg"], []]
        out.append(cur)
    return sorted(tuple(d[:6]) + (tuple(d[6]),) for d in out)


def driver_diags(tu):
    out = []
    for f in tu.get("findings", []):
        notes = tuple((n["file"], n["line"], n["column"], n["message"]) for n in f["notes"])
        out.append((f["file"], f["line"], f["column"], f["severity"], f["check"], f["message"], notes))
    return sorted(out)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--debian", required=True)
    ap.add_argument("--pageref", required=True)
    ap.add_argument("--plugin", required=True)
    ap.add_argument("--clang-tidy", default="/usr/lib/llvm-19/bin/clang-tidy")
    ap.add_argument("-j", type=int, default=2)
    args = ap.parse_args()
    tree = debian_tree(args.debian)
    with tempfile.TemporaryDirectory() as out:
        r = subprocess.run([args.pageref, "scan", tree, "-o", out, "-j", str(args.j), "--no-cache", "--format", "json"],
                           stdout=subprocess.DEVNULL)
        if r.returncode == 2:
            sys.exit("pageref scan failed (exit 2)")
        tus = {}
        for name in os.listdir(os.path.join(out, "tu")):
            tu = json.load(open(os.path.join(out, "tu", name)))
            tus[tu["file"]] = tu
        scan = json.load(open(os.path.join(out, "pageref.json")))
    failures = []
    for f, tu in tus.items():
        if tu["status"] != "ok":
            failures.append("%s: the driver failed: %s" % (f, tu.get("error")))
    with concurrent.futures.ThreadPoolExecutor(args.j) as ex:
        tidy = dict(zip(tus, ex.map(lambda f: tidy_diags(args.clang_tidy, args.plugin, tree, f), tus)))
    total = 0
    for f in sorted(tus):
        mine, theirs = driver_diags(tus[f]), tidy[f]
        total += len(theirs)
        for d in sorted(set(theirs) - set(mine)):
            failures.append("%s: clang-tidy reports, the driver does not: %s:%d:%d %s [%s] %s" % (f, *d[:3], d[3], d[4], d[5]))
        for d in sorted(set(mine) - set(theirs)):
            failures.append("%s: the driver reports, clang-tidy does not: %s:%d:%d %s [%s] %s" % (f, *d[:3], d[3], d[4], d[5]))
    # The scan's JSON says the same: one call site per get-pages diagnostic,
    # one finding per other diagnostic (cross-TU resolution aside).
    n_calls = sum(1 for f in tus for d in tidy[f] if d[4] == "pageref-get-pages-caller")
    if n_calls != len(scan["call_sites"]):
        failures.append("scan JSON has %d call sites, clang-tidy reported %d" % (len(scan["call_sites"]), n_calls))
    n_find = sum(1 for f in tus for d in tidy[f] if d[4] != "pageref-get-pages-caller")
    if n_find != len([x for x in scan["findings"] if "cross_tu" not in x]):
        failures.append("scan JSON has %d single-TU findings, clang-tidy reported %d" % (len(scan["findings"]), n_find))
    print("%d translation units, %d diagnostics from clang-tidy-19 --load, %d differences"
          % (len(tus), total, len(failures)))
    for x in failures:
        print("FAIL: " + x)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
