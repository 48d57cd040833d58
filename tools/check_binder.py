"""Check what Binder would build: the Dockerfile that `jupyter-repo2docker --no-build --debug .`
prints must install the pinned requirements and the sgdsim package, for the pinned Python.

Usage (as `make check-binder` runs it): python3 tools/check_binder.py DOCKERFILE REPO2DOCKER_LOG
"""

import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def main(dockerfile: str, log: str) -> int:
    text = Path(dockerfile).read_text()
    log_text = Path(log).read_text()
    runtime = (ROOT / "runtime.txt").read_text().strip()          # e.g. python-3.11
    version = runtime.removeprefix("python-")
    reqs = (ROOT / "requirements.txt").read_text().splitlines()
    problems = []
    if not text.lstrip().startswith(("FROM", "#")) or "FROM " not in text:
        problems.append("repo2docker printed no Dockerfile")
    if not re.search(r'pip install --no-cache-dir -r "?requirements\.txt"?', text):
        problems.append("the Dockerfile does not pip install -r requirements.txt")
    if "-e ." not in [r.strip() for r in reqs] and not re.search(
            r"pip install --no-cache-dir \.\s*$", text, re.M):
        problems.append("neither requirements.txt nor the Dockerfile installs sgdsim")
    if not re.search(rf"python[=-]{re.escape(version)}\b", text + log_text):
        problems.append(f"repo2docker did not pick Python {version} from runtime.txt")
    if not re.search(r"^RUN \./postBuild\s*$", text, re.M):
        problems.append("the Dockerfile does not run postBuild (jupyter trust of the chapters)")
    unpinned = [r for r in reqs if r.strip() and not r.startswith(("#", "-e")) and "==" not in r]
    if unpinned:
        problems.append(f"requirements.txt has unpinned lines: {unpinned}")
    for p in problems:
        print(f"check-binder: {p}", file=sys.stderr)
    if not problems:
        steps = [l.strip() for l in text.splitlines() if "pip install" in l]
        print(f"check-binder: OK (Python {version}); the Dockerfile runs:")
        for s in steps:
            print(f"  {s}")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:3]))
