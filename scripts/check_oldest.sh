#!/usr/bin/env bash
# Install the OLDEST versions that pyproject.toml allows (its lower bounds, resolved by uv's
# --resolution lowest-direct) into a scratch environment and run the unit tests there, so the declared
# bounds are ones that were actually tested. It fails before installing anything when a lower bound is not
# the version that gets installed (a bound naming a release that does not exist or cannot be installed with
# the others is not a tested bound: raise it to the version printed). Linux x86-64 resolves the
# tensorflow-cpu line; the `tensorflow` line for other platforms is kept at the same bound by hand.
# Lint and the unit tests (tests/), not the notebooks. Needs PyPI; takes 5-10 minutes; writes only build/oldest/.
# Usage: scripts/check_oldest.sh [pytest arguments]   (default: the Makefile's -n auto --maxprocesses 4 --dist loadfile)
set -euo pipefail
cd "$(dirname "$0")/.."
work=build/oldest
rm -rf "$work"
mkdir -p "$work"

python3 -m venv "$work/tools"
"$work/tools/bin/pip" install --quiet uv
uv="$work/tools/bin/uv"

"$uv" pip compile --quiet --resolution lowest-direct --python-version 3.11 pyproject.toml --extra dev \
    -o "$work/oldest.txt"

echo "Oldest allowed versions of the direct dependencies (declared lower bound -> installed):"
python3 - "$work/oldest.txt" <<'EOF'
import re, sys, tomllib

project = tomllib.load(open("pyproject.toml", "rb"))["project"]
declared = project["dependencies"] + [d for extra in project["optional-dependencies"].values() for d in extra]
pinned = dict(re.findall(r"^([A-Za-z0-9_.-]+)==(\S+)", open(sys.argv[1]).read(), re.M))
pinned = {name.lower().replace("_", "-"): version for name, version in pinned.items()}

def release(version):
    parts = [int(p) for p in re.match(r"[0-9.]+", version).group(0).strip(".").split(".")]
    while len(parts) > 1 and parts[-1] == 0:
        parts.pop()
    return parts

untested = []
for requirement in declared:
    name, bound = re.match(r"\s*([A-Za-z0-9_.-]+)\s*>=\s*([0-9][0-9.]*)", requirement).groups()
    name = name.lower().replace("_", "-")
    if name not in pinned:  # a platform-marker line that does not apply here (tensorflow off Linux x86-64)
        continue
    ok = release(pinned[name]) == release(bound)
    print(f"  {name}>={bound} -> {pinned[name]}{'' if ok else '   <- NOT the declared bound'}")
    if not ok:
        untested.append(f"{name}: declared >={bound}, but the oldest installable is {pinned[name]}")
if untested:
    sys.exit("Lower bounds that would not be tested as declared; raise them in pyproject.toml and "
             "environment.yml:\n  " + "\n  ".join(untested))
EOF

"$uv" venv --quiet --seed --python 3.11 "$work/env"   # --seed: the install test calls pip
"$uv" pip install --quiet --python "$work/env/bin/python" -r "$work/oldest.txt"
"$uv" pip install --quiet --python "$work/env/bin/python" --no-deps -e .

"$work/env/bin/ruff" check .   # the lint step of make test, with the oldest ruff
if [ "$#" -eq 0 ]; then
    set -- -n auto --maxprocesses 4 --dist loadfile
fi
"$work/env/bin/python" -m pytest tests -q -p no:cacheprovider "$@"
