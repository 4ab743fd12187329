#!/usr/bin/env python3
"""End-to-end test of pageref-clangd with a real LSP client: Neovim's own.

What: each case copies a file into a temporary workspace (a kernel file of
the prepared Debian tree, compiled with its own command from the tree's
compile_commands.json plus `-iquote <original dir>`; the tree itself is never
written), optionally injects a bug, and runs `nvim --headless` with
nvim-lsp.lua, which opens the copy with pageref-clangd attached through
Neovim's built-in LSP client, waits for the diagnostics and performs the
case's steps (quick fix from the code-action menu, line edits). This script
then checks what the client received at each step:

  plain                  the unmodified io_uring/rsrc.c: exactly its reviewed warnings (a real bug)
  unbalanced-release     rsrc.c with io_pin_pages()'s error-path
                         unpin_user_pages() removed: one
                         pageref-unbalanced-release with its range, message
                         and notes (as relatedInformation) equal to what
                         clang-tidy with the plugin prints for the same file;
                         restoring the line makes it go
  release-mismatch       the same unpin_user_pages() replaced by
                         release_pages(): one pageref-release-mismatch, equal
                         to clang-tidy's; the quick fix "change
                         'release_pages' to 'unpin_user_pages'" is offered and
                         applying it gives back the original file exactly, and
                         the diagnostic goes; the bug again with a NOLINT for
                         another check is still reported, with
                         NOLINT(pageref-release-mismatch) it is not
  clang-tidy-config      (no kernel) test/checks/Inputs/release-helper-caller.c
                         under a .clang-tidy whose CheckOptions name a scan's
                         summaries file: the call into another file is
                         reported as a pin/ref mismatch; without that
                         .clang-tidy it is not

Usage: nvim-e2e.py --pageref-clangd P --plugin P [--clang-tidy P] [--nvim P]
                   [--debian 6.1 | --tree TREE] CASE...
Exit status 0 when every case passes, 1 otherwise (each failure says what the
client got instead), 2 on bad input.
"""

import argparse
import json
import os
import re
import shlex
import shutil
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
SRC = os.path.dirname(os.path.dirname(HERE))
PREPARE_KERNEL = os.path.join(SRC, "tools", "kernel", "prepare-kernel.py")
CHECKS = ["pageref-unbalanced-release", "pageref-release-mismatch", "pageref-async-bvec-drop"]
CLANGD_CONFIG = ("Diagnostics:\n  ClangTidy:\n    Add: [%s]\n    FastCheckFilter: None\n" % ", ".join(CHECKS))

# io_pin_pages() in Debian's 6.1 io_uring/rsrc.c:
#   if (ret) { /* ... */ if (pret > 0) unpin_user_pages(pages, pret); goto done; }
RSRC = "io_uring/rsrc.c"
RSRC_RELEASE = "\t\t\tunpin_user_pages(pages, pret);"


class Failure(Exception):
    pass


SESSIONS = []  # (name, workspace, plan steps, nvim's results), for --transcript


def expect(cond, what):
    if not cond:
        raise Failure(what)


class Workspace:
    def __init__(self, root, source, argv, directory, text):
        """A copy of SOURCE named like it in ROOT, compiled with ARGV (the
        source's own path in it is replaced) in DIRECTORY, with TEXT as its
        content, and pageref's .clangd."""
        os.makedirs(root)
        self.root = root
        self.path = os.path.join(root, os.path.basename(source))
        self.text = text
        with open(self.path, "w") as f:
            f.write(text)
        argv = [self.path if os.path.normpath(os.path.join(directory, a)) == source else a for a in argv]
        with open(os.path.join(root, "compile_commands.json"), "w") as f:
            json.dump([{"directory": directory, "file": self.path, "arguments": argv}], f, indent=1)
        with open(os.path.join(root, ".clangd"), "w") as f:
            f.write(CLANGD_CONFIG)
        self.argv, self.directory = argv, directory


def kernel_workspace(tree, rel, root, mutate=None):
    source = os.path.join(tree, rel)
    db = json.load(open(os.path.join(tree, "compile_commands.json")))
    entry = next((e for e in db if os.path.normpath(os.path.join(e["directory"], e["file"])) == source), None)
    if entry is None:
        raise Failure(f"{rel} has no entry in {tree}/compile_commands.json")
    argv = entry["arguments"] if "arguments" in entry else shlex.split(entry["command"])
    # The copy's own directory is not the original's: its local includes.
    argv = argv + ["-iquote", os.path.dirname(source)]
    text = open(source).read()
    if mutate:
        text = mutate(text)
    return Workspace(root, source, argv, entry["directory"], text)


def replace_once(text, old, new):
    if text.count(old) != 1:
        raise Failure(f"expected exactly one {old.strip()!r} in the file, found {text.count(old)}")
    return text.replace(old, new)


def line_of(text, line_text):
    lines = text.split("\n")
    if lines.count(line_text) != 1:
        raise Failure(f"expected exactly one line {line_text.strip()!r}, found {lines.count(line_text)}")
    return lines.index(line_text)


def run_nvim(args, ws, steps, tmp, name):
    plan = {"server": [args.pageref_clangd, "--background-index=false", "--enable-config", "--log=error"],
            "root": ws.root, "file": ws.path, "out": os.path.join(tmp, name + ".result.json"),
            "steps": steps, "timeout": 300}
    plan_path = os.path.join(tmp, name + ".plan.json")
    json.dump(plan, open(plan_path, "w"))
    env = dict(os.environ, PAGEREF_E2E_PLAN=plan_path, XDG_STATE_HOME=tmp, XDG_DATA_HOME=tmp, XDG_CACHE_HOME=tmp)
    r = subprocess.run([args.nvim, "--headless", "--clean", "-n", "-i", "NONE",
                        "-c", "luafile " + os.path.join(HERE, "nvim-lsp.lua")],
                       cwd=ws.root, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                       timeout=900)
    if not os.path.exists(plan["out"]):
        raise Failure(f"nvim wrote no results (exit {r.returncode}):\n{r.stdout}")
    results = json.load(open(plan["out"]))
    SESSIONS.append((name, ws, steps, results))
    if "error" in results:
        raise Failure(f"nvim-lsp.lua: {results['error']}\n{r.stdout}")
    if r.returncode != 0:
        raise Failure(f"nvim exited with {r.returncode}:\n{r.stdout}")
    return {s["id"]: s for s in results["steps"]}


def reviewed_findings(version, path):
    """(check, 1-based line) of the file's warnings in the kernel's reviewed
    list (testdata/kernel/linux-V.warnings.reviewed): real bugs the unmodified
    file has, which the editor must show and the injected cases ignore."""
    out = set()
    with open(os.path.join(SRC, "testdata", "kernel", "linux-%s.warnings.reviewed" % version)) as f:
        for line in f:
            cols = line.rstrip("\n").split("\t")
            if not line.startswith("#") and len(cols) == 5 and cols[0] == path:
                out.add((cols[2], int(cols[1])))
    return out


REVIEWED = set()


def all_pageref_diagnostics(step):
    return [d for d in step["published"] if str(d.get("code", "")).startswith("pageref-")]


def pageref_diagnostics(step):
    return [d for d in all_pageref_diagnostics(step)
            if (d["code"], d["range"]["start"]["line"] + 1) not in REVIEWED]


def clang_tidy_findings(args, ws):
    """clang-tidy with the plugin on the workspace's file: [(check, line,
    column, message, [(line, column, note)])], 1-based."""
    argv = ws.argv
    if "-o" in argv:  # no output file: the tree must stay as it is
        i = argv.index("-o")
        argv = argv[:i] + argv[i + 2:]
    argv = [a for a in argv if not a.startswith("-Wp,-MMD") and a != "-c"]
    r = subprocess.run([args.clang_tidy, "--load=" + args.plugin, "--checks=-*," + ",".join(CHECKS),
                        "--config-file=" + os.path.join(ws.root, ".clang-tidy")
                        if os.path.exists(os.path.join(ws.root, ".clang-tidy")) else "--config={}",
                        ws.path, "--"] + argv[1:],
                       cwd=ws.directory, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    findings = []
    line_re = re.compile(r"^(.*?):(\d+):(\d+): (warning|note|error): (.*)$")
    for line in r.stdout.splitlines():
        m = line_re.match(line)
        if not m or m.group(1) != ws.path:
            continue
        if m.group(4) == "warning":
            msg = re.match(r"(.*) \[(pageref-[\w-]+)\]$", m.group(5))
            if msg:
                findings.append((msg.group(2), int(m.group(2)), int(m.group(3)), msg.group(1), []))
        elif m.group(4) == "note" and findings:
            findings[-1][4].append((int(m.group(2)), int(m.group(3)), m.group(5)))
    return [f for f in findings if (f[0], f[1]) not in REVIEWED]


def capitalised(s):
    return s[:1].upper() + s[1:]


def expect_same_as_cli(diag, finding, uri):
    """The LSP diagnostic says what clang-tidy says: position, message and
    every note, in order, at its place (clangd capitalises the first letter
    and appends ' (fix available)' when there is a fix)."""
    check, line, col, message, notes = finding
    expect(diag["code"] == check, f"check {diag['code']!r}, clang-tidy says {check!r}")
    start = diag["range"]["start"]
    expect((start["line"], start["character"]) == (line - 1, col - 1),
           f"range starts at {start}, clang-tidy says {line}:{col}")
    expect(re.sub(r" \(fix available\)$", "", diag["message"]) == capitalised(message),
           f"message {diag['message']!r}, clang-tidy says {message!r}")
    related = diag.get("relatedInformation", [])
    got = [(r["location"]["uri"], r["location"]["range"]["start"]["line"] + 1,
            r["location"]["range"]["start"]["character"] + 1, r["message"]) for r in related]
    want = [(uri, nl, nc, capitalised(nm)) for nl, nc, nm in notes]
    expect(got == want, f"relatedInformation {got}, clang-tidy's notes {want}")


def expect_shown(step, diag):
    """vim.diagnostic (what the user sees) carries the same diagnostic and
    its related information."""
    shown = [d for d in step["shown"] if d.get("code") == diag["code"] and d["lnum"] == diag["range"]["start"]["line"]]
    expect(len(shown) == 1, f"vim.diagnostic.get() has {len(shown)} {diag['code']} at line {diag['range']['start']['line']}")
    expect(shown[0]["message"] == diag["message"], f"shown message {shown[0]['message']!r}")
    expect(shown[0]["related"] == diag.get("relatedInformation"), "shown related information differs")


def one_diagnostic(step, check):
    diags = pageref_diagnostics(step)
    expect(len(diags) == 1 and diags[0]["code"] == check,
           f"{step['id']}: expected one {check}, got {[(d['code'], d['message']) for d in diags]}")
    return diags[0]


def expect_none(step):
    diags = pageref_diagnostics(step)
    expect(not diags, f"{step['id']}: expected no pageref diagnostic, got "
                      f"{[(d['code'], d['range']['start']['line'] + 1, d['message']) for d in diags]}")


def case_plain(args, tree, tmp):
    ws = kernel_workspace(tree, RSRC, os.path.join(tmp, "plain"))
    steps = run_nvim(args, ws, [{"do": "open", "id": "open"}], tmp, "plain")
    shown = {(d["code"], d["range"]["start"]["line"] + 1) for d in all_pageref_diagnostics(steps["open"])}
    expect(shown == REVIEWED, "open: the editor shows %s, the reviewed list has %s" % (sorted(shown), sorted(REVIEWED)))
    expect(clang_tidy_findings(args, ws) == [], "clang-tidy reports something on the unmodified file")


def case_unbalanced_release(args, tree, tmp):
    ws = kernel_workspace(tree, RSRC, os.path.join(tmp, "unbalanced"),
                          lambda t: replace_once(t, RSRC_RELEASE + "\n", "\t\t\t;\n"))
    line = line_of(open(os.path.join(tree, RSRC)).read(), RSRC_RELEASE)
    steps = run_nvim(args, ws, [{"do": "open", "id": "open"},
                                {"do": "set_line", "id": "fixed", "line": line, "text": RSRC_RELEASE}],
                     tmp, "unbalanced")
    diag = one_diagnostic(steps["open"], "pageref-unbalanced-release")
    cli = clang_tidy_findings(args, ws)
    expect(len(cli) == 1, f"clang-tidy reports {len(cli)} findings: {cli}")
    expect_same_as_cli(diag, cli[0], "file://" + ws.path)
    expect(diag["message"].startswith("Pages acquired by pin_user_pages() at line ")
           and diag["message"].endswith("are neither released nor handed off on the path that returns here"),
           f"message {diag['message']!r}")
    expect(diag["relatedInformation"][0]["message"] == "Acquired here: pins (FOLL_PIN)",
           f"first note {diag['relatedInformation'][0]['message']!r}")
    expect_shown(steps["open"], diag)
    expect_none(steps["fixed"])


def case_release_mismatch(args, tree, tmp):
    wrong = "\t\t\trelease_pages(pages, pret);"
    ws = kernel_workspace(tree, RSRC, os.path.join(tmp, "mismatch"),
                          lambda t: replace_once(t, RSRC_RELEASE + "\n", wrong + "\n"))
    original = open(os.path.join(tree, RSRC)).read()
    line = line_of(original, RSRC_RELEASE)
    col = wrong.index("release_pages")
    steps = run_nvim(args, ws, [
        {"do": "open", "id": "open"},
        {"do": "code_action", "id": "quick-fix", "line": line, "character": col,
         "title": "change 'release_pages' to 'unpin_user_pages'"},
        {"do": "set_line", "id": "other-nolint", "line": line,
         "text": wrong + " // NOLINT(pageref-unbalanced-release)"},
        {"do": "set_line", "id": "nolint", "line": line, "text": wrong + " // NOLINT(pageref-release-mismatch)"},
    ], tmp, "mismatch")
    diag = one_diagnostic(steps["open"], "pageref-release-mismatch")
    cli = clang_tidy_findings(args, ws)
    expect(len(cli) == 1, f"clang-tidy reports {len(cli)} findings: {cli}")
    expect_same_as_cli(diag, cli[0], "file://" + ws.path)
    expect(diag["range"] == {"start": {"line": line, "character": col},
                             "end": {"line": line, "character": col + len("release_pages")}},
           f"range {diag['range']} is not release_pages on line {line + 1}")
    expect(diag["message"].startswith("Pages pinned by pin_user_pages() at line ")
           and "are released with release_pages(): FOLL_PIN pages must go back through unpin_user_page*()"
           in diag["message"], f"message {diag['message']!r}")
    expect_shown(steps["open"], diag)
    fix = steps["quick-fix"]
    expect(fix["text"] == original.rstrip("\n"),
           "after the quick fix the buffer differs from the original file: "
           f"line {line + 1} is {fix['text'].split(chr(10))[line]!r}")
    expect_none(fix)
    one_diagnostic(steps["other-nolint"], "pageref-release-mismatch")
    expect_none(steps["nolint"])


def case_clang_tidy_config(args, tree, tmp):
    source = os.path.join(SRC, "test", "checks", "Inputs", "release-helper-caller.c")
    argv = ["clang-19", "-I" + os.path.join(SRC, "testdata", "include"), "-c", source]
    summaries = os.path.join(SRC, "test", "checks", "Inputs", "scan-with-summaries.json")
    for configured in (True, False):
        name = "config" if configured else "no-config"
        ws = Workspace(os.path.join(tmp, name), source, argv, os.path.dirname(source), open(source).read())
        if configured:
            with open(os.path.join(ws.root, ".clang-tidy"), "w") as f:
                f.write("CheckOptions:\n  pageref-release-mismatch.SummariesFile: %s\n" % summaries)
        steps = run_nvim(args, ws, [{"do": "open", "id": name}], tmp, name)
        if not configured:
            expect_none(steps[name])
            continue
        diag = one_diagnostic(steps[name], "pageref-release-mismatch")
        cli = clang_tidy_findings(args, ws)
        expect(len(cli) == 1, f"clang-tidy reports {len(cli)} findings: {cli}")
        expect_same_as_cli(diag, cli[0], "file://" + ws.path)
        expect("which calls unpin_user_page() at line 24 in drivers/mydrv/pages.c" in diag["message"],
               f"message {diag['message']!r} does not name the helper's release from the summaries")


def write_transcript(path, tree):
    """What each Neovim session showed, step by step, in Markdown."""
    out = ["# pageref-clangd in Neovim: recorded sessions", "",
           "Written by `test/editor/nvim-e2e.py --transcript` from real `nvim --headless` sessions "
           "(Neovim's built-in LSP client, pageref-clangd as the server); regenerate it the same way.",
           ""]
    for name, ws, plan_steps, results in SESSIONS:
        source = os.path.basename(ws.path)
        out += [f"## {name}: `{source}`", ""]
        for plan_step, step in zip(plan_steps, results["steps"]):
            lines = step["text"].split("\n")
            action = {"open": "open the file",
                      "code_action": f"code action menu at line {plan_step.get('line', 0) + 1}, "
                                     f"pick \"{plan_step.get('title')}\"",
                      "set_line": f"edit line {plan_step.get('line', 0) + 1} to "
                                  f"`{plan_step.get('text', '').strip()}`"}[plan_step["do"]]
            out += [f"### {step['id']}: {action}", ""]
            if "offered" in step:
                out += ["Code actions offered: " + ", ".join(f"\"{t}\"" for t in step["offered"]) +
                        f"; after applying it line {plan_step['line'] + 1} is "
                        f"`{lines[plan_step['line']].strip()}`.", ""]
            diags = [d for d in step["published"] if str(d.get("code", "")).startswith("pageref-")]
            if not diags:
                out += ["No pageref diagnostic (textDocument/publishDiagnostics of version "
                        f"{step['version']}).", ""]
            for d in diags:
                r = d["range"]
                out += ["```"]
                out += [f"{source}:{r['start']['line'] + 1}:{r['start']['character'] + 1}-"
                        f"{r['end']['character'] + 1} {d['code']} (severity {d['severity']}, source {d['source']})",
                        f"  {lines[r['start']['line']].strip()}"]
                out += ["float:"] + [f"  {f}" for f in step["float"]]
                out += ["relatedInformation:"]
                for ri in d.get("relatedInformation", []):
                    loc = ri["location"]["range"]["start"]
                    out += [f"  {source}:{loc['line'] + 1}:{loc['character'] + 1}: {ri['message']}",
                            f"    {lines[loc['line']].strip()}"]
                out += ["```", ""]
    with open(path, "w") as f:
        f.write("\n".join(out))


CASES = {"plain": case_plain, "unbalanced-release": case_unbalanced_release,
         "release-mismatch": case_release_mismatch, "clang-tidy-config": case_clang_tidy_config}
KERNEL_CASES = {"plain", "unbalanced-release", "release-mismatch"}


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--pageref-clangd", required=True)
    ap.add_argument("--plugin", required=True, help="PagerefTidyModule.so, for clang-tidy's view of the same file")
    ap.add_argument("--clang-tidy", default="/usr/lib/llvm-19/bin/clang-tidy")
    ap.add_argument("--nvim", default="nvim")
    src = ap.add_mutually_exclusive_group()
    src.add_argument("--debian", default="6.1")
    src.add_argument("--tree")
    ap.add_argument("--keep", action="store_true", help="keep the workspaces and nvim's results")
    ap.add_argument("--transcript", help="write what each Neovim session showed to this Markdown file")
    ap.add_argument("cases", nargs="+", choices=sorted(CASES))
    args = ap.parse_args()
    for tool in ("pageref_clangd", "plugin", "clang_tidy", "nvim"):
        path = shutil.which(getattr(args, tool)) or getattr(args, tool)
        if not os.path.exists(path):
            print(f"nvim-e2e: {path} not found", file=sys.stderr)
            return 2
        setattr(args, tool, os.path.abspath(path))

    tree = None
    if KERNEL_CASES & set(args.cases):
        if args.tree:
            tree = os.path.abspath(args.tree)
        else:
            out = subprocess.run([sys.executable, PREPARE_KERNEL, "--debian", args.debian], check=True,
                                 stdout=subprocess.PIPE, text=True).stdout
            tree = out.strip().splitlines()[-1]
    if tree:
        REVIEWED.update(reviewed_findings(args.debian or "6.1", RSRC))
    tmp = tempfile.mkdtemp(prefix="pageref-nvim-e2e-")
    failed = 0
    try:
        for case in args.cases:
            try:
                CASES[case](args, tree, os.path.join(tmp, case))
                print(f"PASS {case}")
            except Failure as e:
                failed += 1
                print(f"FAIL {case}: {e}")
    finally:
        if args.transcript:
            write_transcript(args.transcript, tree)
        if args.keep:
            print(f"nvim-e2e: kept {tmp}")
        else:
            shutil.rmtree(tmp, ignore_errors=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
