#!/usr/bin/env bash
# One version for every crate and package. Its one home is `version` in Cargo.toml's
# [workspace.package]; this writes it everywhere else it must appear:
#   scripts/set-version.sh 0.2.0    sets 0.2.0 in Cargo.toml and copies it to every other manifest
#   scripts/set-version.sh          copies Cargo.toml's version to every other manifest
#   scripts/set-version.sh --check  fails, naming the file, when one differs (run by scripts/test.sh)
# The copies: the workspace's grantline-core dependency, bindings-wasm's Cargo.toml (its own
# workspace), the npm packages (bindings-node, bindings-wasm, packaging/npm/server and its
# platform packages) and their lock files, the served OpenAPI document (server/src/openapi.json),
# and Cargo.lock's entries for the workspace's crates. The Python wheels and the Rust crates take
# it from Cargo.toml (maturin's dynamic version, version.workspace).
set -euo pipefail
cd "$(dirname "$0")/.."
exec python3 - "$@" <<'EOF'
import json, re, sys
from pathlib import Path

args = sys.argv[1:]
check = args == ["--check"]
cargo = Path("Cargo.toml")
text = cargo.read_text()
section = re.search(r"(?ms)^\[workspace\.package\]\n.*?(?=^\[|\Z)", text)
current = re.search(r'(?m)^version = "([^"]+)"', section.group(0)).group(1)
version = current if check or not args else args[0]
if not re.fullmatch(r"\d+\.\d+\.\d+(-[0-9A-Za-z.-]+)?", version):
    sys.exit(f"set-version: {version!r} is not a semantic version")

def sub(pattern, path_text, count_min=1):
    new, n = re.subn(pattern, lambda m: m.group(1) + version + m.group(2), path_text)
    if n < count_min:
        raise SystemExit(f"set-version: pattern {pattern!r} not found")
    return new

files = {}
files[cargo] = text[: section.start()] + sub(r'(?m)(^version = ")[^"]+(")', section.group(0)) + text[section.end():]
files[cargo] = sub(r'(grantline-core = \{ path = "core", version = ")[^"]+(")', files[cargo])
wasm = Path("bindings-wasm/Cargo.toml")
files[wasm] = sub(r'(?m)(^version = ")[^"]+(")', wasm.read_text())
for lock in (Path("Cargo.lock"), Path("bindings-wasm/Cargo.lock")):
    files[lock] = re.sub(r'(name = "grantline[-a-z]*"\nversion = ")[^"]+(")',
                         lambda m: m.group(1) + version + m.group(2), lock.read_text())
openapi = Path("server/src/openapi.json")
files[openapi] = sub(r'(?s)("info": \{.*?\n    "version": ")[^"]+(")', openapi.read_text())

def npm(path, edit):
    data = json.loads(path.read_text())
    edit(data)
    files[path] = json.dumps(data, indent=2, ensure_ascii=False) + "\n"

def package(data):
    data["version"] = version
    for name in data.get("optionalDependencies", {}):
        data["optionalDependencies"][name] = version

def lockfile(data):
    data["version"] = version
    data["packages"][""]["version"] = version

for pkg in ("bindings-node", "bindings-wasm", "packaging/npm/server"):
    npm(Path(pkg, "package.json"), package)
    if Path(pkg, "package-lock.json").exists():
        npm(Path(pkg, "package-lock.json"), lockfile)

stale = [str(p) for p, new in files.items() if p.read_text() != new]
if check:
    if stale:
        sys.exit(f"set-version: not at Cargo.toml's version {current}: {', '.join(stale)} (run scripts/set-version.sh)")
    print(f"set-version: every crate and package is at {current}")
else:
    for p in stale:
        Path(p).write_text(files[Path(p)])
    print(f"set-version: {version}" + (f" ({', '.join(stale)})" if stale else " (nothing to change)"))
EOF
