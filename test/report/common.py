"""Helpers the report tests share: the fixture with its tree made absolute,
and running `pageref report`."""
import json
import os
import subprocess


def fixture_scan(fixture_dir, work, tree=None, name="scan.json"):
    """testdata/report/scan.json with "tree" set (the checked-in file cannot
    know where the repository is); returns the path of the copy."""
    with open(os.path.join(fixture_dir, "scan.json")) as f:
        doc = json.load(f)
    doc["tree"] = tree if tree is not None else os.path.abspath(os.path.join(fixture_dir, "tree"))
    os.makedirs(work, exist_ok=True)
    path = os.path.join(work, name)
    with open(path, "w") as f:
        json.dump(doc, f, indent=2, sort_keys=True)
    return path


def report(pageref, inputs, out, *extra):
    """Runs `pageref report`; returns (exit status, stdout, stderr)."""
    p = subprocess.run([pageref, "report", *inputs, "-o", out, *extra],
                       capture_output=True, text=True, timeout=120)
    return p.returncode, p.stdout, p.stderr


def read(path, mode="r"):
    with open(path, mode) as f:
        return f.read()


def verdict(failures):
    """Prints the failures; the exit status of a test script."""
    for f in failures:
        print("FAIL:", f)
    print("%d failures" % len(failures))
    return 1 if failures else 0
