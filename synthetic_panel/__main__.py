"""Command line: `python -m synthetic_panel --out data/raw --scale 1 --seed 20220601 [--mess 1.0]`."""
from __future__ import annotations

import argparse
import json
import sys

from synthetic_panel.generate import W1_DELIMITERS, W1_ENCODINGS, generate


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m synthetic_panel",
                                     description="Write a synthetic raw delivery (survey waves, UDI snapshots, _truth).")
    parser.add_argument("--out", required=True, help="output folder, e.g. data/raw (survey/, udi/, _truth/ are replaced)")
    parser.add_argument("--scale", type=float, default=1.0, help="multiplies sample sizes (default 1)")
    parser.add_argument("--seed", type=int, default=20220601, help="random seed (default 20220601)")
    parser.add_argument("--mess", type=float, default=1.0, help="multiplies every mess rate; 0 = clean (default 1)")
    parser.add_argument("--w1-encoding", choices=W1_ENCODINGS, default="utf-8-sig",
                        help="encoding of the w1 CSV; cp1252 writes English oblast labels (default utf-8-sig)")
    parser.add_argument("--w1-delimiter", choices=W1_DELIMITERS, default=";", help="w1 CSV delimiter (default ;)")
    parser.add_argument("--force", action="store_true",
                        help="overwrite survey/ and udi/ even if the folder looks like a real delivery (no _truth/)")
    args = parser.parse_args(argv)
    try:
        summary = generate(args.out, scale=args.scale, seed=args.seed, mess=args.mess,
                           w1_encoding=args.w1_encoding, w1_delimiter=args.w1_delimiter, force=args.force)
    except ValueError as error:
        parser.error(str(error))
    print(json.dumps(summary, indent=2, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
