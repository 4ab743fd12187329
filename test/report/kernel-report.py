#!/usr/bin/env python3
"""The reports of a real kernel: `pageref scan --debian VERSION` with all four
formats, then `pageref report` of its JSON. Checks: the scan wrote all four;
the report renders the same SARIF and HTML byte for byte; the JSON passes
docs/pageref-scan.schema.json; the SARIF passes the SARIF Multitool; the
HTML lists every get-pages call site of the hand review, each under its
MAINTAINERS subsystem with its verdict and reason; and the page passes the
Chromium self-check (check-html-chromium.py)."""
import argparse
import html
import json
import os
import re
import subprocess
import sys

sys.path.insert(0, os.path.dirname(__file__))
from common import read, verdict  # noqa: E402
import importlib.util  # noqa: E402


def load(name):
    spec = importlib.util.spec_from_file_location(name.replace("-", "_"),
                                                  os.path.join(os.path.dirname(__file__), name + ".py"))
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--pageref", required=True)
    ap.add_argument("--debian", required=True)
    ap.add_argument("--source-dir", required=True)
    ap.add_argument("--npm-prefix", required=True)
    ap.add_argument("--work", required=True)
    ap.add_argument("--from-scan", metavar="DIR",
                    help="the reports of a scan already made with --format text,json,sarif,html "
                    "(the kernel-scan test's) instead of scanning again")
    ap.add_argument("--screenshot", help="also write a 1280x800 screenshot of the report")
    a = ap.parse_args()
    failures = []
    scan_dir, report_dir = os.path.join(a.work, "scan"), os.path.join(a.work, "report")
    formats = "text,json,sarif,html"
    if a.from_scan:
        scan_dir = a.from_scan
    else:
        p = subprocess.run([a.pageref, "scan", "--debian", a.debian, "-o", scan_dir, "--format", formats],
                           capture_output=True, text=True)
        # Exit 1 means new findings, which a real kernel has.
        if p.returncode not in (0, 1):
            sys.exit("pageref scan failed (exit %d): %s" % (p.returncode, p.stderr[-2000:]))
    for name in ("pageref.txt", "pageref.json", "pageref.sarif", "pageref.html"):
        if not os.path.exists(os.path.join(scan_dir, name)):
            failures.append("pageref scan --format %s did not write %s" % (formats, name))
    scan_json = os.path.join(scan_dir, "pageref.json")
    p = subprocess.run([a.pageref, "report", scan_json, "-o", report_dir], capture_output=True, text=True)
    if p.returncode != 0:
        sys.exit("pageref report failed: " + p.stderr)
    for name in ("pageref.sarif", "pageref.html"):
        s = os.path.join(scan_dir, name)
        if os.path.exists(s) and read(s, "rb") != read(os.path.join(report_dir, name), "rb"):
            failures.append("%s of pageref report differs from the scan's" % name)

    scan = json.loads(read(scan_json))
    import jsonschema
    v = jsonschema.Draft202012Validator(json.loads(read(os.path.join(a.source_dir, "docs", "pageref-scan.schema.json"))))
    for e in sorted(v.iter_errors(scan), key=lambda e: list(e.path))[:10]:
        failures.append("schema: %s: %s" % ("/".join(map(str, e.path)), e.message))

    failures += load("validate-sarif").validate(a.npm_prefix, os.path.join(report_dir, "pageref.sarif"), a.work)

    # Every reviewed call site, in a subsystem section, with verdict and reason.
    expected = [l.split("\t") for l in read(os.path.join(a.source_dir, "testdata", "kernel",
                                                          "linux-%s.get-pages-callers.expected" % a.debian)).splitlines()
                if l and not l.startswith("#")]
    page = read(os.path.join(report_dir, "pageref.html"))
    sections = re.findall(r'<section class=subsystem data-subsystem="([^"]+)"><header><h2>(.*?)</h2>(.*?)</section>',
                          page, re.S)
    where = {}
    for slug, name, body in sections:
        for art in re.findall(r'<article class="item callsite"(.*?)</article>', body, re.S):
            m = re.search(r'data-verdict="([^"]+)" data-check="[^"]+" data-file="([^"]+)">.*?<span class=where>'
                          r'[^:<]+:(\d+):\d+</span></div><p class=reason>(.*?)</p>', art, re.S)
            if m:
                where[(html.unescape(m.group(2)), int(m.group(3)))] = (html.unescape(name), m.group(1), m.group(4))
    for f, line, func, callee, reviewed, *rest in expected:
        got = where.get((f, int(line)))
        if not got:
            failures.append("html: %s:%s %s() is not under any subsystem" % (f, line, func))
        elif not got[2].strip() or not got[1]:
            failures.append("html: %s:%s has no verdict or reason" % (f, line))
        elif got[0].startswith("("):
            failures.append("html: %s:%s is in %s" % (f, line, got[0]))
    if len(where) != len(scan["call_sites"]):
        failures.append("html: %d call sites, the JSON has %d" % (len(where), len(scan["call_sites"])))
    groups = {}
    for (f, line), (name, v, _) in sorted(where.items()):
        groups.setdefault(name, []).append("%s:%d %s" % (f, line, v))
    for name, items in sorted(groups.items()):
        print("%s\n  %s" % (name, "\n  ".join(items)))

    failures += load("check-html-chromium").check(os.path.join(report_dir, "pageref.html"), scan, a.screenshot)
    return verdict(failures)


if __name__ == "__main__":
    sys.exit(main())
