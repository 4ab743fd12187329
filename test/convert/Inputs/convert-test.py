#!/usr/bin/env python3
"""Runs `pageref convert` on one small C file and checks its patches apart
from the code that wrote them: prints every site's outcome, the patches'
diffs, whether the patched file compiles (clang-19 -Wall -Werror), and what a
new `pageref scan` of the patched tree says of the converted functions. The
output is matched with FileCheck by the test."""
import argparse
import json
import os
import shutil
import subprocess
import sys


def run(cmd, cwd=None, ok=(0,)):
    r = subprocess.run(cmd, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    if r.returncode not in ok:
        sys.exit("%s failed (exit %d):\n%s" % (" ".join(cmd), r.returncode, r.stdout))
    return r.stdout


def compile_db(root, names, include):
    return [{"directory": root, "file": os.path.join(root, "drv", n),
             "arguments": ["clang-19", "-c", "-I" + include, "-Wall", "drv/" + n, "-o", "drv/%s.o" % n[:-2]]}
            for n in names]


def make_tree(root, sources, include):
    os.makedirs(os.path.join(root, "drv"))
    for source in sources:
        shutil.copy(source, os.path.join(root, "drv", os.path.basename(source)))
    with open(os.path.join(root, "compile_commands.json"), "w") as f:
        json.dump(compile_db(root, [os.path.basename(s) for s in sources], include), f)


def scan(pageref, root, out):
    run([pageref, "scan", "-p", root, "-o", out, "--format", "json", "--no-cache"], ok=(0, 1))
    with open(os.path.join(out, "pageref.json")) as f:
        return json.load(f)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--pageref", required=True)
    ap.add_argument("--include", required=True)
    ap.add_argument("--input", required=True, action="append",
                    help="the C files of the tree (the first is the one the checks compile)")
    ap.add_argument("--work", required=True)
    a = ap.parse_args()
    shutil.rmtree(a.work, ignore_errors=True)
    name = os.path.basename(a.input[0])
    tree = os.path.join(a.work, "tree")
    make_tree(tree, a.input, a.include)
    before = scan(a.pageref, tree, os.path.join(a.work, "scan"))
    out = os.path.join(a.work, "out")
    env = dict(os.environ, SOURCE_DATE_EPOCH="0")
    r = subprocess.run([a.pageref, "convert", tree, "--scan", os.path.join(a.work, "scan", "pageref.json"),
                        "--no-verify", "--author", "A U Thor <author@example.org>", "-o", out],
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env)
    if r.returncode != 0:
        sys.exit("pageref convert failed (exit %d):\n%s" % (r.returncode, r.stdout))
    with open(os.path.join(out, "convert.json")) as f:
        conv = json.load(f)
    for s in conv["sites"]:
        print("SITE %s: %s%s" % (s["function"], s["status"], ": " + s["reason"] if "reason" in s else ""))
    patches = sorted(p for p in os.listdir(out) if p.endswith(".patch"))
    patched = os.path.join(a.work, "patched")
    shutil.copytree(tree, patched)
    for p in patches:
        with open(os.path.join(out, p)) as f:
            text = f.read()
        print("PATCH " + p)
        for line in text.splitlines():
            if line.startswith("Subject:") or line.startswith("Signed-off-by:"):
                print(line)
        print(text[text.index("\ndiff --git"):text.index("\n-- \n")].strip("\n"))
        r = subprocess.run(["git", "apply", os.path.join(out, p)], cwd=patched, stdout=subprocess.PIPE,
                           stderr=subprocess.STDOUT, text=True,
                           env=dict(os.environ, GIT_CEILING_DIRECTORIES=a.work))
        if r.returncode != 0:
            sys.exit("git apply %s failed:\n%s" % (p, r.stdout))
    if not patches:
        return
    cc = run(["clang-19", "-fsyntax-only", "-Wall", "-Werror", "-I" + a.include, os.path.join("drv", name)],
             cwd=patched, ok=(0, 1))
    print("COMPILE: " + ("ok" if not cc.strip() else cc))
    with open(os.path.join(patched, "compile_commands.json"), "w") as f:
        json.dump(compile_db(patched, [os.path.basename(s) for s in a.input], a.include), f)
    after = scan(a.pageref, patched, os.path.join(a.work, "rescan"))
    converted = {s["function"] for s in conv["sites"] if s["status"] != "refused"}
    for c in after["call_sites"]:
        if c["function"] in converted:
            print("RESCAN %s: %s %s" % (c["function"], c["callee"], c["verdict"]))
    old = {(f["check"], f["function"]) for f in before["findings"]}
    for f in after["findings"]:
        if (f["check"], f["function"]) not in old:
            print("NEW FINDING %s in %s: %s" % (f["check"], f["function"], f["message"]))
    print("END")


if __name__ == "__main__":
    main()
