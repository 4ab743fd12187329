#!/usr/bin/env python3
"""Replays of real kernel page-reference fixes, as a test of the pageref checks.

What: every directory under testdata/kernel/replays/ holds a replay.json and
one patch. The record names a real upstream fix, the Debian tree (6.1 or 6.12)
that has the function in compilable form, the file and function, and the
pageref check that should report the bug:

  direction bug.patch  the tree has the fix; the patch undoes it, so the
                       patched file is the buggy version, the pristine file
                       the fixed one;
  direction fix.patch  the tree still has the bug; the patch applies the fix,
                       so the pristine file is buggy, the patched one fixed.

For each replay the patch is applied (`patch -p1`) to a scratch copy of the
files it touches, taken from the prepared tree (tools/kernel/kerneltree.py's
debian_tree(), or --tree VERSION=PATH); the prepared tree is never modified.
Both versions of the named file are run through clang-tidy with the plugin and
only the three pageref bug checks, using the file's own command from the
tree's compile_commands.json (the mutation test's runner: the copy is compiled
in the tree's directory with -iquote for the file's own directory).

  CAUGHT  the buggy version has a warning of the replay's check inside the
          function (by the function's line range in that version) that the
          fixed version does not have (same check and message, line numbers
          aside);
  MISSED  otherwise (a warning both versions share is shown, not counted);
  QUIET   the fixed version has no warning of any of the three checks inside
          the function;
  NOISY   otherwise.

Why: the lit tests and the mutation test use shapes written or injected by the
project; these are bugs kernel developers actually wrote and fixed, in the
shape they had, so they measure the checks on code they were not tuned on.

--expect FILE pins the known state, one replay a line:
  NAME missed: reason      the replay is expected to be MISSED
  NAME noisy: reason       its fixed version is expected to be NOISY
('#' starts a comment.) With --expect the run fails (exit 1) when the state
changes: an unlisted MISSED/NOISY, or a listed one that is now CAUGHT/QUIET.
Without it the exit status only reflects errors.

A replay whose record is malformed, whose patch does not apply, whose file has
no compile command, whose function is not found, or whose copy does not
compile is an ERROR naming the replay.

Usage: replay-test.py --plugin PLUGIN [--clang-tidy PATH] [--debian VER]
                      [--only NAME] [--expect FILE] [--tree VER=PATH]
                      [--replays DIR] [-j N] [-v] [--keep]
Exit status: 0 ok; 1 the state changed against --expect; 2 bad input or an
errored replay.
"""

import argparse
import concurrent.futures
import importlib.util
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
DEFAULT_REPLAYS = os.path.join(REPO, "testdata", "kernel", "replays")
DEFAULT_CLANG_TIDY = "/usr/lib/llvm-19/bin/clang-tidy"
CHECKS = ("pageref-unbalanced-release", "pageref-release-mismatch", "pageref-async-bvec-drop")
KERNELS = ("6.1", "6.12")
DIRECTIONS = ("bug.patch", "fix.patch")
FIELDS = ("name", "kernel", "file", "function", "check", "class", "upstream", "direction", "why")


def _load(module_file, name):
    spec = importlib.util.spec_from_file_location(name, os.path.join(HERE, module_file))
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


# The C-aware function finder, the compile-command adaptation and the
# clang-tidy runner are the mutation test's; kerneltree gives the prepared tree.
mt = _load("mutation-test.py", "pageref_mutation_test")
kerneltree = _load("kerneltree.py", "pageref_kerneltree")


class BadInput(Exception):
    pass


class ReplayError(Exception):
    pass


# --------------------------------------------------------------------------
# records
# --------------------------------------------------------------------------

def load_replay(d):
    name = os.path.basename(os.path.normpath(d))
    path = os.path.join(d, "replay.json")
    try:
        with open(path) as f:
            rec = json.load(f)
    except (OSError, ValueError) as e:
        raise ReplayError("%s: cannot read replay.json: %s" % (name, e))
    if not isinstance(rec, dict):
        raise ReplayError("%s: replay.json is not an object" % name)
    missing = [k for k in FIELDS if k not in rec]
    if missing:
        raise ReplayError("%s: replay.json lacks %s" % (name, ", ".join(missing)))
    if rec["name"] != name:
        raise ReplayError("%s: replay.json names '%s'" % (name, rec["name"]))
    if rec["kernel"] not in KERNELS:
        raise ReplayError("%s: kernel must be one of %s" % (name, ", ".join(KERNELS)))
    if rec["check"] not in CHECKS:
        raise ReplayError("%s: check '%s' is not one of %s" % (name, rec["check"], ", ".join(CHECKS)))
    if rec["direction"] not in DIRECTIONS:
        raise ReplayError("%s: direction must be bug.patch or fix.patch" % name)
    up = rec["upstream"]
    if not isinstance(up, dict) or not all(k in up for k in ("commit", "subject", "link")):
        raise ReplayError("%s: upstream needs commit, subject and link" % name)
    for k in ("file", "function", "why", "class"):
        if not isinstance(rec[k], str) or not rec[k].strip():
            raise ReplayError("%s: '%s' must be a non-empty string" % (name, k))
    patch = os.path.join(d, rec["direction"])
    if not os.path.isfile(patch):
        raise ReplayError("%s: %s not found" % (name, rec["direction"]))
    other = os.path.join(d, "fix.patch" if rec["direction"] == "bug.patch" else "bug.patch")
    if os.path.exists(other):
        raise ReplayError("%s: has both bug.patch and fix.patch" % name)
    rec["dir"] = d
    rec["patch"] = patch
    return rec


def patched_files(patch, name):
    files = []
    with open(patch, encoding="utf-8", errors="surrogateescape") as f:
        for line in f:
            m = re.match(r"^\+\+\+ b/(\S+)", line)
            if m:
                files.append(m.group(1))
    if not files:
        raise ReplayError("%s: %s has no '+++ b/FILE' header" % (name, os.path.basename(patch)))
    return files


def load_expect(path, names):
    exp = {}
    try:
        with open(path) as f:
            lines = f.readlines()
    except OSError as e:
        raise BadInput("%s: %s" % (path, e.strerror))
    for n, line in enumerate(lines, 1):
        line = line.split("#", 1)[0].strip()
        if not line:
            continue
        m = re.match(r"^(\S+)\s+(missed|noisy)\s*:\s*(\S.*)$", line)
        if not m:
            raise BadInput("%s:%d: expected 'NAME missed|noisy: reason'" % (path, n))
        name, kind, reason = m.groups()
        if name not in names:
            raise BadInput("%s:%d: no replay named '%s'" % (path, n, name))
        exp.setdefault(name, {})[kind] = reason
    return exp


# --------------------------------------------------------------------------
# one replay
# --------------------------------------------------------------------------

def function_ranges(text, fname):
    src = mt.Source(text)
    if not src.balanced:
        return None
    return [(f.first_line, f.last_line) for f in mt.functions(src) if f.name == fname]


def in_ranges(line, ranges):
    return any(lo <= line <= hi for lo, hi in ranges)


def prepare_versions(rec, tree, work):
    """(buggy text, fixed text) of the named file: the pristine copy and the
    patched one, which is which according to the direction."""
    name = rec["name"]
    files = patched_files(rec["patch"], name)
    if rec["file"] not in files:
        raise ReplayError("%s: %s does not touch %s" % (name, os.path.basename(rec["patch"]), rec["file"]))
    scratch = os.path.join(work, "tree")
    for f in files:
        src = os.path.join(tree, f)
        if not os.path.isfile(src):
            raise ReplayError("%s: %s not in %s" % (name, f, tree))
        dst = os.path.join(scratch, f)
        os.makedirs(os.path.dirname(dst), exist_ok=True)
        shutil.copyfile(src, dst)
    with open(os.path.join(tree, rec["file"]), encoding="utf-8", errors="surrogateescape") as f:
        pristine = f.read()
    with open(rec["patch"], "rb") as pf:
        r = subprocess.run(["patch", "-p1", "--forward", "--batch", "-d", scratch], stdin=pf,
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, errors="replace")
    if r.returncode != 0 or re.search(r"(?m)^(Hunk #\d+ (FAILED|succeeded at .* with fuzz)|Reversed)", r.stdout):
        out = " | ".join(l for l in r.stdout.splitlines() if l.strip())[:300]
        raise ReplayError("%s: %s does not apply cleanly to %s: %s" % (
            name, os.path.basename(rec["patch"]), tree, out))
    with open(os.path.join(scratch, rec["file"]), encoding="utf-8", errors="surrogateescape") as f:
        patched = f.read()
    if rec["direction"] == "bug.patch":
        return patched, pristine
    return pristine, patched


def judge_version(res, ranges, label, name):
    if res["failure"]:
        raise ReplayError("%s: clang-tidy on the %s version failed: %s" % (name, label, res["failure"]))
    if res["errors"]:
        raise ReplayError("%s: the %s version does not compile: %s" % (name, label, res["errors"][0]))
    return [d for d in res["diags"] if d["check"] in CHECKS and in_ranges(d["line"], ranges)]


def derived_entry(entries, relfile):
    """A compile command for relfile made from one of a file of the same
    directory (the prepared tree only builds the files that call the tracked
    functions): the sibling's flags with its KBUILD_BASENAME replaced; the
    file argument itself is replaced when the command is adapted. None when the
    directory has no built file."""
    d = os.path.dirname(relfile)
    base = os.path.splitext(os.path.basename(relfile))[0]
    for sib in sorted(k for k in entries if os.path.dirname(k) == d and k.endswith(".c")):
        e = dict(entries[sib])
        sbase = os.path.splitext(os.path.basename(sib))[0]
        fix = lambda arg: arg.replace('KBUILD_BASENAME=\'"%s"\'' % sbase,
                                      'KBUILD_BASENAME=\'"%s"\'' % base).replace(
                                          'KBUILD_BASENAME="%s"' % sbase, 'KBUILD_BASENAME="%s"' % base)
        if "arguments" in e:
            e["arguments"] = [fix(x) for x in e["arguments"]]
        else:
            e["command"] = fix(e["command"])
        return sib, e
    return None, None


def run_replay(rec, tree, entries, a, plugin, workroot):
    name = rec["name"]
    work = os.path.join(workroot, name)
    os.makedirs(work, exist_ok=True)
    entry, derived_from = entries.get(rec["file"]), None
    if entry is None:
        derived_from, entry = derived_entry(entries, rec["file"])
        if entry is None:
            raise ReplayError("%s: %s has no compile command in %s/compile_commands.json, nor does "
                              "any file of its directory (not built by this configuration)" % (
                                  name, rec["file"], tree))
    buggy, fixed = prepare_versions(rec, tree, work)
    result = {"rec": rec, "derived_from": derived_from}
    checks = ",".join(CHECKS)
    for label, text in (("buggy", buggy), ("fixed", fixed)):
        ranges = function_ranges(text, rec["function"])
        if ranges is None:
            raise ReplayError("%s: %s (%s version): unbalanced brackets, cannot locate functions" % (
                name, rec["file"], label))
        if not ranges:
            raise ReplayError("%s: function %s not found in the %s version of %s" % (
                name, rec["function"], label, rec["file"]))
        res = mt.run_tidy(a.clang_tidy, plugin, tree, entry, rec["file"], text, label, work, checks)
        result[label] = {"ranges": ranges, "warnings": judge_version(res, ranges, label, name)}
    # A warning of the check counts for the bug only when the fixed version
    # does not have it too (same check and message, line numbers aside): a
    # warning both versions share is about something else in the function.
    fixed_keys = [warning_key(d) for d in result["fixed"]["warnings"]]
    new = []
    for d in result["buggy"]["warnings"]:
        k = warning_key(d)
        if k in fixed_keys:
            fixed_keys.remove(k)
        else:
            new.append(d)
    result["new"] = new
    result["caught"] = any(d["check"] == rec["check"] for d in new)
    result["shared_only"] = not result["caught"] and any(
        d["check"] == rec["check"] for d in result["buggy"]["warnings"])
    result["quiet"] = not result["fixed"]["warnings"]
    return result


def warning_key(d):
    return d["check"], re.sub(r"\d+", "#", d["msg"])


# --------------------------------------------------------------------------

def parse_trees(specs):
    trees = {}
    for s in specs or []:
        if "=" not in s:
            raise BadInput("--tree %s: expected VERSION=PATH" % s)
        ver, path = s.split("=", 1)
        if ver not in KERNELS:
            raise BadInput("--tree %s: version must be one of %s" % (s, ", ".join(KERNELS)))
        if not os.path.isfile(os.path.join(path, "compile_commands.json")):
            raise BadInput("--tree %s: no compile_commands.json in %s" % (s, path))
        trees[ver] = os.path.abspath(path)
    return trees


def fmt_warn(d):
    return "%d: %s [%s]" % (d["line"], d["msg"], d["check"])


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--plugin", required=True, help="PagerefTidyModule.so")
    ap.add_argument("--clang-tidy", default=DEFAULT_CLANG_TIDY)
    ap.add_argument("--debian", metavar="VER", choices=KERNELS, help="only this kernel's replays")
    ap.add_argument("--only", metavar="NAME", help="only this replay")
    ap.add_argument("--expect", metavar="FILE", help="expected misses/noise, one 'NAME missed|noisy: reason' a line")
    ap.add_argument("--tree", action="append", metavar="VER=PATH",
                    help="use this prepared tree for VER instead of kerneltree.debian_tree(VER)")
    ap.add_argument("--replays", default=DEFAULT_REPLAYS, help="replay directory (default %(default)s)")
    ap.add_argument("-j", "--jobs", type=int, default=2)
    ap.add_argument("-v", "--verbose", action="store_true", help="print the warnings found")
    ap.add_argument("--keep", action="store_true", help="keep the scratch directory (its path is printed)")
    a = ap.parse_args(argv)
    t0 = time.monotonic()
    workroot = None
    try:
        if not os.path.isfile(a.plugin):
            raise BadInput("%s: plugin not found" % a.plugin)
        if not (os.path.isfile(a.clang_tidy) and os.access(a.clang_tidy, os.X_OK)):
            raise BadInput("%s: clang-tidy not found or not executable" % a.clang_tidy)
        if not os.path.isdir(a.replays):
            raise BadInput("%s: no such replay directory" % a.replays)
        trees = parse_trees(a.tree)
        dirs = sorted(os.path.join(a.replays, d) for d in os.listdir(a.replays)
                      if os.path.isdir(os.path.join(a.replays, d)))
        if a.only:
            dirs = [d for d in dirs if os.path.basename(d) == a.only]
            if not dirs:
                raise BadInput("--only %s: no such replay in %s" % (a.only, a.replays))
        names = {os.path.basename(d) for d in os.listdir(a.replays)
                 if os.path.isdir(os.path.join(a.replays, d))}
        expect = load_expect(a.expect, names) if a.expect else None
        plugin_src = os.path.abspath(a.plugin)
        a.clang_tidy = os.path.abspath(a.clang_tidy)
        workroot = tempfile.mkdtemp(prefix="pageref-replay-")
        # a snapshot of the plugin, as in the mutation test: a rebuild while
        # the replays run must not hand some runs half a library
        plugin = os.path.join(workroot, os.path.basename(plugin_src))
        shutil.copy2(plugin_src, plugin)
        mt.list_checks(a.clang_tidy, plugin, plugin_src)
    except (BadInput, mt.BadInput) as e:
        if workroot:
            shutil.rmtree(workroot, ignore_errors=True)
        print("replay-test: error: %s" % e, file=sys.stderr)
        return 2

    errors, recs = [], []
    for d in dirs:
        try:
            rec = load_replay(d)
        except ReplayError as e:
            errors.append(str(e))
            continue
        if a.debian and rec["kernel"] != a.debian:
            continue
        recs.append(rec)

    entries_by_ver, tree_by_ver = {}, {}
    for ver in sorted({r["kernel"] for r in recs}):
        try:
            tree = trees.get(ver) or kerneltree.debian_tree(ver)
            _, entries = mt.compiled_files(tree)
        except SystemExit as e:          # debian_tree() exits naming the version
            print("replay-test: error: %s" % e, file=sys.stderr)
            shutil.rmtree(workroot, ignore_errors=True)
            return 2
        except mt.BadInput as e:
            print("replay-test: error: %s" % e, file=sys.stderr)
            shutil.rmtree(workroot, ignore_errors=True)
            return 2
        tree_by_ver[ver], entries_by_ver[ver] = tree, entries
        print("replay-test: Linux %s: %s" % (ver, tree))

    results = []
    try:
        with concurrent.futures.ThreadPoolExecutor(max_workers=max(1, a.jobs)) as ex:
            futs = [(r, ex.submit(run_replay, r, tree_by_ver[r["kernel"]], entries_by_ver[r["kernel"]],
                                  a, plugin, workroot)) for r in recs]
            for r, fut in futs:
                try:
                    results.append(fut.result())
                except ReplayError as e:
                    errors.append(str(e))
    finally:
        if a.keep:
            print("kept the scratch files in %s" % workroot)
        else:
            shutil.rmtree(workroot, ignore_errors=True)

    rows = []
    for res in results:
        rec = res["rec"]
        rows.append((rec["name"] + ("*" if res["derived_from"] else ""), rec["kernel"],
                     "%s:%s" % (rec["file"], rec["function"]),
                     rec["check"].replace("pageref-", ""),
                     "CAUGHT" if res["caught"] else "MISSED", "QUIET" if res["quiet"] else "NOISY"))
    if rows:
        widths = [max(len(h), *(len(r[i]) for r in rows)) for i, h in
                  enumerate(("replay", "kernel", "file:function", "check", "buggy", "fixed"))]
        line = "  ".join("%%-%ds" % w for w in widths)
        print()
        print(line % ("replay", "kernel", "file:function", "check", "buggy", "fixed"))
        for row, res in zip(rows, results):
            print(line % row)
            if res["derived_from"]:
                print("      * no compile command of its own in the tree: flags of %s" % res["derived_from"])
            if res["shared_only"]:
                print("      (the buggy version's %s warning is one the fixed version has too)"
                      % res["rec"]["check"])
            shown = []
            if a.verbose or not res["caught"]:
                shown += [("buggy", d, "" if d in res["new"] else " (also in fixed)")
                          for d in res["buggy"]["warnings"]]
            if a.verbose or not res["quiet"]:
                shown += [("fixed", d, "") for d in res["fixed"]["warnings"]]
            for label, d, extra in shown:
                print("      %s: %s%s" % (label, fmt_warn(d), extra))
                if a.verbose:
                    for note in d["notes"]:
                        print("        note: %s" % note)

    n = len(results)
    caught = sum(1 for r in results if r["caught"])
    quiet = sum(1 for r in results if r["quiet"])
    print()
    print("totals: caught %d/%d, quiet %d/%d%s; %.1fs" % (
        caught, n, quiet, n, ", %d errors" % len(errors) if errors else "", time.monotonic() - t0))
    for e in errors:
        print("ERROR: %s" % e)

    changed = []
    if expect is not None:
        for res in results:
            name = res["rec"]["name"]
            exp = expect.get(name, {})
            if not res["caught"] and "missed" not in exp:
                changed.append("%s is MISSED but not listed as an expected miss" % name)
            if res["caught"] and "missed" in exp:
                changed.append("%s is now CAUGHT (listed as missed: %s)" % (name, exp["missed"]))
            if not res["quiet"] and "noisy" not in exp:
                changed.append("%s is NOISY but not listed as expected noise" % name)
            if res["quiet"] and "noisy" in exp:
                changed.append("%s is now QUIET (listed as noisy: %s)" % (name, exp["noisy"]))
        for c in changed:
            print("CHANGED: %s" % c)
    if errors:
        return 2
    if changed:
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
