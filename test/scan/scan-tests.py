#!/usr/bin/env python3
"""pageref scan on a small tree (testdata/scan/minikernel): cross-TU summaries,
failures that lose nothing else (a TU that does not parse, a worker killed with
SIGKILL, a time-out), bad input, the cache, baselines, and byte-identical
output for -j1, -j2, shards + merge and a warm cache.

usage: scan-tests.py --pageref BUILD/bin/pageref --include testdata/include [TEST...]"""
import argparse
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
FAILURES = []


def check(cond, what):
    if not cond:
        FAILURES.append(what)
        print("FAIL: " + what)
    return cond


class Tree:
    """A copy of the mini kernel with a compile database of the given files."""

    def __init__(self, root, include, files, extra_args=None):
        self.root = os.path.join(root, "tree")
        shutil.copytree(os.path.join(REPO, "testdata/scan/minikernel"), self.root)
        self.include = include
        self.set_files(files, extra_args or {})

    def set_files(self, files, extra_args=None):
        db = []
        for f in files:
            args = ["clang-19", "-nostdinc", "-I" + os.path.join(self.root, "include"), "-I" + self.include,
                    "-Wall", "-c", f, "-o", f.replace(".c", ".o")] + (extra_args or {}).get(f, [])
            db.append({"directory": self.root, "file": f, "arguments": args})
        with open(os.path.join(self.root, "compile_commands.json"), "w") as fh:
            json.dump(db, fh, indent=1)

    def path(self, rel):
        return os.path.join(self.root, rel)


def scan(pageref, tree, out, *extra, cache=None):
    cmd = [pageref, "scan", tree.root, "-o", out, "--format", "json"] + list(extra)
    cmd += ["--cache-dir", cache] if cache else ["--no-cache"]
    r = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    doc = None
    if os.path.exists(os.path.join(out, "pageref.json")):
        doc = json.load(open(os.path.join(out, "pageref.json")))
    return r, doc


def findings(doc, check_name=None):
    return [f for f in doc["findings"] if check_name is None or f["check"] == check_name]


def test_cross_tu(a):
    """A helper defined in another TU decides: a hand-off alone; with its
    file, a put_page() helper is a wrong-family release, an unpin helper is
    right, a helper that only looks leaks; --unknown-callees uses reports
    the leak a single-TU run cannot rule out, and the helper's file silences it."""
    for helper, expect in [(None, []), ("drivers/foo/drop-unpin.c", []),
                           ("drivers/foo/drop-put.c", ["pageref-release-mismatch"]),
                           ("drivers/foo/drop-none.c", ["pageref-unbalanced-release"])]:
        with tempfile.TemporaryDirectory() as d:
            t = Tree(d, a.include, ["drivers/foo/pin.c"] + ([helper] if helper else []))
            r, doc = scan(a.pageref, t, os.path.join(d, "out"))
            got = sorted(f["check"] for f in findings(doc) if f["file"] == "drivers/foo/pin.c")
            check(got == expect, "cross-TU with %s: expected %s in pin.c, got %s (%s)" % (helper, expect, got, r.stderr[-500:]))
            for f in findings(doc):
                check(f.get("cross_tu") and f["cross_tu"][0]["function"] == "foo_drop_pages",
                      "cross-TU finding names the helper it depends on: %s" % f)
            if helper == "drivers/foo/drop-put.c" and findings(doc):
                msg = findings(doc)[0]["message"]
                check("foo_drop_pages()" in msg and "put_page()" in msg and "drivers/foo/drop-put.c" in msg,
                      "the message says which helper releases how and where: " + msg)
            check(r.returncode == (1 if expect else 0), "exit status %d with findings %s" % (r.returncode, expect))
    # The strict assumption: alone, pin.c may leak through foo_drop_pages();
    # the helper's own file (an unpin) silences it.
    for helper, expect in [(None, ["pageref-unbalanced-release"]), ("drivers/foo/drop-unpin.c", [])]:
        with tempfile.TemporaryDirectory() as d:
            t = Tree(d, a.include, ["drivers/foo/pin.c"] + ([helper] if helper else []))
            r, doc = scan(a.pageref, t, os.path.join(d, "out"), "--unknown-callees", "uses")
            got = sorted(f["check"] for f in findings(doc))
            check(got == expect, "--unknown-callees uses with %s: expected %s, got %s" % (helper, expect, got))


def test_cross_tu_call_site(a):
    """A get-pages caller that hands its pages to a function of another file:
    unknown alone; extract-ready when that file's summary releases them (the
    reason names the release, the helper and its file); still unknown when
    the helper only looks at them."""
    for helper, verdict in [(None, "unknown"), ("drivers/foo/drop-put.c", "extract-ready"),
                            ("drivers/foo/drop-none.c", "unknown")]:
        with tempfile.TemporaryDirectory() as d:
            t = Tree(d, a.include, ["drivers/foo/getpages.c"] + ([helper] if helper else []))
            r, doc = scan(a.pageref, t, os.path.join(d, "out"))
            c = doc["call_sites"][0]
            check(c["verdict"] == verdict, "getpages.c with %s: %s, expected %s (%s)" % (helper, c["verdict"], verdict, c["reason"]))
            if verdict == "extract-ready":
                check("put_page() in foo_drop_pages() (drivers/foo/drop-put.c" in c["reason"], "reason: " + c["reason"])
                check(c.get("cross_tu", [{}])[0].get("function") == "foo_drop_pages", "cross_tu: %s" % c.get("cross_tu"))
            else:
                check("cross_tu" not in c, "no cross_tu when nothing was resolved: %s" % c.get("cross_tu"))


def test_failures(a):
    """A TU that does not parse, a missing file and a flag clang rejects are
    each named with the problem and a reproducer; every other TU's results
    are kept; the run exits 2."""
    with tempfile.TemporaryDirectory() as d:
        files = ["drivers/foo/leak.c", "drivers/foo/broken.c", "drivers/foo/missing.c", "drivers/foo/pin.c"]
        t = Tree(d, a.include, files, {"drivers/foo/pin.c": ["-fno-such-flag-for-clang"]})
        r, doc = scan(a.pageref, t, os.path.join(d, "out"), "--no-prefilter")
        check(r.returncode == 2, "exit status 2 when TUs fail, got %d" % r.returncode)
        units = {u["file"]: u for u in doc["translation_units"]}
        check(units["drivers/foo/leak.c"]["status"] == "ok", "leak.c analysed despite the others")
        check(len(findings(doc, "pageref-unbalanced-release")) == 1, "leak.c's leak is reported")
        b = units["drivers/foo/broken.c"]
        check(b["status"] == "failed" and "broken.c:7" in b["error"] and "undeclared_thing" in b["error"],
              "broken.c named with its error: %s" % b)
        check("worker" in b.get("reproducer", ""), "broken.c has a reproducer: %s" % b)
        check("does not exist" in units["drivers/foo/missing.c"].get("error", ""), "missing file named: %s" % units["drivers/foo/missing.c"])
        check("no-such-flag" in units["drivers/foo/pin.c"].get("error", ""), "rejected flag named: %s" % units["drivers/foo/pin.c"])
        for f in ["broken.c", "missing.c", "pin.c"]:
            check(f in r.stderr, "stderr names %s: %s" % (f, r.stderr[-800:]))
        # The reproducer really reproduces.
        rep = b["reproducer"].split("  #")[0]
        rr = subprocess.run(rep, shell=True, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        check("undeclared_thing" in rr.stdout, "the reproducer shows the error again")


def test_gcc_flags(a):
    """A GCC-built command: the options clang rejects are removed and named,
    the TU is analysed."""
    gcc = ["-mrecord-mcount", "-fconserve-stack", "-mindirect-branch=thunk-extern", "-mindirect-branch-register",
           "-mpreferred-stack-boundary=3", "-fno-allow-store-data-races", "-fno-var-tracking-assignments",
           "-mskip-rax-setup", "--param=allow-store-data-races=0", "-Wimplicit-fallthrough=5", "-Werror"]
    with tempfile.TemporaryDirectory() as d:
        t = Tree(d, a.include, ["drivers/foo/leak.c"], {"drivers/foo/leak.c": gcc})
        r, doc = scan(a.pageref, t, os.path.join(d, "out"))
        u = doc["translation_units"][0]
        check(u["status"] == "ok", "the GCC-built TU is analysed: %s" % u)
        check(set(u["removed_flags"]) == set(gcc) - {"-Wimplicit-fallthrough=5", "-Werror"},
              "removed flags named: %s" % u["removed_flags"])
        check(len(findings(doc)) == 1, "its finding is reported")
    # `gcc` as the compiler and clang's own <stddef.h>, as a GCC build has them.
    with tempfile.TemporaryDirectory() as d:
        t = Tree(d, a.include, ["drivers/foo/leak.c"])
        db = json.load(open(t.path("compile_commands.json")))
        db[0]["arguments"] = ["gcc"] + [x for x in db[0]["arguments"][1:] if x != "-nostdinc"]
        json.dump(db, open(t.path("compile_commands.json"), "w"))
        with open(t.path("drivers/foo/leak.c"), "a") as fh:
            fh.write("#include <stddef.h>\nsize_t foo_size(void) { return sizeof(struct page *); }\n")
        r, doc = scan(a.pageref, t, os.path.join(d, "out"))
        u = doc["translation_units"][0]
        check(u["status"] == "ok" and len(findings(doc)) == 1, "a gcc command with <stddef.h> is analysed: %s" % u)


def slow_source(n):
    body = ["#include <foo/foo.h>"]
    body += ["static int slow_%d(int x) { return x * %d + (x >> 3) - %d; }" % (i, i, i) for i in range(n)]
    body.append("int slow_pin(unsigned long addr) { struct page *p[1]; return pin_user_pages_fast(addr, 1, 0, p); }")
    return "\n".join(body) + "\n"


def test_kill_and_timeout(a):
    """A worker killed with SIGKILL mid-run, and one that runs past --timeout,
    lose their TU only."""
    with tempfile.TemporaryDirectory() as d:
        t = Tree(d, a.include, ["drivers/foo/slow.c", "drivers/foo/leak.c", "drivers/foo/pin.c"])
        with open(t.path("drivers/foo/slow.c"), "w") as fh:
            fh.write(slow_source(400000))
        out = os.path.join(d, "out")
        p = subprocess.Popen([a.pageref, "scan", t.root, "-o", out, "-j2", "--no-cache", "--format", "json"],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        killed = False
        for _ in range(300):
            ps = subprocess.run(["pgrep", "-f", "worker .*slow.c"], stdout=subprocess.PIPE, text=True).stdout.split()
            if ps:
                time.sleep(0.3)
                for pid in ps:
                    os.kill(int(pid), signal.SIGKILL)
                killed = True
                break
            time.sleep(0.05)
        p.communicate()
        check(killed, "found the slow worker to kill")
        doc = json.load(open(os.path.join(out, "pageref.json")))
        units = {u["file"]: u for u in doc["translation_units"]}
        check(units["drivers/foo/slow.c"]["status"] == "failed" and "crash" in units["drivers/foo/slow.c"]["error"],
              "the killed TU is reported as crashed: %s" % units["drivers/foo/slow.c"])
        check(units["drivers/foo/leak.c"]["status"] == "ok" and len(findings(doc)) == 1,
              "the other TUs' results are kept after the kill")
        check(p.returncode == 2, "exit 2 after a killed worker, got %d" % p.returncode)
        r, doc = scan(a.pageref, t, out, "--timeout", "1")
        units = {u["file"]: u for u in doc["translation_units"]}
        check("timed out after 1 s" in units["drivers/foo/slow.c"].get("error", ""),
              "time-out named: %s" % units["drivers/foo/slow.c"])
        check(units["drivers/foo/leak.c"]["status"] == "ok", "others kept after a time-out")


def test_bad_input(a):
    """Each bad input gets one clear line naming it, exit 2, and the previous
    report stays intact."""
    with tempfile.TemporaryDirectory() as d:
        t = Tree(d, a.include, ["drivers/foo/leak.c"])
        out = os.path.join(d, "out")
        r, doc = scan(a.pageref, t, out)
        before = open(os.path.join(out, "pageref.json")).read()
        with open(t.path("compile_commands.json"), "w") as fh:
            fh.write("[{\"directory\": ")
        r, _ = scan(a.pageref, t, out)
        check(r.returncode == 2 and "compile_commands.json" in r.stderr and "not a usable compile database" in r.stderr,
              "malformed database named: %s" % r.stderr)
        check(open(os.path.join(out, "pageref.json")).read() == before, "the previous report is intact")
        os.remove(t.path("compile_commands.json"))
        r = subprocess.run([a.pageref, "scan", t.root, "-o", out, "-p", os.path.join(d, "nowhere")],
                           stderr=subprocess.PIPE, text=True)
        check(r.returncode == 2 and "nowhere/compile_commands.json" in r.stderr, "missing database named: %s" % r.stderr)
        os.makedirs(os.path.join(d, "notakernel"))
        r = subprocess.run([a.pageref, "scan", os.path.join(d, "notakernel"), "-o", out], stderr=subprocess.PIPE, text=True)
        check(r.returncode == 2 and "not a kernel tree" in r.stderr, "not-a-kernel named: %s" % r.stderr)
        t.set_files(["drivers/foo/leak.c"])
        r = subprocess.run([a.pageref, "scan", t.root, "-o", "/dev/null/out"], stderr=subprocess.PIPE, text=True)
        check(r.returncode == 2 and "/dev/null/out" in r.stderr, "unwritable output named: %s" % r.stderr)
        r = subprocess.run([a.pageref, "scan", t.root, "-o", out, "--shard", "4/3"], stderr=subprocess.PIPE, text=True)
        check(r.returncode == 2 and "--shard" in r.stderr, "bad shard named: %s" % r.stderr)
        r = subprocess.run([a.pageref, "scan", t.root, "-o", out, "--baseline", t.path("Makefile")], stderr=subprocess.PIPE, text=True)
        check(r.returncode == 2 and "Makefile" in r.stderr, "bad baseline named: %s" % r.stderr)
        for lines in [r.stderr.strip().splitlines()]:
            check(len(lines) <= 3, "one clear line, not a flood: %s" % lines)


def test_determinism_and_cache(a):
    """Byte-identical JSON for -j1, -j2, --shard 1/3..3/3 + merge, warm cache;
    the cache re-analyses only what changed."""
    with tempfile.TemporaryDirectory() as d:
        files = ["drivers/foo/leak.c", "drivers/foo/pin.c", "drivers/foo/drop-put.c", "drivers/foo/plain.c",
                 "drivers/foo/drop-none.c"]
        t = Tree(d, a.include, files)
        cache = os.path.join(d, "cache")
        outs = {}
        for name, extra, c in [("j1", ["-j1"], None), ("j2", ["-j2"], None), ("cold", ["-j2"], cache),
                               ("warm", ["-j2"], cache)]:
            r, _ = scan(a.pageref, t, os.path.join(d, name), *extra, cache=c)
            outs[name] = open(os.path.join(d, name, "pageref.json"), "rb").read()
            if name == "warm":
                check(r.stderr.count(" cached ") == 4 and " ok " not in r.stderr,
                      "a warm rescan analyses nothing: %s" % r.stderr)
        shards = []
        for k in (1, 2, 3):
            scan(a.pageref, t, os.path.join(d, "s%d" % k), "--shard", "%d/3" % k)
            shards.append(os.path.join(d, "s%d" % k))
        r = subprocess.run([a.pageref, "merge"] + shards + ["-o", os.path.join(d, "merged"), "--format", "json"],
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        outs["shards"] = open(os.path.join(d, "merged", "pageref.json"), "rb").read()
        for n, b in outs.items():
            check(b == outs["j1"], "pageref.json of %s is byte-identical to -j1's" % n)
        # Prefilter: plain.c is not analysed, the findings are the same.
        r, pre = scan(a.pageref, t, os.path.join(d, "pre"))
        r, nopre = scan(a.pageref, t, os.path.join(d, "nopre"), "--no-prefilter")
        check(pre["findings"] == nopre["findings"] and pre["call_sites"] == nopre["call_sites"],
              "--no-prefilter finds the same")
        check("drivers/foo/plain.c" not in [u["file"] for u in pre["translation_units"]] and
              "drivers/foo/plain.c" in [u["file"] for u in nopre["translation_units"]], "the prefilter skips plain.c")
        # Edit one .c file: only it is analysed again; edit the header: all that include it.
        with open(t.path("drivers/foo/leak.c"), "a") as fh:
            fh.write("/* edited */\n")
        r, _ = scan(a.pageref, t, os.path.join(d, "edit"), cache=cache)
        check(r.stderr.count(" ok ") == 1 and "ok " + t.path("drivers/foo/leak.c") in r.stderr,
              "one edited .c file, one TU analysed: %s" % r.stderr)
        with open(t.path("include/foo/foo.h"), "a") as fh:
            fh.write("/* edited */\n")
        r, _ = scan(a.pageref, t, os.path.join(d, "edit"), cache=cache)
        check(r.stderr.count(" ok ") == 4, "an edited header re-analyses every TU that includes it: %s" % r.stderr)


def test_baseline(a):
    """A baseline suppresses known findings across line shifts; a new one
    exits 1."""
    with tempfile.TemporaryDirectory() as d:
        t = Tree(d, a.include, ["drivers/foo/leak.c", "drivers/foo/pin.c", "drivers/foo/drop-put.c"])
        out = os.path.join(d, "out")
        r, doc = scan(a.pageref, t, out)
        check(r.returncode == 1 and len(findings(doc)) == 2, "two findings before the baseline")
        base = os.path.join(d, "baseline.json")
        subprocess.run([a.pageref, "baseline", os.path.join(out, "pageref.json"), "-o", base], check=True,
                       stderr=subprocess.DEVNULL)
        r, doc = scan(a.pageref, t, out, "--baseline", base)
        check(r.returncode == 0 and all(f["baseline"] == "known" for f in findings(doc)), "all known: exit 0")
        # Lines shift and the function changes elsewhere: still known.
        src = open(t.path("drivers/foo/leak.c")).read()
        src = "/* a new comment\n * of three lines\n */\n" + src.replace("int ret =", "int unused = 0;\n\tint ret =")
        # ... and a new leak in a new function.
        src += ("\nint foo_leak2(unsigned long addr)\n{\n\tstruct page *pages[1];\n"
                "\tint ret = pin_user_pages_fast(addr, 1, 0, pages);\n\tif (ret <= 0)\n\t\treturn ret;\n"
                "\treturn 0;\n}\n")
        open(t.path("drivers/foo/leak.c"), "w").write(src)
        r, doc = scan(a.pageref, t, out, "--baseline", base)
        new = [f for f in findings(doc) if f["baseline"] == "new"]
        check(r.returncode == 1 and len(new) == 1 and new[0]["function"] == "foo_leak2",
              "only foo_leak2's leak is new: %s" % [(f["function"], f["baseline"]) for f in findings(doc)])


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--pageref", required=True)
    ap.add_argument("--include", required=True)
    ap.add_argument("tests", nargs="*")
    a = ap.parse_args()
    a.include = os.path.abspath(a.include)
    tests = {n[5:]: f for n, f in globals().items() if n.startswith("test_")}
    for name in a.tests or tests:
        print("== " + name)
        tests[name](a)
    print("%d failures" % len(FAILURES))
    return 1 if FAILURES else 0


if __name__ == "__main__":
    sys.exit(main())
