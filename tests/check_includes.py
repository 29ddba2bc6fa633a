#!/usr/bin/env python3
"""The dependency rule of docs/architecture.md, checked on every #include "..." of the sources.

    main -> app -> {tokens, calls, meetings, app_events, transcripts, ops} -> {auth, clients, store} -> http, core

A module includes itself and the modules its row allows, nothing else: core and http never
include each other, a feature never includes another feature or app/, and the lower server
modules never include one another. Exits 1 listing every edge that breaks the rule.
Usage: check_includes.py [source-root]
"""
import pathlib
import re
import sys

LOWER = {"auth", "clients", "store"}
FEATURES = {"tokens", "calls", "meetings", "app_events", "transcripts", "ops"}
ALLOWED = {
    "core": {"core"},
    "http": {"http"},
    **{m: {m, "core", "http"} for m in LOWER},
    "ops": {"ops", "store", "core", "http"},
    **{m: {m, "core", "http"} | LOWER for m in FEATURES - {"ops"}},
    "app": {"app", "core", "http"} | LOWER | FEATURES,
    "main": {"app", "ops", "core", "http"},
}


def module_of(path: str) -> str | None:
    parts = pathlib.PurePosixPath(path).parts
    if not parts:
        return None
    if parts[0] in ("core", "http"):
        return parts[0]
    if parts[0] == "server":
        if len(parts) == 2 and parts[1] == "main.cpp":
            return "main"
        if len(parts) >= 3 and parts[1] in ALLOWED:
            return parts[1]
        return "server (outside any module folder)"
    return None


def main() -> int:
    root = pathlib.Path(sys.argv[1] if len(sys.argv) > 1 else pathlib.Path(__file__).resolve().parent.parent)
    include = re.compile(r'^\s*#\s*include\s+"([^"]+)"', re.M)
    problems, edges = [], 0
    for top in ("core", "http", "server"):
        for f in sorted((root / top).rglob("*")):
            if f.suffix not in (".cpp", ".hpp"):
                continue
            rel = f.relative_to(root).as_posix()
            source = module_of(rel)
            if source not in ALLOWED:
                problems.append(f"{rel}: not in a module folder ({', '.join(sorted(ALLOWED))})")
                continue
            for target_path in include.findall(f.read_text()):
                target = module_of(target_path)
                if target is None:
                    continue  # not ours (tests include nothing here)
                edges += 1
                if target not in ALLOWED[source]:
                    problems.append(f"{rel}: {source} may not include {target_path} ({target})")
    for p in problems:
        print("include rule broken:", p)
    print(f"{edges} includes checked, {len(problems)} broken")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
