"""The mini kernel (testdata/scan/minikernel) as a tree to scan, self-contained:
copied with the test headers (testdata/include) next to it, so that a pageref
run on it reads nothing of the source tree; and small helpers the install and
CI tests share."""
import json
import os
import shutil
import subprocess


def make_tree(source_dir, work, with_database=True):
    """WORK/minikernel (every file of drivers/foo in the compile database, one
    of which does not parse) and WORK/include; returns the tree's path."""
    tree = os.path.join(work, "minikernel")
    include = os.path.join(work, "include")
    shutil.copytree(os.path.join(source_dir, "testdata", "scan", "minikernel"), tree)
    if not os.path.exists(include):
        shutil.copytree(os.path.join(source_dir, "testdata", "include"), include)
    if with_database:
        units = sorted(os.path.join("drivers", "foo", f) for f in os.listdir(os.path.join(tree, "drivers", "foo")))
        with open(os.path.join(tree, "compile_commands.json"), "w") as f:
            json.dump([{"directory": tree, "file": u,
                        "arguments": ["clang-19", "-nostdinc", "-I" + os.path.join(tree, "include"),
                                      "-I" + include, "-c", u]} for u in units], f, indent=1)
    return tree


def run(cmd, timeout=300, **kw):
    """Runs \\p cmd; returns (exit status, stdout, stderr)."""
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, **kw)
    return p.returncode, p.stdout, p.stderr


def read(path, mode="r"):
    with open(path, mode) as f:
        return f.read()


class Checks:
    """Collects failures; verdict() prints them and gives the exit status."""

    def __init__(self):
        self.failures = []

    def __call__(self, cond, what):
        if not cond:
            self.failures.append(what)
            print("FAIL: " + what, flush=True)
        return cond

    def verdict(self):
        print("%d failures" % len(self.failures))
        return 1 if self.failures else 0
