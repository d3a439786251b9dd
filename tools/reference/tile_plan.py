"""Reference tile-plan generator for vlmkit's SmolVLM / Idefics3 image geometry.

An independent, standard-library-only Python transcription of the Hugging Face
SmolVLM / Idefics3 image-processor *geometry* (stage-1 resize to the longest
edge, stage-2 resize to tile multiples, the crop grid) and of the per-image
prompt expansion. It exists only to produce test fixtures for the TypeScript
port; it is never imported or executed at runtime.

    /usr/bin/python3 tools/reference/tile_plan.py --out test/fixtures/tile_plans.json
    /usr/bin/python3 tools/reference/tile_plan.py --check-properties
"""
from __future__ import annotations

import argparse
import json
import math
import os
import random
import tempfile
from typing import Any, Callable

MAX_SIZE = 4096
GENERATOR = "tools/reference/tile_plan.py"
CONFIGS: dict[str, dict[str, int]] = {
    "smolvlm-512": {"longestEdge": 2048, "tileSize": 512, "imageSeqLen": 64},
    "smolvlm-384": {"longestEdge": 1536, "tileSize": 384, "imageSeqLen": 81},
    "idefics3-364": {"longestEdge": 1456, "tileSize": 364, "imageSeqLen": 169},
    "odd-1000-300": {"longestEdge": 1000, "tileSize": 300, "imageSeqLen": 9},
}
HAND_PICKED: list[tuple[int, int]] = [
    (640, 480), (480, 640), (1000, 333), (333, 1000), (386, 386), (512, 512),
    (2048, 100), (100, 2048), (300, 900), (4000, 3000), (1, 1), (1, 4096),
    (4096, 1), (2, 3), (8000, 7999), (7999, 8000), (513, 512), (511, 512),
    (12345, 678), (678, 12345), (1, 2), (3, 1),
]
Size = tuple[int, int]


def stage1_detail(w: int, h: int, longest: int) -> tuple[int, int, bool]:
    """Resize so the longest side is `longest` (even short side), capped at MAX_SIZE.
    Returns (width, height, adjusted) where adjusted = capped or clamped to 1."""
    aspect = w / h
    if w >= h:
        nw, nh = longest, int(longest / aspect)
        nh += nh % 2
    else:
        nh, nw = longest, int(longest * aspect)
        nw += nw % 2
    adjusted = nw < 1 or nh < 1
    nh, nw = max(nh, 1), max(nw, 1)
    aspect2 = nw / nh
    if nw >= nh and nw > MAX_SIZE:
        nw, nh, adjusted = MAX_SIZE, int(MAX_SIZE / aspect2), True
    elif nh > nw and nh > MAX_SIZE:
        nh, nw, adjusted = MAX_SIZE, int(MAX_SIZE * aspect2), True
    adjusted = adjusted or nw < 1 or nh < 1
    return max(nw, 1), max(nh, 1), adjusted


def stage2(w1: int, h1: int, tile: int) -> Size:
    """Grow the stage-1 size to multiples of the tile size, keeping the aspect."""
    aspect = w1 / h1
    if w1 >= h1:
        w2 = math.ceil(w1 / tile) * tile
        h2 = math.ceil(int(w2 / aspect) / tile) * tile
    else:
        h2 = math.ceil(h1 / tile) * tile
        w2 = math.ceil(int(h2 * aspect) / tile) * tile
    return w2, h2


def plan(w: int, h: int, cfg: dict[str, int], split: bool) -> dict[str, Any]:
    tile = cfg["tileSize"]
    w1, h1, _ = stage1_detail(w, h, cfg["longestEdge"])
    rows = cols = 0
    resized: Size = (tile, tile)
    if split:
        w2, h2 = stage2(w1, h1, tile)
        if h2 > tile or w2 > tile:
            rows, cols = (h2 - tile) // tile + 1, (w2 - tile) // tile + 1
            if rows > 0:
                resized = (w2, h2)
    tiles = rows * cols + 1
    return {
        "width": w, "height": h, "split": split,
        "stage1": {"width": w1, "height": h1},
        "resized": {"width": resized[0], "height": resized[1]},
        "rows": rows, "cols": cols, "tiles": tiles,
        "imageTokens": tiles * cfg["imageSeqLen"],
    }


def expand_prompt(rows: int, cols: int, n: int) -> str:
    img, fake = "<image>" * n, "<fake_token_around_image>"
    if rows == 0 and cols == 0:
        return f"{fake}<global-img>{img}{fake}"
    out = ""
    for r in range(1, rows + 1):
        out += "".join(f"{fake}<row_{r}_col_{c}>{img}" for c in range(1, cols + 1)) + "\n"
    return out + f"\n{fake}<global-img>{img}{fake}"


def log_uniform(rng: random.Random) -> int:
    return max(1, round(math.exp(rng.uniform(0.0, math.log(100000)))))


def fixture_sizes() -> list[Size]:
    rng = random.Random(20261121)
    sizes = list(HAND_PICKED)
    for _ in range(300):
        w = rng.randint(1, 20000)
        sizes.append((w, rng.randint(1, 20000)))
    for _ in range(100):
        w = log_uniform(rng)
        sizes.append((w, log_uniform(rng)))
    return sizes


PROMPT_CASES: list[tuple[int, int, int, bool]] = [  # (longestEdge, width, height, split); T=512, N=2
    (2048, 640, 480, False), (2048, 1, 1, False), (2048, 640, 480, True),
    (2048, 480, 640, True), (2048, 512, 512, True), (2048, 2048, 100, True),
    (2048, 100, 2048, True), (2048, 1000, 333, True),
    # With L=2048, T=512 the long side always gives 4 tiles; 1x2 / 2x1 need L=1024.
    (1024, 2048, 100, True), (1024, 100, 2048, True), (1024, 512, 512, True),
    (1024, 4000, 3000, False),
]


def build() -> dict[str, Any]:
    sizes = fixture_sizes()
    cases = [dict(plan(w, h, cfg, split), config=name)
             for name, cfg in CONFIGS.items() for w, h in sizes for split in (True, False)]
    prompts = []
    for longest, w, h, split in PROMPT_CASES:
        cfg = {"longestEdge": longest, "tileSize": 512, "imageSeqLen": 2}
        p = plan(w, h, cfg, split)
        prompts.append(dict(cfg, width=w, height=h, split=split, rows=p["rows"], cols=p["cols"],
                            expansion=expand_prompt(p["rows"], p["cols"], 2)))
    configs = {k: dict(v, maxSize=MAX_SIZE) for k, v in CONFIGS.items()}
    return {"generator": GENERATOR, "configs": configs, "cases": cases, "prompts": prompts}


def write_atomic(path: str, text: str) -> None:
    directory = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(dir=directory, prefix=".tile_plans.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as f:
            f.write(text)
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)  # mkstemp creates 0600; use normal file permissions
        os.replace(tmp, path)
    except BaseException:
        os.unlink(tmp)
        raise


def check_properties() -> None:
    """Report (never assert) property violations over fixture sizes plus 20,000 extra sizes."""
    rng = random.Random(424242)  # extra sizes: 10,000 uniform [1, 20000] then 10,000 log-uniform
    extra = [(rng.randint(1, 20000), rng.randint(1, 20000)) for _ in range(10000)]
    extra += [(log_uniform(rng), log_uniform(rng)) for _ in range(10000)]
    sizes = list(dict.fromkeys(fixture_sizes() + extra))
    key: Callable[[dict[str, Any]], tuple] = lambda p: (
        p["stage1"]["width"], p["stage1"]["height"], p["resized"]["width"],
        p["resized"]["height"], p["rows"], p["cols"])
    names = ["p1 scale-invariance (k=2..7)", "p2 tiles <= ceil(L/T)^2+1", "p3 resized == cols*T x rows*T",
             "p4 max(stage1) == L", "p5 stage1 short side even (unless capped/clamped)",
             "p6 transpose swaps rows/cols", "p6b transpose swaps stage1 w/h (info)",
             "p7 rows, cols <= ceil(L/T)"]
    checked = {n: 0 for n in names}
    bad: dict[str, list[str]] = {n: [] for n in names}

    def record(name: str, ok: bool, example: Callable[[], str]) -> None:
        checked[name] += 1
        if not ok:
            bad[name].append(example())

    for cname, cfg in CONFIGS.items():
        L, T = cfg["longestEdge"], cfg["tileSize"]
        cap = math.ceil(L / T)
        for w, h in sizes:
            for split in (True, False):
                p = plan(w, h, cfg, split)
                tag = f"{cname} {w}x{h} split={split}"
                s1w, s1h = p["stage1"]["width"], p["stage1"]["height"]
                kbad = [k for k in range(2, 8) if key(plan(w * k, h * k, cfg, split)) != key(p)]
                record(names[0], not kbad, lambda: f"{tag} k={kbad[0]}: {key(p)} vs "
                       f"{key(plan(w * kbad[0], h * kbad[0], cfg, split))}")
                record(names[1], p["tiles"] <= cap * cap + 1, lambda: f"{tag} tiles={p['tiles']}")
                if split and p["rows"] > 0:
                    record(names[2], (p["resized"]["width"], p["resized"]["height"])
                           == (p["cols"] * T, p["rows"] * T),
                           lambda: f"{tag} resized={p['resized']} rows={p['rows']} cols={p['cols']}")
                record(names[3], max(s1w, s1h) == L, lambda: f"{tag} stage1={s1w}x{s1h}")
                _, _, adjusted = stage1_detail(w, h, L)
                record(names[4], min(s1w, s1h) % 2 == 0 or adjusted,
                       lambda: f"{tag} stage1={s1w}x{s1h}")
                t = plan(h, w, cfg, split)
                record(names[5], (t["rows"], t["cols"]) == (p["cols"], p["rows"]),
                       lambda: f"{tag}: rows x cols {p['rows']}x{p['cols']}, stage1 {s1w}x{s1h}; "
                       f"transposed {t['rows']}x{t['cols']}, stage1 {t['stage1']['width']}x{t['stage1']['height']}")
                record(names[6], (t["stage1"]["width"], t["stage1"]["height"]) == (s1h, s1w),
                       lambda: f"{tag}: stage1 {s1w}x{s1h}; transposed stage1 "
                       f"{t['stage1']['width']}x{t['stage1']['height']}")
                record(names[7], p["rows"] <= cap and p["cols"] <= cap,
                       lambda: f"{tag} rows={p['rows']} cols={p['cols']}")
    print(f"sizes: {len(sizes)} distinct ({len(fixture_sizes())} fixture + {len(extra)} extra, duplicates"
          f" dropped) x {len(CONFIGS)} configs x split on/off")
    for n in names:
        print(f"{n}: {len(bad[n])} violations / {checked[n]} checked")
        for ex in bad[n][:4]:
            print(f"    e.g. {ex}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", help="path of the JSON fixture to write")
    ap.add_argument("--check-properties", action="store_true", help="print a property report")
    args = ap.parse_args()
    if not args.out and not args.check_properties:
        ap.error("nothing to do: pass --out and/or --check-properties")
    if args.out:
        write_atomic(args.out, json.dumps(build(), sort_keys=True, indent=1) + "\n")
    if args.check_properties:
        check_properties()


if __name__ == "__main__":
    main()
