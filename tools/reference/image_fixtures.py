"""Reference image fixtures for vlmkit's image decoding and PIL-equivalent resizing.

Pillow is the oracle: the TypeScript decoder / resizer / Idefics3 image pipeline
is tested against what Pillow produces here. This script is only a fixture
generator; nothing imports or runs it at runtime.

It writes, under --out (default test/fixtures/images, relative to the repo root):

  sources/    small synthetic PNG and JPEG inputs (RGB, RGBA, L, LA, P, P with
              tRNS, 16-bit RGB, baseline / progressive / greyscale / 4:4:4 JPEG,
              and orient_1..8.jpg: one picture stored under each EXIF orientation)
  decoded/    each source as Pillow decodes it: exif_transpose, then RGB with any
              alpha composited on white (greyscale replicated), as an RGB PNG
  resized/    Image.resize(..., LANCZOS | BICUBIC) of decoded images
  processor/  raw uint8 HWC RGB pixels of the Idefics3 image-processor output
              (tiles row-major, then the global image) for a tiny L=64/T=32
              configuration; the real L=2048/T=512 configuration is recorded in
              the manifest as a SHA-256 of those bytes only
  bad/        inputs a decoder must reject (truncated, corrupt, empty, GIF,
              a PNG header claiming 20000x20000)
  manifest.json  describes all of the above

Output is deterministic (fixed seeds, no timestamps). Run with Debian's Python,
which has Pillow 9.4.0 and numpy:

    /usr/bin/python3 tools/reference/image_fixtures.py [--out DIR]

After writing, every file is reopened and checked (sizes, modes, that Pillow
rejects the bad inputs, that the eight orientations agree).
"""
from __future__ import annotations

import argparse
import hashlib
import io
import json
import math
import os
import struct
import zlib
from typing import Any

import numpy as np
import PIL
from PIL import Image, ImageDraw, ImageFilter, ImageFont, ImageOps

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
DEFAULT_OUT = os.path.join("test", "fixtures", "images")
FONT_DIR = "/usr/share/fonts/truetype/dejavu"
SUBDIRS = ("sources", "decoded", "resized", "processor", "bad")
LANCZOS, BICUBIC = Image.Resampling.LANCZOS, Image.Resampling.BICUBIC
FILTERS = {"lanczos": LANCZOS, "bicubic": BICUBIC}


def font(name: str, size: int) -> ImageFont.FreeTypeFont:
    return ImageFont.truetype(os.path.join(FONT_DIR, name), size)


def rng(seed: int) -> np.random.Generator:
    return np.random.default_rng(seed)


def ramp(n: int) -> np.ndarray:
    """0..255 across n samples, as floats."""
    return np.linspace(0.0, 255.0, n)


def to_u8(a: np.ndarray) -> np.ndarray:
    return np.clip(np.rint(a), 0, 255).astype(np.uint8)


# --------------------------------------------------------------------------
# Source images
# --------------------------------------------------------------------------

def make_rgb_gradient() -> Image.Image:
    w, h = 200, 120
    x, y = np.meshgrid(ramp(w), ramp(h))
    img = np.stack([x, y, 255.0 - (x + y) / 2], axis=-1)
    # A hard-edged band of saturated bars so the gradient also has sharp steps.
    img[50:70, :] = np.array([[255, 0, 0], [0, 255, 0], [0, 0, 255], [255, 255, 0], [0, 0, 0]])[
        (np.arange(w) // 9) % 5]
    img[:, 150] = 255.0  # single-pixel white line
    return Image.fromarray(to_u8(img), "RGB")


def make_rgb_noise() -> Image.Image:
    w, h = 97, 131  # odd sizes on purpose
    im = Image.fromarray(rng(1).integers(0, 256, (h, w, 3), dtype=np.uint8), "RGB")
    d = ImageDraw.Draw(im)
    d.ellipse((10, 15, 60, 70), fill=(250, 40, 20))
    d.rectangle((50, 80, 90, 120), fill=(20, 30, 200), outline=(255, 255, 255), width=2)
    d.line((0, 130, 96, 0), fill=(0, 0, 0), width=1)
    d.polygon([(70, 5), (95, 40), (45, 40)], fill=(30, 220, 60))
    return im


def make_text_lines() -> Image.Image:
    im = Image.new("RGB", (220, 60), (255, 255, 255))
    d = ImageDraw.Draw(im)
    d.text((4, 2), "vlmkit: The quick brown fox", font=font("DejaVuSans.ttf", 15), fill=(0, 0, 0))
    d.text((4, 22), "jumps over 0123456789 dogs.", font=font("DejaVuSerif.ttf", 13), fill=(0, 0, 0))
    d.text((4, 41), "iIl1|!  mono: {x=42}", font=font("DejaVuSansMono.ttf", 12), fill=(0, 0, 0))
    return im


def make_checker() -> Image.Image:
    y, x = np.mgrid[0:64, 0:64]
    one = (x + y) % 2  # 1-px checkerboard
    three = (x // 3 + y // 3) % 2  # 3-px checkerboard
    img = np.zeros((64, 64, 3), np.uint8)
    bw = lambda m: np.repeat((m * 255)[..., None], 3, axis=-1)
    img[:32, :32] = bw(one)[:32, :32]
    img[:32, 32:] = bw(three)[:32, 32:]
    # Coloured bottom half: channels differ, so per-channel mistakes show.
    red_blue = np.where(one[..., None] == 1, [255, 0, 0], [0, 0, 255])
    green_mag = np.where(three[..., None] == 1, [0, 255, 0], [255, 0, 255])
    img[32:, :32] = red_blue[32:, :32]
    img[32:, 32:] = green_mag[32:, 32:]
    return Image.fromarray(img, "RGB")


def make_rgba_shapes() -> Image.Image:
    w, h = 150, 100
    x, y = np.meshgrid(ramp(w), ramp(h))
    rgb = np.stack([x, 128 + 0 * x, y], axis=-1)
    alpha = np.full((h, w), 255.0)
    # Fully transparent strip over loud noise: the noise must not leak through.
    rgb[:, :25] = rng(2).integers(0, 256, (h, 25, 3))
    alpha[:, :25] = 0
    alpha[:, 25:75] = np.linspace(0, 255, 50)[None, :]  # alpha ramp
    im = Image.fromarray(np.dstack([to_u8(rgb), to_u8(alpha)]), "RGBA")
    # Plain ImageDraw on RGBA writes pixels (alpha included) without blending.
    d = ImageDraw.Draw(im)
    d.ellipse((60, 10, 120, 70), fill=(255, 0, 0, 128))  # semi-transparent red
    d.rectangle((100, 55, 145, 95), fill=(0, 0, 0, 255))  # opaque black
    d.rectangle((110, 65, 135, 85), fill=(0, 255, 0, 0))  # transparent hole, green underneath
    return im


def make_grey() -> Image.Image:
    w, h = 120, 90
    y, x = np.mgrid[0:h, 0:w]
    r = np.hypot(x - 60, y - 45)
    im = Image.fromarray(to_u8(255 * (0.5 + 0.5 * np.cos(r / 4.0))), "L")
    d = ImageDraw.Draw(im)
    d.rectangle((0, 70, 119, 89), fill=230)
    d.text((3, 72), "grey L 8-bit", font=font("DejaVuSans.ttf", 12), fill=10)
    d.line((0, 0, 119, 69), fill=0)
    return im


def make_grey_alpha() -> Image.Image:
    x, y = np.meshgrid(ramp(80), ramp(80))
    grey = np.where((np.arange(80)[None, :] // 4) % 2 == 0, x, 255 - y)
    alpha = np.full((80, 80), 255.0)
    alpha[:, 40:] = y[:, 40:]  # right half fades in top to bottom
    alpha[20:40, 10:30] = 0  # transparent hole
    alpha[50:70, 10:30] = 100  # constant partial alpha
    return Image.fromarray(np.dstack([to_u8(grey), to_u8(alpha)]), "LA")


PALETTE = [(0, 0, 0), (255, 255, 255), (230, 25, 75), (60, 180, 75), (255, 225, 25),
           (0, 130, 200), (245, 130, 48), (145, 30, 180), (70, 240, 240), (240, 50, 230),
           (128, 128, 128), (128, 0, 0), (0, 0, 128), (170, 255, 195), (128, 128, 0),
           (255, 215, 180)]


def make_palette() -> Image.Image:
    w, h = 100, 70
    y, x = np.mgrid[0:h, 0:w]
    idx = ((x // 7 + y // 5) % 8 + 2).astype(np.uint8)  # diagonal colour stripes
    im = Image.fromarray(idx, "P")
    im.putpalette([c for rgb in PALETTE for c in rgb])
    d = ImageDraw.Draw(im)
    d.ellipse((30, 10, 80, 60), fill=1, outline=0, width=3)
    d.rectangle((5, 45, 25, 65), fill=10)
    d.line((0, 0, 99, 69), fill=11)
    return im


# Per-index alpha for palette_trns.png (tRNS chunk): the diagonal line (11) is
# fully transparent, the disc outline (0) and stripes 2..5 partially, grey box (10) half.
PALETTE_ALPHA = bytes([90, 255, 60, 120, 180, 220] + [255] * 4 + [128, 0] + [255] * 4)


def make_rgb16() -> np.ndarray:
    """16-bit RGB samples (H, W, 3) uint16. Low bytes are noise and high bytes
    sit on rounding boundaries, so 'high byte' vs 'round(v/257)' differ."""
    w, h = 90, 60
    x, y = np.meshgrid(np.linspace(0, 65535, w), np.linspace(0, 65535, h))
    base = np.stack([x, y, 65535 - x], axis=-1)
    noise = rng(3).integers(0, 256, (h, w, 3))
    return np.clip((base // 256) * 256 + noise, 0, 65535).astype(np.uint16)


def png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def encode_png16_rgb(samples: np.ndarray) -> bytes:
    """Pillow 9.4 cannot write 16-bit RGB PNGs, so encode one by hand
    (filter type 0 on every row, big-endian samples)."""
    h, w, _ = samples.shape
    ihdr = struct.pack(">IIBBBBB", w, h, 16, 2, 0, 0, 0)
    rows = samples.astype(">u2").reshape(h, w * 3)  # w*6 bytes per row
    raw = b"".join(b"\x00" + row.tobytes() for row in rows)
    return (PNG_SIGNATURE + png_chunk(b"IHDR", ihdr) + png_chunk(b"IDAT", zlib.compress(raw, 9))
            + png_chunk(b"IEND", b""))


def photo_scene(w: int, h: int, seed: int) -> Image.Image:
    """A soft, photo-like RGB scene: sky gradient, sun, hills, texture, blur."""
    r = rng(seed)
    x, y = np.meshgrid(np.linspace(0, 1, w), np.linspace(0, 1, h))
    sky = np.stack([90 + 100 * y, 140 + 80 * y, 230 - 40 * y + 0 * x], axis=-1)
    im = Image.fromarray(to_u8(sky), "RGB")
    d = ImageDraw.Draw(im)
    d.ellipse((w * 0.65, h * 0.1, w * 0.85, h * 0.1 + w * 0.2), fill=(255, 230, 120))
    for i, colour in enumerate([(60, 120, 50), (40, 90, 40), (90, 70, 40)]):
        base = h * (0.55 + 0.15 * i)
        amp, freq, phase = h * 0.08, 2 + 2 * i, r.uniform(0, 6.28)
        pts = [(xx, base + amp * math.sin(freq * xx / w * 6.28 + phase)) for xx in range(0, w + 1, 4)]
        d.polygon(pts + [(w, h), (0, h)], fill=colour)
    d.rectangle((w * 0.1, h * 0.35, w * 0.3, h * 0.7), fill=(180, 40, 40), outline=(250, 250, 250))
    im = im.filter(ImageFilter.GaussianBlur(0.8))
    grain = r.normal(0, 8, (h, w, 3))
    return Image.fromarray(to_u8(np.asarray(im, dtype=np.float64) + grain), "RGB")


def make_upright_orient() -> Image.Image:
    """Asymmetric 90x60 picture: red marker top-left, a big 'F', a gradient."""
    w, h = 90, 60
    x, _ = np.meshgrid(ramp(w), ramp(h))
    im = Image.fromarray(to_u8(np.stack([0 * x + 40, x * 0.6 + 60, 200 - x * 0.5], axis=-1)), "RGB")
    d = ImageDraw.Draw(im)
    d.rectangle((0, 0, 17, 17), fill=(255, 0, 0))  # the corner marker
    d.rectangle((40, 10, 47, 50), fill=(255, 255, 255))  # 'F' stem
    d.rectangle((40, 10, 70, 17), fill=(255, 255, 255))  # top bar
    d.rectangle((40, 27, 62, 33), fill=(255, 255, 255))  # middle bar
    d.rectangle((80, 50, 89, 59), fill=(0, 0, 0))  # small bottom-right block
    return im


# exif_transpose applies this transform for each orientation; we store the
# inverse so that applying it brings back the upright picture.
EXIF_TRANSFORM = {2: Image.Transpose.FLIP_LEFT_RIGHT, 3: Image.Transpose.ROTATE_180,
                  4: Image.Transpose.FLIP_TOP_BOTTOM, 5: Image.Transpose.TRANSPOSE,
                  6: Image.Transpose.ROTATE_270, 7: Image.Transpose.TRANSVERSE,
                  8: Image.Transpose.ROTATE_90}
INVERSE = {Image.Transpose.ROTATE_90: Image.Transpose.ROTATE_270,
           Image.Transpose.ROTATE_270: Image.Transpose.ROTATE_90}


def stored_for_orientation(upright: Image.Image, n: int) -> Image.Image:
    if n == 1:
        return upright.copy()
    t = EXIF_TRANSFORM[n]
    return upright.transpose(INVERSE.get(t, t))  # the others are self-inverse


def save_bytes(im: Image.Image, fmt: str, **params: Any) -> bytes:
    buf = io.BytesIO()
    im.save(buf, fmt, **params)
    return buf.getvalue()


def build_sources() -> dict[str, bytes]:
    """File name -> encoded bytes, in manifest order."""
    png = lambda im, **kw: save_bytes(im, "PNG", **kw)
    jpeg = lambda im, **kw: save_bytes(im, "JPEG", **kw)
    palette = make_palette()
    out = {
        "rgb_gradient.png": png(make_rgb_gradient()),
        "rgb_noise.png": png(make_rgb_noise()),
        "text_lines.png": png(make_text_lines()),
        "checker.png": png(make_checker()),
        "rgba_shapes.png": png(make_rgba_shapes()),
        "grey.png": png(make_grey()),
        "grey_alpha.png": png(make_grey_alpha()),
        "palette.png": png(palette),
        "palette_trns.png": png(palette, transparency=PALETTE_ALPHA),
        "rgb16.png": encode_png16_rgb(make_rgb16()),
        # Extra shapes for the processor cases: very wide, and smaller than a 32-px tile.
        "wide_strip.png": png(photo_scene(211, 47, 7)),
        "tiny.png": png(make_rgb_noise().resize((23, 17), LANCZOS)),
        "photo_baseline.jpg": jpeg(photo_scene(180, 120, 4), quality=90, subsampling=2,
                                   progressive=False),
        "photo_progressive.jpg": jpeg(photo_scene(160, 160, 5), quality=85, progressive=True),
        "grey.jpg": jpeg(make_grey().resize((100, 100), LANCZOS), quality=90),
        "photo_444.jpg": jpeg(photo_scene(120, 80, 6), quality=92, subsampling=0),
    }
    upright = make_upright_orient()
    for n in range(1, 9):
        stored = stored_for_orientation(upright, n)
        exif = stored.getexif()
        exif[0x0112] = n
        out[f"orient_{n}.jpg"] = jpeg(stored, quality=95, exif=exif.tobytes())
    return out


# --------------------------------------------------------------------------
# Bad inputs
# --------------------------------------------------------------------------

def build_bad(sources: dict[str, bytes]) -> list[tuple[str, bytes, str]]:
    noise_png = sources["rgb_noise.png"]  # noise barely compresses: half the file is mid-IDAT
    jpg = sources["photo_baseline.jpg"]
    garbage = rng(8).integers(0, 256, 300, dtype=np.uint8).tobytes()
    # A real IHDR claiming 20000x20000 RGB, correct CRC, then a tiny IDAT.
    huge = (PNG_SIGNATURE + png_chunk(b"IHDR", struct.pack(">IIBBBBB", 20000, 20000, 8, 2, 0, 0, 0))
            + png_chunk(b"IDAT", zlib.compress(bytes(64))) + png_chunk(b"IEND", b""))
    gif = save_bytes(make_checker().convert("P", palette=Image.Palette.ADAPTIVE, colors=8), "GIF")
    return [
        ("truncated.png", noise_png[: len(noise_png) // 2], "truncated"),
        ("truncated.jpg", jpg[: len(jpg) // 2], "truncated"),
        ("corrupt.png", PNG_SIGNATURE + garbage, "corrupt"),
        ("not_an_image.txt", b"This is plain text, not an image.\n", "unsupported"),  # no known magic
        ("empty.png", b"", "empty"),
        ("fake.gif", gif, "unsupported"),
        ("huge_header.png", huge, "pixel_limit"),
    ]


# --------------------------------------------------------------------------
# Decoding and resizing, the way Pillow / the HF processor do it
# --------------------------------------------------------------------------

def to_rgb(im: Image.Image) -> Image.Image:
    """transformers' convert_to_rgb: every non-RGB mode goes through RGBA and is
    composited on opaque white (greyscale is replicated, alpha 255 is a no-op)."""
    if im.mode == "RGB":
        return im
    rgba = im.convert("RGBA")
    white = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
    return Image.alpha_composite(white, rgba).convert("RGB")


def decode(data: bytes) -> Image.Image:
    with Image.open(io.BytesIO(data)) as im:
        im.load()
        return to_rgb(ImageOps.exif_transpose(im))


def decoded_name(source: str) -> str:
    stem, ext = os.path.splitext(source)
    # grey.png and grey.jpg share a stem; the JPEG one gets a suffix.
    return f"{stem}_jpg.png" if stem == "grey" and ext == ".jpg" else f"{stem}.png"


# (source, width, height, filter); comments give the scale from the decoded size.
RESIZE_CASES: list[tuple[str, int, int, str]] = [
    ("rgb_gradient.png", 100, 60, "lanczos"),  # /2
    ("rgb_gradient.png", 100, 60, "bicubic"),  # /2
    ("rgb_gradient.png", 54, 32, "lanczos"),  # /3.7
    ("rgb_gradient.png", 201, 119, "lanczos"),  # +1 / -1 px
    ("checker.png", 8, 8, "lanczos"),  # /8
    ("checker.png", 8, 8, "bicubic"),  # /8
    ("checker.png", 96, 96, "bicubic"),  # x1.5
    ("checker.png", 275, 275, "lanczos"),  # x4.3
    ("checker.png", 63, 65, "bicubic"),  # -1 / +1 px, odd
    ("text_lines.png", 110, 30, "lanczos"),  # /2
    ("text_lines.png", 59, 16, "bicubic"),  # /3.7
    ("text_lines.png", 28, 8, "lanczos"),  # /8
    ("text_lines.png", 440, 120, "lanczos"),  # x2
    ("text_lines.png", 1, 1, "lanczos"),  # to a single pixel
    ("rgb_noise.png", 146, 197, "lanczos"),  # x1.5, odd source
    ("rgb_noise.png", 12, 16, "bicubic"),  # /8
    ("rgb_noise.png", 97, 131, "lanczos"),  # identity
    ("rgb_noise.png", 97, 131, "bicubic"),  # identity
    ("rgb_noise.png", 1, 131, "lanczos"),  # 1 px wide, height unchanged
    ("rgba_shapes.png", 300, 50, "lanczos"),  # x2 wide, /2 tall
    ("rgba_shapes.png", 41, 27, "bicubic"),  # /3.7
    ("grey.png", 60, 45, "lanczos"),  # /2
    ("grey.png", 120, 1, "bicubic"),  # 1 px tall, width unchanged
    ("grey_alpha.png", 344, 344, "bicubic"),  # x4.3
    ("grey_alpha.png", 40, 160, "bicubic"),  # /2 wide, x2 tall
    ("palette.png", 27, 19, "lanczos"),  # /3.7
    ("palette_trns.png", 150, 35, "lanczos"),  # x1.5 wide, /2 tall
    ("photo_baseline.jpg", 360, 240, "lanczos"),  # x2
    ("photo_baseline.jpg", 22, 15, "lanczos"),  # /8
    ("photo_baseline.jpg", 270, 180, "bicubic"),  # x1.5
    ("photo_progressive.jpg", 240, 240, "lanczos"),  # x1.5
    ("photo_progressive.jpg", 1, 1, "bicubic"),  # single pixel
    ("photo_444.jpg", 333, 17, "lanczos"),  # x2.8 wide, /4.7 tall, odd
    ("grey.jpg", 43, 430, "bicubic"),  # /2.3 wide, x4.3 tall
    ("rgb16.png", 45, 30, "lanczos"),  # /2
    ("orient_6.jpg", 31, 97, "bicubic"),  # upright 90x60: /2.9 wide, x1.6 tall
    ("wide_strip.png", 907, 202, "lanczos"),  # x4.3
]


def resize_id(source: str, w: int, h: int, flt: str) -> str:
    return f"{decoded_name(source)[:-4]}_{w}x{h}_{flt}"


# --------------------------------------------------------------------------
# Idefics3 image processor (transformers Idefics3ImageProcessor, PIL path)
# --------------------------------------------------------------------------

def fit_longest_edge(w: int, h: int, longest: int) -> tuple[int, int]:
    """_resize_output_size_rescale_to_max_len (the 4096 cap never triggers here).
    Note transformers uses aspect = w / h in both branches (h * aspect when tall)."""
    aspect = w / h
    if w >= h:
        w2, h2 = longest, int(longest / aspect)
        h2 += h2 % 2
    else:
        h2, w2 = longest, int(longest * aspect)
        w2 += w2 % 2
    return max(w2, 1), max(h2, 1)


def tile_multiple_size(w: int, h: int, tile: int) -> tuple[int, int]:
    """resize_for_vision_encoder: both sides up to multiples of the tile size."""
    aspect = w / h
    if w >= h:
        w3 = math.ceil(w / tile) * tile
        h3 = math.ceil(int(w3 / aspect) / tile) * tile
    else:
        h3 = math.ceil(h / tile) * tile
        w3 = math.ceil(int(h3 * aspect) / tile) * tile
    return w3, h3


def idefics3_process(im: Image.Image, longest: int, tile: int, split: bool) -> dict[str, Any]:
    im = to_rgb(im)
    step2 = im.resize(fit_longest_edge(im.width, im.height, longest), LANCZOS)
    rows = cols = 0
    if not split:
        frames = [step2.resize((tile, tile), LANCZOS)]
    else:
        step3 = step2.resize(tile_multiple_size(step2.width, step2.height, tile), LANCZOS)
        if step3.width > tile or step3.height > tile:
            rows, cols = step3.height // tile, step3.width // tile
            frames = [step3.crop((c * tile, r * tile, (c + 1) * tile, (r + 1) * tile))
                      for r in range(rows) for c in range(cols)]
            frames.append(step3.resize((tile, tile), LANCZOS))
        else:
            frames = [step3]
    assert all(f.size == (tile, tile) for f in frames)
    return {"resized": step2.size, "rows": rows, "cols": cols,
            "pixels": b"".join(np.asarray(f, dtype=np.uint8).tobytes() for f in frames),
            "images": len(frames)}


PROCESSOR_SOURCES = ["wide_strip.png", "text_lines.png", "rgb_noise.png",
                     "photo_progressive.jpg", "tiny.png", "rgba_shapes.png"]
PROCESSOR_CONFIGS = [(64, 32), (2048, 512)]  # (longest_edge, max_image_size); 64/32 gets bins


# --------------------------------------------------------------------------
# Writing and checking
# --------------------------------------------------------------------------

def write(path: str, data: bytes) -> None:
    with open(path, "wb") as f:
        f.write(data)


def png_bytes(im: Image.Image) -> bytes:
    return save_bytes(im, "PNG")


def clear_outputs(out: str) -> None:
    """Remove files from our own subfolders so renamed fixtures don't linger."""
    for sub in SUBDIRS:
        d = os.path.join(out, sub)
        os.makedirs(d, exist_ok=True)
        for name in os.listdir(d):
            if os.path.isfile(os.path.join(d, name)):
                os.remove(os.path.join(d, name))


def generate(out: str) -> dict[str, Any]:
    clear_outputs(out)
    sources = build_sources()
    decoded: dict[str, Image.Image] = {}
    manifest: dict[str, Any] = {"pil": PIL.__version__, "sources": [], "resize": [],
                                "processor": [], "bad": []}

    for name, data in sources.items():
        write(os.path.join(out, "sources", name), data)
        with Image.open(io.BytesIO(data)) as im:
            info = {"format": im.format.lower(), "mode": im.mode, "width": im.width,
                    "height": im.height, "orientation": im.getexif().get(0x0112)}
        decoded[name] = decode(data)
        dec = "decoded/" + decoded_name(name)
        write(os.path.join(out, dec), png_bytes(decoded[name]))
        manifest["sources"].append({"file": "sources/" + name, **info, "decoded": dec})

    for src, w, h, flt in RESIZE_CASES:
        rid = resize_id(src, w, h, flt)
        write(os.path.join(out, "resized", rid + ".png"),
              png_bytes(decoded[src].resize((w, h), resample=FILTERS[flt])))
        manifest["resize"].append({"id": rid, "source": "decoded/" + decoded_name(src),
                                   "width": w, "height": h, "filter": flt,
                                   "expected": f"resized/{rid}.png"})

    for src in PROCESSOR_SOURCES:
        with Image.open(io.BytesIO(sources[src])) as im:
            im.load()
            for longest, tile in PROCESSOR_CONFIGS:
                for split in (True, False):
                    mode = "split" if split else "nosplit"
                    case = f"{os.path.splitext(src)[0]}_L{longest}_T{tile}_{mode}"
                    r = idefics3_process(im, longest, tile, split)
                    entry = {"case": case, "source": "sources/" + src, "longestEdge": longest,
                             "tileSize": tile, "split": split,
                             "resized": {"width": r["resized"][0], "height": r["resized"][1]},
                             "rows": r["rows"], "cols": r["cols"], "images": r["images"]}
                    if longest <= 64:
                        entry["pixels"] = f"processor/{case}.bin"
                        write(os.path.join(out, entry["pixels"]), r["pixels"])
                    entry["sha256"] = hashlib.sha256(r["pixels"]).hexdigest()
                    manifest["processor"].append(entry)

    for name, data, reason in build_bad(sources):
        write(os.path.join(out, "bad", name), data)
        manifest["bad"].append({"file": "bad/" + name, "reason": reason})

    with open(os.path.join(out, "manifest.json"), "w", encoding="utf-8", newline="\n") as f:
        json.dump(manifest, f, indent=2)
        f.write("\n")
    return manifest


def read(path: str) -> bytes:
    with open(path, "rb") as f:
        return f.read()


def open_loaded(path: str) -> Image.Image:
    """Open and fully decode (Pillow is lazy; errors often surface on load)."""
    im = Image.open(io.BytesIO(read(path)))
    im.load()
    return im


def check(out: str, manifest: dict[str, Any]) -> None:
    """Reopen everything that was written and check it against the manifest."""
    p = lambda rel: os.path.join(out, rel)
    for s in manifest["sources"]:
        im = open_loaded(p(s["file"]))
        assert (im.mode, im.size) == (s["mode"], (s["width"], s["height"])), s
        dec = open_loaded(p(s["decoded"]))
        swap = s["orientation"] in (5, 6, 7, 8)
        assert dec.mode == "RGB" and dec.size == ((im.height, im.width) if swap else im.size), s
    for r in manifest["resize"]:
        im = open_loaded(p(r["expected"]))
        assert (im.mode, im.size) == ("RGB", (r["width"], r["height"])), r
    for c in manifest["processor"]:
        n = c["images"] * c["tileSize"] ** 2 * 3
        assert c["images"] == (c["rows"] * c["cols"] + 1 if c["rows"] else 1), c
        if "pixels" in c:
            data = read(p(c["pixels"]))
            assert len(data) == n and hashlib.sha256(data).hexdigest() == c["sha256"], c
    for b in manifest["bad"]:
        if b["file"].endswith(".gif"):
            assert open_loaded(p(b["file"])).format == "GIF"
            continue
        try:
            open_loaded(p(b["file"]))
        except Exception:  # noqa: BLE001 -- any failure is the expected outcome
            continue
        raise AssertionError(f"Pillow accepted {b['file']}")

    # The eight orientations must all decode to (nearly: JPEG) the same picture.
    upright = np.asarray(make_upright_orient(), dtype=np.int16)
    for n in range(1, 9):
        dec = np.asarray(open_loaded(p(f"decoded/orient_{n}.png")), dtype=np.int16)
        assert dec.shape == upright.shape and np.abs(dec - upright).mean() < 3, n
    # 16-bit PNG: Pillow keeps the high byte of every sample.
    rgb16 = np.asarray(open_loaded(p("decoded/rgb16.png")))
    assert np.array_equal(rgb16, (make_rgb16() >> 8).astype(np.uint8))


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", default=DEFAULT_OUT,
                    help=f"output folder, relative to the repo root (default {DEFAULT_OUT})")
    args = ap.parse_args(argv)
    out = os.path.join(REPO_ROOT, args.out)  # an absolute --out overrides the root
    os.makedirs(out, exist_ok=True)
    manifest = generate(out)
    check(out, manifest)
    print(f"wrote {len(manifest['sources'])} sources, {len(manifest['resize'])} resize cases, "
          f"{len(manifest['processor'])} processor cases, {len(manifest['bad'])} bad inputs to {out}")


if __name__ == "__main__":
    main()
