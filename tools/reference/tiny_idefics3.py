"""Build the tiny random-weight SmolVLM/Idefics3 folder used by vlmkit's runtime tests.

    /usr/bin/python3 tools/reference/tiny_idefics3.py --out test/fixtures/tiny-idefics3 --seed 7
    /usr/bin/python3 tools/reference/tiny_idefics3.py --out test/fixtures/tiny-idefics3-external \\
        --seed 7 --external-data

The folder has the exact `hf-idefics3` layout SmolVLM publishes (onnx/vision_encoder.onnx,
onnx/embed_tokens.onnx, onnx/decoder_model_merged.onnx, config.json, preprocessor_config.json,
processor_config.json, generation_config.json, tokenizer files, chat_template.json) plus
`reference/<case>/`: inputs and the greedy tokens torch produces when driven exactly like the ONNX
sessions (prefill with an empty cache, then one token at a time).

Deterministic: the same seed gives byte-identical files. Needs only Debian's python3 with
python3-torch, python3-onnx and python3-numpy. The model lives in idefics3_torch.py.
"""
from __future__ import annotations

import argparse
import os
import shutil
import sys
from typing import Any

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import idefics3_torch as m  # noqa: E402

NUM_MERGES = 150
NEW_TOKENS = 40
MIN_GAP = 1e-3  # smallest allowed top-1 minus top-2 logit at a greedy step
OPSET = 14

# Training text for the tiny BPE: the prompts the tests use and the answers a shapes task gives.
CORPUS = [
    "User: Read the text.",
    "Assistant: The text says hello.",
    "Read the text in the image.",
    "What color is the shape?",
    "What color is the circle?",
    "What color is the square?",
    "What color is the triangle?",
    "How many shapes are there?",
    "There are 3 shapes.",
    "There is one circle and two squares.",
    "What shape is this?",
    "This is a circle.",
    "This is a square.",
    "This is a triangle.",
    "The shape is a red circle.",
    "The shape is a green square.",
    "The shape is a blue triangle.",
    "The circle is yellow and the square is orange.",
    "The triangle is purple, the circle is black and the square is white.",
    "red green blue yellow orange purple black white gray pink brown",
    "0 1 2 3 4 5 6 7 8 9 10 12 25 100",
    "User: Describe this image.",
    "Describe this image.",
    "Assistant: The image shows a red circle next to a blue square.",
    "Assistant: A green triangle on a white background.",
    "User: How many circles are in the image?",
    "Assistant: There are 2 circles.",
    "User: What is written in the image?",
    "Assistant: The image says: shapes and colors.",
    "Describe the shapes and their colors.",
]

CASES: list[dict[str, Any]] = [
    # 2x2 tiles + the global image = 5 frames, as the processor emits for a 64x64 input.
    {"name": "split", "rows": 2, "cols": 2, "text": "Describe this image."},
    # One unsplit 32x32 image.
    {"name": "single", "rows": 0, "cols": 0, "text": "What shape is this?"},
]


# --------------------------------------------------------------------------------------------
# Inputs
# --------------------------------------------------------------------------------------------


def smooth_image(side: int, seed: int) -> np.ndarray:
    """[3, side, side] in [-1, 1] on the processor's value grid k/127.5 - 1: waves + noise."""
    rng = np.random.RandomState(seed)
    yy, xx = np.mgrid[0:side, 0:side].astype(np.float64) / side
    img = np.empty((3, side, side))
    for c in range(3):
        fx, fy, fz = rng.uniform(0.5, 3.0, size=3)
        ph = rng.uniform(0, 2 * np.pi, size=2)
        wave = np.sin(2 * np.pi * (fx * xx + fy * yy) + ph[0])
        img[c] = 0.55 * wave + 0.3 * np.cos(2 * np.pi * fz * xx * yy + ph[1])
    img += 0.15 * rng.standard_normal(img.shape)
    return quantize(img)


def quantize(x: np.ndarray) -> np.ndarray:
    return (np.round((np.clip(x, -1, 1) + 1) * 127.5) / 127.5 - 1).astype(np.float32)


def case_pixels(case: dict[str, Any], tile: int, seed: int) -> np.ndarray:
    """[1, N, 3, T, T]: row-major crops, then the global image (2x2 mean-pooled whole image)."""
    rows, cols = case["rows"], case["cols"]
    if rows == 0 and cols == 0:
        return smooth_image(tile, seed)[None, None]
    assert rows == cols == 2, "the global thumbnail below is a 2x2 pool"
    whole = smooth_image(2 * tile, seed)  # [3, 2T, 2T]
    frames = [
        whole[:, r * tile : (r + 1) * tile, c * tile : (c + 1) * tile] for r in range(rows) for c in range(cols)
    ]
    frames.append(quantize(whole.reshape(3, tile, 2, tile, 2).mean(axis=(2, 4))))
    return np.stack(frames)[None].astype(np.float32)


# --------------------------------------------------------------------------------------------
# Torch reference generation (driven like the ONNX sessions)
# --------------------------------------------------------------------------------------------


@torch.no_grad()
def greedy(model: m.Idefics3ForConditionalGeneration, input_ids, pixel_values, pixel_mask, steps: int):
    """Prefill (empty cache, merged embeddings) + `steps` greedy tokens, one decoder call each."""
    text = model.text_model
    feats = model.image_features(pixel_values, pixel_mask)  # [N*tokens, H]
    embeds = model.merge(input_ids, text.embed_tokens(input_ids), feats)
    s = input_ids.shape[1]
    logits, past = text(embeds, torch.ones(1, s, dtype=torch.int64), torch.arange(s)[None], text.empty_cache())
    last = logits[0, -1]
    top5 = torch.topk(last, 5)
    result: dict[str, Any] = {
        "greedy_ids": [],
        "prefill_last_logits_top5": [[int(i), float(v)] for v, i in zip(top5.values, top5.indices)],
        "image_features_sum": float(feats.sum()),
        "image_features_first8": [float(x) for x in feats.flatten()[:8]],
        "min_top2_gap": None,
    }
    gaps, stds = [], []
    for step in range(steps):
        top2 = torch.topk(last, 2).values
        gaps.append(float(top2[0] - top2[1]))
        stds.append(float(last.std()))
        assert torch.isfinite(last).all()
        token = int(torch.argmax(last))  # first maximum wins
        result["greedy_ids"].append(token)
        if step == steps - 1:
            break
        total = s + step + 1  # past (s + step) + this token
        logits, past = text(
            text.embed_tokens(torch.tensor([[token]])),
            torch.ones(1, total, dtype=torch.int64),
            torch.tensor([[total - 1]]),
            past,
        )
        last = logits[0, -1]
    result["min_top2_gap"] = min(gaps)
    result["_logit_std"] = (min(stds), max(stds))
    return result


# --------------------------------------------------------------------------------------------
# Self-tests
# --------------------------------------------------------------------------------------------


@torch.no_grad()
def self_test(model: m.Idefics3ForConditionalGeneration, tok: m.ByteLevelBPE) -> None:
    cfg = model.cfg
    g = torch.Generator().manual_seed(0)

    # Pixel shuffle == the DESIGN.md index formula (several shapes, incl. r=3 and r=4).
    for n, side, c, r in ((3, 4, 32, 2), (2, 6, 5, 3), (1, 8, 7, 4), (2, 4, 3, 4)):
        x = torch.randn(n, side * side, c, generator=g)
        assert torch.equal(m.pixel_shuffle(x, r), m.pixel_shuffle_by_index(x, r)), (n, side, c, r)

    # Patch mask == Idefics3's unfold(...).sum() > 0 on a random sparse pixel mask.
    p, t = cfg.vision.patch_size, cfg.vision.image_size
    pix = torch.rand(4, t, t, generator=g) > 0.995
    unfold = pix.unfold(1, p, p).unfold(2, p, p).sum(dim=(-1, -2)) > 0
    assert torch.equal(m.patch_attention_mask(pix, p), unfold.reshape(4, -1))

    # The vision mask is really used: padding a patch changes the other patches' features.
    pv = torch.randn(1, 1, 3, t, t, generator=g)
    full = torch.ones(1, 1, t, t, dtype=torch.bool)
    part = full.clone()
    part[..., :p, :p] = False
    assert not torch.allclose(model.image_features(pv, full), model.image_features(pv, part))

    # Cached decoding == one full forward; a chunked prefill (past > 0, S > 1) too.
    ids = torch.randint(0, cfg.text.vocab_size, (1, 9), generator=g)
    full_logits = model(ids)
    text = model.text_model
    emb = text.embed_tokens(ids)
    a, past = text(emb[:, :5], torch.ones(1, 5, dtype=torch.int64), torch.arange(5)[None], text.empty_cache())
    b, past = text(emb[:, 5:8], torch.ones(1, 8, dtype=torch.int64), torch.arange(5, 8)[None], past)
    c, past = text(emb[:, 8:], torch.ones(1, 9, dtype=torch.int64), torch.tensor([[8]]), past)
    assert torch.allclose(torch.cat((a, b, c), 1), full_logits, atol=1e-5), "KV cache path differs"
    assert past[0].shape == (1, cfg.text.num_key_value_heads, 9, cfg.text.head_dim)

    # attention_mask is really used: masking key 0 changes the last logits.
    masked = torch.ones(1, 9, dtype=torch.int64)
    masked[0, 0] = 0
    d, _ = text(emb, masked, torch.arange(9)[None], text.empty_cache())
    assert not torch.allclose(d[0, -1], full_logits[0, -1])

    # Tokenizer: specials are single ids, bytes round-trip, the JSON reloads to the same encoder.
    sample = "<|im_start|>User:<image>Hi  there, it's 42°C!\n\n<end_of_utterance>\nAssistant:"
    assert tok.decode(tok.encode(sample)) == sample
    assert tok.encode("<image>") == [cfg.image_token_id]
    assert m.pre_tokenize("a  b\n\nC it's 12x") == ["a", " ", " b", "\n", "\n", "C", " it", "'s", " 12", "x"]


def check_tokenizer_file(path: str, tok: m.ByteLevelBPE, texts: list[str]) -> None:
    again = m.ByteLevelBPE.from_tokenizer_json(path)
    for text in texts:
        assert again.encode(text) == tok.encode(text)


# --------------------------------------------------------------------------------------------
# Build
# --------------------------------------------------------------------------------------------


def build(out: str, seed: int, external_data: bool) -> dict[str, Any]:
    torch.manual_seed(seed)
    tok = m.build_tokenizer(CORPUS, NUM_MERGES)
    cfg = m.config_for_tokenizer(tok)
    model = m.Idefics3ForConditionalGeneration(cfg)
    m.init_weights(model, seed)
    model.eval()
    self_test(model, tok)

    os.makedirs(out, exist_ok=True)
    for sub in ("onnx", "reference"):
        shutil.rmtree(os.path.join(out, sub), ignore_errors=True)
        os.makedirs(os.path.join(out, sub))
    for name, obj in m.folder_files(cfg, tok, external_data).items():
        m.write_json(os.path.join(out, name), obj)

    for name, proto in m.export_onnx(model, OPSET).items():
        m.save_onnx(proto, os.path.join(out, "onnx", f"{name}.onnx"), external_data)

    summary: dict[str, Any] = {
        "vocab_size": cfg.text.vocab_size,
        "image_token_id": cfg.image_token_id,
        "cases": {},
    }
    prompts = []
    for index, case in enumerate(CASES):
        chat = m.render_chat(
            [{"role": "user", "content": [{"type": "image"}, {"type": "text", "text": case["text"]}]}],
            add_generation_prompt=True,
        )
        prompt = m.expand_prompt(chat, [(case["rows"], case["cols"])], cfg.tokens_per_tile)
        prompts.append(prompt)
        ids = tok.encode(prompt)
        pixels = case_pixels(case, cfg.vision.image_size, seed * 1000 + index)
        mask = np.ones(pixels.shape[:2] + pixels.shape[3:], dtype=np.uint8)
        n_images = pixels.shape[1]
        assert ids.count(cfg.image_token_id) == n_images * cfg.tokens_per_tile

        expected = greedy(
            model,
            torch.tensor([ids], dtype=torch.int64),
            torch.from_numpy(pixels),
            torch.from_numpy(mask).to(torch.bool),
            NEW_TOKENS,
        )
        logit_std = expected.pop("_logit_std")
        if expected["min_top2_gap"] <= MIN_GAP:
            gap = expected["min_top2_gap"]
            raise SystemExit(f"{case['name']}: near-tie greedy step (gap {gap}); change the seed or init")

        ref = os.path.join(out, "reference", case["name"])
        os.makedirs(ref)
        np.asarray(ids, dtype="<i8").tofile(os.path.join(ref, "input_ids.bin"))
        pixels.astype("<f4").tofile(os.path.join(ref, "pixel_values.bin"))
        mask.tofile(os.path.join(ref, "pixel_attention_mask.bin"))
        side = cfg.vision.image_size
        m.write_json(
            os.path.join(ref, "shapes.json"),
            {
                "input_ids": [1, len(ids)],
                "pixel_values": [1, n_images, 3, side, side],
                "pixel_attention_mask": [1, n_images, side, side],
            },
        )
        with open(os.path.join(ref, "prompt.txt"), "w", encoding="utf-8", newline="\n") as f:
            f.write(prompt)
        m.write_json(os.path.join(ref, "expected.json"), expected)
        summary["cases"][case["name"]] = {
            "prompt_tokens": len(ids),
            "images": n_images,
            "min_top2_gap": expected["min_top2_gap"],
            "logit_std": logit_std,
            "distinct_generated": len(set(expected["greedy_ids"])),
            "text": tok.decode(expected["greedy_ids"]),
        }
    check_tokenizer_file(os.path.join(out, "tokenizer.json"), tok, prompts + CORPUS)
    return summary


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", required=True, help="model folder to (re)write")
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--external-data", action="store_true", help="weights in onnx/<file>.onnx_data")
    args = ap.parse_args()
    summary = build(args.out, args.seed, args.external_data)
    print(f"wrote {args.out}: vocab {summary['vocab_size']}, <image> id {summary['image_token_id']}")
    for name, info in summary["cases"].items():
        print(
            f"  {name}: {info['prompt_tokens']} prompt tokens, {info['images']} images, "
            f"min top-2 gap {info['min_top2_gap']:.4f}, "
            f"logit std {info['logit_std'][0]:.2f}-{info['logit_std'][1]:.2f}, "
            f"{info['distinct_generated']} distinct of {NEW_TOKENS}: {info['text']!r}"
        )


if __name__ == "__main__":
    main()
