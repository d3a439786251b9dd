"""Counting report: where an exported model's counting errors fall.

    /usr/bin/python3 research/tiny-smolvlm/count_report.py --model-dir models/tiny-smolvlm --seed 9700 --count 1000

Renders --count counting items of --seed (gen.make_item_info with task "count"; nothing is written
to disk unless --out is given), answers them greedily with predict.py's plain-torch model (the
folder's ONNX weights) and prints the accuracy by true count and the answers given, then, for each
count of two or more shapes, the accuracy by three layout facts:

  area      the shapes' total area, sum of (radius / short side)^2;
  gap       how close the closest two shapes come in the global image (the whole image squeezed to
            one tile): the gap between their bounding boxes there, in pixels, along the axis where
            it is largest (negative: the boxes overlap on both axes);
  straddle  how many shapes' bounding boxes cross a border between split tiles.

--out writes one JSON line per item with those facts, the answer and the prediction.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from typing import Any

import torch

# train.py, gen.py and predict.py live in tools/train/ (what rebuilds the shipped model).
REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(REPO, "tools", "train"))
import predict  # noqa: E402
import train as T  # noqa: E402

BINS = {
    "area": [0.0, 0.06, 0.09, 0.12, 0.2, 1.0],
    "gap": [-99.0, 1.0, 3.0, 99.0],
    "straddle": [0, 1, 2, 3, 6],
}


def layout_facts(width: int, height: int, rows: int, cols: int, centres, radii, tile: int) -> dict[str, Any]:
    """The report's layout facts of one counting image (centres as fractions of width and height,
    radii as fractions of the short side; rows x cols split tiles; global image tile x tile)."""
    short = min(width, height)
    boxes = []  # per shape: (x0, x1, y0, y1) as fractions of width and height
    for (x, y), r in zip(centres, radii):
        rx, ry = r * short / width, r * short / height
        boxes.append((x - rx, x + rx, y - ry, y + ry))
    gap = 99.0
    for i in range(len(boxes)):
        for j in range(i + 1, len(boxes)):
            a, b = boxes[i], boxes[j]
            gx = max(a[0], b[0]) - min(a[1], b[1])
            gy = max(a[2], b[2]) - min(a[3], b[3])
            gap = min(gap, max(gx, gy) * tile)
    straddle = sum(
        any(x0 < k / cols < x1 for k in range(1, cols)) or any(y0 < k / rows < y1 for k in range(1, rows))
        for x0, x1, y0, y1 in boxes
    )
    return {"area": sum(r * r for r in radii), "gap": gap, "straddle": straddle}


def report(items: list[dict[str, Any]]) -> list[str]:
    lines = []
    right = sum(i["right"] for i in items)
    lines.append(f"counting: {right}/{len(items)} right ({right / len(items):.1%})")
    for n in range(1, 6):
        sel = [i for i in items if i["n"] == n]
        if not sel:
            continue
        answers: dict[str, int] = {}
        for i in sel:
            answers[i["prediction"]] = answers.get(i["prediction"], 0) + 1
        given = ", ".join(f"{a!r}: {k}" for a, k in sorted(answers.items()))
        lines.append(f"{n} shapes: {sum(i['right'] for i in sel)}/{len(sel)} right; answers {given}")
        if n < 2:
            continue
        for fact, edges in BINS.items():
            parts = []
            for lo, hi in zip(edges[:-1], edges[1:]):
                b = [i for i in sel if lo <= i[fact] < hi]
                if b:
                    parts.append(f"[{lo}, {hi}) {sum(i['right'] for i in b)}/{len(b)}")
            lines.append(f"  by {fact}: " + "; ".join(parts))
    return lines


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model-dir", default=os.path.join(T.REPO, "models", "tiny-smolvlm"))
    ap.add_argument("--seed", type=int, required=True, help="item seed (9001 and up are never trained on)")
    ap.add_argument("--count", type=int, default=1000, help="number of counting items")
    ap.add_argument("--out", help="per-item JSONL to write")
    ap.add_argument("--threads", type=int, default=1)
    args = ap.parse_args()
    if args.count < 1:
        raise SystemExit("count_report: --count must be at least 1")
    torch.set_num_threads(args.threads)

    folder = predict.FolderModel(args.model_dir)
    tile = folder.pre["max_image_size"]["longest_edge"]
    items = []
    for index in range(args.count):
        im, prompt, answer, _, info = T.gen.make_item_info(args.seed, index, task="count")
        prediction, rows, cols = folder.answer(im, prompt)
        prediction = prediction.strip()
        facts = layout_facts(im.width, im.height, rows, cols, info["centres"], info["radii"], tile)
        items.append({"index": index, "n": int(answer), "prediction": prediction, "right": prediction == answer,
                      "width": im.width, "height": im.height, "rows": rows, "cols": cols, **facts})
    if args.out:
        tmp = args.out + ".tmp"
        with open(tmp, "w", encoding="utf-8", newline="\n") as f:
            for i in items:
                f.write(json.dumps(i) + "\n")
        os.replace(tmp, args.out)
    print("\n".join(report(items)))


if __name__ == "__main__":
    main()
