#!/usr/bin/env python3
"""pageref scan on a prepared Debian kernel: every finding is in the reviewed
list (and every reviewed one is found), the JSON is byte-identical for -j1,
-j2, --shard 1/3..3/3 + merge, a warm cache and --full-parse (no header body
skipped), and --no-prefilter finds the same call sites and findings as the
prefilter."""
import argparse
import json
import os
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))


def load_reviewed(path):
    out = {}
    for line in open(path):
        if line.startswith("#") or not line.strip():
            continue
        f, l, check, verdict, why = line.rstrip("\n").split("\t")
        out[(f, int(l), check)] = verdict
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--pageref", required=True)
    ap.add_argument("--debian", required=True)
    a = ap.parse_args()
    failures = []
    with tempfile.TemporaryDirectory() as d:
        def scan(name, *extra):
            t0 = time.monotonic()
            r = subprocess.run([a.pageref, "scan", "--debian", a.debian, "-o", os.path.join(d, name),
                                "--format", "json"] + list(extra),
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
            dt = time.monotonic() - t0
            if r.returncode == 2:
                sys.stderr.write(r.stderr[-3000:])
                sys.exit("pageref scan %s failed" % " ".join(extra))
            print("scan %-28s exit %d, %.1f s" % (" ".join(extra), r.returncode, dt))
            return open(os.path.join(d, name, "pageref.json"), "rb").read()

        cache = os.path.join(d, "cache")
        ref = scan("j1", "-j1", "--no-cache")
        outs = {"-j2": scan("j2", "-j2", "--no-cache"),
                "cold cache": scan("cold", "-j2", "--cache-dir", cache),
                "warm cache": scan("warm", "-j2", "--cache-dir", cache)}
        for k in (1, 2, 3):
            scan("s%d" % k, "--shard", "%d/3" % k, "--cache-dir", cache)
        r = subprocess.run([a.pageref, "merge"] + [os.path.join(d, "s%d" % k) for k in (1, 2, 3)] +
                           ["-o", os.path.join(d, "merged"), "--format", "json"],
                           stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        outs["--shard 1/3..3/3 + merge"] = open(os.path.join(d, "merged", "pageref.json"), "rb").read()
        for k, v in outs.items():
            if v != ref:
                failures.append("pageref.json of %s differs from -j1's" % k)
        # Skipping header bodies no check can read changes nothing: call
        # sites, findings, summaries, all byte for byte.
        if scan("full", "-j2", "--full-parse", "--cache-dir", cache) != ref:
            failures.append("pageref.json with --full-parse (header bodies parsed) differs from the default")
        doc = json.loads(ref)
        nopre = json.loads(scan("nopre", "--no-prefilter", "--cache-dir", cache))
        if nopre["findings"] != doc["findings"] or nopre["call_sites"] != doc["call_sites"]:
            failures.append("--no-prefilter finds something else: %d/%d findings, %d/%d call sites" % (
                len(nopre["findings"]), len(doc["findings"]), len(nopre["call_sites"]), len(doc["call_sites"])))
        print("prefilter: %d of %d TUs analysed (%d for summaries), --no-prefilter: %d; findings %d / %d" % (
            sum(1 for u in doc["translation_units"]), len(nopre["translation_units"]),
            sum(1 for u in doc["translation_units"] if u["selected_by"] == "summary"),
            len(nopre["translation_units"]), len(doc["findings"]), len(nopre["findings"])))
    reviewed = {}
    for kind in ("refflow", "async-bvec"):
        p = os.path.join(REPO, "testdata/kernel/linux-%s.%s-warnings.reviewed" % (a.debian, kind))
        reviewed.update(load_reviewed(p))
    got = {(f["file"], f["line"], f["check"]) for f in doc["findings"] if f["severity"] == "warning"}
    for k in sorted(got - set(reviewed)):
        failures.append("finding not in the reviewed lists: %s:%d [%s]" % k)
    for k in sorted(set(reviewed) - got):
        failures.append("reviewed finding not reported: %s:%d [%s]" % k)
    print("%d findings, all reviewed: %s" % (len(got), ", ".join("%s:%d %s" % (k[0], k[1], reviewed.get(k, "?"))
                                                                 for k in sorted(got))))
    for f in failures:
        print("FAIL: " + f)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
