#!/usr/bin/env python3
"""Scores pageref's three bug checks on the case corpus (test/cases, see README.md there).

usage: score.py [--plugin P] [--clang-tidy P] [--clang P] [-j N] [--min F] [--json OUT] [FILE...]

Every case file (test/cases/<check>/*.c, or the FILEs given) is first parsed with
`clang -fsyntax-only` (a file that does not parse is bad input), then analysed by one
clang-tidy process with the plugin and the three checks (-j processes at a time). Each warning
is mapped to the function whose body contains its line. Scoring is per function and per check:

  a function with a `// CHECK-MESSAGES: ... [pageref-X]` line inside it expects check X:
    pageref reports X inside it -> TP, it does not -> FN;
  a function without such a line where pageref reports X -> FP.

Line mismatches inside a TP function (warning on another line than the one expected) are
listed as notes. Exit status: 0, or 1 when --min is given and some check's precision or recall
is below it, or 2 on bad input (naming the file): a file that does not parse, a CHECK-MESSAGES
line naming an unknown check, an expectation outside every function, a clang-tidy failure.
"""
import argparse
import concurrent.futures
import json
import os
import re
import subprocess
import sys

CHECKS = ("pageref-unbalanced-release", "pageref-release-mismatch", "pageref-async-bvec-drop")
HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
INCLUDE = os.path.join(HERE, "include")

CHECK_LINE = re.compile(r"//\s*CHECK-MESSAGES:\s*:(\[\[@LINE([+-]\d+)?\]\]|\d+):(.*)$")
CHECK_NAME = re.compile(r"\[(pageref-[a-z-]+|[a-z][a-z0-9-]*)\]\s*$")
DIAG = re.compile(r"^(.*?):(\d+):(\d+): (warning|error|remark): (.*?)(?: \[([^\]]+)\])?$")


class BadInput(Exception):
    pass


def strip_code(text):
    """The source with comments, string and character literals blanked (newlines kept), so that
    braces and parentheses can be matched."""
    out = []
    i, n = 0, len(text)
    while i < n:
        c = text[i]
        if text.startswith("//", i):
            j = text.find("\n", i)
            j = n if j < 0 else j
            out.append(" " * (j - i))
            i = j
        elif text.startswith("/*", i):
            j = text.find("*/", i + 2)
            j = n if j < 0 else j + 2
            out.append(re.sub(r"[^\n]", " ", text[i:j]))
            i = j
        elif c in "\"'":
            j = i + 1
            while j < n and text[j] != c:
                j += 2 if text[j] == "\\" else 1
            j = min(j + 1, n)
            out.append(re.sub(r"[^\n]", " ", text[i:j]))
            i = j
        elif c == "#" and (i == 0 or text[i - 1] == "\n"):
            # preprocessor line (with continuations)
            j = i
            while True:
                k = text.find("\n", j)
                k = n if k < 0 else k
                if k > 0 and text[k - 1] == "\\" and k < n:
                    j = k + 1
                    continue
                break
            out.append(re.sub(r"[^\n]", " ", text[i:k]))
            i = k
        else:
            out.append(c)
            i += 1
    return "".join(out)


def functions_of(path, text):
    """[(name, first_line, last_line)] of the function definitions in a C file: a top-level '{'
    whose header (the text since the previous top-level ';' or '}') ends in a parameter list."""
    code = strip_code(text)
    line_of = []
    ln = 1
    for ch in code:
        line_of.append(ln)
        if ch == "\n":
            ln += 1
    funcs = []
    depth = 0
    header_start = 0
    i = 0
    n = len(code)
    while i < n:
        c = code[i]
        if depth == 0 and c == ";":
            header_start = i + 1
        elif c == "{":
            if depth == 0:
                header = code[header_start:i]
                m = re.search(r"([A-Za-z_]\w*)\s*\(", header)
                is_func = (m is not None and header.rstrip().endswith(")")
                           and "=" not in header[:m.start()]
                           and not re.search(r"\b(struct|union|enum)\s+\w*\s*$", header.rstrip()))
                if is_func:
                    # find the matching brace
                    d = 0
                    j = i
                    while j < n:
                        if code[j] == "{":
                            d += 1
                        elif code[j] == "}":
                            d -= 1
                            if d == 0:
                                break
                        j += 1
                    if j >= n:
                        raise BadInput("%s: unbalanced braces in %s()" % (path, m.group(1)))
                    first = line_of[header_start + len(header) - len(header.lstrip())]
                    funcs.append((m.group(1), first, line_of[j]))
                    i = j + 1
                    header_start = i
                    continue
            depth += 1
        elif c == "}":
            depth -= 1
            if depth == 0:
                header_start = i + 1
        i += 1
    return funcs


def case_comment(lines, start, previous_end):
    """The first line of the CASE/helper comment that precedes a function (searching upwards to
    the previous function's end)."""
    for ln in range(start - 1, previous_end, -1):
        s = lines[ln - 1].strip()
        if re.match(r"// (CASE |helper \(not a case\)|caller \(not a case\))", s):
            return s[3:]
    return ""


def load_case(path):
    with open(path) as f:
        text = f.read()
    lines = text.splitlines()
    funcs = functions_of(path, text)
    expected = {}  # (func, check) -> set(lines)
    comments = {}
    prev_end = 0
    for name, first, last in funcs:
        comments[name] = case_comment(lines, first, prev_end)
        prev_end = last
    for idx, line in enumerate(lines, start=1):
        m = CHECK_LINE.search(line)
        if not m:
            if "CHECK-MESSAGES" in line:
                raise BadInput("%s:%d: cannot read this CHECK-MESSAGES line" % (path, idx))
            continue
        if m.group(1).startswith("[[@LINE"):
            target = idx + int(m.group(2) or 0)
        else:
            target = int(m.group(1))
        cm = CHECK_NAME.search(m.group(3))
        if not cm or cm.group(1) not in CHECKS:
            raise BadInput("%s:%d: CHECK-MESSAGES names an unknown check %s" %
                           (path, idx, cm.group(1) if cm else "(none)"))
        owner = [f for f in funcs if f[1] <= target <= f[2]]
        if not owner:
            raise BadInput("%s:%d: expectation for line %d is outside every function" %
                           (path, idx, target))
        expected.setdefault((owner[0][0], cm.group(1)), set()).add(target)
    return {"path": path, "funcs": funcs, "expected": expected, "comments": comments}


def parse_check(clang, path):
    r = subprocess.run([clang, "-fsyntax-only", "-I", INCLUDE, path], stdout=subprocess.PIPE,
                       stderr=subprocess.STDOUT, text=True)
    if r.returncode != 0:
        raise BadInput("%s: does not parse:\n%s" % (path, r.stdout))


def run_tidy(tidy, plugin, path):
    cmd = [tidy, "--load=" + plugin, "--checks=-*," + ",".join(CHECKS), path, "--",
           "-I", INCLUDE]
    r = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    if r.returncode not in (0, 1):
        raise BadInput("%s: clang-tidy exited with %d:\n%s" % (path, r.returncode, r.stdout))
    diags = []
    for line in r.stdout.splitlines():
        m = DIAG.match(line)
        if not m:
            continue
        kind = m.group(4)
        if kind == "error":
            raise BadInput("%s: clang-tidy reported an error: %s" % (path, line))
        diags.append({"file": os.path.realpath(m.group(1)), "line": int(m.group(2)),
                      "kind": kind, "message": m.group(5), "check": m.group(6) or ""})
    return diags


def ratio(a, b):
    return a / b if b else None


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--plugin", default=os.path.join(REPO, "build", "lib", "pageref",
                                                     "PagerefTidyModule.so"))
    ap.add_argument("--clang-tidy", default="clang-tidy-19")
    ap.add_argument("--clang", default="clang-19")
    ap.add_argument("-j", type=int, default=2)
    ap.add_argument("--min", type=float, default=None,
                    help="exit 1 when a check's precision or recall is below this")
    ap.add_argument("--min-precision", metavar="CHECK=X,...", help="a floor for these checks' precision")
    ap.add_argument("--min-recall", metavar="CHECK=X,...", help="a floor for these checks' recall")
    ap.add_argument("--json", default=None, help="write the per-function results here")
    ap.add_argument("files", nargs="*")
    a = ap.parse_args()

    files = a.files or sorted(
        os.path.join(HERE, d, f) for d in CHECKS_DIRS() for f in os.listdir(os.path.join(HERE, d))
        if f.endswith(".c"))
    files = [os.path.realpath(f) for f in files]
    if not os.path.exists(a.plugin):
        print("score.py: no plugin at %s (build it: cmake --build build --target "
              "PagerefTidyModule)" % a.plugin, file=sys.stderr)
        return 2

    try:
        cases = []
        for f in files:
            if not os.path.exists(f):
                raise BadInput("%s: no such file" % f)
            parse_check(a.clang, f)
            cases.append(load_case(f))
        with concurrent.futures.ThreadPoolExecutor(max_workers=max(1, a.j)) as ex:
            results = list(ex.map(lambda c: run_tidy(a.clang_tidy, a.plugin, c["path"]), cases))
    except BadInput as e:
        print("score.py: bad input: %s" % e, file=sys.stderr)
        return 2

    rows = []       # per function per check
    outside = []    # warnings outside every case function
    remarks = []
    for case, diags in zip(cases, results):
        reported = {}
        for d in diags:
            if d["kind"] == "remark":
                remarks.append(d)
                continue
            if d["check"] not in CHECKS:
                continue
            owner = [fn for fn in case["funcs"]
                     if d["file"] == case["path"] and fn[1] <= d["line"] <= fn[2]]
            if not owner:
                outside.append(dict(d, case=case["path"]))
                continue
            reported.setdefault((owner[0][0], d["check"]), []).append(d)
        for name, first, last in case["funcs"]:
            for chk in CHECKS:
                exp = case["expected"].get((name, chk), set())
                got = reported.get((name, chk), [])
                if exp and got:
                    verdict = "TP"
                elif exp:
                    verdict = "FN"
                elif got:
                    verdict = "FP"
                else:
                    verdict = "TN"
                got_lines = sorted({g["line"] for g in got})
                rows.append({
                    "file": os.path.relpath(case["path"], HERE), "function": name,
                    "lines": [first, last], "check": chk, "verdict": verdict,
                    "expected_lines": sorted(exp), "reported_lines": got_lines,
                    "messages": ["%d: %s" % (g["line"], g["message"]) for g in got],
                    "comment": case["comments"].get(name, ""),
                })

    summary = {}
    for chk in CHECKS:
        r = [x for x in rows if x["check"] == chk]
        tp = sum(x["verdict"] == "TP" for x in r)
        fp = sum(x["verdict"] == "FP" for x in r)
        fn = sum(x["verdict"] == "FN" for x in r)
        summary[chk] = {"TP": tp, "FP": fp, "FN": fn,
                        "TN": sum(x["verdict"] == "TN" for x in r),
                        "precision": ratio(tp, tp + fp), "recall": ratio(tp, tp + fn)}

    fmt = lambda v: "-" if v is None else "%.2f" % v
    print("%d files, %d functions" % (len(cases), sum(len(c["funcs"]) for c in cases)))
    print("%-28s %4s %4s %4s %4s %9s %7s" % ("check", "TP", "FP", "FN", "TN", "precision", "recall"))
    for chk in CHECKS:
        s = summary[chk]
        print("%-28s %4d %4d %4d %4d %9s %7s" % (chk, s["TP"], s["FP"], s["FN"], s["TN"],
                                                fmt(s["precision"]), fmt(s["recall"])))
    for verdict in ("FP", "FN"):
        bad = [x for x in rows if x["verdict"] == verdict]
        if bad:
            print("\n%s (%d):" % (verdict, len(bad)))
        for x in bad:
            print("  %s:%s [%s]" % (x["file"], x["function"], x["check"]))
            if x["comment"]:
                print("      %s" % x["comment"])
            for m in x["messages"]:
                print("      reported %s" % m)
    notes = [x for x in rows if x["verdict"] == "TP" and x["expected_lines"] != x["reported_lines"]]
    if notes:
        print("\nnotes: line mismatches inside TP functions (%d):" % len(notes))
        for x in notes:
            print("  %s:%s [%s] expected line(s) %s, reported %s" % (
                x["file"], x["function"], x["check"],
                ",".join(map(str, x["expected_lines"])), ",".join(map(str, x["reported_lines"]))))
    if outside:
        print("\nwarnings outside every case function (%d, not scored):" % len(outside))
        for d in outside:
            print("  %s:%d: %s [%s] (from %s)" % (d["file"], d["line"], d["message"], d["check"],
                                                 os.path.relpath(d["case"], HERE)))
    if remarks:
        print("\nremarks (%d):" % len(remarks))
        for d in remarks:
            print("  %s:%d: %s" % (os.path.relpath(d["file"], HERE), d["line"], d["message"]))

    if a.json:
        with open(a.json, "w") as f:
            json.dump({"summary": summary, "functions": rows, "outside": outside,
                       "remarks": remarks}, f, indent=1)

    # A floor per check and measure: --min-precision/--min-recall CHECK=X,...
    # (or one --min for all); the ones not named default to --min.
    floors = {}
    for flag, measure in ((a.min_precision, "precision"), (a.min_recall, "recall")):
        for item in filter(None, (flag or "").split(",")):
            chk, _, val = item.partition("=")
            if chk not in CHECKS:
                print("score.py: bad input: --min-%s names %s, not one of %s" % (measure, chk, ", ".join(CHECKS)),
                      file=sys.stderr)
                return 2
            floors[(chk, measure)] = float(val)
    low = []
    for chk in CHECKS:
        for measure in ("precision", "recall"):
            floor = floors.get((chk, measure), a.min)
            got = summary[chk][measure]
            if floor is not None and (got if got is not None else 1.0) < floor:
                low.append("%s %s %.2f < %.2f" % (chk, measure, got, floor))
    if low:
        print("\nbelow the floor: %s" % "; ".join(low))
        return 1
    return 0


def CHECKS_DIRS():
    return [c[len("pageref-"):] for c in CHECKS]


if __name__ == "__main__":
    sys.exit(main())
