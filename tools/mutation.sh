#!/usr/bin/env bash
# Mutation testing of llmcalc's core modules with mutmut: which code changes do the tests
# fail to notice? Dev-time only: not a dependency of the package, not run by CI.
#
# Usage: bash tools/mutation.sh [REV]      (REV defaults to HEAD); a full run takes ~75 min here
# Clones REV into a temporary directory (the work tree is never touched), creates or
# reuses the virtual environment $MUTVENV (default /tmp/mutvenv), writes mutmut's
# configuration into the clone's pyproject.toml only, runs mutmut with one child process,
# then prints a summary and the surviving mutants. The clone is kept for `mutmut show NAME`
# (run from inside it); its path is printed at the end.
set -euo pipefail

rev=${1:-HEAD}
repo=$(git -C "$(dirname "$0")" rev-parse --show-toplevel)
venv=${MUTVENV:-/tmp/mutvenv}
mutmut_version=3.8.1
work=$(mktemp -d /tmp/llmcalc-mutation.XXXXXX)

git clone -q "$repo" "$work"
git -C "$work" checkout -q --detach "$(git -C "$repo" rev-parse --verify "$rev^{commit}")"
cd "$work"

if [ ! -x "$venv/bin/mutmut" ]; then
    python3 -m venv "$venv"
    "$venv/bin/pip" install -q --upgrade pip
    "$venv/bin/pip" install -q "mutmut==$mutmut_version"
fi
# A regular (non-editable) install of this revision: the mutated copy in mutants/ comes
# first on sys.path, and the tests that start a subprocess find a working llmcalc.
"$venv/bin/pip" install -q '.[test]' && "$venv/bin/pip" install -q --force-reinstall --no-deps .

# The core modules (those of them present at REV); MUTATE="terms kvcache" narrows the run.
only=()
for name in ${MUTATE:-terms params kvcache memory spec compare explain scenario schema text rows}; do
    if [ -f "llmcalc/$name.py" ]; then only+=("\"llmcalc/$name.py\""); fi
done
# mutmut runs the tests inside mutants/: copy every other top-level file the tests read.
copy=()
for entry in $(git ls-tree --name-only HEAD); do
    case $entry in llmcalc|tests|pyproject.toml) ;; *) copy+=("\"$entry\"") ;; esac
done
cat >>pyproject.toml <<EOF

[tool.mutmut]
source_paths = ["llmcalc"]
only_mutate = [$(IFS=,; echo "${only[*]}")]
also_copy = [$(IFS=,; echo "${copy[*]}")]
EOF

start=$(date +%s)
"$venv/bin/mutmut" run --max-children 1 >mutmut-run.log 2>&1 || { tail -40 mutmut-run.log; exit 1; }
seconds=$(( $(date +%s) - start ))

"$venv/bin/mutmut" results --all true >results.txt
echo "mutmut $("$venv/bin/mutmut" --version | awk '{print $NF}') on $(git rev-parse --short HEAD): ${seconds}s wall"
# Score = killed / (total - "no tests" - "skipped"): mutants in code that no test runs,
# or that were not run at all, are left out; timeouts and suspicious count as not killed.
python3 - results.txt <<'EOF'
import collections, re, sys
rows = [re.match(r"\s*(\S+): (.+)", line).groups() for line in open(sys.argv[1]) if line.strip()]
by_module = collections.defaultdict(collections.Counter)
for name, status in rows:
    by_module[name.rsplit(".", 1)[0]][status] += 1
def line(label, c):
    total = sum(c.values())
    base = total - c["no tests"] - c["skipped"]
    score = f"{100 * c['killed'] / base:.1f}%" if base else "n/a"
    return (f"{label:20} total {total:4}  killed {c['killed']:4}  survived {c['survived']:4}  "
            f"timeout {c['timeout']:3}  suspicious {c['suspicious']:3}  no-tests {c['no tests']:3}  "
            f"skipped {c['skipped']:3}  score {score}")
overall = collections.Counter()
for module in sorted(by_module):
    print(line(module, by_module[module]))
    overall.update(by_module[module])
print(line("ALL", overall))
others = set(overall) - {"killed", "survived", "timeout", "suspicious", "no tests", "skipped"}
if others:
    print("other statuses:", {s: overall[s] for s in others})
print("\nnot killed:")
for name, status in rows:
    if status != "killed":
        print(f"  {name}: {status}")
EOF
echo "clone kept at $work (cd there and run: $venv/bin/mutmut show NAME)"
