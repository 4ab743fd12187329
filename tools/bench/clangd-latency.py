#!/usr/bin/env python3
"""Edit-to-diagnostics latency of pageref-clangd against Debian's clangd-19.

What: both servers open the same copy of a real kernel file (its own compile
command from the prepared tree's compile_commands.json, `-iquote <original
dir>` so its local includes resolve), each with a `.clangd` that differs only
in the pageref checks: pageref-clangd's adds them, stock clangd's does not.
After the first diagnostics (preamble and AST built), the script makes the
same edit to both, in turns, --edits times: a comment line inserted at the
end of a function body and removed again (the preamble stays valid, as when
typing in a function). For each edit it times `textDocument/didChange` to the
`textDocument/publishDiagnostics` of that version, which includes clangd's own
debounce, i.e. what the user waits for. It prints the medians and their ratio
(pageref over stock) and, with --max-ratio, exits 1 when the ratio is higher.

The servers run in turns, not at once, so they do not compete for the cores;
the median over many edits absorbs noise from other load on the machine.

Usage: clangd-latency.py --pageref-clangd PATH [--clangd /usr/bin/clangd-19]
                         (--debian VERSION | --tree TREE) [--file fs/nfs/direct.c]
                         [--edits 20] [--max-ratio R] [-v]
"""

import argparse
import json
import os
import shlex
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
PREPARE_KERNEL = os.path.join(HERE, "..", "kernel", "prepare-kernel.py")
PAGEREF_CHECKS = ["pageref-unbalanced-release", "pageref-release-mismatch", "pageref-async-bvec-drop"]


class LspServer:
    """A language server on stdio: requests, notifications, and the
    publishDiagnostics notifications it sends, by document version."""

    def __init__(self, argv, cwd, log):
        self.proc = subprocess.Popen(argv, cwd=cwd, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=log)
        self.next_id = 1
        self.lock = threading.Condition()
        self.responses = {}
        self.diagnostics = {}  # version -> (arrival time, diagnostics)
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self):
        out = self.proc.stdout
        while True:
            length = None
            while True:
                line = out.readline()
                if not line:
                    with self.lock:
                        self.lock.notify_all()
                    return
                line = line.strip()
                if not line:
                    break
                if line.lower().startswith(b"content-length:"):
                    length = int(line.split(b":")[1])
            msg = json.loads(out.read(length))
            now = time.monotonic()
            with self.lock:
                if "id" in msg and "method" not in msg:
                    self.responses[msg["id"]] = msg
                elif msg.get("method") == "textDocument/publishDiagnostics":
                    self.diagnostics[msg["params"].get("version")] = (now, msg["params"]["diagnostics"])
                elif "id" in msg:  # a request of the server (workDoneProgress/create, ...)
                    self._send({"jsonrpc": "2.0", "id": msg["id"], "result": None})
                self.lock.notify_all()

    def _send(self, msg):
        body = json.dumps(msg).encode()
        self.proc.stdin.write(b"Content-Length: %d\r\n\r\n" % len(body) + body)
        self.proc.stdin.flush()

    def notify(self, method, params):
        self._send({"jsonrpc": "2.0", "method": method, "params": params})

    def request(self, method, params, timeout=60):
        rid = self.next_id
        self.next_id += 1
        self._send({"jsonrpc": "2.0", "id": rid, "method": method, "params": params})
        with self.lock:
            if not self.lock.wait_for(lambda: rid in self.responses or self.proc.poll() is not None, timeout):
                raise RuntimeError(f"no answer to {method} within {timeout} s")
            if rid not in self.responses:
                raise RuntimeError(f"the server exited (status {self.proc.poll()})")
            return self.responses.pop(rid)

    def wait_diagnostics(self, version, timeout=300):
        with self.lock:
            if not self.lock.wait_for(lambda: version in self.diagnostics or self.proc.poll() is not None, timeout):
                raise RuntimeError(f"no diagnostics for version {version} within {timeout} s")
            if version not in self.diagnostics:
                raise RuntimeError(f"the server exited (status {self.proc.poll()})")
            return self.diagnostics[version]

    def shutdown(self):
        try:
            self.request("shutdown", None, timeout=10)
            self.notify("exit", None)
            self.proc.wait(timeout=10)
        except Exception:
            self.proc.kill()
            self.proc.wait()


def kernel_tree(args):
    if args.tree:
        return os.path.abspath(args.tree)
    out = subprocess.run([sys.executable, PREPARE_KERNEL, "--debian", args.debian], check=True,
                         stdout=subprocess.PIPE, text=True).stdout
    return out.strip().splitlines()[-1]


def workspace(tree, rel, root, clangd_config):
    """A directory with a copy of TREE/REL, a one-entry compile database that
    compiles the copy like the original, and the given .clangd."""
    db = json.load(open(os.path.join(tree, "compile_commands.json")))
    original = os.path.join(tree, rel)
    entry = next((e for e in db if os.path.normpath(os.path.join(e["directory"], e["file"])) == original), None)
    if entry is None:
        sys.exit(f"clangd-latency: {rel} has no entry in {tree}/compile_commands.json")
    os.makedirs(root)
    copy = os.path.join(root, os.path.basename(rel))
    shutil.copyfile(original, copy)
    argv = entry["arguments"] if "arguments" in entry else shlex.split(entry["command"])
    argv = [copy if a in (entry["file"], rel, original) else a for a in argv]
    argv += ["-iquote", os.path.dirname(original)]
    json.dump([{"directory": entry["directory"], "file": copy, "arguments": argv}],
              open(os.path.join(root, "compile_commands.json"), "w"), indent=1)
    with open(os.path.join(root, ".clangd"), "w") as f:
        f.write(clangd_config)
    return copy


def clangd_config(checks):
    add = "    Add: [%s]\n" % ", ".join(checks) if checks else ""
    return ("Diagnostics:\n"
            "  ClangTidy:\n" + add +
            "    FastCheckFilter: None\n")


def edit_position(text):
    """Line index of the last line that is only '}' (the end of the last
    function body): inserting just before it stays inside that function."""
    lines = text.split("\n")
    for i in range(len(lines) - 1, -1, -1):
        if lines[i] == "}":
            return i
    sys.exit("clangd-latency: no function body end found in the file")


class Session:
    def __init__(self, name, argv, root, path, log):
        self.name = name
        self.path = path
        self.uri = "file://" + path
        self.text = open(path).read()
        self.version = 1
        self.server = LspServer(argv, root, log)
        self.server.request("initialize", {"processId": os.getpid(), "rootUri": "file://" + root,
                                           "capabilities": {"textDocument": {"publishDiagnostics": {
                                               "relatedInformation": True, "versionSupport": True}}}})
        self.server.notify("initialized", {})
        self.server.notify("textDocument/didOpen", {"textDocument": {
            "uri": self.uri, "languageId": "c", "version": self.version, "text": self.text}})
        start = time.monotonic()
        arrived, self.first_diagnostics = self.server.wait_diagnostics(self.version)
        self.open_seconds = arrived - start

    def edit(self, line, insert):
        """Inserts (or removes again) a comment line before LINE; returns the
        seconds until the diagnostics of the new version arrive."""
        self.version += 1
        if insert:
            change = {"range": {"start": {"line": line, "character": 0}, "end": {"line": line, "character": 0}},
                      "text": "\t/* edit */\n"}
        else:
            change = {"range": {"start": {"line": line, "character": 0}, "end": {"line": line + 1, "character": 0}},
                      "text": ""}
        start = time.monotonic()
        self.server.notify("textDocument/didChange", {"textDocument": {"uri": self.uri, "version": self.version},
                                                      "contentChanges": [change]})
        arrived, diags = self.server.wait_diagnostics(self.version)
        return arrived - start, diags


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--pageref-clangd", required=True)
    ap.add_argument("--clangd", default="/usr/bin/clangd-19", help="stock clangd 19 (Debian's clangd-19)")
    src = ap.add_mutually_exclusive_group(required=True)
    src.add_argument("--debian", help="prepare Debian's linux-source-VERSION (tools/kernel/prepare-kernel.py)")
    src.add_argument("--tree", help="a prepared kernel tree with compile_commands.json")
    ap.add_argument("--file", default="fs/nfs/direct.c", help="file of the tree, relative to it")
    ap.add_argument("--edits", type=int, default=20)
    ap.add_argument("--max-ratio", type=float)
    ap.add_argument("-v", "--verbose", action="store_true")
    args = ap.parse_args()

    tree = kernel_tree(args)
    # The servers run in their workspace directories.
    binaries = {}
    for b in (args.clangd, args.pageref_clangd):
        found_binary = shutil.which(b)
        if not found_binary:
            sys.exit(f"clangd-latency: {b} not found")
        binaries[b] = os.path.abspath(found_binary)
    tmp = tempfile.mkdtemp(prefix="pageref-latency-")
    try:
        log = None if args.verbose else subprocess.DEVNULL
        sessions = []
        for name, binary, checks in (("stock clangd-19", args.clangd, []),
                                     ("pageref-clangd", args.pageref_clangd, PAGEREF_CHECKS)):
            root = os.path.join(tmp, name.split()[0])
            path = workspace(tree, args.file, root, clangd_config(checks))
            argv = [binaries[binary], "--background-index=false", "--enable-config", "--log=error"]
            sessions.append(Session(name, argv, root, path, log))
        line = edit_position(sessions[0].text)
        times = {s.name: [] for s in sessions}
        found = {}
        for i in range(args.edits):
            for s in sessions:
                seconds, diags = s.edit(line, insert=(i % 2 == 0))
                times[s.name].append(seconds)
                found[s.name] = [d for d in diags if str(d.get("code", "")).startswith("pageref-")]
        for s in sessions:
            s.server.shutdown()
    finally:
        shutil.rmtree(tmp, ignore_errors=True)

    print(f"file: {os.path.join(tree, args.file)}, {args.edits} edits each")
    medians = {}
    for s in sessions:
        t = times[s.name]
        medians[s.name] = statistics.median(t)
        print(f"  {s.name:16} open {s.open_seconds:6.2f} s; edit to diagnostics: median {medians[s.name]*1000:7.1f} ms"
              f" (min {min(t)*1000:.1f}, max {max(t)*1000:.1f}); pageref diagnostics: {len(found[s.name])}")
    ratio = medians["pageref-clangd"] / medians["stock clangd-19"]
    print(f"ratio pageref-clangd / clangd-19: {ratio:.3f}")
    if args.max_ratio is not None and ratio > args.max_ratio:
        print(f"clangd-latency: ratio {ratio:.3f} is above {args.max_ratio}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
