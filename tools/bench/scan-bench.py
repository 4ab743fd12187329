#!/usr/bin/env python3
"""Benchmark of `pageref scan` on Debian's 6.1 (a script, not a test: the
machines are shared and noisy, so everything is measured side by side in one
run and printed as ratios).

(a) the cold whole scan (compile DB given, all checks, JSON out) vs the parse
    floor (the same TUs through the driver's front end, no checks, same -j) vs
    Coccinelle's inventory-only rule over the whole tree (same -j; checked to
    find the same call sites);
(b) per TU: the driver (one worker, all checks) vs bare clang-19 -fsyntax-only,
    and clang-tidy-19 with the plugin vs clang-tidy-19 with one trivial check;
(c) peak RSS of a worker vs the bare parse;
(d) the warm rescan after editing one .c file, and after editing
    include/linux/uio.h, vs Coccinelle's run;
(e) TUs the prefilter selects out of the database, findings it misses vs
    --no-prefilter.

usage: tools/bench/scan-bench.py [--pageref build/bin/pageref] [-j 2] [--repeat 3]"""
import argparse
import json
import os
import shlex
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(REPO, "tools", "kernel"))
from kerneltree import debian_tree  # noqa: E402


def timed(cmd, **kw):
    """Wall time, output and exit status of one command."""
    t0 = time.monotonic()
    p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, **kw)
    out, err = p.communicate()
    dt = time.monotonic() - t0
    return dt, out, err, p.returncode


def wall_rss(cmd, cwd=None):
    t0 = time.monotonic()
    p = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=cwd)
    _, status, ru = os.wait4(p.pid, 0)
    return time.monotonic() - t0, ru.ru_maxrss


def median_of(n, f):
    return statistics.median(f() for _ in range(n))


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--pageref", default=os.path.join(REPO, "build/bin/pageref"))
    ap.add_argument("--plugin", default=os.path.join(REPO, "build/lib/pageref/PagerefTidyModule.so"))
    ap.add_argument("--clang-tidy", default="/usr/lib/llvm-19/bin/clang-tidy")
    ap.add_argument("--debian", default="6.1")
    ap.add_argument("-j", type=int, default=2)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--tus", default="fs/nfs/direct.c,fs/smb/client/file.c,io_uring/rsrc.c,mm/gup.c,block/bio.c",
                    help="TUs for the per-TU figures (b, c)")
    a = ap.parse_args()
    tree = debian_tree(a.debian)
    db = json.load(open(os.path.join(tree, "compile_commands.json")))
    work = tempfile.mkdtemp(prefix="pageref-bench-")
    print("tree %s, %d TUs in the compile database, -j%d, %d repeats\n" % (tree, len(db), a.j, a.repeat))

    def scan(out, *extra):
        return timed([a.pageref, "scan", tree, "-o", os.path.join(work, out), "-j", str(a.j), "--format", "json"]
                     + list(extra))

    # (a) cold scan, parse floor on the same TUs, Coccinelle.
    cold, floor, cocci = [], [], []
    for i in range(a.repeat):
        dt, _, err, rc = scan("cold", "--no-cache")
        if rc == 2:
            sys.exit("the scan failed:\n" + err[-2000:])
        cold.append(dt)
        doc = json.load(open(os.path.join(work, "cold", "pageref.json")))
        # The floor parses exactly the TUs the scan analysed.
        sub = os.path.join(work, "floor-db")
        os.makedirs(sub, exist_ok=True)
        files = {os.path.join(tree, u["file"]) for u in doc["translation_units"]}
        json.dump([e for e in db if os.path.normpath(os.path.join(e["directory"], e["file"])) in files],
                  open(os.path.join(sub, "compile_commands.json"), "w"))
        dt, _, err, rc = timed([a.pageref, "scan", tree, "-p", sub, "-o", os.path.join(work, "floor"), "-j", str(a.j),
                                "--no-cache", "--no-prefilter", "--parse-only", "--format", "json"])
        floor.append(dt)
        dt, out, _, _ = timed(["spatch", "--sp-file", os.path.join(HERE, "get-pages-callers.cocci"), "--dir", ".",
                               "-j", str(a.j), "--very-quiet"], cwd=tree)
        cocci.append(dt)
    c_sites = {(l.split(":")[0].lstrip("./"), int(l.split(":")[1])) for l in out.splitlines() if l.count(":") >= 2}
    c_sites = {s for s in c_sites if s[0] != "lib/iov_iter.c"}
    p_sites = {(s["file"], s["line"]) for s in doc["call_sites"]}
    cold_m, floor_m, cocci_m = statistics.median(cold), statistics.median(floor), statistics.median(cocci)
    print("(a) cold scan of %d TUs: %.1f s; parse floor (same TUs, no checks): %.1f s; Coccinelle (whole tree): "
          "%.1f s" % (len(doc["translation_units"]), cold_m, floor_m, cocci_m))
    print("    scan / floor = %.2f (target <= 1.3); scan / Coccinelle = %.2f; floor / Coccinelle = %.2f"
          % (cold_m / floor_m, cold_m / cocci_m, floor_m / cocci_m))
    print("    call sites: pageref %d, Coccinelle %d, same: %s" % (len(p_sites), len(c_sites), p_sites == c_sites))

    # (b), (c) per TU.
    entries = {os.path.relpath(os.path.normpath(os.path.join(e["directory"], e["file"])), tree): e for e in db}
    print("\n(b) per TU, median of %d: driver vs bare parse; plugin vs clang-tidy with one trivial check" % a.repeat)
    print("    %-24s %8s %8s %6s   %8s %8s %6s   %9s %9s %6s" % ("TU", "bare s", "driver", "ratio", "tidy-0",
                                                             "plugin", "ratio", "bare KiB", "driver", "ratio"))
    ratios_d, ratios_p, ratios_m = [], [], []
    for tu in a.tus.split(","):
        e = entries.get(tu)
        if not e:
            print("    %-24s not in the database" % tu)
            continue
        args = e.get("arguments") or shlex.split(e["command"])
        bare = [args[0]] + [x for i, x in enumerate(args[1:], 1)
                            if x not in ("-c",) and args[i - 1] != "-o" and x != "-o"] + ["-fsyntax-only"]
        job = os.path.join(work, "job.json")
        json.dump({"directory": e["directory"], "file": os.path.join(tree, tu), "arguments": args}, open(job, "w"))
        b = [wall_rss(bare, cwd=e["directory"]) for _ in range(a.repeat)]
        d = [wall_rss([a.pageref, "worker", job, os.path.join(work, "out.json")]) for _ in range(a.repeat)]
        t0 = [wall_rss([a.clang_tidy, "--checks=-*,misc-unused-alias-decls", "-p", tree, os.path.join(tree, tu)])
              for _ in range(a.repeat)]
        t1 = [wall_rss([a.clang_tidy, "--load=" + a.plugin, "--checks=-*,pageref-*", "-p", tree,
                        os.path.join(tree, tu)]) for _ in range(a.repeat)]
        bm, dm = statistics.median(x[0] for x in b), statistics.median(x[0] for x in d)
        t0m, t1m = statistics.median(x[0] for x in t0), statistics.median(x[0] for x in t1)
        br, dr = max(x[1] for x in b), max(x[1] for x in d)
        ratios_d.append(dm / bm)
        ratios_p.append(t1m / t0m)
        ratios_m.append(dr / br)
        print("    %-24s %8.2f %8.2f %6.2f   %8.2f %8.2f %6.2f   %9d %9d %6.2f" % (
            tu, bm, dm, dm / bm, t0m, t1m, t1m / t0m, br, dr, dr / br))
    if ratios_d:
        print("    median ratios: driver / bare parse %.2f (target <= 0.55), plugin / clang-tidy %.2f (target <= 1.10)"
              % (statistics.median(ratios_d), statistics.median(ratios_p)))
        print("(c) peak RSS, worker / bare parse: median %.2f, max %.2f (target <= 1.3)"
              % (statistics.median(ratios_m), max(ratios_m)))

    # (d) warm rescans after an edit (the files are restored afterwards).
    cache = os.path.join(work, "cache")
    scan("warm", "--cache-dir", cache)
    print("\n(d) warm rescans (cache filled), vs Coccinelle's %.1f s:" % cocci_m)
    for rel in ("fs/nfs/direct.c", "include/linux/uio.h"):
        path = os.path.join(tree, rel)
        orig = open(path, "rb").read()
        st = os.stat(path)
        times, reanalysed = [], 0
        try:
            for i in range(a.repeat):
                with open(path, "ab") as fh:
                    fh.write(b"\n/* pageref bench edit %d */\n" % i)
                dt, _, err, _ = scan("warm", "--cache-dir", cache)
                times.append(dt)
                reanalysed = err.count(" ok ")
        finally:
            open(path, "wb").write(orig)
            os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns))
        m = statistics.median(times)
        print("    after editing %-22s %.2f s, %d TUs analysed again; Coccinelle / rescan = %.1fx (target >= 10x)"
              % (rel + ":", m, reanalysed, cocci_m / m))

    # (e) prefilter.
    dt, _, _, _ = scan("nopre", "--no-prefilter", "--cache-dir", cache)
    nopre = json.load(open(os.path.join(work, "nopre", "pageref.json")))
    warm = json.load(open(os.path.join(work, "warm", "pageref.json")))
    missed_f = [f for f in nopre["findings"] if f not in warm["findings"]]
    missed_c = [c for c in nopre["call_sites"] if c not in warm["call_sites"]]
    print("\n(e) prefilter: %d of %d TUs selected (%d more for summaries); missed vs --no-prefilter: %d findings, "
          "%d call sites" % (sum(1 for u in warm["translation_units"] if u["selected_by"] == "prefilter"), len(db),
                             sum(1 for u in warm["translation_units"] if u["selected_by"] == "summary"),
                             len(missed_f), len(missed_c)))
    print("\nwork files in %s" % work)


if __name__ == "__main__":
    main()
