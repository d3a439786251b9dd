"""Greedy predictions of an exported hf-idefics3 folder, with the plain-torch model.

    /usr/bin/python3 tools/train/predict.py --model-dir models/tiny-smolvlm \\
        --data /work/tiny-train/eval-9001/labels.jsonl --out /work/tiny-train/pred-9001.jsonl

The weights come from the folder's ONNX files themselves (every initializer of
vision_encoder.onnx, embed_tokens.onnx and decoder_model_merged.onnx is mapped back to its torch
parameter), so the predictions are those of exactly the shipped weights; no checkpoint is needed.
The mapping is found by exporting a torch model with the folder's config through the same
export_onnx and matching its initializers (as stored or transposed) to its parameters; a weight
that appears in several graphs (the tied embedding) must be identical everywhere.

Per item: the image goes through the Idefics3 processor of preprocessor_config.json (Pillow
LANCZOS; tiles row-major + global image; rescale and normalise), the prompt is the chat template
`<|im_start|>User:<image>{prompt}<end_of_utterance>\\nAssistant:` with `<image>` expanded for the
grid, and decoding is greedy (prefill with an empty cache, then one token per step, at most
--max-new-tokens, stopping at <end_of_utterance>). Writes one JSON line per item with
{"image", "prompt", "answer", "prediction"} (prediction = decoded text without the stop token,
leading space kept) and prints a summary: count, exactMatch (stripped prediction == answer),
perPrompt, and charErrorRate (Levenshtein edits / answer characters over "Read the text." items).
"""
from __future__ import annotations

import argparse
import json
import os
import sys
from typing import Any

import numpy as np
import torch
from PIL import Image

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import train as t  # noqa: E402  (also puts tools/reference on sys.path)
import idefics3_torch as m  # noqa: E402
from image_fixtures import idefics3_process  # noqa: E402

READING_PROMPT = t.gen.PROMPTS["reading"]
GRAPHS = ("vision_encoder", "embed_tokens", "decoder_model_merged")


def config_from_folder(model_dir: str) -> tuple[m.Idefics3Config, dict[str, Any]]:
    with open(os.path.join(model_dir, "config.json"), encoding="utf-8") as f:
        c = json.load(f)
    with open(os.path.join(model_dir, "preprocessor_config.json"), encoding="utf-8") as f:
        pre = json.load(f)
    v, x = c["vision_config"], c["text_config"]
    vision = m.VisionConfig(
        **{k: v[k] for k in ("image_size", "patch_size", "num_channels", "hidden_size", "num_hidden_layers",
                             "num_attention_heads", "intermediate_size", "layer_norm_eps", "hidden_act")}
    )
    text = m.TextConfig(
        **{k: x[k] for k in ("vocab_size", "hidden_size", "intermediate_size", "num_hidden_layers",
                             "num_attention_heads", "num_key_value_heads", "head_dim", "rms_norm_eps",
                             "rope_theta", "max_position_embeddings", "hidden_act", "bos_token_id",
                             "eos_token_id", "pad_token_id")}
    )
    cfg = m.Idefics3Config(vision=vision, text=text, scale_factor=c["scale_factor"], image_token_id=c["image_token_id"])
    cfg.validate()
    return cfg, pre


def load_from_onnx(model_dir: str, cfg: m.Idefics3Config) -> m.Idefics3ForConditionalGeneration:
    """A torch model whose every parameter is read back from the folder's ONNX initializers."""
    import onnx
    from onnx import numpy_helper

    probe = m.Idefics3ForConditionalGeneration(cfg)
    g = torch.Generator().manual_seed(12345)
    with torch.no_grad():
        for p in probe.parameters():  # distinct values so that every tensor is recognisable
            p.copy_(torch.randn(p.shape, generator=g))
    params = dict(probe.named_parameters())
    by_shape: dict[tuple[int, ...], list[str]] = {}
    for name, p in params.items():
        by_shape.setdefault(tuple(p.shape), []).append(name)

    def identify(arr: np.ndarray) -> tuple[str, bool] | None:
        for transposed, view in ((False, arr), (True, arr.T if arr.ndim == 2 else None)):
            if view is None:
                continue
            for name in by_shape.get(tuple(view.shape), []):
                if np.array_equal(params[name].detach().numpy(), view):
                    return name, transposed
        return None

    probe_protos = m.export_onnx(probe, 14)
    loaded: dict[str, np.ndarray] = {}
    for graph in GRAPHS:
        shipped = onnx.load(os.path.join(model_dir, "onnx", f"{graph}.onnx"))
        shipped_inits = {i.name: numpy_helper.to_array(i) for i in shipped.graph.initializer}
        for init in probe_protos[graph].graph.initializer:
            arr = numpy_helper.to_array(init)
            if arr.dtype != np.float32 or arr.size < 2:
                continue
            hit = identify(arr)
            if hit is None:
                continue  # a constant of the graph (rotary frequencies, shapes, ...)
            name, transposed = hit
            if init.name not in shipped_inits:
                raise SystemExit(f"predict: {graph}.onnx has no initializer {init.name!r} (different exporter?)")
            value = shipped_inits[init.name]
            value = value.T if transposed else value
            if name in loaded and not np.array_equal(loaded[name], value):
                raise SystemExit(f"predict: {name} differs between graphs")
            loaded[name] = np.array(value, dtype=np.float32)
    missing = sorted(set(params) - set(loaded))
    if missing:
        raise SystemExit(f"predict: parameters not found in the ONNX files: {missing}")
    model = m.Idefics3ForConditionalGeneration(cfg)
    model.load_state_dict({k: torch.from_numpy(v) for k, v in loaded.items()}, strict=True)
    with torch.no_grad():
        for name, p in model.named_parameters():
            assert torch.equal(p, torch.from_numpy(loaded[name])), name
    model.eval()
    return model


def pixel_values(im: Image.Image, pre: dict[str, Any]) -> tuple[torch.Tensor, int, int]:
    tile = pre["max_image_size"]["longest_edge"]
    out = idefics3_process(im, pre["size"]["longest_edge"], tile, split=pre["do_image_splitting"])
    frames = np.frombuffer(out["pixels"], dtype=np.uint8).reshape(out["images"], tile, tile, 3)
    return t.to_pixel_values(frames), out["rows"], out["cols"]


class FolderModel:
    """An exported folder read back for greedy answers: its configuration, preprocessing,
    tokenizer, stop token and plain-torch model, with the expanded prompt ids cached per prompt
    and grid."""

    def __init__(self, model_dir: str) -> None:
        self.cfg, self.pre = config_from_folder(model_dir)
        self.tok = m.ByteLevelBPE.from_tokenizer_json(os.path.join(model_dir, "tokenizer.json"))
        with open(os.path.join(model_dir, "generation_config.json"), encoding="utf-8") as f:
            self.eos = json.load(f)["eos_token_id"]
        assert self.eos == self.tok.vocab["<end_of_utterance>"]
        self.model = load_from_onnx(model_dir, self.cfg)
        self._prompt_ids: dict[tuple[str, int, int], list[int]] = {}

    def answer(self, im: Image.Image, prompt: str, max_new_tokens: int = 16) -> tuple[str, int, int]:
        """-> (decoded answer without the stop token, leading space kept; grid rows; grid cols)."""
        pv, r, c = pixel_values(im, self.pre)
        key = (prompt, r, c)
        if key not in self._prompt_ids:
            text = m.expand_prompt(t.chat_prompt(prompt), [(r, c)], self.cfg.tokens_per_tile)
            self._prompt_ids[key] = self.tok.encode(text)
        return self.tok.decode(t.greedy(self.model, self._prompt_ids[key], pv, self.eos, max_new_tokens)), r, c


def summarize(rows: list[dict[str, Any]]) -> dict[str, Any]:
    per: dict[str, dict[str, Any]] = {}
    edits = chars = 0
    for r in rows:
        ok = r["prediction"].strip() == r["answer"]
        slot = per.setdefault(r["prompt"], {"count": 0, "exactMatch": 0})
        slot["count"] += 1
        slot["exactMatch"] += int(ok)
        if r["prompt"] == READING_PROMPT:
            edits += t.levenshtein(r["prediction"].strip(), r["answer"])
            chars += len(r["answer"])
    total = sum(v["exactMatch"] for v in per.values())
    for v in per.values():
        v["exactMatch"] = round(v["exactMatch"] / v["count"], 4)
    return {
        "count": len(rows),
        "exactMatch": round(total / max(1, len(rows)), 4),
        "perPrompt": per,
        "charErrorRate": round(edits / chars, 4) if chars else None,
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model-dir", default=os.path.join(t.REPO, "models", "tiny-smolvlm"))
    ap.add_argument("--data", required=True, help="labels.jsonl written by tools/train/gen")
    ap.add_argument("--out", required=True, help="predictions JSONL to write")
    ap.add_argument("--max-new-tokens", type=int, default=16)
    ap.add_argument("--threads", type=int, default=1)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)

    folder = FolderModel(args.model_dir)

    base = os.path.dirname(os.path.abspath(args.data))
    with open(args.data, encoding="utf-8") as f:
        items = [json.loads(line) for line in f if line.strip()]
    rows = []
    for item in items:
        with Image.open(os.path.join(base, item["image"])) as im:
            im.load()
            prediction, _, _ = folder.answer(im, item["prompt"], args.max_new_tokens)
        rows.append({"image": item["image"], "prompt": item["prompt"], "answer": item["answer"],
                     "prediction": prediction})
    os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
    with open(args.out, "w", encoding="utf-8", newline="\n") as f:
        for r in rows:
            f.write(json.dumps(r, ensure_ascii=False) + "\n")
    print(json.dumps(summarize(rows), indent=2))


if __name__ == "__main__":
    main()
