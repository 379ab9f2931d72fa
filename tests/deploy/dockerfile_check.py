#!/usr/bin/env python3
"""Checks deploy/docker/Dockerfile offline, where no container engine runs.

  dockerfile_check.py SOURCE_DIR WORK_DIR

What it proves, on this Debian 12 machine:
  - shape: a build stage FROM debian:12, a final stage FROM debian:12-slim, a numeric
    non-root USER that the stage creates, an exec-form ENTRYPOINT;
  - every package either stage installs is a Debian 12 package;
  - the build stage works: its commands after `COPY . .` run here, in a copy of the
    repository's files less what .dockerignore leaves out, with every cmake -D
    option used, and install the files the final stage copies;
  - the build stage installs what that build used: every tool and library CMake
    found (its cache's FILEPATH entries) comes from a package the stage installs,
    from one of their dependencies, or from the base image;
  - the final stage installs what the binary needs: each shared library ldd reports
    for the binary built above comes from a package the stage names or from the
    dependencies of those packages (or the base image); each library the binary
    links directly from a package the stage names (or the base image); and the
    stage names no package beyond those, except the ones in EXTRA_RUNTIME;
  - each command the image's RUNs and deploy/k8s's scripts run is in the base image
    or the packages the stage installs;
  - .dockerignore leaves the build trees and the benchmark data out of the context.
Exit 0 when all hold; 1, with one line a problem, when any does not.
"""
import os
import re
import shlex
import shutil
import subprocess
import sys

# Runtime packages the binary links nothing from, and why the image has them.
EXTRA_RUNTIME = {
    "tzdata": "the job's IANA time zones (TZif files under /usr/share/zoneinfo)",
    "ca-certificates": "the system CAs librdkafka verifies the brokers' TLS certificates with",
}
# Paths the context must leave out (.dockerignore), one sample file for each.
CONTEXT_EXCLUDES = ["build/CMakeCache.txt", "build-asan/replyrate", "bench/data/day.pb.zst",
                    "deploy/kafka/.cache/x.jar"]
# Commands deploy/k8s runs in the image besides replyrate (nightly.yaml's script).
IMAGE_COMMANDS = ["sh", "date"]

problems = []


def problem(msg):
    problems.append(msg)


def run(cmd, **kw):
    return subprocess.run(cmd, capture_output=True, text=True, **kw)


# ---- the Dockerfile ----------------------------------------------------------

def instructions(text):
    """[(line, INSTRUCTION, arguments)] with continuations joined and comments out."""
    out, buf, start = [], "", 0
    for n, raw in enumerate(text.splitlines(), 1):
        line = raw.strip()
        if not buf and (not line or line.startswith("#")):
            continue
        if buf and line.startswith("#"):  # a comment inside a continued instruction
            continue
        if not buf:
            start = n
        if line.endswith("\\"):
            buf += line[:-1] + " "
            continue
        buf += line
        word, _, rest = buf.partition(" ")
        out.append((start, word.upper(), rest.strip()))
        buf = ""
    return out


def stages(instrs):
    """[{'from': image, 'name': alias, 'instrs': [...]}]"""
    result = []
    for ins in instrs:
        if ins[1] == "FROM":
            words = ins[2].split()
            name = words[2] if len(words) == 3 and words[1].upper() == "AS" else None
            result.append({"from": words[0], "name": name, "line": ins[0], "instrs": []})
        elif result:
            result[-1]["instrs"].append(ins)
    return result


def apt_packages(stage):
    """The packages of the stage's `apt-get install` commands."""
    pkgs = []
    for _, word, args in stage["instrs"]:
        if word != "RUN":
            continue
        for cmd in re.split(r"&&|;|\|\|", args):
            toks = shlex.split(cmd)
            while toks and "=" in toks[0]:  # VAR=value prefixes
                toks.pop(0)
            if len(toks) >= 2 and toks[0] == "apt-get" and "install" in toks:
                after = toks[toks.index("install") + 1:]
                pkgs += [t for t in after if not t.startswith("-")]
    return pkgs


# ---- Debian's package database -------------------------------------------------

def dpkg_db():
    """{package: (in the base image, [first alternative of each dependency])}, {virtual: package}"""
    res = run(["dpkg-query", "-W", "-f",
               "${Package}\t${db:Status-Abbrev}\t${Essential}\t${Pre-Depends}\t${Depends}\t${Provides}"
               "\t${Priority}\n"])
    db, provides = {}, {}

    def names(field):
        out = []
        for dep in filter(None, (d.strip() for d in field.split(","))):
            first = dep.split("|")[0].strip()
            out.append(re.split(r"[\s:(]", first)[0])
        return out

    for line in res.stdout.splitlines():
        pkg, status, essential, pre, dep, prov, prio = (line.split("\t") + [""] * 7)[:7]
        if not status.startswith("ii"):
            continue
        db[pkg] = (essential == "yes" or prio == "required", names(pre) + names(dep))
        for p in names(prov):
            provides.setdefault(p, pkg)
    return db, provides


def closure(roots, db, provides):
    seen, todo = set(), list(roots)
    while todo:
        p = todo.pop()
        p = p if p in db else provides.get(p, p)
        if p in seen:
            continue
        seen.add(p)
        todo += db.get(p, (False, []))[1]
    return seen


def owner(path):
    """The Debian package that owns a file, trying the paths /usr-merge gives it."""
    cands = [path, os.path.realpath(path)]
    for c in list(cands):
        for a, b in (("/lib/", "/usr/lib/"), ("/bin/", "/usr/bin/"), ("/sbin/", "/usr/sbin/"),
                     ("/lib64/", "/usr/lib64/")):
            if c.startswith(a):
                cands.append(b + c[len(a):])
            elif c.startswith(b):
                cands.append(a + c[len(b):])
    for c in cands:
        res = run(["dpkg-query", "-S", c])
        if res.returncode == 0:
            for line in res.stdout.splitlines():
                pkgs, _, f = line.partition(": ")
                if f == c and not pkgs.startswith("diversion"):
                    return pkgs.split(",")[0].split(":")[0].strip()
    return None


def known_package(pkg):
    if run(["dpkg-query", "-W", pkg]).returncode == 0:
        return True
    res = run(["apt-cache", "show", "--no-all-versions", pkg])
    return res.returncode == 0 and "Package: " + pkg in res.stdout


# ---- .dockerignore -------------------------------------------------------------

def ignore_patterns(src):
    path = os.path.join(src, ".dockerignore")
    pats = []
    if not os.path.exists(path):
        return pats
    for line in open(path):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        neg = line.startswith("!")
        line = os.path.normpath(line[1:] if neg else line).lstrip("/")
        rx, i = "", 0
        while i < len(line):
            c = line[i]
            if line.startswith("**/", i):
                rx, i = rx + "(.*/)?", i + 3
            elif line.startswith("**", i):
                rx, i = rx + ".*", i + 2
            elif c == "*":
                rx, i = rx + "[^/]*", i + 1
            elif c == "?":
                rx, i = rx + "[^/]", i + 1
            else:
                rx, i = rx + re.escape(c), i + 1
        pats.append((re.compile("^" + rx + "$"), neg))
    return pats


def ignored(rel, pats):
    """As the engine's matcher: the last pattern matching the path or a parent wins."""
    parts = rel.split("/")
    prefixes = ["/".join(parts[:i]) for i in range(1, len(parts) + 1)]
    out = False
    for rx, neg in pats:
        if any(rx.match(p) for p in prefixes):
            out = not neg
    return out


def context_files(src):
    res = run(["git", "-C", src, "ls-files", "-z"])
    if res.returncode == 0 and res.stdout:
        return [f for f in res.stdout.split("\0") if f and os.path.isfile(os.path.join(src, f))]
    files = []
    for root, dirs, names in os.walk(src):
        dirs[:] = [d for d in dirs if d != ".git"]
        files += [os.path.relpath(os.path.join(root, n), src) for n in names]
    return files


# ---- the checks ----------------------------------------------------------------

def main():
    src, work = os.path.abspath(sys.argv[1]), os.path.abspath(sys.argv[2])
    dockerfile = os.path.join(src, "deploy/docker/Dockerfile")
    st = stages(instructions(open(dockerfile).read()))
    if len(st) != 2:
        problem(f"expected two stages (build, image), found {len(st)}")
        return
    build, final = st
    if build["from"] != "debian:12" or not build["name"]:
        problem(f"line {build['line']}: the build stage must be FROM debian:12 AS NAME")
    if final["from"] != "debian:12-slim":
        problem(f"line {final['line']}: the image must be FROM debian:12-slim")

    db, provides = dpkg_db()
    # debian:12(-slim) is Debian's minimal base: the Essential and required
    # packages and apt, with their dependencies (debootstrap --variant=minbase).
    base = closure([p for p, (minbase, _) in db.items() if minbase] + ["apt"], db, provides)

    build_pkgs, final_pkgs = apt_packages(build), apt_packages(final)
    for name, pkgs in (("build stage", build_pkgs), ("image", final_pkgs)):
        if not pkgs:
            problem(f"the {name} installs no package (no apt-get install found)")
        for p in pkgs:
            if not known_package(p):
                problem(f"the {name} installs {p}: not a Debian 12 package here "
                        "(or apt's lists are missing: apt-get update)")

    # --- the commands the image's RUNs and deploy/k8s's scripts use are in it
    have = closure(final_pkgs, db, provides) | base
    words = set(IMAGE_COMMANDS)
    for _, word, args in final["instrs"]:
        if word == "RUN":
            for cmd in re.split(r"&&|;|\|\|?", args):
                toks = [t for t in shlex.split(cmd) if "=" not in t or t.startswith("-")]
                if toks:
                    words.add(toks[0])
    for w in sorted(words):
        path = shutil.which(w)
        pkg = owner(path) if path else None
        if pkg is None or pkg not in have:
            problem(f"the image runs {w}, which neither debian:12-slim nor its packages "
                    f"have{' (here it is from ' + pkg + ')' if pkg else ''}")

    # --- the final stage's user and entry point
    users = [a for _, w, a in final["instrs"] if w == "USER"]
    uid = users[-1].split(":")[0] if users else ""
    if not uid.isdigit() or uid == "0":
        problem(f"the image's USER must be a numeric uid other than 0 (runAsNonRoot), not {uid!r}")
    elif not any(w == "RUN" and re.search(rf"useradd\b.*--uid {uid}\b", a) for _, w, a in final["instrs"]):
        problem(f"the image runs as uid {uid} but creates no such user (useradd --uid {uid})")
    entry = [a for _, w, a in final["instrs"] if w == "ENTRYPOINT"]
    entry_bin = None
    if not entry or not entry[-1].startswith("["):
        problem("the image needs an exec-form ENTRYPOINT [\"/path/to/replyrate\"]")
    else:
        import json
        entry_bin = json.loads(entry[-1])[0]

    # --- the build stage's commands, here, in the context .dockerignore leaves
    pats = ignore_patterns(src)
    for sample in CONTEXT_EXCLUDES:
        if not ignored(sample, pats):
            problem(f".dockerignore does not leave {sample} out of the build context")
    ctx, root = os.path.join(work, "ctx"), os.path.join(work, "root")
    shutil.rmtree(work, ignore_errors=True)
    os.makedirs(ctx)
    for f in context_files(src):
        if not ignored(f, pats):
            os.makedirs(os.path.dirname(os.path.join(ctx, f)), exist_ok=True)
            shutil.copy2(os.path.join(src, f), os.path.join(ctx, f), follow_symlinks=False)
    copied = False
    env = dict(os.environ, DESTDIR=root)
    for _, word, args in build["instrs"]:
        if word == "COPY":
            if args.split() != [".", "."]:
                problem(f"build stage: this check knows `WORKDIR DIR` + `COPY . .`, not COPY {args}")
                return
            copied = True
        elif word == "RUN" and copied:
            res = run(["sh", "-c", args], cwd=ctx, env=env)
            log = res.stdout + res.stderr
            if res.returncode != 0:
                problem(f"build stage: `{args}` fails here:\n{log[-2000:]}")
                return
            if "Manually-specified variables were not used" in log:
                problem("build stage: cmake did not use some -D option (a misspelt name?):\n"
                        + log[log.index("Manually-specified"):][:400])
    cache = os.path.join(ctx, "build", "CMakeCache.txt")
    if not copied or not os.path.exists(cache):
        problem("build stage: no `COPY . .` followed by a CMake build into build/")
        return

    # --- what the build used comes from the build stage's packages
    have = closure(build_pkgs, db, provides) | base
    for line in open(cache):
        m = re.match(r"([A-Za-z0-9_.+-]+):FILEPATH=(/.+)$", line.strip())
        if not m or not os.path.exists(m.group(2)):
            continue
        if m.group(2).startswith(ctx):
            continue
        pkg = owner(m.group(2))
        if pkg is None:
            problem(f"build stage: CMake used {m.group(2)} ({m.group(1)}), which no Debian package "
                    "installed here owns: the image's build would not have it")
        elif pkg not in have:
            problem(f"build stage: CMake used {m.group(2)} ({m.group(1)}) from {pkg}, "
                    "which the build stage does not install")

    # --- the files the final stage copies out of the build stage
    binary = None
    for _, word, args in final["instrs"]:
        if word != "COPY" or not args.startswith("--from="):
            continue
        frm, s, d = args.split()
        if frm != "--from=" + build["name"]:
            problem(f"image: COPY {args}: copies from {frm[7:]}, not the build stage")
        if not os.path.exists(root + s):
            problem(f"image: COPY {args}: the build stage installs no {s}")
        elif d == entry_bin:
            binary = root + s
    if entry_bin and binary is None:
        problem(f"image: ENTRYPOINT {entry_bin} is not a file copied from the build stage")
        return
    if binary is None:
        return
    res = run([binary, "--version"])
    if res.returncode != 0 or not res.stdout.startswith("replyrate "):
        problem(f"the built binary does not run: {res.stdout}{res.stderr}")

    # --- the final stage installs what the binary needs
    named = set(final_pkgs)
    have = closure(named, db, provides) | base
    needed = set()
    res = run(["ldd", binary])
    for line in res.stdout.splitlines():
        m = re.search(r"(?:=>\s*)?(/\S+)\s+\(0x", line)
        if not m:
            continue  # linux-vdso: the kernel's
        pkg = owner(m.group(1))
        if pkg is None:
            problem(f"the binary links {m.group(1)}, which no Debian package owns")
            continue
        needed.add(pkg)
        if pkg not in have:
            problem(f"the binary links {m.group(1)} from {pkg}, which the image does not install")
    res = run(["objdump", "-p", binary])
    direct = re.findall(r"NEEDED\s+(\S+)", res.stdout)
    libs = {l.split()[0]: l.split("=>")[1].split()[0] for l in run(["ldd", binary]).stdout.splitlines()
            if "=>" in l and "/" in l}
    for lib in direct:
        pkg = owner(libs.get(lib, "")) if lib in libs else None
        if pkg and pkg not in named and pkg not in base:
            problem(f"the binary links {lib} ({pkg}) directly: name {pkg} in the image's "
                    "apt-get install, not only through another package's dependencies")
    for p in sorted(named - needed - set(EXTRA_RUNTIME)):
        problem(f"the image installs {p}, which the binary does not need "
                "(remove it, or say why in EXTRA_RUNTIME of this check)")
    if not problems:
        print(f"dockerfile: the build stage ran here; the image's {len(named)} packages cover "
              f"the {len(needed)} packages of the binary's libraries")


if __name__ == "__main__":
    if not os.path.exists("/etc/debian_version") or \
            not open("/etc/debian_version").read().startswith("12"):
        print("dockerfile: not Debian 12: the package names cannot be checked here")
        sys.exit(77)
    main()
    for p in problems:
        print("FAIL: " + p)
    sys.exit(1 if problems else 0)
