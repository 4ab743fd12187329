#!/usr/bin/env python3
"""Real-kernel test: run `pageref inventory` on a prepared Debian kernel tree and
compare every call site (file, line, function, callee, verdict) with the
hand-reviewed expectations in testdata/kernel/linux-<ver>.get-pages-callers.expected.

Expected-file lines: file<TAB>line<TAB>function<TAB>callee<TAB>verdict[<TAB>tool=VERDICT: why]
The fifth column is the reviewer's verdict. Where the tool is known to reach a
different answer, the sixth column says which and why (docs/kernel-review.md);
the test then requires exactly that answer, so an improvement or a regression
both show up. Call sites in files this kernel configuration does not compile are
listed as such and do not count; every compiled one must match.
"""
import argparse
import json
import os
import subprocess
import sys
import time


def load_expected(path):
    rows = []
    with open(path) as f:
        for n, line in enumerate(f, 1):
            line = line.rstrip("\n")
            if not line.strip() or line.startswith("#"):
                continue
            cols = line.split("\t")
            if len(cols) not in (5, 6, 7):
                sys.exit("%s:%d: expected 5 to 7 tab-separated columns, got %d" % (path, n, len(cols)))
            row = {"file": cols[0], "line": int(cols[1]), "function": cols[2], "callee": cols[3],
                   "verdict": cols[4], "tool": cols[4], "why": ""}
            if len(cols) >= 6:
                if not cols[5].startswith("tool="):
                    sys.exit("%s:%d: the sixth column must start with 'tool='" % (path, n))
                verdict, _, why = cols[5][len("tool="):].partition(":")
                row["tool"], row["why"] = verdict.strip(), why.strip()
            # The whole-tree scan's answer, when cross-TU summaries change it.
            row["scan"], row["scan_why"] = row["tool"], row["why"]
            if len(cols) == 7:
                if not cols[6].startswith("scan="):
                    sys.exit("%s:%d: the seventh column must start with 'scan='" % (path, n))
                verdict, _, why = cols[6][len("scan="):].partition(":")
                row["scan"], row["scan_why"] = verdict.strip(), why.strip()
            rows.append(row)
    return rows


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--pageref", required=True)
    ap.add_argument("--debian", required=True)
    ap.add_argument("--expected", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("-j", default="2")
    ap.add_argument("--command", choices=["inventory", "scan"], default="inventory",
                    help="inventory: clang-tidy-19 with the plugin; scan: the driver's own front end")
    ap.add_argument("--from-scan", metavar="DIR",
                    help="with --command scan: read DIR/pageref.json of a scan already made "
                    "(the kernel-scan test's) instead of scanning again")
    a = ap.parse_args()

    expected = load_expected(a.expected)
    if a.command == "scan":
        for e in expected:
            e["tool"], e["why"] = e["scan"], e["scan_why"]
    t0 = time.monotonic()
    if a.from_scan:
        if a.command != "scan":
            sys.exit("--from-scan needs --command scan")
        a.out = a.from_scan
        if not os.path.exists(os.path.join(a.out, "pageref.json")):
            sys.exit("%s: no pageref.json (run the kernel-scan-%s test first)" % (a.out, a.debian))
    else:
        cmd = [a.pageref, a.command, "--debian", a.debian, "-o", a.out, "-j", a.j]
        if a.command == "scan":
            cmd += ["--format", "json", "--no-cache"]
        r = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        sys.stdout.write(r.stdout)
        # scan exits 1 when it has findings; 2 is a failed run.
        if r.returncode not in ((0, 1) if a.command == "scan" else (0,)):
            sys.stderr.write(r.stderr)
            sys.exit("pageref %s failed with exit status %d" % (a.command, r.returncode))
    elapsed = time.monotonic() - t0
    with open(os.path.join(a.out, "inventory.json" if a.command == "inventory" else "pageref.json")) as f:
        report = json.load(f)
    if isinstance(report["translation_units"], list):
        report["translation_units"] = len(report["translation_units"])
    tree = report["tree"]
    with open(os.path.join(tree, "compile_commands.json")) as f:
        compiled = {os.path.relpath(e["file"] if os.path.isabs(e["file"]) else os.path.join(e["directory"], e["file"]), tree)
                    for e in json.load(f)}

    got = {(s["file"], s["line"]): s for s in report["call_sites"]}
    failures, known, agree, not_built = [], [], 0, []
    for e in expected:
        key = (e["file"], e["line"])
        if e["file"] not in compiled:
            not_built.append("%s:%d" % key)
            continue
        s = got.pop(key, None)
        if s is None:
            failures.append("%s:%d %s(): expected, not reported" % (key[0], key[1], e["function"]))
            continue
        problems = []
        if s["function"] != e["function"]:
            problems.append("function %s, expected %s" % (s["function"], e["function"]))
        if s["callee"] != e["callee"]:
            problems.append("callee %s, expected %s" % (s["callee"], e["callee"]))
        if s["verdict"] != e["tool"]:
            problems.append("verdict %s, expected %s%s" % (
                s["verdict"], e["tool"], "" if e["tool"] == e["verdict"] else
                " (reviewer: %s; known difference: %s)" % (e["verdict"], e["why"])))
        if problems:
            failures.append("%s:%d: %s [reason given: %s]" % (key[0], key[1], "; ".join(problems), s["reason"]))
        elif e["tool"] != e["verdict"]:
            known.append("%s:%d %s(): tool says %s, reviewer %s: %s" % (
                key[0], key[1], e["function"], e["tool"], e["verdict"], e["why"]))
        else:
            agree += 1
    for (f, l), s in sorted(got.items()):
        failures.append("%s:%d %s(): reported but not in %s" % (f, l, s["function"], a.expected))

    print("\nlinux-%s: %d call sites compiled, %d agree with the review, %d known differences, %d not built in "
          "this configuration; %s took %.1f s for %d translation units (%.2f s per TU at -j%s)" % (
              a.debian, agree + len(known) + len(failures), agree, len(known), len(not_built), a.command, elapsed,
              report["translation_units"], elapsed / max(1, report["translation_units"]), a.j))
    for k in known:
        print("  known difference: " + k)
    if not_built:
        print("  not built: " + ", ".join(not_built))
    for f in failures:
        print("FAIL: " + f)
    if failures:
        sys.exit(1)


if __name__ == "__main__":
    main()
