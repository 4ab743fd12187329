#!/usr/bin/env python3
"""pageref scan on a prepared Debian kernel (x86_64 allmodconfig, every
page-reference user), in two steps that share one scan.

--step main: the README's main job. `pageref scan --debian V -j2` with a cache
  in --work and the text, JSON, SARIF and HTML reports; no translation unit may
  fail; every warning is in testdata/kernel/linux-V.warnings.reviewed (and every
  reviewed one is reported) with its verdict; false positives at most
  --max-fp-ratio of the warnings. Prints the figures. Later tests (the
  inventory through the scan, the reports, determinism) read its output.

--step determinism: the JSON of the main scan is byte-identical to a warm-cache
  scan and to --shard 1/3..3/3 + merge; with --thorough also to -j1 without a
  cache and to --full-parse (no header body skipped), and --no-prefilter finds
  the same call sites and findings.

Reviewed-list lines: file<TAB>line<TAB>check<TAB>bug|false-positive<TAB>why
"""
import argparse
import json
import os
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))


def load_reviewed(path):
    out = {}
    with open(path) as f:
        for n, line in enumerate(f, 1):
            if line.startswith("#") or not line.strip():
                continue
            cols = line.rstrip("\n").split("\t")
            if len(cols) != 5 or cols[3] not in ("bug", "false-positive") or not cols[1].isdigit() \
                    or not cols[4].strip():
                sys.exit("%s:%d: expected file, line, check, bug|false-positive, why (tab-separated)" % (path, n))
            key = (cols[0], int(cols[1]), cols[2])
            if key in out:
                sys.exit("%s:%d: %s:%s [%s] is listed twice" % (path, n, *key))
            out[key] = (cols[3], cols[4])
    return out


def scan(pageref, debian, out, extra, quiet=False):
    t0 = time.monotonic()
    r = subprocess.run([pageref, "scan", "--debian", debian, "-o", out] + extra,
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    dt = time.monotonic() - t0
    if r.returncode not in (0, 1):
        sys.stderr.write(r.stderr[-3000:])
        sys.exit("pageref scan %s exited %d" % (" ".join(extra), r.returncode))
    if not quiet:
        print("scan %-40s exit %d, %.1f s" % (" ".join(extra), r.returncode, dt))
    return open(os.path.join(out, "pageref.json"), "rb").read(), dt, r.stdout


def main_step(a):
    ref, dt, stdout = scan(a.pageref, a.debian, os.path.join(a.work, "scan"),
                           ["-j2", "--cache-dir", os.path.join(a.work, "cache"),
                            "--format", "text,json,sarif,html"])
    doc = json.loads(ref)
    failures = []
    tus = doc["translation_units"]
    failed = [u for u in tus if u["status"] != "ok"]
    for u in failed:
        failures.append("%s failed: %s" % (u["file"], u.get("error", "?")))
    reviewed = load_reviewed(a.reviewed)
    found = {}
    for f in doc["findings"]:
        if f["severity"] == "warning":
            found[(f["file"], f["line"], f["check"])] = f["message"]
    bugs = fps = 0
    per_check = {}
    for key, msg in sorted(found.items()):
        if key not in reviewed:
            failures.append("%s:%d [%s] not reviewed: %s" % (key[0], key[1], key[2], msg))
            continue
        verdict, why = reviewed[key]
        c = per_check.setdefault(key[2], [0, 0])
        if verdict == "bug":
            bugs += 1
            c[0] += 1
        else:
            fps += 1
            c[1] += 1
        print("%s:%d [%s] %s: %s\n    %s" % (key[0], key[1], key[2], verdict, msg, why))
    for key in sorted(set(reviewed) - set(found)):
        failures.append("%s:%d [%s] is in %s but was not reported" % (key[0], key[1], key[2],
                                                                        os.path.relpath(a.reviewed, REPO)))
    n = len(found)
    print("linux-%s allmodconfig: %d translation units (%d failed), %d call sites, %d warnings: "
          "%d bugs, %d false positives (%.0f%%); %s; %.1f s wall at -j2"
          % (a.debian, len(tus), len(failed), len(doc["call_sites"]), n, bugs, fps,
             100.0 * fps / n if n else 0.0,
             ", ".join("%s %d bug/%d fp" % (k, v[0], v[1]) for k, v in sorted(per_check.items())) or "no warnings",
             dt))
    if n and fps > a.max_fp_ratio * n:
        failures.append("false positives are %.0f%% of the warnings (at most %.0f%%)"
                        % (100.0 * fps / n, 100.0 * a.max_fp_ratio))
    for f in failures:
        print("FAIL: " + f)
    return 1 if failures else 0


def determinism_step(a):
    ref_path = os.path.join(a.work, "scan", "pageref.json")
    if not os.path.exists(ref_path):
        sys.exit("%s: no main scan (run the kernel-scan-%s test first)" % (ref_path, a.debian))
    ref = open(ref_path, "rb").read()
    cache = os.path.join(a.work, "cache")
    d = os.path.join(a.work, "determinism")
    failures = []
    outs = {"warm cache": scan(a.pageref, a.debian, os.path.join(d, "warm"),
                               ["-j2", "--cache-dir", cache, "--format", "json"])[0]}
    for k in (1, 2, 3):
        scan(a.pageref, a.debian, os.path.join(d, "s%d" % k),
             ["--shard", "%d/3" % k, "--cache-dir", cache, "--format", "json"])
    r = subprocess.run([a.pageref, "merge"] + [os.path.join(d, "s%d" % k) for k in (1, 2, 3)] +
                       ["-o", os.path.join(d, "merged"), "--format", "json"],
                       stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    if r.returncode not in (0, 1):
        sys.exit("pageref merge failed: " + r.stderr[-2000:])
    outs["--shard 1/3..3/3 + merge"] = open(os.path.join(d, "merged", "pageref.json"), "rb").read()
    if a.thorough:
        outs["-j1 without a cache"] = scan(a.pageref, a.debian, os.path.join(d, "j1"),
                                           ["-j1", "--no-cache", "--format", "json"])[0]
        # Skipping header bodies no check can read changes nothing.
        outs["--full-parse"] = scan(a.pageref, a.debian, os.path.join(d, "full"),
                                    ["-j2", "--full-parse", "--no-cache", "--format", "json"])[0]
    for k, v in outs.items():
        if v != ref:
            failures.append("pageref.json of %s differs from the main scan's" % k)
    if a.thorough:
        doc = json.loads(ref)
        nopre = json.loads(scan(a.pageref, a.debian, os.path.join(d, "nopre"),
                                ["-j2", "--no-prefilter", "--cache-dir", cache, "--format", "json"])[0])
        if nopre["findings"] != doc["findings"] or nopre["call_sites"] != doc["call_sites"]:
            failures.append("--no-prefilter finds something else: %d/%d findings, %d/%d call sites" % (
                len(nopre["findings"]), len(doc["findings"]), len(nopre["call_sites"]), len(doc["call_sites"])))
        print("prefilter: %d TUs analysed (%d for summaries), --no-prefilter: %d" % (
            len(doc["translation_units"]),
            sum(1 for u in doc["translation_units"] if u.get("selected_by") == "summary"),
            len(nopre["translation_units"])))
    for f in failures:
        print("FAIL: " + f)
    if not failures:
        print("identical: " + ", ".join(outs))
    return 1 if failures else 0


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--pageref", required=True)
    ap.add_argument("--debian", required=True)
    ap.add_argument("--work", required=True, help="where the main scan and its cache go")
    ap.add_argument("--step", choices=["main", "determinism"], default="main")
    ap.add_argument("--reviewed", help="the reviewed warnings (default testdata/kernel/linux-V.warnings.reviewed)")
    ap.add_argument("--max-fp-ratio", type=float, default=0.10)
    ap.add_argument("--thorough", action="store_true",
                    help="determinism: also -j1 without a cache, --full-parse and --no-prefilter")
    a = ap.parse_args()
    a.reviewed = a.reviewed or os.path.join(REPO, "testdata", "kernel", "linux-%s.warnings.reviewed" % a.debian)
    os.makedirs(a.work, exist_ok=True)
    return main_step(a) if a.step == "main" else determinism_step(a)


if __name__ == "__main__":
    sys.exit(main())
