#!/usr/bin/env python3
"""Prepare a real Linux kernel tree and a compile database for pageref.

What: extract a Debian linux-source tarball (or take an extracted tree),
configure it with clang-19, run `make prepare`, build only the translation
units that mention the tracked functions (and that the .config actually
enables), and run the kernel's own gen_compile_commands.py.

Two configurations:
  allmodconfig (default): x86_64 `make allmodconfig` (CONFIG_WERROR off),
      every file that calls an acquire function, a get-pages function or a
      page-carrying iterator constructor of pageref's API model (get_page()
      and folio_get() included), plus the files that define the functions
      of other files those hand pages to, so that cross-file summaries exist.
      This is the corpus the main job and the real-kernel tests answer for.
  small: defconfig plus the subsystems that use the page-reference APIs
      (CONFIG_ENABLE below) and the get-pages family's callers only: about
      60 translation units, for quick experiments.

Why: the analyzer needs the exact compiler command of every interesting
kernel file, and building the whole kernel for that would take hours. The
result is cached: a second run with the same inputs only prints the path.

The last line on stdout is the absolute tree path; it contains
compile_commands.json, .pageref-tus.txt (the selected .c files that are in
the database), .pageref-build.log (make's full output) and
.pageref-prepared.json (the cache stamp with built/skipped objects).

Exit status: 0 on success, 2 on any failure (one line naming input and problem).
"""

import argparse
import fcntl
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time

TOOL_VERSION = "1"
CC = "clang-19"
CONFIGS = ("allmodconfig", "small")
# allmodconfig turns on CONFIG_WERROR; clang-19 warns where the compilers of
# 6.1's and 6.12's authors did not, and one warning must not lose a TU.
ALLMODCONFIG_DISABLE = ["WERROR"]
# Bumped when the rule that picks the files defining helpers changes.
HELPER_RULE = "1"
HERE = os.path.dirname(os.path.abspath(__file__))
# The API model names what selects a file (source tree, then installed layout).
# Installed (and in the build tree, where share/pageref/ holds links to the
# sources) the model sits beside this script, as PREFIX/share/pageref/.
API_MODEL_CANDIDATES = [
    os.path.join(HERE, "api-model.json"),
    os.path.join(HERE, "..", "..", "analyzer", "data", "api-model.json"),
]

CONFIG_ENABLE = [
    "FUSE_FS", "CEPH_FS", "CEPH_LIB", "VHOST_MENU", "VHOST_SCSI", "VHOST_NET",
    "TARGET_CORE", "TLS", "CIFS", "RDS", "RDS_TCP", "CRYPTO_USER_API_HASH",
    "CRYPTO_USER_API_SKCIPHER", "CRYPTO_USER_API_AEAD", "BLK_DEV_LOOP",
    "NVME_TARGET", "NFS_FS", "NET_9P", "NET_9P_VIRTIO", "9P_FS", "NFSD",
    # Further page-reference users: block integrity and ublk, TEE shared
    # memory, kTLS offload, the iov_iter KUnit tests (6.12), and the
    # async BVEC submitters (target file backend, nvmet/nvme TCP, nbd).
    "BLK_DEV_INTEGRITY", "BLK_DEV_UBLK", "TEE", "TLS_DEVICE", "KUNIT",
    "TEST_IOV_ITER", "TCM_FILEIO", "NVME_TARGET_TCP", "NVME_TCP", "BLK_DEV_NBD",
]

# The small configuration's selection (the allmodconfig one comes from the
# API model, see model_names()).
SMALL_NAMES = [
    "iov_iter_get_pages2", "iov_iter_get_pages_alloc2", "iov_iter_get_pages",
    "iov_iter_get_pages_alloc", "iov_iter_extract_pages", "get_user_pages",
    "get_user_pages_fast", "get_user_pages_remote", "get_user_pages_unlocked",
    "pin_user_pages", "pin_user_pages_fast", "pin_user_pages_remote",
    "pin_user_pages_unlocked", "iov_iter_bvec",
    # Functions of other files the callers above hand their pages to: the
    # files that define them are compiled too, so that `pageref scan` has
    # their summaries (net/9p/trans_common.c, net/ceph/osd_client.c).
    "p9_release_pages", "osd_req_op_extent_osd_data_pages",
]

# Top-level directories that never hold kernel objects of interest.
SCAN_SKIP_TOP = {"tools", "scripts", "Documentation", "samples"}

# command -> Debian package; header file -> Debian package
TOOL_PACKAGES = {
    "make": "make", "gcc": "gcc", CC: CC, "bc": "bc", "flex": "flex",
    "bison": "bison", "xz": "xz-utils", "tar": "tar", "bash": "bash",
}
HEADER_PACKAGES = {
    "/usr/include/gelf.h": "libelf-dev",
    "/usr/include/openssl/opensslv.h": "libssl-dev",
}

# Environment variables that would change what kbuild does behind our back
# (e.g. when this tool is itself run from a make recipe or a kernel shell).
SCRUB_ENV = [
    "MAKEFLAGS", "MFLAGS", "GNUMAKEFLAGS", "MAKELEVEL", "MAKEFILES",
    "MAKEOVERRIDES", "O", "KBUILD_OUTPUT", "ARCH", "SRCARCH", "CROSS_COMPILE",
    "LLVM", "LLVM_IAS", "M", "KBUILD_EXTMOD", "CC", "LD", "AR",
]

STAMP = ".pageref-prepared.json"
EXTRACTED = ".pageref-extracted.json"
BUILD_LOG = ".pageref-build.log"
TUS_FILE = ".pageref-tus.txt"
LOCK_FILE = ".pageref.lock"

# Makefile fragment loaded into every kbuild sub-make (via $MAKEFILES) during
# a dry run: each scripts/Makefile.build instance writes the objects that the
# .config enables in its directory. This is kbuild's own answer, including
# composite objects (foo-y += bar.o), lib-y and conditionals.
KBUILD_QUERY_MK = r"""
ifneq ($(obj),)
ifeq ($(CURDIR),$(PAGEREF_KBUILD_TREE))
$(obj)/: __pageref_list
__pageref_list:
	@:$(if $(filter %scripts/Makefile.build,$(MAKEFILE_LIST)),$(file >$(PAGEREF_KBUILD_OUT)/d.$(subst /,@,$(obj)),$(obj)$(newline_pageref)$(real-obj-y) $(real-obj-m) $(lib-y)))
define newline_pageref


endef
endif
endif
"""


class Failure(Exception):
    """A fatal problem: message names the input and the problem."""

    def __init__(self, message, details=None):
        super().__init__(message)
        self.details = details or []


class Progress:
    def __init__(self, quiet):
        self.quiet = quiet
        self.start = time.monotonic()
        self.times = {}

    def step(self, name, t0, msg):
        secs = time.monotonic() - t0
        self.times[name] = round(secs, 2)
        if not self.quiet:
            print("prepare-kernel: %-8s %7.1fs  %s" % (name, secs, msg),
                  file=sys.stderr, flush=True)

    def note(self, msg):
        if not self.quiet:
            print("prepare-kernel:   " + msg, file=sys.stderr, flush=True)


def clean_env(extra=None):
    env = dict(os.environ)
    for k in SCRUB_ENV:
        env.pop(k, None)
    env["LC_ALL"] = "C"
    if extra:
        env.update(extra)
    return env


def tail_file(path, n=20):
    try:
        with open(path, "rb") as f:
            f.seek(0, os.SEEK_END)
            size = f.tell()
            f.seek(max(0, size - 64 * 1024))
            data = f.read().decode("utf-8", "replace")
    except OSError:
        return []
    return data.splitlines()[-n:]


def make_cmd(jobs, *args):
    cmd = ["make", "CC=" + CC]
    if jobs:
        cmd.append("-j%d" % jobs)
    return cmd + list(args)


def run_logged(cmd, cwd, log_path, env=None, what=None):
    """Run cmd with output appended to log_path; return the exit code."""
    with open(log_path, "ab") as log:
        log.write(("\n### %s: %s\n" % (what or cmd[0], " ".join(cmd))).encode())
        log.flush()
        proc = subprocess.run(cmd, cwd=cwd, stdin=subprocess.DEVNULL,
                              stdout=log, stderr=subprocess.STDOUT,
                              env=env or clean_env())
        log.write(("### exit %d\n" % proc.returncode).encode())
    return proc.returncode


def check_logged(cmd, cwd, log_path, input_desc, what):
    rc = run_logged(cmd, cwd, log_path, what=what)
    if rc != 0:
        raise Failure("%s: %s failed (exit %d), full log in %s"
                      % (input_desc, what, rc, log_path),
                      tail_file(log_path, 20))


# ---------------------------------------------------------------- packages

def is_root():
    return os.geteuid() == 0


def apt_install(packages):
    """Install Debian packages (root only); apt-get update only on failure."""
    env = clean_env({"DEBIAN_FRONTEND": "noninteractive"})
    cmd = ["apt-get", "install", "-y", "--no-install-recommends"] + packages
    out = ""
    for attempt in range(2):
        if attempt == 1:
            subprocess.run(["apt-get", "update"], stdin=subprocess.DEVNULL,
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                           env=env)
        proc = subprocess.run(cmd, stdin=subprocess.DEVNULL,
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                              env=env)
        out = proc.stdout.decode("utf-8", "replace")
        if proc.returncode == 0:
            return
    raise Failure("apt-get install %s failed" % " ".join(packages),
                  out.splitlines()[-20:])


def ensure_build_deps(progress):
    t0 = time.monotonic()
    missing = sorted({pkg for tool, pkg in TOOL_PACKAGES.items()
                      if shutil.which(tool) is None} |
                     {pkg for hdr, pkg in HEADER_PACKAGES.items()
                      if not os.path.exists(hdr)})
    if not missing:
        return
    if not is_root():
        raise Failure("build dependencies missing: install the Debian "
                      "packages: apt-get install %s" % " ".join(missing))
    apt_install(missing)
    progress.step("deps", t0, "installed " + " ".join(missing))


def ensure_tarball(tarball, version, progress):
    if os.path.isfile(tarball):
        return
    pkg = "linux-source-" + version
    if not is_root():
        raise Failure("%s: not found; install the Debian package %s "
                      "(apt-get install %s)" % (tarball, pkg, pkg))
    t0 = time.monotonic()
    try:
        apt_install([pkg])
    except Failure as e:
        raise Failure("%s: not found and %s" % (tarball, e), e.details)
    if not os.path.isfile(tarball):
        raise Failure("%s: still missing after installing %s" % (tarball, pkg))
    progress.step("source", t0, "installed " + pkg)


# -------------------------------------------------------------- cache/stamp

def load_json(path):
    try:
        with open(path) as f:
            return json.load(f)
    except (OSError, ValueError):
        return None


def write_json_atomic(path, obj):
    tmp = "%s.tmp.%d" % (path, os.getpid())
    with open(tmp, "w") as f:
        json.dump(obj, f, indent=1, sort_keys=True)
        f.write("\n")
    os.replace(tmp, path)


def stamp_valid(tree, key):
    stamp = load_json(os.path.join(tree, STAMP))
    return (isinstance(stamp, dict) and stamp.get("key") == key
            and os.path.isfile(os.path.join(tree, "compile_commands.json"))
            and os.path.isfile(os.path.join(tree, TUS_FILE)))


class Lock:
    def __init__(self, path):
        self.path = path
        self.fd = None

    def acquire(self, progress):
        self.fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(self.fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            progress.note("waiting for another prepare-kernel run (%s)"
                          % self.path)
            fcntl.flock(self.fd, fcntl.LOCK_EX)

    def release(self):
        if self.fd is not None:
            os.close(self.fd)
            self.fd = None


def tarball_key(tarball):
    st = os.stat(tarball)
    return {"path": os.path.abspath(tarball), "size": st.st_size,
            "mtime": int(st.st_mtime)}


# ------------------------------------------------------------------ extract

def check_kernel_tree(tree, input_desc):
    missing = [p for p in ("Makefile", "Kconfig", "include/linux")
               if not os.path.exists(os.path.join(tree, p))]
    if missing:
        raise Failure("%s: not a kernel source tree (missing %s)"
                      % (input_desc, ", ".join(missing)))


def tree_name(version, mode):
    """The cache directory of a version and configuration: the small one
    keeps the name it always had, so existing caches stay valid."""
    return "linux-source-%s%s" % (version, "" if mode == "small" else "-" + mode)


def extract(tarball, cache, name, jobs, progress):
    """Extract into <cache>/<name> via a temp dir and renames."""
    t0 = time.monotonic()
    final = os.path.join(cache, name)
    tmp = tempfile.mkdtemp(prefix=".tmp-%s-" % name, dir=cache)
    old = None
    try:
        cmd = ["tar", "--no-same-owner", "-I", "xz -T%d" % max(1, jobs),
               "-xf", tarball, "-C", tmp]
        proc = subprocess.run(cmd, stdin=subprocess.DEVNULL,
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                              env=clean_env())
        if proc.returncode != 0:
            raise Failure("%s: extraction failed (tar exit %d)"
                          % (tarball, proc.returncode),
                          proc.stderr.decode("utf-8", "replace").splitlines()[-20:])
        entries = os.listdir(tmp)
        if len(entries) != 1:
            raise Failure("%s: expected one top-level directory, found %d"
                          % (tarball, len(entries)))
        src = os.path.join(tmp, entries[0])
        check_kernel_tree(src, tarball)
        write_json_atomic(os.path.join(src, EXTRACTED),
                          {"tarball": tarball_key(tarball),
                           "tool_version": TOOL_VERSION})
        if os.path.lexists(final):
            old = tempfile.mkdtemp(prefix=".old-%s-" % name, dir=cache)
            os.rename(final, os.path.join(old, name))
        os.rename(src, final)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
        if old:
            shutil.rmtree(old, ignore_errors=True)
    progress.step("extract", t0, "%s -> %s" % (tarball, final))
    return final


def cleanup_stale(cache, name):
    """Remove temp/old dirs left by interrupted runs (we hold the lock)."""
    for entry in os.listdir(cache):
        if entry.startswith((".tmp-%s-" % name, ".old-%s-" % name)):
            shutil.rmtree(os.path.join(cache, entry), ignore_errors=True)


# ----------------------------------------------------------- configure etc.

def read_config(tree):
    values, arch = {}, None
    with open(os.path.join(tree, ".config"), errors="replace") as f:
        for line in f:
            m = re.match(r"# Linux/(\S+) ", line)
            if m and arch is None:
                arch = m.group(1)
            m = re.match(r"CONFIG_([A-Za-z0-9_]+)=(.*)", line)
            if m:
                values[m.group(1)] = m.group(2)
    return values, arch


def configure(tree, mode, log, input_desc, progress):
    t0 = time.monotonic()
    if mode == "allmodconfig":
        base, enable, disable = "allmodconfig", [], ALLMODCONFIG_DISABLE
    else:
        base, enable, disable = "defconfig", CONFIG_ENABLE, []
    check_logged(make_cmd(None, base), tree, log, input_desc, "make " + base)
    edits = []
    for opt in enable:
        edits += ["--enable", opt]
    for opt in disable:
        edits += ["--disable", opt]
    check_logged(["bash", "scripts/config", "--file", ".config"] + edits,
                 tree, log, input_desc, "scripts/config")
    check_logged(make_cmd(None, "olddefconfig"), tree, log, input_desc,
                 "make olddefconfig")
    values, arch = read_config(tree)
    off = [o for o in enable if values.get(o) not in ("y", "m")]
    still = [o for o in disable if values.get(o) in ("y", "m")]
    if still:
        raise Failure("%s: could not turn off %s" % (input_desc, " ".join(still)))
    if mode == "allmodconfig":
        msg = "allmodconfig without %s, arch %s" % (" ".join(disable), arch)
    else:
        msg = "defconfig + %d options, arch %s" % (len(enable), arch)
    if off:
        msg += "; NOT enabled (unmet dependencies): " + " ".join(off)
    progress.step("config", t0, msg)
    return values, arch, off


def prepare(tree, jobs, log, input_desc, progress):
    t0 = time.monotonic()
    check_logged(make_cmd(jobs, "prepare"), tree, log, input_desc,
                 "make prepare")
    progress.step("prepare", t0, "make -j%d prepare" % jobs)


# ------------------------------------------------------------------- select

def anchors_for(names):
    """A few literal substrings such that every name contains one of them;
    a cheap `in` test with these rejects almost all files before the regex."""
    grams = {}
    for n in names:
        k = min(len(n), 8)
        for i in range(len(n) - k + 1):
            grams.setdefault(n[i:i + k], set()).add(n)
    uncovered, chosen = set(names), []
    while uncovered:
        best = max(grams, key=lambda g: (len(grams[g] & uncovered), len(g), g))
        chosen.append(best.encode())
        uncovered -= grams[best]
    return chosen


def _scan_chunk(job):
    """Worker: return the files of one chunk that mention a name."""
    paths, anchors, pattern = job
    rx = re.compile(pattern)
    hits = []
    for rel, path in paths:
        try:
            with open(path, "rb") as f:
                data = f.read()
        except OSError:
            continue
        if any(a in data for a in anchors) and rx.search(data):
            hits.append(rel)
    return hits


def _run_forked(func, items, workers):
    """Run func over items in `workers` forked children (func returns a list
    of strings); falls back to running everything here if a child fails."""
    if workers <= 1 or not hasattr(os, "fork"):
        return [x for j in items for x in func(j)]
    children = []
    for w in range(workers):
        rfd, wfd = os.pipe()
        pid = os.fork()
        if pid == 0:
            code = 1
            try:
                os.close(rfd)
                out = [x for j in items[w::workers] for x in func(j)]
                with os.fdopen(wfd, "w") as f:
                    f.write("\n".join(out))
                code = 0
            finally:
                os._exit(code)
        os.close(wfd)
        children.append((pid, rfd))
    result, ok = [], True
    for pid, rfd in children:
        with os.fdopen(rfd) as f:
            data = f.read()
        _, status = os.waitpid(pid, 0)
        if status != 0:
            ok = False
        result += [x for x in data.split("\n") if x]
    if not ok:
        return [x for j in items for x in func(j)]
    return result


def scan(tree, names, jobs, progress):
    """Token scan of all kernel .c files for the names (whole identifiers)."""
    t0 = time.monotonic()
    alts = b"|".join(re.escape(n.encode())
                     for n in sorted(names, key=len, reverse=True))
    pattern = rb"(?<![A-Za-z0-9_])(?:" + alts + rb")(?![A-Za-z0-9_])"
    anchors = anchors_for(names)
    files = []
    stack = [("", tree)]
    while stack:
        rel, path = stack.pop()
        try:
            it = os.scandir(path)
        except OSError:
            continue
        with it:
            for e in it:
                if e.name.startswith("."):
                    continue
                if e.is_dir(follow_symlinks=False):
                    if rel == "" and e.name in SCAN_SKIP_TOP:
                        continue
                    stack.append((rel + e.name + "/", e.path))
                elif e.name.endswith(".c") and e.is_file(follow_symlinks=False):
                    files.append((rel + e.name, e.path))
    workers = max(1, min(jobs, os.cpu_count() or 1, 8))
    chunks = [(files[i::workers * 4], anchors, pattern)
              for i in range(workers * 4)]
    hits = sorted(_run_forked(_scan_chunk, chunks, workers))
    progress.step("scan", t0, "%d of %d .c files mention the %d names"
                  % (len(hits), len(files), len(names)))
    return hits


def kbuild_enabled_objects(tree, top_dirs, jobs, input_desc):
    """Ask kbuild (dry run) which objects the .config enables.

    Returns (objects, dirs): the set of enabled object paths and the set of
    directories kbuild descends into."""
    with tempfile.TemporaryDirectory(prefix="pageref-kbuild-") as tmp:
        mk = os.path.join(tmp, "query.mk")
        out = os.path.join(tmp, "out")
        os.mkdir(out)
        with open(mk, "w") as f:
            f.write(KBUILD_QUERY_MK)
        env = clean_env({"MAKEFILES": mk, "PAGEREF_KBUILD_OUT": out,
                         "PAGEREF_KBUILD_TREE": os.path.realpath(tree)})
        err = os.path.join(tmp, "stderr")
        with open(err, "wb") as ef:
            proc = subprocess.run(
                make_cmd(jobs, "-n", "-k") + [d + "/" for d in sorted(top_dirs)],
                cwd=tree, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                stderr=ef, env=env)
        objects, dirs = set(), set()
        for entry in os.listdir(out):
            with open(os.path.join(out, entry)) as f:
                lines = f.read().split("\n", 1)
            obj = os.path.normpath(lines[0])
            dirs.add(obj)
            if len(lines) > 1:
                objects.update(os.path.normpath(o) for o in lines[1].split()
                               if o.endswith(".o"))
        if not dirs:
            raise Failure("%s: kbuild object query failed (make -n exit %d)"
                          % (input_desc, proc.returncode), tail_file(err, 20))
    return objects, dirs


def makefile_hint(tree, directory, token, config, depth=0):
    """Find the kbuild line mentioning token and tell the state of its
    CONFIG_ symbols, e.g. 'obj-$(CONFIG_NFSD) += nfsd/: CONFIG_NFSD is not set'.
    For a part of a composite object (foo-y += bar.o) also show foo.o's line."""
    for mf in ("Kbuild", "Makefile"):
        path = os.path.join(tree, directory, mf)
        try:
            with open(path, errors="replace") as f:
                text = f.read().replace("\\\n", " ")
        except OSError:
            continue
        rx = re.compile(r"(?<![\w/.-])" + re.escape(token) + r"(?![\w.-])")
        for line in text.splitlines():
            if rx.search(line) and not line.lstrip().startswith("#"):
                syms = re.findall(r"CONFIG_([A-Za-z0-9_]+)", line)
                states = ["CONFIG_%s=%s" % (s, config[s]) if s in config
                          else "CONFIG_%s is not set" % s for s in syms]
                short = " ".join(line.split())
                if len(short) > 70:
                    short = short[:67] + "..."
                hint = "%s: %s%s" % (os.path.join(directory, mf), short,
                                     (" [" + ", ".join(states) + "]")
                                     if states else "")
                m = re.match(r"\s*([\w-]+)-(?:y|m|objs|\$\(CONFIG_\w+\))\s*[:+]?=",
                             line)
                if (m and depth < 2 and m.group(1) not in ("obj", "lib")
                        and m.group(1) + ".o" != token):
                    hint += "; " + makefile_hint(tree, directory,
                                                 m.group(1) + ".o", config,
                                                 depth + 1)
                return hint
        return "not listed in %s" % os.path.join(directory, mf)
    return "no Makefile in %s" % directory


def classify(tree, selected, arch, enabled, dirs, config):
    """Split selected .c files into objects to build and skipped ones."""
    build, skipped = [], []
    for src in selected:
        parts = src.split("/")
        if parts[0] == "arch" and len(parts) > 2 and parts[1] != arch:
            skipped.append({"file": src, "kind": "other-arch",
                            "reason": "arch/%s is not the build arch (%s)"
                            % (parts[1], arch)})
            continue
        obj = src[:-2] + ".o"
        if obj in enabled:
            build.append(obj)
            continue
        d = os.path.dirname(src)
        if d in dirs:
            reason = "not enabled by .config; " + makefile_hint(
                tree, d, os.path.basename(obj), config)
        else:
            # climb to the first directory kbuild descends into
            child = d
            while os.path.dirname(child) and os.path.dirname(child) not in dirs:
                child = os.path.dirname(child)
            parent = os.path.dirname(child) or "."
            reason = "directory %s/ not built by .config; %s" % (
                child, makefile_hint(tree, parent,
                                     os.path.basename(child) + "/", config)
                if parent in dirs else "")
        skipped.append({"file": src, "kind": "disabled",
                        "reason": reason.rstrip("; ")})
    return build, skipped



def model_names(path):
    """The names that select a file for allmodconfig, from the API model:
    every acquire and get-pages function, and the iterator constructors of
    kinds whose segments carry pages (ITER_BVEC) that async submissions use."""
    try:
        with open(path) as f:
            model = json.load(f)
    except (OSError, ValueError) as e:
        raise Failure("%s: cannot read the API model: %s" % (path, e))
    try:
        names = {e["name"] for e in model.get("acquire", []) + model.get("get_pages", [])}
        names |= {e["name"] for e in model.get("iter_constructors", [])
                  if "BVEC" in e.get("kinds", [])}
    except (TypeError, KeyError) as e:
        raise Failure("%s: an entry without a name (%s)" % (path, e))
    if not names:
        raise Failure("%s: names no acquire function" % path)
    return sorted(names)


def find_api_model():
    for c in API_MODEL_CANDIDATES:
        if os.path.isfile(c):
            return os.path.realpath(c)
    raise Failure("pageref's API model not found (looked at %s); give --api-model"
                  % ", ".join(os.path.normpath(c) for c in API_MODEL_CANDIDATES))


# A definition at column 0 (kernel style), not static, whose parameter list
# names `struct page *`, `struct page **` or `struct folio *`.
DEFINITION = re.compile(
    rb"^(?!static\b)(?:[A-Za-z_][\w \t\*]*?[\s\*])?([A-Za-z_]\w*)\(([^;{}()]*(?:\([^()]*\)[^;{}()]*)*)\)\s*\{",
    re.M)
PAGE_PARAM = re.compile(rb"\bstruct\s+(?:page|folio)\s*\*")
CALL = re.compile(rb"(?<![\w.>])([A-Za-z_]\w*)\s*\(")


def _definitions_chunk(job):
    """Worker: 'name<TAB>file' for page-taking definitions of one chunk."""
    paths, = job
    out = []
    for rel, path in paths:
        try:
            with open(path, "rb") as f:
                data = f.read()
        except OSError:
            continue
        if b"struct page" not in data and b"struct folio" not in data:
            continue
        for m in DEFINITION.finditer(data):
            if PAGE_PARAM.search(m.group(2)):
                out.append(m.group(1).decode() + "\t" + rel)
    return out


def helper_files(tree, selected, enabled, jobs, progress):
    """The files that define the functions of other files the selected files
    hand pages to: non-static definitions with a page-carrying parameter,
    called by name from a selected file. A syntactic superset; the scan reads
    the summaries of the ones that matter."""
    t0 = time.monotonic()
    called = set()
    for rel in selected:
        try:
            with open(os.path.join(tree, rel), "rb") as f:
                called.update(m.group(1).decode() for m in CALL.finditer(f.read()))
        except OSError:
            continue
    candidates = sorted(o[:-2] + ".c" for o in enabled
                        if os.path.isfile(os.path.join(tree, o[:-2] + ".c")))
    workers = max(1, min(jobs, os.cpu_count() or 1, 8))
    chunks = [([(c, os.path.join(tree, c)) for c in candidates[i::workers * 4]],)
              for i in range(workers * 4)]
    defined = {}
    for line in _run_forked(_definitions_chunk, chunks, workers):
        name, rel = line.split("\t")
        defined.setdefault(name, set()).add(rel)
    chosen = set(selected)
    helpers = {}
    for name in sorted(called & set(defined)):
        for rel in sorted(defined[name]):
            if rel not in chosen:
                helpers.setdefault(rel, []).append(name)
    progress.step("helpers", t0, "%d files define %d page-taking functions the "
                  "selected files call" % (len(helpers), sum(map(len, helpers.values()))))
    return helpers


# -------------------------------------------------------------------- build

def first_error(lines, src):
    direct = re.compile(r"^" + re.escape(src) + r":\d+:\d+: (?:fatal )?error: ")
    for line in lines:
        if direct.match(line):
            return line.strip()
    inc = "In file included from " + src + ":"
    for i, line in enumerate(lines):
        if line.startswith(inc):
            for nxt in lines[i + 1:i + 40]:
                if ": error: " in nxt or ": fatal error: " in nxt:
                    return nxt.strip()
    return None


def build(tree, objs, jobs, log, progress):
    t0 = time.monotonic()
    size0 = os.path.getsize(log) if os.path.exists(log) else 0
    rc = 0
    if objs:
        rc = run_logged(make_cmd(jobs, "-k") + objs, tree, log,
                        what="make -k objects")
    built, failed = [], []
    for obj in objs:
        d, b = os.path.split(obj)
        if (os.path.isfile(os.path.join(tree, obj))
                and os.path.isfile(os.path.join(tree, d, "." + b + ".cmd"))):
            built.append(obj)
        else:
            failed.append(obj)
            # kbuild deletes a failed .o but keeps the .cmd of an earlier
            # successful build; drop it so the compile DB only lists
            # objects that build now (kbuild simply rebuilds it next time).
            try:
                os.unlink(os.path.join(tree, d, "." + b + ".cmd"))
            except FileNotFoundError:
                pass
    errors = []
    if failed:
        with open(log, "rb") as f:
            f.seek(size0)
            lines = f.read().decode("utf-8", "replace").splitlines()
        for obj in failed:
            src = obj[:-2] + ".c"
            msg = first_error(lines, src) or (
                "make exit %d, no compiler error found for it (see %s)"
                % (rc, log))
            errors.append({"file": src, "kind": "compile-error",
                           "reason": msg})
    progress.step("build", t0, "make -k -j%d: %d objects requested, %d built,"
                  " %d failed" % (jobs, len(objs), len(built), len(failed)))
    return built, errors


def compile_db(tree, selected, input_desc, log, progress, only_selected=False):
    t0 = time.monotonic()
    out = os.path.join(tree, "compile_commands.json")
    tmp = out + ".tmp"
    check_logged([sys.executable or "python3",
                  "scripts/clang-tools/gen_compile_commands.py",
                  "-d", tree, "-o", tmp], tree, log, input_desc,
                 "gen_compile_commands.py")
    db = load_json(tmp)
    if not isinstance(db, list) or not db:
        raise Failure("%s: gen_compile_commands.py produced an empty or "
                      "invalid compile database (%s)" % (input_desc, tmp),
                      tail_file(log, 20))
    real = os.path.realpath(tree)
    files = set()
    for entry in db:
        f = entry.get("file", "")
        if not os.path.isabs(f):
            f = os.path.join(entry.get("directory", real), f)
        entry["_rel"] = os.path.relpath(os.path.realpath(f), real)
        files.add(entry["_rel"])
    tus = [s for s in selected if s in files]
    if only_selected:
        # A cached Debian tree is a fixed corpus: objects built there by
        # something else (a `make C=2 fs/nfs/` test) must not change it.
        keep = set(tus)
        db = [e for e in db if e["_rel"] in keep]
    for e in db:
        del e["_rel"]
    with open(tmp, "w") as f:
        json.dump(db, f, indent=1)
    os.replace(tmp, out)
    with open(os.path.join(tree, TUS_FILE) + ".tmp", "w") as f:
        f.write("".join(s + "\n" for s in tus))
    os.replace(os.path.join(tree, TUS_FILE) + ".tmp",
               os.path.join(tree, TUS_FILE))
    progress.step("compdb", t0, "%s: %d entries, %.1f MB; %d selected TUs in it"
                  % (out, len(db), os.path.getsize(out) / 1e6, len(tus)))
    return out, len(db), tus


# --------------------------------------------------------------------- main

def parse_args(argv):
    p = argparse.ArgumentParser(
        description="Prepare a Debian kernel source tree and a compile "
        "database (compile_commands.json) for pageref. The last stdout line "
        "is the tree path.")
    src = p.add_mutually_exclusive_group(required=True)
    src.add_argument("--debian", metavar="VER",
                     help="use /usr/src/linux-source-VER.tar.xz (e.g. 6.1, 6.12)")
    src.add_argument("--tree", metavar="PATH",
                     help="an already-extracted kernel tree, configured "
                     "(overwriting .config) and built in place")
    p.add_argument("--config", choices=CONFIGS, default="allmodconfig",
                   help="allmodconfig (default: every page-reference user of "
                   "x86_64 allmodconfig) or small (defconfig plus the "
                   "get-pages subsystems, the get-pages callers only)")
    p.add_argument("--cache-dir", metavar="DIR",
                   help="where to extract (--debian only; default "
                   "$PAGEREF_CACHE_DIR or ~/.cache/pageref/kernels)")
    p.add_argument("-j", "--jobs", type=int, default=os.cpu_count() or 1,
                   help="parallel make jobs (default: %(default)s)")
    p.add_argument("--names", help="comma-separated function names that select "
                   "translation units (default: from the API model for "
                   "allmodconfig, the get-pages family for small)")
    p.add_argument("--api-model", metavar="JSON",
                   help="pageref's API model (default: the one beside this script)")
    p.add_argument("--force", action="store_true",
                   help="redo everything (re-extract, reconfigure, rebuild)")
    p.add_argument("--quiet", action="store_true",
                   help="no progress lines on stderr")
    p.add_argument("-v", "--verbose", action="store_true",
                   help="also list every skipped file with its reason")
    args = p.parse_args(argv)
    if args.jobs < 1:
        p.error("-j must be at least 1")
    if args.debian is not None and not re.fullmatch(r"\d+\.\d+", args.debian):
        p.error("--debian expects a version like 6.1 or 6.12")
    if args.tree is not None and args.cache_dir is not None:
        p.error("--cache-dir only applies to --debian")
    if args.names is not None:
        names = sorted({n.strip() for n in args.names.split(",") if n.strip()})
        bad = [n for n in names if not re.fullmatch(r"[A-Za-z_]\w*", n)]
        if not names or bad:
            p.error("--names needs comma-separated C identifiers"
                    + (" (bad: %s)" % ", ".join(bad) if bad else ""))
        args.names = names
    return args


def cache_key(args):
    """What the prepared tree depends on. The small configuration's key is
    the one it always had."""
    key = {"tool_version": TOOL_VERSION, "cc": CC,
           "names": sorted(set(args.names)),
           "compdb": "selected" if args.debian else "all"}
    if args.config == "small":
        key["config_enable"] = CONFIG_ENABLE
    else:
        key.update({"config": args.config, "config_disable": ALLMODCONFIG_DISABLE,
                    "helper_rule": HELPER_RULE})
    return key


def run(args, progress):
    if args.names is None:
        args.names = (list(SMALL_NAMES) if args.config == "small"
                      else model_names(args.api_model or find_api_model()))
    key = cache_key(args)
    if args.debian:
        version = args.debian
        tarball = "/usr/src/linux-source-%s.tar.xz" % version
        name = tree_name(version, args.config)
        input_desc = name
        cache = os.path.abspath(os.path.expanduser(
            args.cache_dir or os.environ.get("PAGEREF_CACHE_DIR")
            or "~/.cache/pageref/kernels"))
        tree = os.path.join(cache, name)
        ensure_tarball(tarball, version, progress)
        key["tarball"] = tarball_key(tarball)
        if not args.force and stamp_valid(tree, key):
            return os.path.realpath(tree)
        try:
            os.makedirs(cache, exist_ok=True)
        except OSError as e:
            raise Failure("%s: cannot create cache dir: %s" % (cache, e))
        lock = Lock(os.path.join(cache, "." + name + ".lock"))
    else:
        tree = os.path.abspath(args.tree)
        input_desc = tree
        if not os.path.isdir(tree):
            raise Failure("%s: no such directory" % tree)
        check_kernel_tree(tree, input_desc)
        key["tree"] = os.path.realpath(tree)
        if not args.force and stamp_valid(tree, key):
            return os.path.realpath(tree)
        lock = Lock(os.path.join(tree, LOCK_FILE))

    lock.acquire(progress)
    try:
        if not args.force and stamp_valid(tree, key):   # done while we waited
            return os.path.realpath(tree)
        ensure_build_deps(progress)
        if args.debian:
            cleanup_stale(cache, name)
            marker = load_json(os.path.join(tree, EXTRACTED))
            if (args.force or not isinstance(marker, dict)
                    or marker.get("tarball") != key["tarball"]
                    or marker.get("tool_version") != TOOL_VERSION):
                extract(tarball, cache, name, args.jobs, progress)
            else:
                progress.note("using extracted tree %s" % tree)
            check_kernel_tree(tree, input_desc)
        # From here on the tree is being modified: drop the stamp first so an
        # interrupted run is never mistaken for a finished one.
        for f in (STAMP, TUS_FILE):
            try:
                os.unlink(os.path.join(tree, f))
            except FileNotFoundError:
                pass
        log = os.path.join(tree, BUILD_LOG)
        open(log, "w").close()

        config, arch, config_off = configure(tree, args.config, log, input_desc,
                                             progress)
        prepare(tree, args.jobs, log, input_desc, progress)

        selected = scan(tree, args.names, args.jobs, progress)
        if not selected:
            raise Failure("%s: no .c file mentions any of: %s"
                          % (input_desc, " ".join(args.names)))
        t0 = time.monotonic()
        arch_dir = "arch/" + (arch or "x86")
        if args.config == "small":
            tops = {s.split("/")[0] if s.split("/")[0] != "arch" else arch_dir
                    for s in selected}
        else:  # helpers may live anywhere kbuild goes
            tops = {e for e in os.listdir(tree)
                    if e not in SCAN_SKIP_TOP and e != "arch" and not e.startswith(".")
                    and os.path.isfile(os.path.join(tree, e, "Makefile"))} | {arch_dir}
        enabled, dirs = kbuild_enabled_objects(tree, tops, args.jobs, input_desc)
        objs, skipped = classify(tree, selected, arch, enabled, dirs, config)
        progress.step("select", t0, "kbuild enables %d objects in %d dirs; "
                      "%d of the %d selected files" % (
                          len(enabled), len(dirs), len(objs), len(selected)))
        helpers = {}
        if args.config != "small":
            built_srcs = [o[:-2] + ".c" for o in objs]
            helpers = helper_files(tree, built_srcs, enabled, args.jobs, progress)
            objs = sorted(set(objs) | {h[:-2] + ".o" for h in helpers})

        built, errors = build(tree, objs, args.jobs, log, progress)
        skipped += errors
        db_path, db_entries, tus = compile_db(tree, selected + sorted(helpers), input_desc,
                                              log, progress, only_selected=bool(args.debian))
        if not tus:
            raise Failure("%s: none of the %d selected files ended up in %s"
                          % (input_desc, len(selected), db_path),
                          tail_file(log, 20))

        kinds = {}
        for s in skipped:
            kinds.setdefault(s["kind"], []).append(s["file"])
        summary = "%d selected, %d helper files, %d built, %d skipped" % (
            len(selected), len(helpers), len(built), len(skipped))
        if kinds:
            summary += " (" + ", ".join(
                "%d %s" % (len(v), k) for k, v in sorted(kinds.items())) + ")"
        progress.note(summary + "; details in " + os.path.join(tree, STAMP))
        errs = [s for s in skipped if s["kind"] == "compile-error"]
        for s in errs[:10]:
            progress.note("compile error: %s: %s" % (s["file"], s["reason"]))
        if len(errs) > 10:
            progress.note("... %d more compile errors, see %s"
                          % (len(errs) - 10, log))
        if args.verbose and not args.quiet:
            for s in skipped:
                progress.note("skipped %s: %s" % (s["file"], s["reason"]))
        if config_off:
            progress.note("warning: options not enabled: " + " ".join(config_off))

        write_json_atomic(os.path.join(tree, STAMP), {
            "key": key,
            "tree": os.path.realpath(tree),
            "arch": arch,
            "config": args.config,
            "compile_commands": db_path,
            "compile_commands_entries": db_entries,
            "config_not_enabled": config_off,
            "selected": selected,
            "helpers": helpers,
            "built": [o[:-2] + ".c" for o in built],
            "skipped": skipped,
            "tus": tus,
            "seconds": progress.times,
            "prepared_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        })
        return os.path.realpath(tree)
    finally:
        lock.release()


def _terminate(signum, frame):
    # Turn SIGTERM/SIGHUP (CI cancellation) into the Ctrl-C path so temp
    # dirs are removed and the running make/tar child is killed.
    raise KeyboardInterrupt


def main(argv=None):
    args = parse_args(sys.argv[1:] if argv is None else argv)
    progress = Progress(args.quiet)
    for sig in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, _terminate)
    try:
        tree = run(args, progress)
    except Failure as e:
        for line in e.details:
            print("  | " + line, file=sys.stderr)
        print("prepare-kernel: error: %s" % e, file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("prepare-kernel: error: interrupted", file=sys.stderr)
        return 130
    except OSError as e:
        print("prepare-kernel: error: %s: %s"
              % (getattr(e, "filename", None) or "I/O", e.strerror or e),
              file=sys.stderr)
        return 2
    if not args.quiet:
        print("prepare-kernel: %s in %.2fs" % (
            "done" if progress.times else "up to date (cached)",
            time.monotonic() - progress.start), file=sys.stderr)
    print(tree)
    return 0


if __name__ == "__main__":
    sys.exit(main())
