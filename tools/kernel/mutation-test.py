#!/usr/bin/env python3
"""Mutation test for the pageref checks on real kernel functions.

What: finds, in the translation units of a prepared kernel tree (the .c files
listed in <tree>/.pageref-tus.txt that have an entry in compile_commands.json),
functions that acquire page references (pin_user_pages*, get_user_pages*,
iov_iter_get_pages2/_alloc2, iov_iter_extract_pages) and release them
(unpin_user_page(s)*, put_page, release_pages) in the same function. From the
kernel source as it is at test time it computes two kinds of mutation:

  remove-release  a release statement becomes `;` (line and column positions of
                  everything else are kept). Either the release is on an error
                  path (inside an `if` block that returns, jumps or sets -E...,
                  or after a label that only `goto` reaches) or it is the only
                  release of those pages in a function that does not return
                  them. Expect a new `pageref-unbalanced-release` warning inside
                  the function ("neither released nor handed off").
  swap-family     `unpin_user_page(` <-> `put_page(`, `unpin_user_pages(` <->
                  `release_pages(` on a release whose family matches its
                  acquisition; expect a new `pageref-release-mismatch` warning
                  on that line ("released with"); whether a fix-it restores the
                  original call is reported too (informational).

A release belongs to an acquisition when the root identifier of its argument
(`pages` in `pages[i]`, `shm` in `shm->pages`) appears in the acquisition's
arguments and the acquisition comes first in the function.

Every mutant, and an unmodified copy for the baseline, is written to a
temporary directory and run through clang-tidy (a snapshot copy of the plugin)
with the file's own compile command from the tree's compile_commands.json, run
in the tree's directory, without its -o/-MMD outputs and with `-iquote
<original dir>` so that the file's "local" includes resolve. A mutation PASSes
when it adds a warning of the expected check inside the mutated function that
the baseline does not have (compared by line, check and message). A mutant
that does not compile is STILLBORN; a mutation whose expected warning the
unmodified function already has (so nothing new can appear) is MASKED; neither
is counted.

Why: the lit tests prove the checks on small hand-written functions; this
proves that on real kernel code an injected leak or family mix-up is caught,
i.e. that the checks see through the kernel's real control flow, macros and
types. The candidates come from a small C-aware text scan (comments, strings
and preprocessor lines blanked; braces matched from each function's opening
brace), not a parser. By default a short per-version list of known-good
(file, function, kind, release) candidates is run; each must be rediscovered
by the scan, so if one disappears the test fails loudly instead of quietly
testing less. --all runs everything the scan finds (use it for feedback on
the engine, not as a gate), --list only prints candidates and mutations.

Usage: mutation-test.py (--tree TREE | --debian VERSION) --plugin PLUGIN
                        [--clang-tidy PATH] [--min N] [-j N] [--list] [--all]
                        [--only TEXT] [--keep] [-v]
Exit status: 0 when at least N (default 4) mutations were generated across at
least 3 functions in at least 2 files and every one made its check fire; 1
otherwise (with a summary); 2 on bad input (one line naming the problem).
"""

import argparse
import concurrent.futures
import json
import os
import re
import shlex
import shutil
import subprocess
import sys
import tempfile
import time

DEFAULT_CLANG_TIDY = "/usr/lib/llvm-19/bin/clang-tidy"
HERE = os.path.dirname(os.path.abspath(__file__))

UNBALANCED = "pageref-unbalanced-release"
MISMATCH = "pageref-release-mismatch"

# Acquisitions that select a candidate function, and their family.
ACQUIRE_RE = re.compile(
    r"\b(pin_user_pages\w*|get_user_pages\w*|iov_iter_get_pages2|"
    r"iov_iter_get_pages_alloc2|iov_iter_extract_pages|get_page|try_get_page|folio_get)\s*\(")
RELEASE_RE = re.compile(
    r"\b(unpin_user_pages_dirty_lock|unpin_user_page_range_dirty_lock|"
    r"unpin_user_pages|unpin_user_page|put_page|folio_put|release_pages)\s*\(")
SWAP = {
    "unpin_user_page": "put_page", "put_page": "unpin_user_page",
    "unpin_user_pages": "release_pages", "release_pages": "unpin_user_pages",
}


def acquire_family(name):
    if name.startswith("pin_user_pages"):
        return "pin"
    if name == "iov_iter_extract_pages":
        return "extract"          # pins for user-backed iterators, else nothing
    return "ref"


def release_family(name):
    return "pin" if name.startswith("unpin_") else "ref"


def families_match(acq, rel):
    return acq == rel or (acq == "extract" and rel == "pin")


# Known-good candidates: (file, function, kind, released-by). Small, well-known
# functions where the injected bug is a real one that an intra-procedural check
# must see: the pages are acquired and released in the same function. They
# must be rediscovered by the scan below (the mutation itself is always
# computed from the source at test time); a missing one is a failure. Keyed by
# "VERSION.PATCHLEVEL"; other versions run everything the scan finds.
PREFERRED = {
    "6.1": [
        # error path: `if (ret) { if (pret > 0) unpin_user_pages(pages, pret); goto done; }`
        ("io_uring/rsrc.c", "io_pin_pages", "remove-release", "unpin_user_pages"),
        ("io_uring/rsrc.c", "io_pin_pages", "swap-family", "unpin_user_pages"),
        # error path: `if (!wdata) { rc = -ENOMEM; for (...) put_page(pagevec[i]); ... break; }`
        ("fs/smb/client/file.c", "cifs_write_from_iter", "remove-release", "put_page"),
        ("fs/smb/client/file.c", "cifs_write_from_iter", "swap-family", "put_page"),
        # partial pin into the caller's array: `if (ret >= 0 && ret < nr_pages) { unpin_user_pages(pages, ret);
        # ret = -EFAULT; }`; without the unpin the error return leaks the pins
        ("net/rds/rdma.c", "rds_pin_pages", "remove-release", "unpin_user_pages"),
        ("net/rds/rdma.c", "rds_pin_pages", "swap-family", "unpin_user_pages"),
        ("kernel/events/uprobes.c", "__update_ref_ctr", "remove-release", "put_page"),
        ("kernel/events/uprobes.c", "__update_ref_ctr", "swap-family", "put_page"),
        ("kernel/events/uprobes.c", "is_trap_at_addr", "swap-family", "put_page"),
        ("mm/mempolicy.c", "lookup_node", "swap-family", "put_page"),
        ("mm/memory.c", "__access_remote_vm", "swap-family", "put_page"),
        ("block/bio.c", "__bio_iov_iter_get_pages", "swap-family", "put_page"),
        ("drivers/gpu/drm/i915/gem/i915_gem_userptr.c", "i915_gem_object_userptr_submit_init",
         "swap-family", "unpin_user_pages"),
    ],
    "6.12": [
        # error path: `if (ret >= 0) { if (ret) unpin_user_pages(pages, ret); ret = -EFAULT; }`
        ("io_uring/memmap.c", "io_pin_pages", "remove-release", "unpin_user_pages"),
        ("io_uring/memmap.c", "io_pin_pages", "swap-family", "unpin_user_pages"),
        ("net/rds/rdma.c", "rds_pin_pages", "remove-release", "unpin_user_pages"),
        ("net/rds/rdma.c", "rds_pin_pages", "swap-family", "unpin_user_pages"),
        ("kernel/events/uprobes.c", "__update_ref_ctr", "remove-release", "put_page"),
        ("kernel/events/uprobes.c", "__update_ref_ctr", "swap-family", "put_page"),
        ("kernel/events/uprobes.c", "is_trap_at_addr", "swap-family", "put_page"),
        ("mm/mempolicy.c", "lookup_node", "swap-family", "put_page"),
        # iov_iter_extract_pages() on a user-backed iterator: pins
        ("block/bio-integrity.c", "bio_integrity_map_user", "swap-family", "unpin_user_page"),
        ("net/ceph/messenger.c", "ceph_msg_data_iter_next", "swap-family", "put_page"),
    ],
}

C_KEYWORDS = {"if", "for", "while", "switch", "return", "sizeof", "do", "else",
              "case", "goto", "typeof", "__typeof__", "defined"}
# Attribute-like macros that take arguments and can stand in a function header.
ATTR_MACROS = {"__attribute__", "__printf", "__scanf", "__acquires", "__releases",
               "__must_hold", "__aligned", "__section", "__alloc_size",
               "__cond_acquires", "__cond_releases", "__diagnose_as", "__counted_by",
               "__no_sanitize_address", "__nocfi", "__weak", "__noreturn",
               "__malloc", "__realloc_size", "__assume_aligned", "__cleanup",
               "__free", "__must_check"}


class BadInput(Exception):
    pass


# --------------------------------------------------------------------------
# C-aware text scan
# --------------------------------------------------------------------------

def blank(text):
    """Same-length copy of C source with comments, string/char literal contents
    and preprocessor lines (with continuations) replaced by spaces; newlines
    are kept so offsets and line numbers stay valid."""
    out = list(text)
    n = len(text)
    i = 0
    at_line_start = True      # only whitespace seen since the last newline
    while i < n:
        c = text[i]
        if c == "\n":
            at_line_start = True
            i += 1
            continue
        if at_line_start and c == "#":
            # preprocessor directive: blank to the end of the logical line
            j = i
            while j < n:
                if text[j] == "\n" and text[j - 1] != "\\":
                    break
                if text[j] == "/" and j + 1 < n and text[j + 1] == "*":
                    k = text.find("*/", j + 2)
                    k = n if k < 0 else k + 2
                    for m in range(j, k):
                        if text[m] != "\n":
                            out[m] = " "
                    j = k
                    continue
                if text[j] != "\n":
                    out[j] = " "
                j += 1
            i = j
            continue
        if c in " \t\r\f\v":
            i += 1
            continue
        at_line_start = False
        if c == "/" and i + 1 < n and text[i + 1] == "/":
            j = text.find("\n", i)
            j = n if j < 0 else j
            for m in range(i, j):
                out[m] = " "
            i = j
            continue
        if c == "/" and i + 1 < n and text[i + 1] == "*":
            j = text.find("*/", i + 2)
            j = n if j < 0 else j + 2
            for m in range(i, j):
                if text[m] != "\n":
                    out[m] = " "
            i = j
            continue
        if c in "\"'":
            j = i + 1
            while j < n and text[j] != c and text[j] != "\n":
                if text[j] == "\\":
                    out[j] = " "
                    j += 1
                    if j < n and text[j] != "\n":
                        out[j] = " "
                    j += 1
                    continue
                out[j] = " "
                j += 1
            i = j + 1
            continue
        i += 1
    return "".join(out)


class Source:
    def __init__(self, text):
        self.text = text
        self.clean = blank(text)
        self.line_starts = [0]
        for m in re.finditer("\n", text):
            self.line_starts.append(m.end())
        self.match = {}          # offset of ( [ { -> offset of its partner
        stack = []
        pairs = {")": "(", "]": "[", "}": "{"}
        self.balanced = True
        for i, c in enumerate(self.clean):
            if c in "([{":
                stack.append(i)
            elif c in ")]}":
                if not stack or self.clean[stack[-1]] != pairs[c]:
                    self.balanced = False
                    stack = []
                    continue
                o = stack.pop()
                self.match[o] = i
                self.match[i] = o
        if stack:
            self.balanced = False

    def line_of(self, off):
        lo, hi = 0, len(self.line_starts) - 1
        while lo < hi:
            mid = (lo + hi + 1) // 2
            if self.line_starts[mid] <= off:
                lo = mid
            else:
                hi = mid - 1
        return lo + 1

    def prev_nonspace(self, off):
        """Offset of the last non-blank character before off, or -1."""
        i = off - 1
        while i >= 0 and self.clean[i].isspace():
            i -= 1
        return i

    def next_nonspace(self, off):
        i = off
        while i < len(self.clean) and self.clean[i].isspace():
            i += 1
        return i

    def word_before(self, off):
        """The identifier ending just before off (skipping blanks) and its start."""
        i = self.prev_nonspace(off)
        j = i
        while j >= 0 and (self.clean[j].isalnum() or self.clean[j] == "_"):
            j -= 1
        return self.clean[j + 1:i + 1], j + 1


class Function:
    def __init__(self, src, name, head, open_brace, close_brace):
        self.src, self.name = src, name
        self.head, self.open, self.close = head, open_brace, close_brace
        self.first_line = src.line_of(head)
        self.last_line = src.line_of(close_brace)


def functions(src):
    """Top-level function definitions: a `{` at depth 0 whose header (text since
    the previous `;` or `}` at depth 0) looks like `... name(params) attrs`."""
    clean = src.clean
    out = []
    depth = 0
    boundary = 0
    i = 0
    n = len(clean)
    while i < n:
        c = clean[i]
        if c == "{":
            if depth == 0:
                close = src.match.get(i)
                fn = _function_header(src, boundary, i)
                if close is not None and fn:
                    name, head = fn
                    out.append(Function(src, name, head, i, close))
                if close is not None:
                    i = close + 1
                    boundary = i
                    continue
            depth += 1
        elif c == "}":
            depth = max(0, depth - 1)
            if depth == 0:
                boundary = i + 1
        elif c == ";" and depth == 0:
            boundary = i + 1
        elif c == "(" and depth == 0 and i in src.match:
            i = src.match[i] + 1
            continue
        i += 1
    return out


def _function_header(src, start, brace):
    clean = src.clean
    header = clean[start:brace]
    if not header.strip().endswith(")") or "(" not in header:
        return None
    # top-level paren groups of the header
    i = start
    name = None
    while i < brace:
        c = clean[i]
        if c == "=":
            return None
        if c == "(":
            close = src.match.get(i)
            if close is None or close > brace:
                return None
            word, wstart = src.word_before(i)
            if name is None and word and word not in ATTR_MACROS and word not in C_KEYWORDS \
                    and not word[0].isdigit():
                name = (word, wstart)
            i = close + 1
            continue
        i += 1
    if name is None:
        return None
    word, wstart = name
    if re.match(r"(COMPAT_)?SYSCALL_DEFINE\d$", word):
        inner = re.match(r"\s*\(\s*(\w+)", clean[wstart + len(word):brace])
        if inner:
            word = "sys_" + inner.group(1)
    head = src.next_nonspace(start)
    return word, head


# --------------------------------------------------------------------------
# candidate discovery
# --------------------------------------------------------------------------

class Call:
    def __init__(self, src, m):
        self.name = m.group(1)
        self.start = m.start(1)
        self.lparen = m.end() - 1
        self.rparen = src.match.get(self.lparen, -1)
        self.line = src.line_of(self.start)
        args = src.clean[self.lparen + 1:self.rparen] if self.rparen > 0 else ""
        self.args = split_args(args)
        self.idents = set(re.findall(r"[A-Za-z_]\w*", args))


def split_args(args):
    out, depth, cur = [], 0, ""
    for c in args:
        if c in "([{":
            depth += 1
        elif c in ")]}":
            depth -= 1
        if c == "," and depth == 0:
            out.append(cur.strip())
            cur = ""
        else:
            cur += c
    if cur.strip():
        out.append(cur.strip())
    return out


def root_ident(expr):
    """`pages` for `pages[i]`, `shm` for `shm->pages`, `page` for `&page`."""
    m = re.match(r"[\s&*(]*([A-Za-z_]\w*)", expr)
    return m.group(1) if m else None


def enclosing_blocks(src, fn, off):
    """Innermost-first list of (kind, open, close) for the braced blocks and
    braceless bodies of control statements that contain off."""
    clean = src.clean
    blocks = []
    # braced blocks
    i = off
    depth = 0
    while i > fn.open:
        i -= 1
        c = clean[i]
        if c == "}":
            o = src.match.get(i)
            if o is not None:
                i = o
            continue
        if c == "{":
            close = src.match.get(i, fn.close)
            blocks.append((control_kind(src, i), i, close))
    return blocks


def control_kind(src, pos):
    """What introduces the statement or block starting at pos: if, else, for,
    while, do, switch, or '' (plain block / function body)."""
    p = src.prev_nonspace(pos)
    if p < 0:
        return ""
    c = src.clean[p]
    if c == ")":
        o = src.match.get(p)
        if o is None:
            return ""
        word, _ = src.word_before(o)
        return word if word in ("if", "for", "while", "switch") else ""
    word, _ = src.word_before(p + 1)
    if word in ("else", "do"):
        return word
    return ""


def statement_span(src, call):
    """(start, end) of the expression statement that is exactly this call,
    end exclusive and including the `;`; None if the call is part of a larger
    expression."""
    if call.rparen < 0:
        return None
    p = src.prev_nonspace(call.start)
    if p < 0:
        return None
    c = src.clean[p]
    ok = c in ";{}:" or c == ")"
    if not ok:
        word, _ = src.word_before(p + 1)
        ok = word in ("else", "do")
    if c == ")":
        o = src.match.get(p)
        word, _ = src.word_before(o) if o is not None else ("", 0)
        if word not in ("if", "for", "while"):
            return None          # a cast or a call, not a control statement
    if c == ":":
        # label or case; not `?:`
        q = src.prev_nonspace(p)
        word, _ = src.word_before(q + 1)
        if not word:
            return None
    e = src.next_nonspace(call.rparen + 1)
    if e >= len(src.clean) or src.clean[e] != ";":
        return None
    return call.start, e + 1


def has_exit(src, a, b):
    return re.search(r"\b(return|goto)\b|=\s*-E[A-Z0-9]+\b", src.clean[a:b]) is not None


def label_context(src, fn, off):
    """If off lies after a label at function-body level that is only reached by
    goto (the statement before it, skipping other labels, is a return or goto),
    return the label's name."""
    clean = src.clean
    body = clean[fn.open + 1:off]
    # labels at any position before off: `ident:` at line start, not `case x:`
    best = None
    for m in re.finditer(r"(?m)^[ \t]*([A-Za-z_]\w*)[ \t]*:(?!:)", body):
        name = m.group(1)
        if name in ("default", "case", "public", "private"):
            continue
        pos = fn.open + 1 + m.start(1)
        # must be at body level (depth 1)
        blocks = enclosing_blocks(src, fn, pos)
        if blocks and blocks[0][1] != fn.open:
            continue
        best = (name, pos)
    if not best:
        return None
    name, pos = best
    if not re.search(r"\bgoto\s+" + re.escape(name) + r"\s*;", clean[fn.open:fn.close]):
        return None
    # Walk back over preceding labels to the previous statement.
    p = src.prev_nonspace(pos)
    while p > fn.open:
        if clean[p] == ":":
            w, ws = src.word_before(p)
            if w:
                p = src.prev_nonspace(ws)
                continue
        break
    if p <= fn.open or clean[p] not in ";}":
        return None
    if clean[p] == "}":
        return None
    # statement text: from the previous ; { } to p
    q = p - 1
    while q > fn.open and clean[q] not in ";{}":
        q -= 1
    stmt = clean[q + 1:p + 1].strip()
    if re.match(r"(return|goto)\b", stmt):
        return name
    return None


class Mutation:
    def __init__(self, kind, path, fn, call, start, end, replacement, expect, why):
        self.kind, self.path, self.fn, self.call = kind, path, fn, call
        self.start, self.end, self.replacement = start, end, replacement
        self.expect, self.why = expect, why
        self.line = call.line
        self.result = None

    @property
    def key(self):
        return (self.path, self.fn.name, self.kind, self.call.name)

    def describe(self):
        if self.kind == "remove-release":
            return "removed %s() at line %d (%s)" % (self.call.name, self.line, self.why)
        return "%s() -> %s() at line %d (%s)" % (self.call.name, SWAP[self.call.name],
                                                  self.line, self.why)

    def apply(self, text):
        out = text[:self.start] + self.replacement + text[self.end:]
        # line numbers must stay put: baseline and mutant warnings are compared by line
        assert out.count("\n") == text.count("\n"), (self.path, self.line)
        return out


def discover(tree, relpath):
    """All candidate mutations in one file."""
    with open(os.path.join(tree, relpath), encoding="utf-8", errors="surrogateescape") as f:
        text = f.read()
    src = Source(text)
    muts = []
    if not src.balanced:
        return muts, src
    for fn in functions(src):
        body = src.clean[fn.open:fn.close + 1]
        acqs = [Call(src, m) for m in ACQUIRE_RE.finditer(src.clean, fn.open, fn.close)]
        acqs = [a for a in acqs if a.rparen > 0]
        if not acqs:
            continue
        rels = [Call(src, m) for m in RELEASE_RE.finditer(src.clean, fn.open, fn.close)]
        for rel in rels:
            if not rel.args:
                continue
            root = root_ident(rel.args[0])
            # the acquisition this release pairs with: textually before it,
            # passing the same root identifier (the pages array / page pointer)
            paired = [a for a in acqs if a.start < rel.start and root in a.idents]
            if not paired:
                continue
            acq = paired[-1]
            afam, rfam = acquire_family(acq.name), release_family(rel.name)
            if not families_match(afam, rfam):
                continue                  # already mismatched or unrelated
            span = statement_span(src, rel)
            where = "%s() at line %d" % (acq.name, acq.line)
            # (a) remove a release on an error path, or the only release of
            # the acquisition (then every path that acquired leaks)
            if span:
                why = error_path(src, fn, rel, span)
                if not why and not any(r is not rel and root_ident(r.args[0]) in acq.idents
                                       and r.start > acq.start for r in rels if r.args) \
                        and not re.search(r"\breturn\s+\(?\s*%s\b" % re.escape(root),
                                          src.clean[fn.open:fn.close]):
                    # (not when the function returns the page: that hands it off)
                    why = "the only release of these pages in the function"
                if why:
                    seg = text[span[0]:span[1]]
                    repl = ";" + "".join(ch if ch == "\n" else " " for ch in seg[1:])
                    muts.append(Mutation("remove-release", relpath, fn, rel, span[0], span[1],
                                         repl, UNBALANCED, "%s; pairs with %s" % (why, where)))
            # (b) swap the family
            if rel.name in SWAP:
                muts.append(Mutation("swap-family", relpath, fn, rel, rel.start,
                                     rel.start + len(rel.name), SWAP[rel.name], MISMATCH,
                                     "%s pages from %s" % ({"pin": "pinned", "ref": "referenced",
                                                           "extract": "extracted"}[afam], where)))
    return muts, src


def error_path(src, fn, rel, span):
    """Why the release at span is on an error path, or None."""
    blocks = enclosing_blocks(src, fn, rel.start)
    for kind, o, c in blocks:
        if o == fn.open:
            break
        if kind in ("if", "else") and has_exit(src, o, c):
            return "inside an error block (%s) with return/goto/-E..." % kind
    lbl = label_context(src, fn, rel.start)
    if lbl:
        return "after error label '%s:' reached only by goto" % lbl
    return None


def compiled_files(tree):
    db = os.path.join(tree, "compile_commands.json")
    if not os.path.isfile(db):
        raise BadInput("%s: no compile_commands.json (prepare the tree with "
                       "tools/kernel/prepare-kernel.py)" % tree)
    try:
        with open(db) as f:
            entries = json.load(f)
    except (OSError, ValueError) as e:
        raise BadInput("%s: unreadable compile database: %s" % (db, e))
    by_file = {}
    for e in entries:
        path = e["file"] if os.path.isabs(e["file"]) else os.path.join(e["directory"], e["file"])
        by_file[os.path.relpath(os.path.normpath(path), tree)] = e
    tus_path = os.path.join(tree, ".pageref-tus.txt")
    if os.path.isfile(tus_path):
        with open(tus_path) as f:
            tus = [l.strip() for l in f if l.strip()]
    else:
        tus = sorted(k for k in by_file if k.endswith(".c"))
    return [t for t in tus if t in by_file], by_file


def kernel_version(tree):
    try:
        with open(os.path.join(tree, "Makefile")) as f:
            head = f.read(2000)
    except OSError:
        return "?"
    v = re.search(r"^VERSION\s*=\s*(\d+)", head, re.M)
    p = re.search(r"^PATCHLEVEL\s*=\s*(\d+)", head, re.M)
    return "%s.%s" % (v.group(1), p.group(1)) if v and p else "?"


def load_survivors(path):
    out = {}
    try:
        lines = open(path).read().splitlines()
    except OSError as e:
        raise SystemExit("mutation-test: error: %s: %s" % (path, e.strerror))
    for n, line in enumerate(lines, 1):
        if not line.strip() or line.startswith("#"):
            continue
        cols = line.split("\t")
        if len(cols) != 6 or not cols[3].isdigit() or cols[4] not in ("equivalent", "engine-gap") \
                or cols[2] not in ("remove-release", "swap-family"):
            raise SystemExit("mutation-test: error: %s:%d: expected file, function, remove-release|swap-family, "
                             "line, equivalent|engine-gap, why (tab-separated)" % (path, n))
        out[(cols[0], cols[1], cols[2], int(cols[3]))] = (cols[4], cols[5])
    return out


def select(all_muts, preferred, use_all):
    """The preferred candidates (one mutation per (file, function, kind)) plus,
    with use_all or without a preference list, every discovered one. Returns
    (selected, missing preferred)."""
    by_key = {}
    for m in all_muts:
        by_key.setdefault(m.key, []).append(m)
    chosen, missing = [], []
    for key in preferred:
        ms = by_key.get(key)
        if not ms:
            missing.append("%s %s() %s of %s()" % key)
            continue
        chosen.append(ms[0])
    if use_all or not preferred:
        seen = {id(m) for m in chosen}
        chosen += [m for m in all_muts if id(m) not in seen]
    return chosen, missing


# --------------------------------------------------------------------------
# running clang-tidy
# --------------------------------------------------------------------------

DIAG_RE = re.compile(r"^(.*?):(\d+):(\d+): (warning|error|note): (.*?)(?: \[([\w.,-]+)\])?$")


def adapted_args(entry, tree, tmpfile, origpath):
    if "arguments" in entry:
        args = list(entry["arguments"])
    else:
        args = shlex.split(entry["command"])
    orig_abs = os.path.normpath(os.path.join(entry["directory"], entry["file"]))
    out = []
    skip = False
    replaced = False
    for a in args:
        if skip:
            skip = False
            continue
        if a == "-o":
            skip = True
            continue
        if a.startswith("-Wp,-MMD,") or a.startswith("-Wp,-MD,") or a in ("-MMD", "-MD"):
            continue
        if not a.startswith("-") and os.path.normpath(os.path.join(entry["directory"], a)) == orig_abs:
            out.append(tmpfile)
            replaced = True
            continue
        out.append(a)
    if not replaced:
        out.append(tmpfile)
    # the file's own directory for #include "..." (it now lives elsewhere)
    out[1:1] = ["-iquote", os.path.dirname(os.path.join(tree, origpath))]
    return out


def run_tidy(clang_tidy, plugin, tree, entry, relpath, text, tag, workdir, checks):
    d = os.path.join(workdir, tag)
    os.makedirs(d, exist_ok=True)
    tmpfile = os.path.join(d, os.path.basename(relpath))
    with open(tmpfile, "w", encoding="utf-8", errors="surrogateescape") as f:
        f.write(text)
    db = [{"directory": entry["directory"], "file": tmpfile,
           "arguments": adapted_args(entry, tree, tmpfile, relpath)}]
    with open(os.path.join(d, "compile_commands.json"), "w") as f:
        json.dump(db, f)
    fixes = os.path.join(d, "fixes.yaml")
    cmd = [clang_tidy, "--load=" + plugin, "--checks=-*," + checks, "-p", d,
           "--export-fixes=" + fixes, tmpfile]
    r = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                       errors="replace", cwd=entry["directory"])
    diags, errors = [], []
    for line in (r.stdout + "\n" + r.stderr).splitlines():
        m = DIAG_RE.match(line)
        if not m:
            continue
        fpath, ln, col, sev, msg, check = m.groups()
        if os.path.normpath(os.path.join(entry["directory"], fpath)) != tmpfile:
            if sev == "error":
                errors.append(line)
            continue
        if sev == "note":
            if diags:
                diags[-1]["notes"].append("%s:%s: %s" % (ln, col, msg))
            continue
        if sev == "error":
            errors.append("%s:%s:%s: error: %s" % (os.path.basename(relpath), ln, col, msg))
            continue
        diags.append({"line": int(ln), "col": int(col), "check": check or "", "msg": msg,
                      "notes": []})
    fix_list = parse_fixes(fixes)
    failure = None
    if r.returncode != 0 and not errors:
        failure = "clang-tidy exit status %d: %s" % (
            r.returncode, " | ".join((r.stderr or "").strip().splitlines()[-2:]))
    return {"rc": r.returncode, "diags": diags, "errors": errors, "fixes": fix_list,
            "failure": failure,
            "cmd": cmd, "tail": (r.stderr or "").strip().splitlines()[-3:]}


def run_driver(pageref, tree, entry, relpath, text, tag, workdir, checks):
    """The same as run_tidy, through `pageref worker` (the driver's own front
    end, header bodies skipped): its findings must find the same bugs."""
    d = os.path.join(workdir, tag)
    os.makedirs(d, exist_ok=True)
    tmpfile = os.path.join(d, os.path.basename(relpath))
    with open(tmpfile, "w", encoding="utf-8", errors="surrogateescape") as f:
        f.write(text)
    job = os.path.join(d, "job.json")
    with open(job, "w") as f:
        json.dump({"directory": entry["directory"], "file": tmpfile,
                   "arguments": adapted_args(entry, tree, tmpfile, relpath), "checks": checks}, f)
    cmd = [pageref, "worker", job, "-"]
    r = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, errors="replace")
    try:
        res = json.loads(r.stdout)
    except ValueError:
        return {"rc": r.returncode, "diags": [], "errors": [], "fixes": [], "cmd": cmd,
                "failure": "pageref worker exit status %d, no result" % r.returncode,
                "tail": (r.stderr or "").strip().splitlines()[-3:]}
    starts = [0]
    for i, ch in enumerate(text.encode("utf-8", "surrogateescape")):
        if ch == 10:
            starts.append(i + 1)
    offset = lambda ln, col: starts[ln - 1] + col - 1 if 0 < ln <= len(starts) else 0
    diags, fixes = [], []
    for f in res.get("findings", []):
        if f["file"] != tmpfile:
            continue
        diags.append({"line": f["line"], "col": f["column"], "check": f["check"], "msg": f["message"],
                      "notes": ["%d:%d: %s" % (n["line"], n["column"], n["message"]) for n in f["notes"]
                                if n["file"] == tmpfile]})
        for x in f["fixes"]:
            o = offset(x["line"], x["column"])
            fixes.append((f["check"], o, offset(x["end_line"], x["end_column"]) - o, x["replacement"]))
    errors = [e["message"] for e in res.get("errors", [])]
    failure = None if res.get("status") == "ok" or errors else res.get("error", "failed")
    return {"rc": r.returncode, "diags": diags, "errors": errors, "fixes": fixes, "failure": failure,
            "cmd": cmd, "tail": (r.stderr or "").strip().splitlines()[-3:]}


def parse_fixes(path):
    """Replacements from an --export-fixes YAML: [(check, offset, length, text)]."""
    try:
        with open(path) as f:
            data = f.read()
    except OSError:
        return []
    out = []
    check = None
    rep = {}
    for line in data.splitlines():
        s = line.strip()
        m = re.match(r"-?\s*DiagnosticName:\s*(\S+)", s)
        if m:
            check = m.group(1)
            continue
        m = re.match(r"-?\s*(Offset|Length|ReplacementText):\s*(.*)$", s)
        if m:
            k, v = m.groups()
            if k == "ReplacementText":
                v = v.strip()
                if v.startswith("'") and v.endswith("'"):
                    v = v[1:-1].replace("''", "'")
                rep["text"] = v
                if "offset" in rep and "length" in rep:
                    out.append((check, rep["offset"], rep["length"], rep["text"]))
                rep = {}
            else:
                rep[k.lower()] = int(v)
    return out


def dkey(d):
    return (d["line"], d["check"], d["msg"])


def judge(mut, base, res, original, mutated):
    """Fill mut.result: status PASS/FAIL/STILLBORN, the new warning, details."""
    if res["failure"]:
        mut.result = {"status": "FAIL", "detail": res["failure"], "new": []}
        return
    if res["errors"]:
        mut.result = {"status": "STILLBORN", "detail": "mutant does not compile: " + res["errors"][0],
                      "new": []}
        return
    base_keys = {dkey(d) for d in base["diags"]}
    new = [d for d in res["diags"] if dkey(d) not in base_keys]
    fn = mut.fn
    lo, hi = fn.first_line, fn.last_line
    hits = []
    for d in new:
        if d["check"] != mut.expect or not (lo <= d["line"] <= hi):
            continue
        if mut.kind == "remove-release":
            if "neither released nor handed off" in d["msg"]:
                hits.append(d)
        else:
            if "released with" in d["msg"] and (
                    d["line"] == mut.line or re.search(r"\b(line |:)%d\b" % mut.line, d["msg"])):
                hits.append(d)
    detail = ""
    if mut.kind == "swap-family" and hits:
        # does a fix-it restore the original call?
        # fix-it offsets are byte offsets
        enc = lambda t: t.encode("utf-8", "surrogateescape")
        mbytes, obytes = enc(mutated), enc(original)
        bstart = len(enc(mutated[:mut.start]))
        restored = False
        for check, off, length, txt in res["fixes"]:
            if check != MISMATCH:
                continue
            if off <= bstart < off + max(length, 1):
                fixed = mbytes[:off] + enc(txt) + mbytes[off + length:]
                restored = restored or fixed == obytes
        detail = "fix-it restores the original call" if restored else "no fix-it restoring the original call"
    status = "PASS" if hits else "FAIL"
    masked = []
    if not hits:
        # The baseline already reports what the mutation would add: the same
        # check in this function (for a swap: on the mutated line). The engine
        # reports a leak once per exit, so a removed release whose path ends
        # at an exit that is already flagged cannot show up as new.
        for d in base["diags"]:
            if d["check"] != mut.expect or not (lo <= d["line"] <= hi):
                continue
            if mut.kind == "swap-family" and d["line"] != mut.line:
                continue
            masked.append(d)
        if masked:
            status = "MASKED"
            detail = "not counted: the unmodified function already has this warning"
    mut.result = {"status": status, "new": new, "hits": hits, "detail": detail,
                  "masked": masked}


def list_checks(clang_tidy, plugin, shown=None):
    r = subprocess.run([clang_tidy, "--load=" + plugin, "--checks=-*,pageref-*", "--list-checks"],
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, errors="replace")
    if r.returncode != 0:
        raise BadInput("%s: cannot load the plugin into %s: %s" % (
            shown or plugin, clang_tidy, (r.stderr.strip().splitlines() or ["exit %d" % r.returncode])[-1]))
    return set(re.findall(r"^\s+(pageref-[\w-]+)\s*$", r.stdout, re.M))


def prepare_debian(version):
    script = os.path.join(HERE, "prepare-kernel.py")
    r = subprocess.run([sys.executable, script, "--debian", version, "--quiet"],
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, errors="replace")
    lines = r.stdout.strip().splitlines()
    if r.returncode != 0 or not lines:
        msg = (r.stderr.strip().splitlines() or ["exit status %d" % r.returncode])[-1]
        msg = re.sub(r"^prepare-kernel: (error: )?", "", msg)
        raise BadInput("prepare-kernel.py --debian %s failed: %s" % (version, msg))
    return lines[-1].strip()


# --------------------------------------------------------------------------

def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    src_arg = ap.add_mutually_exclusive_group(required=True)
    src_arg.add_argument("--tree", help="prepared kernel tree (with compile_commands.json)")
    src_arg.add_argument("--debian", metavar="VERSION",
                         help="prepare (or reuse) Debian's linux-source-VERSION with prepare-kernel.py")
    ap.add_argument("--plugin", help="PagerefTidyModule.so (required unless --list)")
    ap.add_argument("--clang-tidy", default=DEFAULT_CLANG_TIDY)
    ap.add_argument("--pageref", help="run the checks through `pageref worker` (the scan's own front end) "
                    "instead of clang-tidy with the plugin")
    ap.add_argument("--min", type=int, default=4, help="minimum number of mutations (default 4)")
    ap.add_argument("-j", "--jobs", type=int, default=2)
    ap.add_argument("--survivors", metavar="FILE",
                    help="the reviewed survivors: file<TAB>function<TAB>kind<TAB>line<TAB>equivalent|engine-gap"
                    "<TAB>why; a listed one does not fail the run, an unlisted survivor or a listed one "
                    "that is now killed does")
    ap.add_argument("--min-kill", type=float, default=None, metavar="RATIO",
                    help="with --survivors: at least this share of the non-equivalent mutants killed")
    ap.add_argument("--list", action="store_true",
                    help="only list the candidate functions and mutations; run nothing")
    ap.add_argument("--all", action="store_true",
                    help="run every discovered mutation, not only the preferred ones")
    ap.add_argument("--only", metavar="TEXT",
                    help="run only the selected mutations whose 'file function kind' contains TEXT")
    ap.add_argument("--keep", action="store_true",
                    help="keep the temporary directory with the mutants, their compile "
                         "databases and exported fix-its (its path is printed)")
    ap.add_argument("-v", "--verbose", action="store_true")
    a = ap.parse_args(argv)
    t0 = time.monotonic()
    workdir = plugin = None
    try:
        if not a.list:
            if not a.plugin:
                raise BadInput("--plugin is required (the PagerefTidyModule.so to test)")
            if not os.path.isfile(a.plugin):
                raise BadInput("%s: plugin not found" % a.plugin)
            if not (os.path.isfile(a.clang_tidy) and os.access(a.clang_tidy, os.X_OK)):
                raise BadInput("%s: clang-tidy not found or not executable" % a.clang_tidy)
        tree = prepare_debian(a.debian) if a.debian else a.tree
        if not os.path.isdir(tree):
            raise BadInput("%s: no such kernel tree" % tree)
        tree = os.path.abspath(tree)
        if a.plugin:
            a.plugin = os.path.abspath(a.plugin)
        if os.sep in a.clang_tidy:
            a.clang_tidy = os.path.abspath(a.clang_tidy)
        tus, entries = compiled_files(tree)
        if not tus:
            raise BadInput("%s: the compile database has none of the selected translation units" % tree)
        available = set()
        if not a.list:
            workdir = tempfile.mkdtemp(prefix="pageref-mutation-")
            # Run a snapshot of the plugin: a rebuild that replaces the file
            # while the mutants run would make some runs load half a library.
            plugin = os.path.join(workdir, os.path.basename(a.plugin))
            shutil.copy2(a.plugin, plugin)
            available = list_checks(a.clang_tidy, plugin, a.plugin)
    except BadInput as e:
        if workdir:
            shutil.rmtree(workdir, ignore_errors=True)
        print("mutation-test: error: %s" % e, file=sys.stderr)
        return 2

    version = kernel_version(tree)
    print("mutation-test: %s (Linux %s), %d translation units" % (tree, version, len(tus)))
    all_muts, sources = [], {}
    for rel in tus:
        muts, src = discover(tree, rel)
        sources[rel] = src
        if not src.balanced:
            print("  note: %s: unbalanced brackets after blanking comments, strings and "
                  "preprocessor lines; not scanned" % rel)
        all_muts += muts
    funcs = {}
    for m in all_muts:
        funcs.setdefault((m.path, m.fn.name, m.fn.first_line), []).append(m)
    print("candidate functions: %d" % len(funcs))
    for (path, name, line), ms in sorted(funcs.items()):
        print("  %s:%d %s(): %s" % (path, line, name, "; ".join(
            "%s %s" % (m.kind, m.describe()) for m in ms)))
    preferred = PREFERRED.get(version, [])
    chosen, missing = select(all_muts, preferred, a.all)
    if a.only:
        chosen = [m for m in chosen if a.only in "%s %s %s" % (m.path, m.fn.name, m.kind)]
    print("selected mutations: %d%s" % (len(chosen), "" if preferred else
                                         " (no preference list for %s: all)" % version))
    for m in missing:
        print("  MISSING preferred candidate: %s (not found by the scan: the source "
              "changed or the scan broke)" % m)
    if a.list:
        if workdir:
            shutil.rmtree(workdir, ignore_errors=True)
        for m in chosen:
            print("  %s:%d %s() %s: %s" % (m.path, m.line, m.fn.name, m.kind, m.describe()))
        return 0 if not missing else 1

    for chk in sorted({m.expect for m in chosen} - available):
        print("  NOTE: the plugin does not provide %s; its mutations cannot pass" % chk)

    # Only the checks under test: fewer unrelated (and slower) findings.
    checks = ",".join(sorted({UNBALANCED, MISMATCH} & available)) or ",".join([UNBALANCED, MISMATCH])
    try:
        originals = {}
        for m in chosen:
            originals.setdefault(m.path, sources[m.path].text)
        jobs = {}
        if a.pageref:
            pageref = os.path.abspath(a.pageref)
            run = lambda _ct, _pl, *rest: run_driver(pageref, *rest)
        else:
            run = run_tidy
        with concurrent.futures.ThreadPoolExecutor(max_workers=max(1, a.jobs)) as ex:
            for i, path in enumerate(sorted(originals)):
                jobs[("base", path)] = ex.submit(run, a.clang_tidy, plugin, tree,
                                                 entries[path], path, originals[path],
                                                 "base%d" % i, workdir, checks)
            for i, m in enumerate(chosen):
                jobs[("mut", i)] = ex.submit(run, a.clang_tidy, plugin, tree,
                                             entries[m.path], m.path, m.apply(originals[m.path]),
                                             "mut%d" % i, workdir, checks)
        bases = {p: jobs[("base", p)].result() for p in originals}
        bad_base = {p: b for p, b in bases.items() if b["errors"] or b["failure"]}
        for p, b in bad_base.items():
            print("  ERROR: the unmodified copy of %s does not analyse cleanly: %s" % (
                p, b["failure"] or b["errors"][0]))
        for i, m in enumerate(chosen):
            res = jobs[("mut", i)].result()
            orig = originals[m.path]
            judge(m, bases[m.path], res, orig, m.apply(orig))
            if m.path in bad_base:
                m.result["status"] = "FAIL"
                m.result["detail"] = "the baseline run of the unmodified copy failed"
    finally:
        if a.keep:
            print("kept the mutants in %s" % workdir)
        else:
            shutil.rmtree(workdir, ignore_errors=True)

    print()
    print("results:")
    tested = (UNBALANCED, MISMATCH)
    for m in chosen:
        r = m.result
        print("  %-9s %s:%d %s() %s: %s" % (r["status"], m.path, m.line, m.fn.name, m.kind,
                                           m.describe()))
        if r.get("hits"):
            d = r["hits"][0]
            print("            new warning: %d:%d: %s [%s]" % (d["line"], d["col"], d["msg"], d["check"]))
            if a.verbose:
                for note in d["notes"]:
                    print("              note: %s" % note)
        elif r["status"] == "MASKED":
            for d in r["masked"]:
                print("            already in the baseline: %d: %s [%s]" % (d["line"], d["msg"], d["check"]))
        elif r["status"] == "FAIL":
            base_fn = [d for d in bases[m.path]["diags"] if d["check"] in tested
                       and m.fn.first_line <= d["line"] <= m.fn.last_line]
            for d in base_fn:
                print("            baseline: %d: %s [%s]" % (d["line"], d["msg"], d["check"]))
            other = [d for d in r["new"] if d["check"] in tested or a.verbose]
            print("            expected a new %s warning in %s() (lines %d-%d)%s" % (
                m.expect, m.fn.name, m.fn.first_line, m.fn.last_line,
                "; the pageref checks added nothing" if not other else "; new warnings instead:"))
            for d in other:
                print("            new: %d: %s [%s]" % (d["line"], d["msg"], d["check"]))
        if r.get("detail"):
            print("            %s" % r["detail"])

    valid = [m for m in chosen if m.result["status"] not in ("STILLBORN", "MASKED")]
    passed = [m for m in valid if m.result["status"] == "PASS"]
    nfuncs = len({(m.path, m.fn.name) for m in valid})
    nfiles = len({m.path for m in valid})
    elapsed = time.monotonic() - t0
    problems = []
    if len(valid) < a.min:
        problems.append("only %d mutations generated (need %d)" % (len(valid), a.min))
    if nfuncs < 3:
        problems.append("only %d functions (need 3)" % nfuncs)
    if nfiles < 2:
        problems.append("only %d files (need 2)" % nfiles)
    if a.survivors:
        listed = load_survivors(a.survivors)
        failed = {(m.path, m.fn.name, m.kind, m.line): m for m in valid if m.result["status"] != "PASS"}
        unlisted = [k for k in failed if k not in listed]
        stale = [k for k, v in listed.items() if k not in failed and
                 any((m.path, m.fn.name, m.kind, m.line) == k for m in valid)]
        equivalent = [k for k in failed if listed.get(k, ("",))[0] == "equivalent"]
        gaps = [k for k in failed if listed.get(k, ("",))[0] == "engine-gap"]
        live = len(valid) - len(equivalent)
        kill = len(passed) / live if live else 1.0
        print("survivors: %d equivalent, %d engine gaps, %d unlisted; %d of %d non-equivalent mutants "
              "killed (%.0f%%)" % (len(equivalent), len(gaps), len(unlisted), len(passed), live, 100 * kill))
        for k in sorted(gaps):
            print("  engine gap: %s %s() %s line %d: %s" % (k[0], k[1], k[2], k[3], listed[k][1]))
        for k in sorted(unlisted):
            problems.append("survivor not in %s: %s\t%s\t%s\t%d" % (os.path.basename(a.survivors), *k))
        for k in sorted(stale):
            problems.append("listed survivor now killed (update %s): %s %s() %s line %d" % (
                os.path.basename(a.survivors), *k))
        if a.min_kill is not None and kill < a.min_kill:
            problems.append("%.0f%% of the non-equivalent mutants killed (at least %.0f%%)" % (
                100 * kill, 100 * a.min_kill))
    elif len(passed) != len(valid):
        problems.append("%d of %d mutations did not make their check fire" % (
            len(valid) - len(passed), len(valid)))
    if missing:
        problems.append("%d preferred candidates missing (%s)" % (len(missing), ", ".join(missing)))
    still = sum(1 for m in chosen if m.result["status"] == "STILLBORN")
    masked = sum(1 for m in chosen if m.result["status"] == "MASKED")
    print()
    print("summary: Linux %s: %d mutations (%d functions, %d files), %d passed, %d failed%s; %.1fs" % (
        version, len(valid), nfuncs, nfiles, len(passed), len(valid) - len(passed),
        "".join([", %d stillborn (did not compile, not counted)" % still if still else "",
                 ", %d masked by baseline warnings (not counted)" % masked if masked else ""]),
        elapsed))
    if problems:
        print("FAIL: " + "; ".join(problems))
        return 1
    print("PASS")
    return 0


if __name__ == "__main__":
    sys.exit(main())
