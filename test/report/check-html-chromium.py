#!/usr/bin/env python3
"""Opens a pageref HTML report in headless Chromium with #selftest: the page
must load with no console error (a CSP violation, i.e. anything fetched from
the network, is one), its counts must equal the scan JSON's, and every filter
option must show exactly the items the JSON says it should.

  check-html-chromium.py --pageref P --source-dir S --work W   (the fixture)
  check-html-chromium.py --html R/pageref.html --scan R/pageref.json [--screenshot PNG]
"""
import argparse
import collections
import html
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(__file__))
from common import fixture_scan, read, report, verdict  # noqa: E402


def chromium():
    for name in ("chromium", "chromium-browser", "google-chrome"):
        p = shutil.which(name)
        if p:
            return p
    sys.exit("chromium not found: apt-get install chromium (tools/bootstrap.sh)")


def run_chromium(args, profile):
    cmd = [chromium(), "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
           "--user-data-dir=" + profile, "--enable-logging=stderr", "--v=0", *args]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=120)


def expected(scan, sections_of):
    """What each filter option must show, from the JSON alone (subsystems:
    from the page's own grouping of files, which check-report.py checks)."""
    sites, finds = scan["call_sites"], scan["findings"]
    exp = {("subsystem", ""): (len(sites), len(finds))}
    for slug, files in sections_of.items():
        exp[("subsystem", slug)] = (sum(1 for c in sites if (slug, c["file"]) in files),
                                    sum(1 for f in finds if (slug, f["file"]) in files))
    exp[("verdict", "")] = exp[("subsystem", "")]
    for v in {c["verdict"] for c in sites}:
        exp[("verdict", v)] = (sum(1 for c in sites if c["verdict"] == v), 0)
    exp[("check", "")] = exp[("subsystem", "")]
    exp[("check", "pageref-get-pages-caller")] = (len(sites), 0)
    for c in {f["check"] for f in finds}:
        exp[("check", c)] = (0, sum(1 for f in finds if f["check"] == c))
    exp[("baseline", "")] = exp[("subsystem", "")]
    for b in ("new", "known"):
        exp[("baseline", b)] = (0, sum(1 for f in finds if f.get("baseline") == b))
    return exp


def check(html_path, scan, screenshot=None):
    failures = []
    profile = tempfile.mkdtemp(prefix="pageref-chromium-")
    try:
        url = "file://" + os.path.abspath(html_path) + "#selftest"
        p = run_chromium(["--dump-dom", url], profile)
        dom = p.stdout
        # Console messages and CSP refusals are logged as CONSOLE lines.
        console = [l for l in p.stderr.splitlines() if "CONSOLE" in l or "Uncaught" in l or "Refused to" in l]
        if console:
            failures.append("console: " + " | ".join(console[:5]))
        m = re.search(r'<pre id="pageref-selftest">(.*?)</pre>', dom, re.S)
        if not m:
            failures.append("the self-check did not run (no #pageref-selftest in the DOM; exit %d)" % p.returncode)
            return failures
        result = json.loads(html.unescape(m.group(1)))
        if result["errors"]:
            failures.append("script errors: %r" % result["errors"])

        # Counts the page states, against the JSON.
        counts = {k: int(v) for k, v in re.findall(r'<b class="count(?: zero)?" data-key="([^"]+)">(\d+)</b>', dom)}
        verdicts = collections.Counter(c["verdict"] for c in scan["call_sites"])
        checks = collections.Counter(f["check"] for f in scan["findings"])
        want = {"callsites": len(scan["call_sites"]), "findings": len(scan["findings"]),
                "tus": len(scan["translation_units"]),
                "tus-failed": sum(1 for u in scan["translation_units"] if u["status"] != "ok")}
        want.update({"verdict:" + v: n for v, n in verdicts.items()})
        want.update({"check:" + c: n for c, n in checks.items()})
        for k, n in want.items():
            if counts.get(k) != n:
                failures.append("count %s: page says %r, JSON %d" % (k, counts.get(k), n))
        # Per subsystem: the table's numbers against the articles in its section.
        sections = collections.defaultdict(set)
        for slug, body in re.findall(r'<section class="subsystem" data-subsystem="([^"]+)">(.*?)</section>', dom, re.S):
            for f in re.findall(r'<article class="item (?:callsite|finding)"[^>]*data-file="([^"]+)"', body):
                sections[slug].add((slug, html.unescape(f)))
        for slug in sections:
            n = sum(counts.get("%s:%s" % (slug, v), 0) for v in verdicts)
            got = sum(1 for c in scan["call_sites"] if (slug, c["file"]) in sections[slug])
            if n != got:
                failures.append("subsystem %s: table says %d call sites, its section has %d" % (slug, n, got))

        exp = expected(scan, sections)
        seen = set()
        for r in result["runs"]:
            key = (r["filter"], r["value"])
            seen.add(key)
            if r["sites"] != r["shown_sites"] or r["findings"] != r["shown_findings"]:
                failures.append("filter %s=%r: 'showing' says %d/%d, the page shows %d/%d" % (
                    *key, r["shown_sites"], r["shown_findings"], r["sites"], r["findings"]))
            if key in exp and (r["sites"], r["findings"]) != exp[key]:
                failures.append("filter %s=%r shows %d call sites and %d findings, the JSON says %d and %d" % (
                    *key, r["sites"], r["findings"], *exp[key]))
        has_baseline = any("baseline" in f for f in scan["findings"])
        for key in exp:
            if key not in seen and (key[0] != "baseline" or has_baseline):
                failures.append("no filter option for %s=%r" % key)
        if not any(r["value"] and (r["sites"], r["findings"]) != exp[("subsystem", "")] for r in result["runs"]):
            failures.append("no filter changes what is shown")

        if screenshot:
            q = run_chromium(["--hide-scrollbars", "--window-size=1280,800", "--screenshot=" + screenshot,
                              "file://" + os.path.abspath(html_path)], profile)
            if q.returncode != 0 or not os.path.exists(screenshot):
                failures.append("screenshot failed: " + q.stderr[-500:])
    finally:
        shutil.rmtree(profile, ignore_errors=True)
    return failures


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--pageref")
    ap.add_argument("--source-dir")
    ap.add_argument("--work")
    ap.add_argument("--html")
    ap.add_argument("--scan", help="the JSON the HTML was rendered from (pageref.json of the report)")
    ap.add_argument("--screenshot")
    a = ap.parse_args()
    if a.html:
        html_path, scan = a.html, json.loads(read(a.scan))
    else:
        fixture = os.path.join(a.source_dir, "testdata", "report")
        shutil.rmtree(a.work, ignore_errors=True)
        src = fixture_scan(fixture, a.work)
        out = os.path.join(a.work, "out")
        rc, _, se = report(a.pageref, [src], out, "--baseline", os.path.join(fixture, "baseline.json"),
                           "--format", "json,html")
        if rc != 0:
            sys.exit("pageref report failed: " + se)
        html_path, scan = os.path.join(out, "pageref.html"), json.loads(read(os.path.join(out, "pageref.json")))
    failures = check(html_path, scan, a.screenshot)
    return verdict(failures)


if __name__ == "__main__":
    sys.exit(main())
