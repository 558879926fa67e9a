"""Command line: `python -m synthetic_panel --out data/raw [--scale 1] [--seed 20220601] [--mess 1.0] [--waves 3]
[--municipalities sample|all] [--udi-from YYYY-MM-DD] [--w1-return-share 0.25]` (see `--help`)."""
from __future__ import annotations

import argparse
import json
import sys

from synthetic_panel import config
from synthetic_panel.generate import MUNICIPALITY_POOLS, W1_DELIMITERS, W1_ENCODINGS, generate


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
    parser.add_argument("--waves", type=int, default=3,
                        help=f"number of waves, 1-{config.MAX_WAVES}: waves 4.. are w4_2025, w5_2026, ... in the w3 "
                             "SPSS layout, fielded each autumn; earlier waves' files stay byte-identical (default 3)")
    parser.add_argument("--municipalities", choices=MUNICIPALITY_POOLS, default="sample",
                        help="where respondents live: the generator's 26-municipality sample, or all of Norway's "
                             "municipalities (more in the big ones) (default sample)")
    parser.add_argument("--udi-from", metavar="YYYY-MM-DD", default=None,
                        help="first UDI snapshot folder to write: a history that starts late, as on a new "
                             "installation (default: all, from 2022-04-05)")
    parser.add_argument("--w1-return-share", type=float, default=None, metavar="SHARE",
                        help="share of w1 respondents who plan to return as soon as the war ends, e.g. 0.65 "
                             "(the stay share is kept at 0.20 where it fits; default 0.25, the published figure)")
    parser.add_argument("--force", action="store_true",
                        help="overwrite survey/ and udi/ even if the folder looks like a real delivery (no _truth/)")
    args = parser.parse_args(argv)
    try:
        summary = generate(args.out, scale=args.scale, seed=args.seed, mess=args.mess,
                           w1_encoding=args.w1_encoding, w1_delimiter=args.w1_delimiter, force=args.force,
                           waves=args.waves, municipalities=args.municipalities, udi_from=args.udi_from,
                           w1_return_share=args.w1_return_share)
    except ValueError as error:
        parser.error(str(error))
    print(json.dumps(summary, indent=2, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
