#!/usr/bin/env python3
"""`pageref report` on the hand-made fixture (testdata/report): the four
formats, MAINTAINERS grouping, baselines, merging, determinism, and one clear
error with exit 2 for bad input. Fails with the first difference it finds."""
import argparse
import html.parser
import json
import os
import re
import shutil
import subprocess
import sys

sys.path.insert(0, os.path.dirname(__file__))
from common import fixture_scan, read, report, verdict  # noqa: E402

FORMATS = ["pageref.txt", "pageref.json", "pageref.sarif", "pageref.html"]
SUBSYSTEM_OF = {  # the fixture's files, and files placed to exercise MAINTAINERS
    "drivers/vhost/scsi.c": "THE REST",                   # VIRTIO HOST excludes it with X:
    "fs/fuse/file.c": "FUSE: FILESYSTEM IN USERSPACE",
    "fs/nfs/direct.c": "NFS, SUNRPC, AND LOCKD CLIENTS",
    "fs/fuse/virtio_fs.c": "VIRTIO FILE SYSTEM",         # a file pattern beats fs/fuse/
    "fs/splice.c": "FILESYSTEMS (VFS and infrastructure)",  # fs/* at its own depth
    "fs/ceph/file.c": "THE REST",                         # ... but not below it
    "net/core/skmsg.c": "NETWORKING [SKMSG]",            # beats net/
    "net/core/datagram.c": "NETWORKING [GENERAL]",
    "net/bluetooth/af_bluetooth.c": "THE REST",           # X: net/bluetooth/
    "drivers/vhost/net.c": "VIRTIO HOST (VHOST)",         # "drivers/vhost/" covers the rest
}

failures = []


def check(cond, what):
    if not cond:
        failures.append(what)
    return cond


class Articles(html.parser.HTMLParser):
    """Subsystem sections with the files of their articles, and counts."""

    def __init__(self):
        super().__init__()
        self.sections = {}   # slug -> name
        self.files = []      # (slug, kind, file)
        self.counts = {}
        self._in_h2 = None
        self._count_key = None
        self._slug = None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        cls = (a.get("class") or "").split()
        if tag == "section" and "subsystem" in cls:
            self._slug = a["data-subsystem"]
        elif tag == "h2" and self._slug and self._slug not in self.sections:
            self._in_h2 = self._slug
            self.sections[self._slug] = ""
        elif tag == "article":
            self.files.append((a["data-subsystem"], "callsite" if "callsite" in cls else "finding", a["data-file"]))
        elif tag == "b" and "count" in cls:
            self._count_key = a["data-key"]

    def handle_endtag(self, tag):
        if tag == "h2":
            self._in_h2 = None

    def handle_data(self, data):
        if self._in_h2:
            self.sections[self._in_h2] += data
        if self._count_key:
            self.counts[self._count_key] = int(data)
            self._count_key = None


def parse_html(path):
    p = Articles()
    p.feed(read(path))
    return p


def check_text(out, scan):
    text = read(os.path.join(out, "pageref.txt"))
    lines = text.splitlines()
    for want in [
        "fs/nfs/direct.c:56:4: warning: [new] pages acquired by iov_iter_get_pages_alloc2() at line 30 are neither "
        "released nor handed off on the path that returns here [pageref-unbalanced-release]",
        "fs/nfs/direct.c:30:12: note: acquired here: references (FOLL_GET)",
        "fs/nfs/direct.c:55:7: note: taking this path: 'result < 0' is true",
        "drivers/vhost/scsi.c:57:2: note: fix-it: replace up to 57:10 with 'unpin_user_page'",
        "fs/fuse/file.c:55:9: note: decided with the summary of fuse_send_pages() in fs/fuse/dev.c: takes-over",
        "net/core/skmsg.c:1:1: remark: translation unit not analysed: net/core/skmsg.c:12:1: unknown type name "
        "'sk_msg_foo' [pageref-scan]",
    ]:
        check(want in lines, "text report lacks: " + want)
    sites = [l for l in lines if l.endswith("[pageref-get-pages-caller]")]
    check(len(sites) == len(scan["call_sites"]), "text: one inventory line per call site")
    check(any(l.startswith("fs/fuse/file.c:30:9: remark: iov_iter_get_pages2() in fuse_get_user_pages(): "
                           "extract-ready: the pages are released") for l in sites), "text: fuse call site line")
    # Every line but the summary is in clang-tidy's shape, for quickfix lists.
    for l in lines[:-1]:
        check(re.match(r"^[^:\s]+:\d+:\d+: (warning|remark|note|error): .+", l), "text: not clang-tidy shaped: " + l)
    check(lines[-1] == "pageref: 3 findings (1 remark, 2 warnings), baseline: 1 known, 2 new, 1 fixed; "
          "3 get-pages call sites (2 extract-ready, 1 unknown); 4 translation units, 1 not analysed",
          "text: summary line is " + lines[-1])


def check_json(out, scan, schema_path):
    doc = json.loads(read(os.path.join(out, "pageref.json")))
    states = {f["fingerprint"]: f.get("baseline") for f in doc["findings"]}
    check(states == {"5d0c3a9e71b24f08": "known", "a41f7e0b9c6d2253": "new", "e3b18f6620d94c7a": "new"},
          "json: baseline states %r" % states)
    stripped = json.loads(json.dumps(doc))
    for f in stripped["findings"]:
        f.pop("baseline", None)
    for f in scan["findings"]:
        f.pop("baseline", None)
    check(stripped == scan, "json: the report's JSON is the scan plus baseline states")
    import jsonschema
    schema = json.loads(read(schema_path))
    v = jsonschema.Draft202012Validator(schema)
    for what, d in [("input", scan), ("output", doc)]:
        errs = sorted(v.iter_errors(d), key=lambda e: list(e.path))
        check(not errs, "schema: %s: %s" % (what, "; ".join("%s: %s" % (list(e.path), e.message) for e in errs[:3])))
    bad = json.loads(json.dumps(doc))
    bad["call_sites"][0]["verdict"] = "maybe"
    check(list(v.iter_errors(bad)), "schema: a call site with verdict 'maybe' must not validate")


def check_sarif(out, scan, docs_dir):
    s = json.loads(read(os.path.join(out, "pageref.sarif")))
    check(s["version"] == "2.1.0", "sarif: version")
    run = s["runs"][0]
    rules = run["tool"]["driver"]["rules"]
    check([r["id"] for r in rules] == ["pageref-get-pages-caller", "pageref-unbalanced-release",
                                       "pageref-release-mismatch", "pageref-async-bvec-drop"], "sarif: one rule per check")
    for r in rules:
        page = r["helpUri"].rsplit("/docs/", 1)[-1]
        check(r["helpUri"].startswith("file:///") and os.path.exists(os.path.join(docs_dir, page)),
              "sarif: helpUri of %s is not a docs page: %s" % (r["id"], r["helpUri"]))
        check(r["help"]["text"] and r["help"]["markdown"], "sarif: help text of " + r["id"])
    tree = scan["tree"]
    check(run["originalUriBaseIds"]["%SRCROOT%"]["uri"] == "file://" + tree + "/", "sarif: %SRCROOT% is the tree")
    res = run["results"]
    check(len(res) == len(scan["call_sites"]) + len(scan["findings"]), "sarif: one result per call site and finding")
    for r in res:
        loc = r["locations"][0]["physicalLocation"]["artifactLocation"]
        check(loc.get("uriBaseId") == "%SRCROOT%" and not loc["uri"].startswith("/"), "sarif: relative uri " + loc["uri"])
        check(re.match(r"^[0-9a-f]{16}(-\d+)?$", r["partialFingerprints"]["pagerefFingerprint/v1"]), "sarif: fingerprint")
    leak = [r for r in res if r["ruleId"] == "pageref-unbalanced-release" and r["level"] == "warning"]
    check(len(leak) == 1, "sarif: one unbalanced-release warning")
    if leak:
        flow = leak[0]["codeFlows"][0]["threadFlows"][0]["locations"]
        check([l["location"]["physicalLocation"]["region"]["startLine"] for l in flow] == [30, 32, 45, 55, 56],
              "sarif: the code flow is the notes in order, then the exit")
        check(len(leak[0]["relatedLocations"]) == 4, "sarif: related locations are the notes")
        check(leak[0]["baselineState"] == "new", "sarif: baselineState new")
    fix = [r for r in res if r["ruleId"] == "pageref-release-mismatch"]
    if check(len(fix) == 1 and "fixes" in fix[0], "sarif: the release-mismatch result has a fix"):
        rep = fix[0]["fixes"][0]["artifactChanges"][0]["replacements"][0]
        check(rep == {"deletedRegion": {"startLine": 57, "startColumn": 2, "endLine": 57, "endColumn": 10},
                      "insertedContent": {"text": "unpin_user_page"}}, "sarif: replacement %r" % rep)
        check(fix[0]["baselineState"] == "unchanged", "sarif: known finding is unchanged")
    notes = run["invocations"][0]["toolExecutionNotifications"]
    check(len(notes) == 1 and "skmsg.c" in notes[0]["message"]["text"], "sarif: the failed TU is a notification")


def check_html(out, scan, fixed):
    path = os.path.join(out, "pageref.html")
    text = read(path)
    check(not re.search(r"""\b(src|href)\s*=\s*["']?(https?:|//)""", text), "html: nothing loaded from the network")
    check("<script src" not in text and "<link" not in text, "html: self-contained")
    p = parse_html(path)
    for slug, kind, f in p.files:
        check(p.sections.get(slug) == SUBSYSTEM_OF[f], "html: %s is under %r, not %r" % (f, p.sections.get(slug),
                                                                                          SUBSYSTEM_OF[f]))
    check(len([1 for _, k, _ in p.files if k == "callsite"]) == len(scan["call_sites"]), "html: every call site")
    check(len([1 for _, k, _ in p.files if k == "finding"]) == len(scan["findings"]), "html: every finding")
    want = {"callsites": len(scan["call_sites"]), "findings": len(scan["findings"]),
            "verdict:extract-ready": 2, "verdict:unknown": 1, "verdict:needs-refs": 0,
            "check:pageref-unbalanced-release": 2, "check:pageref-release-mismatch": 1,
            "baseline:new": 2, "baseline:known": 1, "baseline:fixed": 1, "tus": 4, "tus-failed": 1, "subsystems": 3}
    for k, n in want.items():
        check(p.counts.get(k) == n, "html: count %s is %r, not %d" % (k, p.counts.get(k), n))
    for f in fixed:
        check(f in text, "html: fixed finding %s listed" % f)
    # The excerpts come from the tree: the call, and the path's steps on it.
    check("result = iov_iter_get_pages_alloc2(iter, &amp;pagevec," in text, "html: excerpt of fs/nfs/direct.c")
    check("<td class=mk>4</td><td>taking this path: &#x27;result &lt; 0&#x27; is true</td>" in text or
          "<td class=mk>4</td><td>taking this path: 'result &lt; 0' is true</td>" in text, "html: step 4 on its line")
    check("To:</span> Trond Myklebust &lt;trond.myklebust@hammerspace.com&gt;, Anna Schumaker" in text,
          "html: maintainers of NFS")


def check_real_scan(a, schema_path):
    """A real `pageref scan` (of testdata/scan/minikernel, every file, one that
    does not parse) against the JSON Schema, and rendered by pageref report."""
    tree = os.path.join(a.work, "minikernel")
    shutil.copytree(os.path.join(a.source_dir, "testdata", "scan", "minikernel"), tree)
    units = sorted(os.path.join("drivers", "foo", f) for f in os.listdir(os.path.join(tree, "drivers", "foo")))
    with open(os.path.join(tree, "compile_commands.json"), "w") as f:
        json.dump([{"directory": tree, "file": u,
                    "arguments": ["clang-19", "-nostdinc", "-I" + os.path.join(tree, "include"),
                                  "-I" + os.path.join(a.source_dir, "testdata", "include"), "-c", u]}
                   for u in units], f)
    out = os.path.join(a.work, "minikernel-scan")
    p = subprocess.run([a.pageref, "scan", tree, "-o", out, "--format", "text,json,sarif,html", "--no-cache"],
                       capture_output=True, text=True, timeout=300)
    if not check(os.path.exists(os.path.join(out, "pageref.json")),
                 "pageref scan of the minikernel wrote no pageref.json (exit %d): %s" % (p.returncode, p.stderr[-500:])):
        return
    doc = json.loads(read(os.path.join(out, "pageref.json")))
    import jsonschema
    v = jsonschema.Draft202012Validator(json.loads(read(schema_path)))
    errs = sorted(v.iter_errors(doc), key=lambda e: list(e.path))
    check(not errs, "schema: the minikernel scan: " + "; ".join("%s: %s" % (list(e.path), e.message) for e in errs[:3]))
    check(doc["findings"] and any(u["status"] == "failed" for u in doc["translation_units"]),
          "the minikernel scan has findings and a failed TU")
    rendered = os.path.join(a.work, "minikernel-report")
    rc, _, se = report(a.pageref, [os.path.join(out, "pageref.json")], rendered)
    check(rc == 0, "pageref report of the minikernel scan: exit %d %s" % (rc, se))
    # The scan's own writers are the report's: the same bytes. (kernel-report-6.1
    # also requires that the scan wrote them.)
    for name in ["pageref.json", "pageref.sarif", "pageref.html"]:
        if os.path.exists(os.path.join(out, name)):
            check(read(os.path.join(out, name), "rb") == read(os.path.join(rendered, name), "rb"),
                  "%s of pageref scan differs from pageref report's" % name)
        else:
            print("note: pageref scan --format text,json,sarif,html wrote no %s" % name)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--pageref", required=True)
    ap.add_argument("--source-dir", required=True, help="pageref's sources")
    ap.add_argument("--work", required=True)
    a = ap.parse_args()
    fixture = os.path.join(a.source_dir, "testdata", "report")
    shutil.rmtree(a.work, ignore_errors=True)
    scan_path = fixture_scan(fixture, a.work)
    scan = json.loads(read(scan_path))
    baseline = os.path.join(fixture, "baseline.json")

    out1 = os.path.join(a.work, "out1")
    rc, so, se = report(a.pageref, [scan_path], out1, "--baseline", baseline)
    if not check(rc == 0, "pageref report exited %d: %s" % (rc, se)):
        return verdict(failures)
    check_text(out1, json.loads(read(scan_path)))
    check_json(out1, json.loads(read(scan_path)), os.path.join(a.source_dir, "docs", "pageref-scan.schema.json"))
    check_sarif(out1, scan, os.path.join(a.source_dir, "docs"))
    check_html(out1, scan, ["77aa01c3e9d5b610"])
    check_real_scan(a, os.path.join(a.source_dir, "docs", "pageref-scan.schema.json"))

    # Determinism: again, and from the scan split in two (in the wrong order).
    out2 = os.path.join(a.work, "out2")
    report(a.pageref, [scan_path], out2, "--baseline", baseline)
    part_a, part_b = json.loads(read(scan_path)), json.loads(read(scan_path))
    for key in ["translation_units", "call_sites", "findings", "summaries"]:
        items = scan[key][::-1]
        part_a[key], part_b[key] = items[::2], items[1::2]
    pa, pb = os.path.join(a.work, "part-a.json"), os.path.join(a.work, "part-b.json")
    for p, d in [(pa, part_a), (pb, part_b)]:
        with open(p, "w") as f:
            json.dump(d, f)
    out3 = os.path.join(a.work, "out3")
    rc, _, se = report(a.pageref, [pb, pa], out3, "--baseline", baseline)
    check(rc == 0, "merging two parts: exit %d: %s" % (rc, se))
    for name in FORMATS:
        first = read(os.path.join(out1, name), "rb")
        check(first == read(os.path.join(out2, name), "rb"), "determinism: %s differs between two runs" % name)
        check(first == read(os.path.join(out3, name), "rb"), "determinism: %s of the merged parts differs" % name)

    # MAINTAINERS: files placed to hit each rule (no sources: excerpts say so).
    maint = json.loads(read(scan_path))
    site = maint["call_sites"][0]
    maint["call_sites"] = [dict(site, file=f, line=1, column=1, iter_evidence=[], iter_stops=[], sinks=[],
                                releases=[], flow_stops=[], async_=None) for f in sorted(SUBSYSTEM_OF)]
    for c in maint["call_sites"]:
        c["async"] = c.pop("async_")
    maint["findings"] = []
    mp = os.path.join(a.work, "maintainers.json")
    with open(mp, "w") as f:
        json.dump(maint, f)
    out4 = os.path.join(a.work, "out4")
    rc, _, se = report(a.pageref, [mp], out4, "--format", "html")
    check(rc == 0 and os.listdir(out4) == ["pageref.html"], "html only: exit %d %s" % (rc, se))
    p = parse_html(os.path.join(out4, "pageref.html"))
    for slug, kind, f in p.files:
        check(p.sections.get(slug) == SUBSYSTEM_OF[f], "MAINTAINERS: %s is under %r, not %r" %
              (f, p.sections.get(slug), SUBSYSTEM_OF[f]))
    check("source not available: " in read(os.path.join(out4, "pageref.html")), "html: a missing file is said")

    # No tree on this machine: still rendered, and it says so.
    gone = fixture_scan(fixture, a.work, tree="/nonexistent/linux", name="gone.json")
    out5 = os.path.join(a.work, "out5")
    rc, _, se = report(a.pageref, [gone], out5, "--format", "html,sarif")
    h = read(os.path.join(out5, "pageref.html")) if rc == 0 else ""
    check("is not on this machine" in h and h.count("<article class=\"item callsite\"") == 3,
          "html without the tree: banner and all call sites (exit %d %s)" % (rc, se))

    # Bad input: one line on stderr naming the file and the problem, exit 2.
    def bad(name, content, want, *extra):
        p = os.path.join(a.work, name)
        with open(p, "w") as f:
            f.write(content if isinstance(content, str) else json.dumps(content))
        inputs = [p] if not extra or extra[0] != "--baseline" else [scan_path]
        rc, so, se = report(a.pageref, inputs, os.path.join(a.work, "bad-out"), *extra)
        lines = se.splitlines()
        check(rc == 2 and len(lines) == 1 and p in lines[0] and want in lines[0],
              "%s: exit %d, stderr %r (want one line with %r and %r)" % (name, rc, se, p, want))

    text = read(scan_path)
    bad("truncated.json", text[: len(text) // 2], "not valid JSON: parse error at line")
    bad("v2.json", dict(scan, version=2), "schema pageref-scan version 2 is not known to pageref")
    bad("inventory.json", dict(scan, schema="pageref-inventory"), 'not a pageref scan: schema "pageref-inventory"')
    broken = json.loads(text)
    del broken["findings"][1]["fingerprint"]
    bad("nofp.json", broken, "findings[1]: 'fingerprint' is missing")
    broken = json.loads(text)
    broken["call_sites"][2]["line"] = "30"
    bad("strline.json", broken, "call_sites[2]: 'line' must be an integer")
    bad("list.json", [], "the top level is not a JSON object")
    bad("baseline-v9.json", {"schema": "pageref-baseline", "version": 9, "fingerprints": []},
        "schema pageref-baseline version 9 is not known", "--baseline", os.path.join(a.work, "baseline-v9.json"))
    rc, _, se = report(a.pageref, [os.path.join(a.work, "missing.json")], os.path.join(a.work, "bad-out"))
    check(rc == 2 and "missing.json: cannot read" in se and len(se.splitlines()) == 1, "missing file: %r" % se)
    rc, _, se = report(a.pageref, [scan_path, gone], os.path.join(a.work, "bad-out"))
    check(rc == 2 and 'different "tree"' in se, "merging scans of two trees: %r" % se)
    rc, _, se = report(a.pageref, [scan_path], os.path.join(a.work, "bad-out"), "--format", "pdf")
    check(rc == 2 and "unknown report format 'pdf'" in se, "unknown format: %r" % se)

    return verdict(failures)


if __name__ == "__main__":
    sys.exit(main())
