#!/usr/bin/env python3
"""An installed pageref works without its build tree.

  install-test.py --build-dir B --source-dir S --work W --cmake-install
      `cmake --install B --prefix W/prefix` (the ctest test install-prefix)
  install-test.py --build-dir B --source-dir S --work W --deb PACKAGE.deb
      `dpkg -i PACKAGE.deb`, prefix /usr (.ci/run, as root; purged again after,
      unless pageref was installed before)

First the build-tree pageref scans the mini kernel and clang-tidy-19 runs its
plugin on the check tests' inputs. Then the build tree is renamed, and the
installed copy must: print the same --version; give a --plugin-path inside
the prefix; scan the mini kernel to the same pageref.json (the reproducer of
the TU that does not parse names the executable that ran, and nothing else
differs); point the SARIF rules' helpUri at the installed docs; run the
installed prepare-kernel.py for a tree without a compile database; give
clang-tidy-19 --load=$(pageref --plugin-path) the same warnings; and, when it
was built, pageref-clangd must report a pageref check to an LSP client. No
installed file may contain the path of the source or the build tree. The build
tree is renamed back whatever happens.
"""
import argparse
import glob
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from minikernel import Checks, make_tree, read, run  # noqa: E402

CLANG_TIDY = "/usr/lib/llvm-19/bin/clang-tidy"
# Inputs of the check tests with warnings of several checks; the expected
# warnings are whatever the build tree's plugin reports on them.
TIDY_INPUTS = ["unbalanced-release.c", "release-mismatch.c", "async-bvec-drop.c"]

check = Checks()


def scan(pageref, tree, out, *extra):
    shutil.rmtree(out, ignore_errors=True)
    rc, so, se = run([pageref, "scan", tree, "-o", out, "--no-cache", *extra])
    doc = json.loads(read(os.path.join(out, "pageref.json"))) if os.path.exists(os.path.join(out, "pageref.json")) else None
    return rc, doc, se


def without_executable(doc, exe):
    """The scan with the path of the pageref that ran taken out of the
    reproducers (the one place a scan names its executable)."""
    doc = json.loads(json.dumps(doc))
    for tu in doc["translation_units"]:
        if "reproducer" in tu:
            tu["reproducer"] = tu["reproducer"].replace(exe, "PAGEREF")
    return doc


def tidy(clang_tidy, plugin, inputs, include):
    out = []
    for f in inputs:
        rc, so, se = run([clang_tidy, "--load=" + plugin, "--checks=-*,pageref-*", f, "--", "-I" + include])
        out.append("%s: exit %d\n%s" % (os.path.basename(f), rc, so))
    return "\n".join(out)


def lsp_diagnostics(clangd, src_dir, c_file, timeout=120):
    """Opens \\p c_file in \\p clangd over LSP (stdin/stdout) and returns the
    codes of the diagnostics published for it once a pageref one arrives (or
    whatever arrived until the time-out)."""
    p = subprocess.Popen([clangd, "--log=error", "--background-index=false"], cwd=src_dir,
                         stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)

    def send(msg):
        body = json.dumps(msg).encode()
        p.stdin.write(b"Content-Length: %d\r\n\r\n" % len(body) + body)
        p.stdin.flush()

    def receive():
        length = None
        while True:
            line = p.stdout.readline()
            if not line:
                return None
            if line in (b"\r\n", b"\n"):
                break
            if line.lower().startswith(b"content-length:"):
                length = int(line.split(b":")[1])
        return json.loads(p.stdout.read(length))

    uri = "file://" + c_file
    codes = []
    try:
        send({"jsonrpc": "2.0", "id": 1, "method": "initialize",
              "params": {"processId": os.getpid(), "rootUri": "file://" + src_dir, "capabilities": {}}})
        send({"jsonrpc": "2.0", "method": "initialized", "params": {}})
        send({"jsonrpc": "2.0", "method": "textDocument/didOpen",
              "params": {"textDocument": {"uri": uri, "languageId": "c", "version": 1, "text": read(c_file)}}})
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            m = receive()
            if m is None:
                break
            if m.get("method") == "textDocument/publishDiagnostics" and m["params"]["uri"] == uri:
                codes = [str(d.get("code", "")) for d in m["params"]["diagnostics"]]
                if any(c.startswith("pageref-") for c in codes):
                    break
        send({"jsonrpc": "2.0", "id": 2, "method": "shutdown"})
        send({"jsonrpc": "2.0", "method": "exit"})
        p.wait(timeout=30)
    finally:
        if p.poll() is None:
            p.kill()
            p.wait()
    return codes


def needles(source_dir, build_dir):
    """Paths an installed file must not contain: the source and build trees."""
    out = set()
    for d in (source_dir, build_dir):
        out.add(os.path.abspath(d))
        out.add(os.path.realpath(d))
    return sorted(n.encode() for n in out)


def check_files(prefix, files, source_dir, build_dir):
    """The installed files: what a user runs, in its place, naming neither tree."""
    rel = {os.path.relpath(f, prefix) for f in files}
    want = ["bin/pageref", "lib/pageref/PagerefTidyModule.so", "share/pageref/prepare-kernel.py",
            "share/pageref/api-model.json", "share/pageref/ci/github/pageref.yml",
            "share/pageref/ci/gitlab/pageref.yml", "share/man/man1/pageref.1.gz"]
    if os.path.exists(os.path.join(build_dir, "bin", "pageref-clangd")):
        want.append("bin/pageref-clangd")
    want += ["share/doc/pageref/" + os.path.relpath(f, os.path.join(source_dir, "docs"))
             for f in glob.glob(os.path.join(source_dir, "docs", "**", "*.md"), recursive=True)]
    for w in want:
        check(w in rel, "not installed: %s (installed: %s)" % (w, sorted(rel)))
    check(os.access(os.path.join(prefix, "share/pageref/prepare-kernel.py"), os.X_OK),
          "prepare-kernel.py is not executable")
    bad = needles(source_dir, build_dir)
    for f in sorted(files):
        if os.path.isfile(f) and not os.path.islink(f):
            data = read(f, "rb")
            for n in bad:
                check(n not in data, "%s names %s" % (f, n.decode()))


def check_installed(a, prefix, ref, work):
    """Everything the installed copy must do, with the build tree gone."""
    pageref = os.path.join(prefix, "bin", "pageref")
    rc, so, se = run([pageref, "--version"])
    print("%s --version: %s" % (pageref, so.strip()))
    check(rc == 0 and so == ref["version"], "installed --version: exit %d %r, build tree said %r" % (rc, so + se, ref["version"]))

    rc, so, se = run([pageref, "--plugin-path"])
    plugin = so.strip()
    check(rc == 0 and plugin == os.path.join(prefix, "lib", "pageref", "PagerefTidyModule.so"),
          "installed --plugin-path: exit %d %r %s" % (rc, so, se))

    out = os.path.join(work, "out")
    rc, doc, se = scan(pageref, ref["tree"], out, "--format", "json,sarif,codequality")
    if check(doc is not None, "the installed pageref wrote no pageref.json (exit %d): %s" % (rc, se[-800:])):
        check(rc == ref["scan_rc"], "installed scan exit %d, build tree's %d" % (rc, ref["scan_rc"]))
        check(without_executable(doc, os.path.realpath(pageref)) == ref["scan"],
              "the installed pageref's pageref.json differs from the build tree's (beyond the reproducer's executable)")
        check(any(u.get("reproducer", "").startswith(os.path.realpath(pageref) + " worker")
                  for u in doc["translation_units"]),
              "the reproducer names the installed pageref")
        print("installed scan: %d TUs, %d findings, %d call sites, the same JSON as the build tree's" % (
            len(doc["translation_units"]), len(doc["findings"]), len(doc["call_sites"])))
        sarif = json.loads(read(os.path.join(out, "pageref.sarif")))
        docs = os.path.join(os.path.realpath(prefix), "share", "doc", "pageref")
        for r in sarif["runs"][0]["tool"]["driver"]["rules"]:
            uri = r["helpUri"]
            check(uri.startswith("file://" + docs + "/") and os.path.exists(uri[len("file://"):]),
                  "helpUri of %s is not an installed docs page: %s" % (r["id"], uri))
        cq = json.loads(read(os.path.join(out, "pageref.codequality.json")))
        check(len(cq) == len(doc["findings"]), "the Code Quality report has %d issues for %d findings" % (len(cq), len(doc["findings"])))

    # A tree without a compile database is prepared by the installed
    # prepare-kernel.py (the mini kernel has no Kconfig: it refuses at once).
    bare = make_tree(a.source_dir, os.path.join(work, "bare"), with_database=False)
    rc, so, se = run([pageref, "scan", bare, "-o", os.path.join(work, "bare-out"), "--no-cache"], timeout=120)
    script = os.path.join(prefix, "share", "pageref", "prepare-kernel.py")
    check(rc == 2 and ("(%s exited" % script) in se,
          "a tree without a database: exit %d, expected the installed %s to run: %s" % (rc, script, se[-800:]))

    got = tidy(a.clang_tidy, plugin, ref["tidy_inputs"], ref["include"])
    check(got == ref["tidy"], "clang-tidy-19 with the installed plugin:\n%s\nwith the build tree's:\n%s" % (got, ref["tidy"]))

    clangd = os.path.join(prefix, "bin", "pageref-clangd")
    if ref["clangd"]:
        codes = lsp_diagnostics(clangd, ref["lsp_dir"], os.path.join(ref["lsp_dir"], "unbalanced-release.c"))
        check("pageref-unbalanced-release" in codes, "installed pageref-clangd published %s, no pageref-unbalanced-release" % codes)
        print("installed pageref-clangd: %d diagnostics, %d of pageref-unbalanced-release" % (
            len(codes), codes.count("pageref-unbalanced-release")))

    man = shutil.which("man")
    if man:
        rc, so, se = run([man, "-l", os.path.join(prefix, "share", "man", "man1", "pageref.1.gz")],
                         env=dict(os.environ, MANWIDTH="80", MANPAGER="cat", PAGER="cat"))
        check(rc == 0 and "pageref scan" in so and "PAGEREF(1)" in so, "man -l pageref.1.gz: exit %d %s" % (rc, se[-300:]))


def reference(a, work):
    """What the build tree's pageref does, to hold the installed one to."""
    ref = {"include": os.path.join(work, "include")}
    ref["tree"] = make_tree(a.source_dir, work)
    build_pageref = os.path.join(a.build_dir, "bin", "pageref")
    ref["version"] = run([build_pageref, "--version"])[1]
    rc, doc, se = scan(build_pageref, ref["tree"], os.path.join(work, "out"), "--format", "json")
    if doc is None:
        sys.exit("the build tree's pageref scanned nothing (exit %d): %s" % (rc, se))
    # The reproducer names the executable as the kernel resolves it (links followed).
    ref["scan_rc"], ref["scan"] = rc, without_executable(doc, os.path.realpath(build_pageref))
    inputs = os.path.join(work, "tidy")
    os.makedirs(inputs)
    ref["tidy_inputs"] = []
    for f in TIDY_INPUTS:
        shutil.copy(os.path.join(a.source_dir, "test", "checks", f), inputs)
        ref["tidy_inputs"].append(os.path.join(inputs, f))
    ref["tidy"] = tidy(a.clang_tidy, os.path.join(a.build_dir, "lib", "pageref", "PagerefTidyModule.so"),
                       ref["tidy_inputs"], ref["include"])
    check(ref["tidy"].count("warning:") >= 3 and "[pageref-" in ref["tidy"],
          "the build tree's plugin reported nothing on the check inputs:\n" + ref["tidy"])
    ref["clangd"] = os.path.exists(os.path.join(a.build_dir, "bin", "pageref-clangd"))
    ref["lsp_dir"] = inputs
    with open(os.path.join(inputs, "compile_flags.txt"), "w") as f:
        f.write("-I%s\n" % ref["include"])
    with open(os.path.join(inputs, ".clangd"), "w") as f:
        f.write("Diagnostics:\n  ClangTidy:\n    Add: [pageref-unbalanced-release]\n    FastCheckFilter: None\n")
    return ref


def install_cmake(a, work):
    prefix = os.path.join(work, "prefix")
    rc, so, se = run(["cmake", "--install", a.build_dir, "--prefix", prefix])
    if rc != 0:
        sys.exit("cmake --install failed (exit %d): %s" % (rc, se))
    files = [os.path.join(d, f) for d, _, fs in os.walk(prefix) for f in fs]
    return prefix, files, None


def install_deb(a):
    if os.geteuid() != 0:
        sys.exit("--deb installs the package with dpkg -i: run as root")
    rc, so, se = run(["dpkg-deb", "-c", a.deb])
    paths = [line.split()[-1] for line in so.splitlines() if line.strip()]
    outside = [p for p in paths if p not in ("./", "./usr/") and not p.startswith("./usr/")]
    check(rc == 0 and paths and not outside, "files outside /usr in %s: %s" % (a.deb, outside or se))
    depends = run(["dpkg-deb", "-f", a.deb, "Depends"])[1]
    print("Depends: " + depends.strip())
    wanted = ["clang-tidy-19", "libclang-cpp19", "python3"]
    if os.path.exists(os.path.join(a.build_dir, "bin", "pageref-clangd")):
        wanted += ["libgrpc++", "libprotobuf", "libabsl"]
    for w in wanted:
        check(re.search(r"(^|[ ,])" + re.escape(w), depends), "Depends: has no %s: %s" % (w, depends))
    was_installed = run(["dpkg-query", "-W", "-f=${Status}", "pageref"])[1].startswith("install ok installed")
    rc, so, se = run(["dpkg", "-i", a.deb], timeout=600)
    if rc != 0:
        if not was_installed:
            run(["dpkg", "--purge", "pageref"], timeout=600)  # not left half-configured
        sys.exit("dpkg -i %s failed (exit %d): %s" % (a.deb, rc, (so + se)[-2000:]))
    print("dpkg -i %s: installed" % os.path.basename(a.deb))
    files = [f for f in run(["dpkg", "-L", "pageref"])[1].splitlines() if os.path.isfile(f)]
    return "/usr", files, (None if was_installed else "pageref")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build-dir", required=True)
    ap.add_argument("--source-dir", required=True)
    ap.add_argument("--work", help="scratch directory (default: a temporary one, removed after)")
    ap.add_argument("--clang-tidy", default=CLANG_TIDY)
    how = ap.add_mutually_exclusive_group(required=True)
    how.add_argument("--cmake-install", action="store_true")
    how.add_argument("--deb")
    a = ap.parse_args()
    a.build_dir = os.path.abspath(a.build_dir)
    a.source_dir = os.path.abspath(a.source_dir)
    if a.deb:
        a.deb = os.path.abspath(a.deb)
    work = os.path.abspath(a.work) if a.work else tempfile.mkdtemp(prefix="pageref-install-")
    shutil.rmtree(work, ignore_errors=True)
    os.makedirs(work)
    # The work directory must not be inside the build tree that is renamed.
    if os.path.realpath(work).startswith(os.path.realpath(a.build_dir) + os.sep):
        sys.exit("--work %s is inside the build tree" % work)
    ref = reference(a, work)
    prefix, files, remove = install_deb(a) if a.deb else install_cmake(a, work)
    check_files(prefix, files, a.source_dir, a.build_dir)
    away = a.build_dir + ".moved-away-by-install-test"
    os.rename(a.build_dir, away)
    print("renamed %s to %s" % (a.build_dir, away), flush=True)
    try:
        check(not os.path.exists(a.build_dir), "the build tree is still there")
        check_installed(a, prefix, ref, work)
    finally:
        os.rename(away, a.build_dir)
        print("renamed it back", flush=True)
        if remove:
            rc, so, se = run(["dpkg", "--purge", remove], timeout=600)
            check(rc == 0, "dpkg --purge %s: exit %d %s" % (remove, rc, se))
            print("dpkg --purge %s: removed again" % remove)
    if not a.work:
        shutil.rmtree(work, ignore_errors=True)
    return check.verdict()


if __name__ == "__main__":
    sys.exit(main())
