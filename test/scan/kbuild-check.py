#!/usr/bin/env python3
"""Kbuild's checker hook on a real tree: `make C=2 CHECK='pageref check -o DIR'
fs/nfs/` analyses every file the build compiles, with its real flags and no
compile database; `pageref merge DIR` then gives the same call sites and
findings for fs/nfs as `pageref scan` does from the compile database."""
import argparse
import json
import os
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(REPO, "tools", "kernel"))
from kerneltree import debian_tree  # noqa: E402


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--pageref", required=True)
    ap.add_argument("--debian", default="6.1")
    ap.add_argument("--dir", default="fs/nfs")
    a = ap.parse_args()
    tree = debian_tree(a.debian)
    failures = []
    with tempfile.TemporaryDirectory() as d:
        res = os.path.join(d, "kbuild")
        # The same compiler as the compile database (prepare-kernel.py); C=2
        # checks every file of the directory, built before or not.
        mk = subprocess.run(["make", "-C", tree, "CC=clang-19", "C=2", "CHECK=%s check -o %s" % (a.pageref, res),
                             "-j2", a.dir + "/"], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        checked = [l.split()[1] for l in mk.stdout.splitlines() if l.strip().startswith("CHECK ")]
        if mk.returncode != 0:
            sys.stdout.write(mk.stdout[-3000:])
            sys.exit("make C=2 failed")
        errors = [l for l in mk.stdout.splitlines() if l.startswith("pageref check:")]
        failures += ["the hook reported: " + e for e in errors]
        m = subprocess.run([a.pageref, "merge", res, "-o", os.path.join(d, "merged"), "--format", "json"],
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        if m.returncode == 2:
            sys.exit("pageref merge failed: " + m.stderr)
        hook = json.load(open(os.path.join(d, "merged", "pageref.json")))
        s = subprocess.run([a.pageref, "scan", "--debian", a.debian, "-o", os.path.join(d, "scan"), "--format", "json"],
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        if s.returncode == 2:
            sys.exit("pageref scan failed: " + s.stderr[-2000:])
        scan = json.load(open(os.path.join(d, "scan", "pageref.json")))
    mine = lambda recs: [x for x in recs if x["file"].startswith(a.dir + "/")]
    if not mine(scan["call_sites"]):
        failures.append("the scan has no call site in %s: nothing to compare" % a.dir)
    if mine(hook["call_sites"]) != mine(scan["call_sites"]):
        failures.append("call sites differ: hook %s, scan %s" % (
            [(c["file"], c["line"]) for c in mine(hook["call_sites"])],
            [(c["file"], c["line"]) for c in mine(scan["call_sites"])]))
    strip = lambda fs: [{k: v for k, v in f.items() if k != "cross_tu"} for f in fs]
    if strip(mine(hook["findings"])) != strip(mine(scan["findings"])):
        failures.append("findings differ")
    failed = [u for u in hook["translation_units"] if u["status"] != "ok"]
    failures += ["%s: %s" % (u["file"], u.get("error")) for u in failed]
    print("make C=2 %s/: %d files checked, %d analysed (the others name no tracked function), %d call sites, "
          "%d findings; same as pageref scan" % (a.dir, len(checked), len(hook["translation_units"]),
                                                 len(mine(hook["call_sites"])), len(mine(hook["findings"]))))
    for f in failures:
        print("FAIL: " + f)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
