#!/usr/bin/env bash
# Install the OLDEST versions that pyproject.toml allows (its lower bounds, resolved by uv's
# --resolution lowest-direct) into a scratch environment and run the unit tests there, so the declared
# bounds are ones that were actually tested. Needs PyPI; takes 5-10 minutes; writes only build/oldest/.
# Usage: scripts/check_oldest.sh [pytest arguments]
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
"$uv" venv --quiet --seed --python 3.11 "$work/env"   # --seed: the install test calls pip
"$uv" pip install --quiet --python "$work/env/bin/python" -r "$work/oldest.txt"
"$uv" pip install --quiet --python "$work/env/bin/python" --no-deps -e .

echo "Oldest allowed versions of the direct dependencies:"
direct=$(python3 -c 'import re, tomllib; p = tomllib.load(open("pyproject.toml", "rb"))["project"]
deps = p["dependencies"] + [d for extra in p["optional-dependencies"].values() for d in extra]
print("|".join(sorted({re.match(r"[A-Za-z0-9_.-]+", d).group(0).lower() for d in deps})))')
grep -E "^($direct)==" "$work/oldest.txt" | sed 's/^/  /'

"$work/env/bin/python" -m pytest tests -q -p no:cacheprovider "$@"
