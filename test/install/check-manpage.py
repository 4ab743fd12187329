#!/usr/bin/env python3
"""pageref(1) says what --help says: the commands of `pageref --help`, and for
each command the options its own --help prints, no more and no fewer; the
page renders without a warning from man/groff.

usage: check-manpage.py --pageref BUILD/bin/pageref --man BUILD/share/man/man1/pageref.1.gz"""
import argparse
import gzip
import os
import re
import shutil
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from minikernel import Checks, run  # noqa: E402

OPTION = re.compile(r"(?<![\w$/.=-])(--?[a-zA-Z][a-zA-Z0-9-]*)")

check = Checks()


def options(text):
    return set(OPTION.findall(text))


def man_sections(roff):
    """{"": top-level text, "scan": text of `.SS "pageref scan"`, ...}, with
    roff's escapes for '-' and quotes undone and requests' dots dropped."""
    text = roff.replace("\\-", "-").replace("\\(aq", "'").replace("\\fB", "").replace("\\fP", "").replace("\\fI", "")
    sections, name = {"": []}, ""
    for line in text.splitlines():
        if line.startswith('.\\"'):
            continue
        m = re.match(r'\.SS "pageref (\w+)"', line)
        if m:
            name = m.group(1)
            sections[name] = []
            continue
        if re.match(r"\.S[HS] ", line):
            name = ""  # a section that is not a command's: belongs to no command
        sections.setdefault(name, []).append(re.sub(r"^\.[A-Z]+ ?", "", line))
    return {k: "\n".join(v) for k, v in sections.items()}


def command_help(pageref, cmd):
    rc, so, se = run([pageref, cmd, "--help"])
    return so + se


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--pageref", required=True)
    ap.add_argument("--man", required=True)
    a = ap.parse_args()
    roff = gzip.open(a.man, "rt").read() if a.man.endswith(".gz") else open(a.man).read()
    sections = man_sections(roff)

    rc, top, se = run([a.pageref, "--help"])
    check(rc == 0, "pageref --help: exit %d" % rc)
    # "usage: pageref --version | --plugin-path | scan | merge | ... [options]"
    usage = top.splitlines()[0]
    commands = [w for w in re.findall(r"\| (\w+)", usage)]
    check(commands, "no commands in %r" % usage)
    check(options(usage) <= options(sections[""]), "top-level options of --help missing in the page: %s" %
          sorted(options(usage) - options(sections[""])))
    for cmd in commands:
        if not check(cmd in sections, 'pageref(1) has no .SS "pageref %s"' % cmd):
            continue
        helped = options(command_help(a.pageref, cmd)) - {"-h", "--help"}
        paged = options(sections[cmd])
        check(helped == paged, "pageref %s: options in --help but not in the page: %s; in the page but not in "
              "--help: %s" % (cmd, sorted(helped - paged), sorted(paged - helped)))
        print("pageref %s: %d options, the same in --help and pageref(1)" % (cmd, len(helped)))
    check(not set(sections) - set(commands) - {""}, "the page documents commands --help does not list: %s"
          % sorted(set(sections) - set(commands) - {""}))

    version = run([a.pageref, "--version"])[1].split()[1]
    check('"pageref %s"' % version in roff, "the page is not of pageref %s" % version)

    if shutil.which("man"):
        p = subprocess.run(["man", "--warnings", "-l", a.man], capture_output=True, text=True,
                           env=dict(os.environ, MANWIDTH="80", MANPAGER="cat", PAGER="cat"), timeout=60)
        check(p.returncode == 0 and "pageref scan" in p.stdout, "man -l %s: exit %d" % (a.man, p.returncode))
        check(not p.stderr.strip(), "man --warnings: " + p.stderr[-1000:])
    else:
        print("note: no man here; the page was not rendered")
    return check.verdict()


if __name__ == "__main__":
    sys.exit(main())
