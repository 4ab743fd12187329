#!/usr/bin/env python3
"""pageref's Code Quality report (--format codequality) against the format GitLab
documents for a custom tool (doc/ci/testing/code_quality.md of GitLab, "Implement
a custom tool": a JSON array of objects with description, check_name,
fingerprint, severity one of info/minor/major/critical/blocker, location.path
relative to the repository, location.lines.begin or location.positions.begin.line;
no byte order mark; findings with the same fingerprint are shown as one) and
the fields the CodeClimate spec requires of an issue (type "issue", categories
from its list). Rendered from the report fixture (a fix-it, a remark, a cross-TU
finding; with and without a baseline), from a real scan of the mini kernel, and
from `pageref merge` of that scan: one issue per finding, the same bytes from
scan, report and merge.

usage: check-codequality.py --pageref BUILD/bin/pageref --source-dir SRC --work DIR"""
import argparse
import json
import os
import shutil
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "install"))
sys.path.insert(0, os.path.join(HERE, "..", "report"))
from common import fixture_scan  # noqa: E402
from minikernel import Checks, make_tree, read, run  # noqa: E402

SEVERITIES = {"info", "minor", "major", "critical", "blocker"}
CATEGORIES = {"Bug Risk", "Clarity", "Compatibility", "Complexity", "Duplication", "Performance", "Security", "Style"}

check = Checks()


def validate(path, scan, what):
    """The report at \\p path, for the scan document \\p scan."""
    raw = read(path, "rb")
    check(not raw.startswith(b"\xef\xbb\xbf") and raw.lstrip()[:1] == b"[", "%s: not a JSON array without BOM" % what)
    issues = json.loads(raw.decode("utf-8"))
    if not check(isinstance(issues, list), "%s: not a JSON array" % what):
        return
    checks = {f["check"] for f in scan["findings"]}
    tree = scan["tree"]
    for i, x in enumerate(issues):
        w = "%s: issue %d" % (what, i)
        check(isinstance(x.get("description"), str) and x["description"], w + ": no description")
        check(x.get("check_name") in checks, w + ": check_name %r is not a check of the scan" % x.get("check_name"))
        check(isinstance(x.get("fingerprint"), str) and x["fingerprint"], w + ": no fingerprint")
        check(x.get("severity") in SEVERITIES, w + ": severity %r" % x.get("severity"))
        loc = x.get("location", {})
        p = loc.get("path")
        if check(isinstance(p, str) and p and not os.path.isabs(p) and not p.startswith("./"),
                 w + ": location.path %r is not relative to the repository" % p):
            check(os.path.isfile(os.path.join(tree, p)), w + ": location.path %s is not a file of the tree" % p)
        line = loc.get("lines", {}).get("begin", loc.get("positions", {}).get("begin", {}).get("line"))
        check(isinstance(line, int) and line >= 1, w + ": no line (location.lines.begin)")
        check(x.get("type") == "issue", w + ": type %r (CodeClimate: \"issue\")" % x.get("type"))
        check(x.get("categories") and set(x["categories"]) <= CATEGORIES, w + ": categories %r" % x.get("categories"))
        body = x.get("content", {}).get("body")
        check(isinstance(body, str) and body, w + ": no content.body")
    fps = [x.get("fingerprint") for x in issues]
    check(len(set(fps)) == len(fps), "%s: fingerprints repeat: %s" % (what, fps))
    # One issue per finding, in the scan's order, saying what the finding says.
    want = [(f["check"], f["file"], f["line"], f["fingerprint"], f["message"],
             "major" if f["severity"] == "warning" else "info") for f in scan["findings"]]
    got = [(x.get("check_name"), x.get("location", {}).get("path"), x.get("location", {}).get("lines", {}).get("begin"),
            x.get("fingerprint"), x.get("description"), x.get("severity")) for x in issues]
    check(got == want, "%s: the issues are not the findings:\n  got  %s\n  want %s" % (what, got, want))
    for f, x in zip(scan["findings"], issues):
        for n in f["notes"]:
            check(n["message"] in x.get("content", {}).get("body", ""), "%s: the body lacks the note %r" % (what, n["message"]))
    return issues


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--pageref", required=True)
    ap.add_argument("--source-dir", required=True)
    ap.add_argument("--work", required=True)
    a = ap.parse_args()
    shutil.rmtree(a.work, ignore_errors=True)
    os.makedirs(a.work)

    # The report fixture, with and without a baseline (GitLab diffs by fingerprint itself).
    fixture = os.path.join(a.source_dir, "testdata", "report")
    src = fixture_scan(fixture, a.work)
    scan = json.loads(read(src))
    for extra, name in [([], "fixture"), (["--baseline", os.path.join(fixture, "baseline.json")], "fixture+baseline")]:
        out = os.path.join(a.work, name)
        rc, so, se = run([a.pageref, "report", src, "-o", out, "--format", "codequality", *extra])
        if check(rc == 0, "pageref report --format codequality (%s): exit %d %s" % (name, rc, se)):
            issues = validate(os.path.join(out, "pageref.codequality.json"), scan, name)
            check(so.strip() == "report: %s/pageref.codequality.json" % out, "report names its file: %r" % so)
            if name == "fixture":
                print("fixture: %d issues: %s" % (len(issues), sorted({x["severity"] for x in issues})))
                again = os.path.join(a.work, "again")
                run([a.pageref, "report", src, "-o", again, "--format", "codequality"])
                check(read(os.path.join(again, "pageref.codequality.json"), "rb") ==
                      read(os.path.join(out, "pageref.codequality.json"), "rb"), "the same scan gives other bytes")

    # A real scan of the mini kernel, and the same from pageref merge and pageref report.
    tree = make_tree(a.source_dir, a.work)
    out = os.path.join(a.work, "scan")
    rc, so, se = run([a.pageref, "scan", tree, "-o", out, "--format", "json,codequality", "--no-cache"])
    if check(os.path.exists(os.path.join(out, "pageref.codequality.json")),
             "pageref scan --format json,codequality wrote no pageref.codequality.json (exit %d): %s" % (rc, se[-600:])):
        scan = json.loads(read(os.path.join(out, "pageref.json")))
        issues = validate(os.path.join(out, "pageref.codequality.json"), scan, "minikernel scan")
        check(len(issues) >= 1, "the mini kernel scan has no issue")
        print("minikernel scan: %d issues" % len(issues))
        merged = os.path.join(a.work, "merged")
        rc, so, se = run([a.pageref, "merge", out, "-o", merged, "--format", "codequality"])
        check(os.path.exists(os.path.join(merged, "pageref.codequality.json")) and
              read(os.path.join(merged, "pageref.codequality.json"), "rb") ==
              read(os.path.join(out, "pageref.codequality.json"), "rb"),
              "pageref merge --format codequality differs from the scan's (exit %d %s)" % (rc, se[-300:]))
        rendered = os.path.join(a.work, "rendered")
        rc, so, se = run([a.pageref, "report", os.path.join(out, "pageref.json"), "-o", rendered, "--format", "codequality"])
        check(rc == 0 and read(os.path.join(rendered, "pageref.codequality.json"), "rb") ==
              read(os.path.join(out, "pageref.codequality.json"), "rb"), "pageref report's Code Quality differs from the scan's")

    rc, so, se = run([a.pageref, "report", src, "-o", os.path.join(a.work, "bad"), "--format", "codeclimate"])
    check(rc == 2 and "unknown report format 'codeclimate'" in se and "codequality" in se, "unknown format: %r" % se)
    return check.verdict()


if __name__ == "__main__":
    sys.exit(main())
