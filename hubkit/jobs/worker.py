"""``python -m hubkit.jobs.worker JOB_ID``: the process every executor starts for a job."""
from __future__ import annotations

import logging
import sys

# Papermill validates notebooks with jsonschema, which compiles an optional URI
# grammar on import (about 1.3 s of CPU per job); no notebook schema uses it.
sys.modules.setdefault("rfc3987_syntax", None)  # type: ignore[arg-type]

from hubkit.jobs.runner import run_job


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1 or not args[0].isdigit():
        print("usage: python -m hubkit.jobs.worker JOB_ID", file=sys.stderr)
        return 2
    logging.basicConfig(level=logging.INFO, stream=sys.stdout,
                        format="%(asctime)s %(name)s %(levelname)s %(message)s")
    outcome = run_job(int(args[0]))
    print(f"job {outcome.job_id} {outcome.state}" + (f": {outcome.error}" if outcome.error else ""), flush=True)
    return 0 if outcome.state == "succeeded" else 1


if __name__ == "__main__":
    sys.exit(main())
