#!/usr/bin/env python3
"""Real-kernel test of `pageref convert`: converts every extract-ready call
site of a prepared Debian kernel, compares each site's outcome with the
reviewed list (testdata/kernel/linux-VER.convert.expected), and checks the
claims convert.json makes for the offered patches with tools of its own:
GNU patch applies the series to a copy-on-write copy of the tree, the
kernel's make builds the touched objects with no warning on an added line,
scripts/checkpatch.pl finds no error, and a new `pageref scan` of the patched
copy calls every converted function already-conditional and finds nothing in
the touched files that the unpatched scan did not.

Exit status 0 when all holds, 1 with one line per failure."""
import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import kerneltree  # noqa: E402

SCRUB = ["MAKEFLAGS", "MFLAGS", "GNUMAKEFLAGS", "MAKELEVEL", "MAKEFILES", "MAKEOVERRIDES", "O", "KBUILD_OUTPUT",
         "ARCH", "SRCARCH", "CROSS_COMPILE", "LLVM", "LLVM_IAS", "M", "KBUILD_EXTMOD", "CC", "LD", "AR"]


def sh(cmd, cwd=None, env=None):
    return subprocess.run(cmd, cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


class Copy:
    """The tree under an overlay mount (its cache stays untouched), or a copy."""

    def __init__(self, tree, work):
        self.work = work
        shutil.rmtree(work, ignore_errors=True)
        for d in ("upper", "work", "tree"):
            os.makedirs(os.path.join(work, d))
        self.root = os.path.join(work, "tree")
        r = sh(["mount", "-t", "overlay", "overlay", "-o", "lowerdir=%s,upperdir=%s,workdir=%s" % (
            tree, os.path.join(work, "upper"), os.path.join(work, "work")), self.root])
        self.mounted = r.returncode == 0
        if not self.mounted:
            os.rmdir(self.root)
            r = sh(["cp", "-a", tree, self.root])
            if r.returncode != 0:
                sys.exit("cannot copy %s: %s" % (tree, r.stdout))

    def close(self):
        if self.mounted:
            sh(["umount", self.root])
        shutil.rmtree(self.work, ignore_errors=True)


def read_expected(path):
    rows = {}
    with open(path) as f:
        for line in f:
            if not line.strip() or line.startswith("#"):
                continue
            cols = line.rstrip("\n").split("\t")
            if len(cols) < 4:
                sys.exit("%s: a line without file, line, function and status: %r" % (path, line))
            rows[(cols[0], int(cols[1]))] = (cols[2], cols[3], cols[4] if len(cols) > 4 else "")
    return rows


def added_lines(patch_text):
    """{file: set of line numbers in the new file that the patch adds}."""
    out, cur, line = {}, None, 0
    for l in patch_text.splitlines():
        if l.startswith("+++ b/"):
            cur = l[6:]
            out.setdefault(cur, set())
        elif l.startswith("@@"):
            m = re.match(r"@@ -\d+(?:,\d+)? \+(\d+)", l)
            line = int(m.group(1))
        elif cur and l.startswith("+") and not l.startswith("+++"):
            out[cur].add(line)
            line += 1
        elif cur and l.startswith(" "):
            line += 1
    return out


def finding_key(f):
    msg = re.sub(r"(line |:)\d+", r"\1N", f.get("message", ""))
    return (f.get("check"), f.get("file"), f.get("function"), msg)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--pageref", required=True)
    ap.add_argument("--debian", required=True)
    ap.add_argument("--expected", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--schema", help="docs/pageref-scan.schema.json, to validate pageref.json")
    a = ap.parse_args()
    t0 = time.time()
    tree = kerneltree.debian_tree(a.debian)
    expected = read_expected(a.expected)
    out = os.path.abspath(a.out)
    shutil.rmtree(out, ignore_errors=True)
    r = sh([a.pageref, "convert", tree, "-o", out])
    if r.returncode != 0:
        sys.exit("pageref convert failed (exit %d):\n%s" % (r.returncode, r.stdout[-4000:]))
    print("pageref convert: %.0f s" % (time.time() - t0))
    with open(os.path.join(out, "convert.json")) as f:
        conv = json.load(f)
    failures = []

    # 1. Every extract-ready site has the reviewed outcome.
    seen = set()
    for s in conv["sites"]:
        key = (s["file"], s["line"])
        seen.add(key)
        if key not in expected:
            failures.append("%s:%d %s: %s, not in %s" % (s["file"], s["line"], s["function"], s["status"],
                                                          a.expected))
            continue
        fn, status, why = expected[key]
        if s["status"] != status or fn != s["function"] or (why and why not in s.get("reason", "")):
            failures.append("%s:%d %s: %s (%s), expected %s%s" % (
                s["file"], s["line"], s["function"], s["status"], s.get("reason", s.get("patch", "")), status,
                " with a reason containing %r" % why if why else ""))
    for key, (fn, status, _) in sorted(expected.items()):
        if key not in seen:
            failures.append("%s:%d %s: expected %s, but convert did not list the site" % (key[0], key[1], fn,
                                                                                         status))

    # 2. The reports link each site to its patch: the JSON (valid against the
    # scan schema), the SARIF result's attachment, the HTML card.
    with open(os.path.join(out, "pageref.json")) as f:
        report = json.load(f)
    if a.schema:
        import jsonschema
        with open(a.schema) as f:
            try:
                jsonschema.validate(report, json.load(f))
            except jsonschema.ValidationError as e:
                failures.append("pageref.json does not match %s: %s" % (a.schema, e.message))
    with open(os.path.join(out, "pageref.sarif")) as f:
        sarif = json.load(f)
    with open(os.path.join(out, "pageref.html")) as f:
        html = f.read()
    attached = {att["artifactLocation"]["uri"] for r in sarif["runs"][0]["results"]
                for att in r.get("attachments", [])}
    for s in conv["sites"]:
        rec = [c for c in report["call_sites"] if c["file"] == s["file"] and c["line"] == s["line"]]
        if not rec or rec[0].get("conversion", {}).get("status") != s["status"]:
            failures.append("%s:%d: pageref.json does not carry the conversion status %s" % (
                s["file"], s["line"], s["status"]))
        if "patch" in s and (s["patch"] not in attached or 'href="%s"' % s["patch"] not in html):
            failures.append("%s:%d: %s is not linked from pageref.sarif and pageref.html" % (
                s["file"], s["line"], s["patch"]))

    # 3. The offered patches, checked here with other tools.
    offered = [p for p in conv["patches"] if p["checks"].get("offered")]
    names = [p["patch"] for p in offered]
    for p in conv["patches"]:
        if not p["checks"].get("offered") and os.path.exists(os.path.join(out, os.path.basename(p["patch"]))):
            failures.append("%s did not pass its checks but is written where offered patches go" % p["patch"])
    copy = Copy(tree, os.path.join(out, ".check-copy"))
    try:
        texts = {}
        for n in names:
            with open(os.path.join(out, n)) as f:
                texts[n] = f.read()
            t = texts[n]
            for need in ("\nFrom: ", "\nSubject: [PATCH", "\nSigned-off-by: ", "\n---\n", "\ndiff --git a/"):
                if need not in t:
                    failures.append("%s: not in git format-patch form (no %r)" % (n, need.strip()))
            cp = sh(["perl", "scripts/checkpatch.pl", os.path.join(out, n)], cwd=copy.root)
            m = re.search(r"total: (\d+) errors, (\d+) warnings", cp.stdout)
            if not m or int(m.group(1)) != 0:
                failures.append("%s: checkpatch: %s" % (n, m.group(0) if m else cp.stdout[-500:]))
            pr = sh(["patch", "-p1", "--forward", "--batch", "-i", os.path.join(out, n)], cwd=copy.root)
            if pr.returncode != 0:
                failures.append("%s: GNU patch does not apply it: %s" % (n, pr.stdout[-500:]))
        added = {}
        for n in names:
            for f, lines in added_lines(texts[n]).items():
                added.setdefault(f, set()).update(lines)
        objs = sorted({f[:-2] + ".o" for f in added if f.endswith(".c")})
        env = {k: v for k, v in os.environ.items() if k not in SCRUB}
        if objs:
            mk = sh(["make", "CC=clang-19", "-j2"] + objs, cwd=copy.root, env=env)
            if mk.returncode != 0:
                failures.append("make of %s failed:\n%s" % (" ".join(objs), mk.stdout[-3000:]))
            for m in re.finditer(r"^([^ :]+):(\d+):\d+: warning: (.*)$", mk.stdout, re.M):
                if int(m.group(2)) in added.get(m.group(1), ()):
                    failures.append("warning on a line a patch adds: %s" % m.group(0))
        # The re-analysis: the touched TUs and the scan's summary TUs, with
        # their commands moved to the copy.
        with open(os.path.join(out, "scan", "pageref.json")) as f:
            before = json.load(f)
        touched = {f for f in added if f.endswith(".c")}
        keep = touched | {u["file"] for u in before["translation_units"] if u.get("selected_by") == "summary"}
        with open(os.path.join(tree, "compile_commands.json")) as f:
            db = json.load(f)
        moved = []
        for e in db:
            rel = os.path.relpath(os.path.join(e["directory"], e["file"]), tree)
            if rel in keep:
                moved.append({k: (v.replace(tree, copy.root) if isinstance(v, str) else v) for k, v in e.items()})
        dbdir = os.path.join(out, ".check-db")
        os.makedirs(dbdir, exist_ok=True)
        with open(os.path.join(dbdir, "compile_commands.json"), "w") as f:
            json.dump(moved, f)
        rs = sh([a.pageref, "scan", copy.root, "-p", dbdir, "-o", os.path.join(out, ".check-scan"), "--format",
                 "json", "--no-cache"])
        if rs.returncode not in (0, 1):
            failures.append("pageref scan of the patched copy failed:\n" + rs.stdout[-2000:])
        else:
            with open(os.path.join(out, ".check-scan", "pageref.json")) as f:
                after = json.load(f)
            converted = {(s["file"], s["function"]) for s in conv["sites"] if s["status"] == "offered"}
            for fl, fn in sorted(converted):
                sites = [c for c in after["call_sites"] if c["file"] == fl and c["function"] == fn]
                if not sites:
                    failures.append("%s %s(): no call site in the patched copy" % (fl, fn))
                for c in sites:
                    if c["callee"] != "iov_iter_extract_pages" or c["verdict"] != "already-conditional":
                        failures.append("%s:%d %s(): %s %s after the patch: %s" % (
                            fl, c["line"], fn, c["callee"], c["verdict"], c["reason"]))
            old = [finding_key(f) for f in before["findings"] if f["file"] in touched]
            for f in after["findings"]:
                if f["file"] not in touched:
                    continue
                k = finding_key(f)
                if k in old:
                    old.remove(k)
                else:
                    failures.append("new finding in the patched copy: %s:%d %s %s" % (
                        f["file"], f["line"], f["check"], f["message"]))
    finally:
        copy.close()
        shutil.rmtree(os.path.join(out, ".check-db"), ignore_errors=True)
        shutil.rmtree(os.path.join(out, ".check-scan"), ignore_errors=True)

    n_off = sum(1 for s in conv["sites"] if s["status"] == "offered")
    print("%d extract-ready sites: %d offered in %d patches, %d refused, %d failed a check; %.0f s" % (
        len(conv["sites"]), n_off, len(names), sum(1 for s in conv["sites"] if s["status"] == "refused"),
        sum(1 for s in conv["sites"] if s["status"] == "failed-check"), time.time() - t0))
    for f in failures:
        print("FAIL: " + f)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
