#!/usr/bin/env python3
"""Validates pageref's SARIF with the official SARIF Multitool
(npm @microsoft/sarif-multitool, a self-contained .NET build), with its SARIF
rules and GitHub code scanning's ingestion rules (--rule-kind "Gh;Sarif").
Any result at level error or warning fails; notes are reported only.

  validate-sarif.py --npm-prefix DIR --install      set up the pinned multitool
  validate-sarif.py --npm-prefix DIR --pageref P --source-dir S --work W
  validate-sarif.py --npm-prefix DIR --sarif FILE
"""
import argparse
import json
import os
import shutil
import subprocess
import sys

sys.path.insert(0, os.path.dirname(__file__))
from common import fixture_scan, read, report, verdict  # noqa: E402

MULTITOOL = "@microsoft/sarif-multitool@5.7.0"


def binary(prefix):
    # The npm package's bin.js runs the tool through a shell, which splits
    # "Gh;Sarif" at the ';': call the platform binary directly.
    return os.path.join(prefix, "node_modules", "@microsoft", "sarif-multitool-linux", "Sarif.Multitool")


def install(prefix):
    if os.path.exists(binary(prefix)):
        return
    npm = shutil.which("npm")
    if not npm:
        sys.exit("npm not found: apt-get install npm (tools/bootstrap.sh)")
    subprocess.run([npm, "install", "--prefix", prefix, "--no-audit", "--no-fund", MULTITOOL], check=True)
    # npm may skip the package's postinstall chmod (install-script policies).
    os.chmod(binary(prefix), 0o755)


def validate(prefix, sarif, work):
    out = os.path.join(work, os.path.basename(sarif) + ".validation.sarif")
    p = subprocess.run([binary(prefix), "validate", sarif, "--rule-kind", "Gh;Sarif", "--output", out,
                        "--log", "ForceOverwrite"], capture_output=True, text=True, timeout=300)
    if not os.path.exists(out):
        return ["the multitool wrote no result (exit %d): %s" % (p.returncode, (p.stdout + p.stderr)[-1000:])]
    log = json.loads(read(out))
    run = log["runs"][0]
    levels = {r["id"]: r.get("defaultConfiguration", {}).get("level", "warning")
              for r in run["tool"]["driver"].get("rules", [])}
    failures = []
    for r in run.get("results", []):
        level = r.get("level", levels.get(r["ruleId"], "warning"))
        text = r["message"].get("text") or " ".join(r["message"].get("arguments", []))
        line = "%s %s: %s" % (level, r["ruleId"], text)
        print(line)
        if level in ("error", "warning"):
            failures.append(line)
    for n in run.get("invocations", [{}])[0].get("toolExecutionNotifications", []):
        if n.get("level") == "error":
            failures.append("multitool error: " + n["message"]["text"])
    if p.returncode != 0:
        failures.append("the multitool exited %d" % p.returncode)
    return failures


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--npm-prefix", required=True)
    ap.add_argument("--install", action="store_true")
    ap.add_argument("--pageref")
    ap.add_argument("--source-dir")
    ap.add_argument("--work")
    ap.add_argument("--sarif")
    a = ap.parse_args()
    if a.install:
        install(a.npm_prefix)
        return 0
    if not os.path.exists(binary(a.npm_prefix)):
        sys.exit("the SARIF multitool is not installed in %s (the report-npm-setup test does it)" % a.npm_prefix)
    if a.sarif:
        sarif, work = a.sarif, os.path.dirname(os.path.abspath(a.sarif))
    else:
        shutil.rmtree(a.work, ignore_errors=True)
        fixture = os.path.join(a.source_dir, "testdata", "report")
        src = fixture_scan(fixture, a.work)
        rc, _, se = report(a.pageref, [src], os.path.join(a.work, "out"), "--format", "sarif",
                           "--baseline", os.path.join(fixture, "baseline.json"))
        if rc != 0:
            sys.exit("pageref report failed: " + se)
        sarif, work = os.path.join(a.work, "out", "pageref.sarif"), a.work
    failures = validate(a.npm_prefix, sarif, work)
    return verdict(failures)


if __name__ == "__main__":
    sys.exit(main())
