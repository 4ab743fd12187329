#!/usr/bin/env python3
"""Runs one clang-tidy check test, the way clang-tidy's own check_clang_tidy.py
does (Debian ships no copy of that script).

usage: check_pageref_tidy.py [--clang-tidy P --plugin P --filecheck P] TEST CHECK TMP [-- TIDY_ARGS [-- CLANG_ARGS]]

The test's `// CHECK-MESSAGES:`, `// CHECK-NOTES:` and `// CHECK-FIXES:` comments
are removed from a copy of the file (lines are kept, so line numbers match);
clang-tidy runs with --fix on the copy; FileCheck then checks
  - the warnings against CHECK-MESSAGES (any other warning or error fails),
  - warnings and notes against CHECK-NOTES when the test has any,
  - the fixed file against CHECK-FIXES when the test has any.
"""
import argparse
import re
import subprocess
import sys


def run(cmd, **kw):
    return subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, **kw)


def filecheck(filecheck_bin, test, prefix, text, extra):
    r = subprocess.run([filecheck_bin, test, "-check-prefix=" + prefix, "-match-full-lines=false",
                        "-dump-input=fail"] + extra,
                       input=text, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    if r.returncode != 0:
        sys.stdout.write(r.stdout)
        sys.exit("FileCheck failed for %s" % prefix)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--clang-tidy", required=True)
    ap.add_argument("--plugin", required=True)
    ap.add_argument("--filecheck", required=True)
    ap.add_argument("test")
    ap.add_argument("check")
    ap.add_argument("tmp")
    argv = sys.argv[1:]
    rest = []
    if "--" in argv:
        i = argv.index("--")
        argv, rest = argv[:i], argv[i + 1:]
    a = ap.parse_args(argv)

    tidy_args, clang_args = rest, []
    if "--" in rest:
        i = rest.index("--")
        tidy_args, clang_args = rest[:i], rest[i + 1:]

    with open(a.test) as f:
        source = f.read()
    prefixes = {p: re.search(r"//\s*%s:" % p, source) is not None
                for p in ("CHECK-MESSAGES", "CHECK-NOTES", "CHECK-FIXES")}
    if not prefixes["CHECK-MESSAGES"] and not prefixes["CHECK-NOTES"]:
        sys.exit("%s: no CHECK-MESSAGES or CHECK-NOTES lines: such a test cannot fail" % a.test)
    cleaned = re.sub(r"//\s*CHECK-(MESSAGES|NOTES|FIXES)(-[A-Z]+)?:[^\n]*", "", source)
    tmp = a.tmp + ".c"
    with open(tmp, "w") as f:
        f.write(cleaned)

    cmd = [a.clang_tidy, "--load=" + a.plugin, "--checks=-*," + a.check, "--fix", tmp] + tidy_args + \
          ["--"] + clang_args
    r = run(cmd)
    output = r.stdout
    if r.returncode not in (0, 1):
        sys.stdout.write(output)
        sys.exit("clang-tidy exited with %d" % r.returncode)
    if re.search(r"error: ", output) and "error: " not in "".join(tidy_args):
        sys.stdout.write(output)
        sys.exit("clang-tidy reported errors")

    if prefixes["CHECK-MESSAGES"]:
        warnings = "\n".join(l for l in output.splitlines() if re.search(r"(warning|error): ", l))
        filecheck(a.filecheck, a.test, "CHECK-MESSAGES", warnings,
                  ["-implicit-check-not={{warning|error}}:"])
    if prefixes["CHECK-NOTES"]:
        notes = "\n".join(l for l in output.splitlines() if re.search(r"(warning|error|note): ", l))
        filecheck(a.filecheck, a.test, "CHECK-NOTES", notes,
                  ["-implicit-check-not={{warning|error|note}}:"])
    if prefixes["CHECK-FIXES"]:
        with open(tmp) as f:
            fixed = f.read()
        filecheck(a.filecheck, a.test, "CHECK-FIXES", fixed, [])


if __name__ == "__main__":
    main()
