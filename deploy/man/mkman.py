#!/usr/bin/env python3
"""Writes the man page replyrate(1) from the --help texts of a replyrate binary.

    mkman.py BINARY TEMPLATE OUTPUT

The build runs it on the binary it has just linked (CMakeLists.txt), so the page
says what `replyrate --help` and `replyrate COMMAND --help` say, word for word:
the help texts in src/cli/ are the one source, and the TEMPLATE (deploy/man/
replyrate.1.in) adds only what no help text holds (NAME, EXIT STATUS summary,
ENVIRONMENT, FILES, SEE ALSO). The commands are those `replyrate --help` lists
under "commands:", in its order; a command whose --help is the main text (help)
has no section of its own.

What the help texts look like, and how each part is set (a change to the texts
that keeps to these shapes needs no change here):

  usage: replyrate CMD ...       SYNOPSIS, one line each; more forms below it
         replyrate CMD ...       indented by "       "
  Prose at column 0.             a paragraph; one ending in ':' right after a
                                 sentence, above an indented block, starts a new one
  -x, --long ARG  description    an item (.TP): a term (options and their
      --other ARG  description   ARGUMENTS in capitals, or one word such as a
  word   description             subcommand or an exit status), then two spaces
      continued                  (or, after options, one space and a word that is
                                 no argument) and its description; lines indented
                                 to the list's description column continue it
  {"type":...}                   an indented line that is no item starts a
                                 literal block (an example), kept as it is
The page is plain man(7) with groff's SY/YS and EX/EE, no hyphenation and a
ragged right margin (option names never split across lines).
"""
import datetime
import os
import re
import subprocess
import sys
import unicodedata

OPTION = re.compile(r"^-{1,2}[A-Za-z][A-Za-z0-9-]*,?$")
# An option's argument: FILE, HOST:PORT, KEY=VALUE, P, DUR, ...
ARGUMENT = re.compile(r"^[A-Z][A-Z0-9_]*(?:[:=][A-Z0-9_]+)*(?:\[[^\]]*\])?,?$")
GAP = re.compile(r"\S( {2,})\S")


def roff_text(s):
    """Escapes a line of help text for roff: backslashes, minus signs (option
    names copy and paste as typed), characters outside ASCII, and a leading
    control character."""
    s = s.replace("\\", "\\e").replace("-", "\\-")
    s = "".join(c if ord(c) < 128 else "\\[u%04X]" % ord(c) for c in s)
    if s.startswith((".", "'")):
        s = "\\&" + s
    return s


def roff_term(term):
    """An item's term: option names bold, their arguments italic; a word
    (a subcommand, an exit status) bold."""
    out = []
    for tok in term.split(" "):
        core, comma = (tok[:-1], ",") if tok.endswith(",") and len(tok) > 1 else (tok, "")
        if OPTION.match(core) or not core.startswith("-") and not ARGUMENT.match(core):
            out.append("\\fB%s\\fR%s" % (roff_text(core), comma))
        else:
            out.append("\\fI%s\\fR%s" % (roff_text(core), comma))
    return " ".join(out)


def roff_synopsis(line):
    """One usage form: `replyrate CMD` bold, options bold, ARGUMENTS italic."""
    words = line.split()
    head = [words.pop(0)]
    # the command, and a subcommand's own verb (`config check FILE`)
    while words and len(head) < 3 and re.match(r"^[a-z][a-z-]*$", words[0]):
        head.append(words.pop(0))
    body = []
    for w in words:
        m = re.match(r"^(\[*)(.*?)([\].]*)$", w)
        pre, core, post = m.groups()
        if OPTION.match(core):
            core = "\\fB%s\\fR" % roff_text(core)
        elif ARGUMENT.match(core):
            core = "\\fI%s\\fR" % roff_text(core)
        else:
            core = roff_text(core)
        body.append(pre + core + post)
    return '.SY "%s"\n%s.YS' % (roff_text(" ".join(head)), " ".join(body) + "\n" if body else "")


def split_item(text):
    """(term, description, offset of the description in text), or None when
    text is no item."""
    m = GAP.search(text)
    term, desc_at = (text[:m.start(1)], m.end(1)) if m else (text, len(text))
    if not text.startswith("-"):
        # one word, then two spaces: a subcommand, an exit status
        return (term, text[desc_at:], desc_at) if m and " " not in term else None
    toks = term.split(" ")
    n = 0
    while n < len(toks) and (OPTION.match(toks[n]) or n and ARGUMENT.match(toks[n])):
        n += 1
    if n == 0:
        return None
    if n < len(toks):  # "-F, --kafka-config FILE librdkafka ...": one space
        term = " ".join(toks[:n])
        desc_at = len(term) + 1
    return term, text[desc_at:], desc_at


def parse(help_text):
    """The help text as (usage lines, blocks); a block is ("para", [lines]),
    ("items", [(term, [description lines])]) or ("literal", [lines])."""
    lines = help_text.rstrip("\n").split("\n")
    usage = []
    i = 0
    if lines and lines[0].startswith("usage: "):
        usage.append(lines[0][len("usage: "):].strip())
        i = 1
        while i < len(lines) and re.match(r"^ {2,}replyrate\b", lines[i]):
            usage.append(lines[i].strip())
            i += 1
    blocks = []
    col = None  # the description column of the current list
    while i < len(lines):
        line = lines[i]
        indent = len(line) - len(line.lstrip(" "))
        text = line.strip()
        last = blocks[-1] if blocks else None
        if not text:
            blocks.append(("break", []))
            col = None
        elif indent == 0:
            nxt = lines[i + 1] if i + 1 < len(lines) else ""
            lead_in = text.endswith(":") and nxt.startswith(" ") and nxt.strip()
            if last and last[0] == "para" and not (lead_in and last[1][-1].endswith(".")):
                last[1].append(text)
            else:
                blocks.append(("para", [text]))
            col = None
        elif last and last[0] == "items" and col is not None and indent >= col:
            last[1][-1][1].append(text)
        elif last and last[0] == "literal":
            last[1].append(line)
        else:
            item = split_item(text)
            if item is None:
                blocks.append(("literal", [line]))
            else:
                term, desc, at = item
                if not (last and last[0] == "items"):
                    blocks.append(("items", []))
                    last = blocks[-1]
                last[1].append((term, [desc] if desc else []))
                col = indent + at if col is None else min(col, indent + at)
        i += 1
    return usage, [b for b in blocks if b[0] != "break"]


def roff_blocks(blocks):
    out = []
    for kind, body in blocks:
        if kind == "para":
            out.append(".PP")
            out.extend(roff_text(t) for t in body)
        elif kind == "items":
            for term, desc in body:
                out.append(".TP")
                out.append(roff_term(term))
                out.extend(roff_text(t) for t in desc)
        else:
            strip = min(len(l) - len(l.lstrip(" ")) for l in body)
            out.extend([".PP", ".RS 4", ".EX"])
            out.extend(roff_text(l[strip:]) if l[strip:] else "" for l in body)
            out.extend([".EE", ".RE"])
    return "\n".join(out)


def help_of(binary, *args):
    r = subprocess.run([binary, *args], capture_output=True, text=True)
    if r.returncode != 0 or not r.stdout.startswith("usage: "):
        sys.exit("mkman: `%s %s` exited %d without a usage text on stdout: %s"
                 % (binary, " ".join(args), r.returncode, r.stderr.strip()[:200]))
    return r.stdout


def main():
    if len(sys.argv) != 4:
        sys.exit("usage: mkman.py BINARY TEMPLATE OUTPUT")
    binary, template, output = sys.argv[1:]
    main_help = help_of(binary, "--help")
    usage, blocks = parse(main_help)
    commands = []
    for kind, body in blocks:
        if kind == "items" and all(not term.startswith("-") for term, _ in body):
            commands = [term for term, _ in body]
            break
    if not commands:
        sys.exit("mkman: `%s --help` lists no commands" % binary)

    version = subprocess.run([binary, "--version"], capture_output=True, text=True,
                             check=True).stdout.split()[1]
    epoch = os.environ.get("SOURCE_DATE_EPOCH")
    day = datetime.datetime.fromtimestamp(int(epoch), datetime.timezone.utc).date() \
        if epoch else datetime.date.today()

    synopsis = [roff_synopsis(u) for u in usage]
    sections = []
    for cmd in commands:
        text = help_of(binary, cmd, "--help")
        if text == main_help:
            continue
        cmd_usage, cmd_blocks = parse(text)
        synopsis.extend(roff_synopsis(u) for u in cmd_usage)
        sections.append('.SS "replyrate %s"\n%s' % (roff_text(cmd), roff_blocks(cmd_blocks)))

    with open(template) as f:
        page = f.read()
    fill = {
        "@VERSION@": roff_text(version),
        "@DATE@": day.isoformat(),
        "@SYNOPSIS@": "\n".join(synopsis),
        "@DESCRIPTION@": roff_blocks(blocks),
        "@COMMANDS@": "\n".join(sections),
    }
    # A character outside ASCII prints as its name where the output device has
    # no glyph for it (groff -Tascii without man-db's fallbacks): "<section sign>".
    wide = sorted(set(re.findall(r"\\\[u([0-9A-F]{4,6})\]", "".join(fill.values()))))
    fill["@FALLBACKS@\n"] = "".join(
        ".if !c\\[u%s] .char \\[u%s] <%s>\n" % (u, u, unicodedata.name(chr(int(u, 16)), "?").lower())
        for u in wide)
    for key, value in fill.items():
        if key not in page:
            sys.exit("mkman: %s has no %s" % (template, key))
        page = page.replace(key, value)
    with open(output + ".tmp", "w") as f:
        f.write(page)
    os.replace(output + ".tmp", output)


if __name__ == "__main__":
    main()
