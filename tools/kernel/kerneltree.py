"""The tree of a prepared Debian kernel, for the real-kernel tests and the
benchmarks: runs prepare-kernel.py (cached; its progress goes to stderr) and
returns the tree's path, or exits naming the version that failed."""
import os
import subprocess
import sys

PREPARE_KERNEL = os.path.join(os.path.dirname(os.path.abspath(__file__)), "prepare-kernel.py")


def debian_tree(version):
    r = subprocess.run([sys.executable, PREPARE_KERNEL, "--debian", version, "--quiet"],
                       stdout=subprocess.PIPE, text=True)
    if r.returncode != 0 or not r.stdout.strip():
        sys.exit("preparing linux-source-%s failed" % version)
    return r.stdout.strip().splitlines()[-1]
