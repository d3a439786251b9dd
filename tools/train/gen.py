"""Synthetic data for the tiny SmolVLM shipped in models/tiny-smolvlm.

Four tasks, each with one fixed prompt:

    reading   "Read the text."              -> the 3-10 characters of [A-Z0-9] in the image
    colour    "What color is the shape?"    -> red | green | blue | yellow | purple | orange
    shape     "What shape is this?"         -> circle | square | triangle
    count     "How many shapes are there?"  -> 1..5 (non-overlapping shapes)

Item `index` of seed `seed` is a pure function of (seed, index): it draws from
numpy.random.default_rng([seed, index]), so any item can be rebuilt on its own and the training
stream (seeds below EVAL_SEED_MIN) never meets an evaluation set (seed 9001 and up).

    tools/train/gen --seed 9001 --count 500 --out /work/tiny-train/eval-9001

writes DIR/000000.png ... and DIR/labels.jsonl ({"image", "prompt", "answer"} per line). The
folder is built next to DIR and renamed into place, so a finished DIR is always complete.
Needs Debian's python3 with python3-pil and python3-numpy.
"""
from __future__ import annotations

import argparse
import json
import math
import os
import shutil
import string
import sys
import tempfile
from typing import Any

import numpy as np
from PIL import Image, ImageDraw, ImageFont

FONT_DIR = "/usr/share/fonts/truetype/dejavu"
FONTS = (
    "DejaVuSans.ttf",
    "DejaVuSans-Bold.ttf",
    "DejaVuSansMono.ttf",
    "DejaVuSansMono-Bold.ttf",
    "DejaVuSerif.ttf",
    "DejaVuSerif-Bold.ttf",
)
ALPHABET = string.ascii_uppercase + string.digits
READING_FONTS = ("DejaVuSansMono.ttf", "DejaVuSansMono-Bold.ttf")  # monospace: 0 is dotted, O is not
LONGEST_EDGE_PX = 192  # the model's size.longest_edge: reading canvases are laid out for it
MIN_CAP_PX = 20.0  # DejaVu Sans Mono: advance = 0.602 / 0.729 * cap >= 16 px (one token width)

PROMPTS = {
    "reading": "Read the text.",
    "colour": "What color is the shape?",
    "shape": "What shape is this?",
    "count": "How many shapes are there?",
}
TASKS = tuple(PROMPTS)
EVAL_SEED_MIN = 9001  # seeds >= this are evaluation data; training never uses them

# Well separated hues; each drawn with a little per-channel jitter.
COLOURS = {
    "red": (215, 35, 35),
    "green": (35, 165, 55),
    "blue": (40, 70, 215),
    "yellow": (240, 210, 30),
    "purple": (135, 45, 175),
    "orange": (245, 135, 25),
}
SHAPES = ("circle", "square", "triangle")

_font_cache: dict[tuple[str, int], ImageFont.FreeTypeFont] = {}


def font(name: str, size: int) -> ImageFont.FreeTypeFont:
    key = (name, size)
    if key not in _font_cache:
        _font_cache[key] = ImageFont.truetype(os.path.join(FONT_DIR, name), size)
    return _font_cache[key]


def item_rng(seed: int, index: int) -> np.random.Generator:
    return np.random.default_rng([seed, index])


def luma(rgb: tuple[int, int, int]) -> float:
    return 0.299 * rgb[0] + 0.587 * rgb[1] + 0.114 * rgb[2]


def random_rgb(rng: np.random.Generator) -> tuple[int, int, int]:
    return tuple(int(v) for v in rng.integers(0, 256, size=3))  # type: ignore[return-value]


# --------------------------------------------------------------------------------------------
# Reading
# --------------------------------------------------------------------------------------------


def make_reading(rng: np.random.Generator) -> tuple[Image.Image, str, list[tuple[float, float]]]:
    """One line of text in DejaVu Sans Mono (regular or bold) on a canvas of aspect 3:1 to 4.5:1,
    which the 192-pixel longest edge turns into one row of three 64-pixel tiles (plus the global
    image). In that 192-pixel frame the capital height is 20-30 pixels (at most what lets the line
    fit), the line sits at a random place, and the canvas itself is drawn at 1-2x that scale, so
    the processor's down-sampling varies too. Also returns each character's horizontal span
    (advance box) as fractions of the image width.

    The smallest capital height (MIN_CAP_PX) gives an advance of at least 16 pixels, the width of
    one image token (two 8-pixel patches), so no two character centres share a token column."""
    n = int(rng.integers(3, 11))
    text = "".join(ALPHABET[int(k)] for k in rng.integers(0, len(ALPHABET), size=n))
    aspect = float(rng.uniform(3.0, 4.5))
    scale = float(rng.uniform(1.0, 2.0))  # canvas pixels per pixel of the 192-wide frame
    name = READING_FONTS[int(rng.integers(len(READING_FONTS)))]
    # DejaVu Sans Mono: advance 0.602 em, capital height 0.729 em
    frame_h = LONGEST_EDGE_PX / aspect
    cap_max = min(30.0, 0.92 * LONGEST_EDGE_PX / n / 0.602 * 0.729, 0.8 * frame_h)
    cap = float(rng.uniform(min(MIN_CAP_PX, cap_max), cap_max))
    f = font(name, max(8, int(round(cap / 0.729 * scale))))
    w = int(round(LONGEST_EDGE_PX * scale))
    h = int(round(w / aspect))
    left, top, right, bottom = f.getbbox(text)
    tw, th = right - left, bottom - top
    x0 = float(rng.uniform(0, max(0.0, w - tw))) - left
    y0 = float(rng.uniform(0, max(0.0, h - th))) - top
    # Dark text on a light background, hues free: every channel of the text is darker than the
    # same channel of the background, so strokes always have the same polarity.
    bg = tuple(int(v) for v in rng.integers(160, 256, size=3))
    fg = tuple(int(v) for v in rng.integers(0, 97, size=3))
    im = Image.new("RGB", (w, h), bg)
    ImageDraw.Draw(im).text((x0, y0), text, font=f, fill=fg)
    edges = [x0 + f.getlength(text[:k]) for k in range(len(text) + 1)]
    spans = [(edges[k] / w, edges[k + 1] / w) for k in range(len(text))]
    return im, text, spans


# --------------------------------------------------------------------------------------------
# Shapes
# --------------------------------------------------------------------------------------------


def shape_canvas(rng: np.random.Generator) -> tuple[int, int]:
    """Landscape or portrait canvas with aspect 2.4:1 .. 4:1 (1x3, 2x3, 3x1 or 3x2 tiles)."""
    long_side = int(rng.integers(140, 281))
    short = int(round(long_side / rng.uniform(2.4, 4.0)))
    return (long_side, short) if rng.random() < 0.7 else (short, long_side)


def background(rng: np.random.Generator) -> tuple[int, int, int]:
    """A neutral (grey-ish) background, light most of the time."""
    level = int(rng.integers(185, 256)) if rng.random() < 0.75 else int(rng.integers(0, 70))
    tint = rng.integers(-12, 13, size=3)
    return tuple(int(np.clip(level + t, 0, 255)) for t in tint)  # type: ignore[return-value]


def jitter(rgb: tuple[int, int, int], rng: np.random.Generator, amount: int = 22) -> tuple[int, int, int]:
    return tuple(int(np.clip(c + rng.integers(-amount, amount + 1), 0, 255)) for c in rgb)  # type: ignore


def draw_shape(draw: ImageDraw.ImageDraw, kind: str, cx: float, cy: float, r: float, fill, rng) -> None:
    """circle of radius r, axis-aligned square of half side ~0.85 r, triangle inscribed in r."""
    if kind == "circle":
        draw.ellipse((cx - r, cy - r, cx + r, cy + r), fill=fill)
    elif kind == "square":
        s = 0.85 * r
        draw.rectangle((cx - s, cy - s, cx + s, cy + s), fill=fill)
    else:
        turn = float(rng.uniform(-0.25, 0.25)) + (math.pi if rng.random() < 0.25 else 0.0)
        pts = [
            (cx + r * math.sin(turn + k * 2 * math.pi / 3), cy - r * math.cos(turn + k * 2 * math.pi / 3))
            for k in range(3)
        ]
        draw.polygon(pts, fill=fill)


def place(rng: np.random.Generator, w: int, h: int, radii: list[float], gap: float) -> list[tuple[float, float]] | None:
    """Rejection-sample centres so that bounding circles keep `gap` pixels apart."""
    out: list[tuple[float, float]] = []
    for r in radii:
        for _ in range(200):
            x = float(rng.uniform(r + 2, w - r - 2))
            y = float(rng.uniform(r + 2, h - r - 2))
            if all(math.hypot(x - a, y - b) >= r + rb + gap for (a, b), rb in zip(out, radii)):
                out.append((x, y))
                break
        else:
            return None
    return out


def make_single_shape(rng: np.random.Generator) -> tuple[Image.Image, str, str]:
    w, h = shape_canvas(rng)
    kind = SHAPES[int(rng.integers(len(SHAPES)))]
    colour = list(COLOURS)[int(rng.integers(len(COLOURS)))]
    short = min(w, h)
    r = min(float(rng.uniform(0.22, 0.45)) * short, (short - 4) / 2)
    im = Image.new("RGB", (w, h), background(rng))
    (cx, cy), = place(rng, w, h, [r], 0) or [(w / 2, h / 2)]
    draw_shape(ImageDraw.Draw(im), kind, cx, cy, r, jitter(COLOURS[colour], rng), rng)
    return im, kind, colour


def make_count(rng: np.random.Generator) -> tuple[Image.Image, str, list[tuple[float, float]], list[float]]:
    """1-5 non-overlapping shapes; also returns their centres as fractions of width and height
    and their radii as fractions of the short side."""
    n = int(rng.integers(1, 6))
    while True:
        w, h = shape_canvas(rng)
        short = min(w, h)
        radii = [float(rng.uniform(0.12, 0.22)) * short for _ in range(n)]
        centres = place(rng, w, h, radii, gap=0.08 * short)
        if centres is not None:
            break
    im = Image.new("RGB", (w, h), background(rng))
    draw = ImageDraw.Draw(im)
    names = list(COLOURS)
    for (cx, cy), r in zip(centres, radii):
        kind = SHAPES[int(rng.integers(len(SHAPES)))]
        colour = COLOURS[names[int(rng.integers(len(names)))]]
        draw_shape(draw, kind, cx, cy, r, jitter(colour, rng), rng)
    return im, str(n), [(cx / w, cy / h) for cx, cy in centres], [r / short for r in radii]


# --------------------------------------------------------------------------------------------
# Items
# --------------------------------------------------------------------------------------------


def make_item(seed: int, index: int, task: str | None = None, weights: dict[str, float] | None = None):
    """-> (PIL RGB image, prompt, answer, task). `task` None: drawn from `weights` (default: the
    four tasks in turn, index % 4)."""
    return make_item_info(seed, index, task, weights)[:4]


def make_item_info(seed: int, index: int, task: str | None = None, weights: dict[str, float] | None = None):
    """make_item plus a dict of layout facts (reading: "spans", the characters' horizontal extents
    as fractions of the width; count: "centres", the shapes' centres as fractions of width and
    height, and "radii", as fractions of the short side), which training uses for auxiliary losses
    (and research/tiny-smolvlm/count_report.py for its error analysis)."""
    rng = item_rng(seed, index)
    if task is None:
        if weights is None:
            task = TASKS[index % len(TASKS)]
        else:
            p = np.array([weights[t] for t in TASKS], dtype=np.float64)
            task = TASKS[int(rng.choice(len(TASKS), p=p / p.sum()))]
    info: dict[str, Any] = {}
    if task == "reading":
        im, answer, info["spans"] = make_reading(rng)
    elif task == "colour":
        im, _, answer = make_single_shape(rng)
    elif task == "shape":
        im, answer, _ = make_single_shape(rng)
    elif task == "count":
        im, answer, info["centres"], info["radii"] = make_count(rng)
    else:
        raise ValueError(f"unknown task {task!r}")
    return im, PROMPTS[task], answer, task, info


def write_set(seed: int, count: int, out: str) -> None:
    out = os.path.abspath(out)
    parent = os.path.dirname(out)
    os.makedirs(parent, exist_ok=True)
    tmp = tempfile.mkdtemp(prefix=".gen-", dir=parent)
    try:
        lines = []
        for i in range(count):
            im, prompt, answer, _ = make_item(seed, i)
            name = f"{i:06d}.png"
            im.save(os.path.join(tmp, name), format="PNG", optimize=False)
            lines.append(json.dumps({"image": name, "prompt": prompt, "answer": answer}, ensure_ascii=False))
        with open(os.path.join(tmp, "labels.jsonl"), "w", encoding="utf-8", newline="\n") as f:
            f.write("\n".join(lines) + ("\n" if lines else ""))
        os.chmod(tmp, 0o755)
        if os.path.exists(out):
            shutil.rmtree(out)
        os.rename(tmp, out)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(
        prog="tools/train/gen", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--seed", type=int, required=True, help="data seed (>= 9001: evaluation sets)")
    ap.add_argument("--count", type=int, required=True, help="number of items")
    ap.add_argument("--out", required=True, help="output folder (replaced if it exists)")
    try:
        args = ap.parse_args(argv)
    except SystemExit as e:  # argparse already printed usage + message
        return 2 if e.code else 0
    if args.seed < 0:
        print("gen: --seed must be >= 0", file=sys.stderr)
        return 2
    if args.count < 1 or args.count > 1_000_000:
        print("gen: --count must be between 1 and 1000000", file=sys.stderr)
        return 2
    if os.path.exists(args.out) and not os.path.isdir(args.out):
        print(f"gen: --out {args.out!r} exists and is not a folder", file=sys.stderr)
        return 2
    write_set(args.seed, args.count, args.out)
    print(f"wrote {args.count} items (seed {args.seed}) to {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
