"""Export a training checkpoint as the hf-idefics3 folder models/tiny-smolvlm.

    /usr/bin/python3 tools/train/export.py --checkpoint /work/tiny-train/checkpoint.pt --out models/tiny-smolvlm

Writes onnx/vision_encoder.onnx (SigLIP encoder + pixel-shuffle connector), onnx/embed_tokens.onnx
and onnx/decoder_model_merged.onnx (opset 14, fp32, weights inside the .onnx files) with
tools/reference/idefics3_torch.export_onnx, plus the JSON files of folder_files: config.json,
preprocessor_config.json (longest_edge 192, 64x64 tiles), processor_config.json,
generation_config.json, tokenizer.json, tokenizer_config.json, special_tokens_map.json and
chat_template.json. The folder is built beside --out and renamed into place. Afterwards the file
set and the JSON key structure are compared with test/fixtures/tiny-idefics3 (the layout the
runtime tests use) and the total size is checked against the 20 MB limit.
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
from typing import Any

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import train as t  # noqa: E402  (also puts tools/reference on sys.path)
import idefics3_torch as m  # noqa: E402

OPSET = 14
MAX_BYTES = 20 * 1000 * 1000
FIXTURE = os.path.join(t.REPO, "test", "fixtures", "tiny-idefics3")


def key_paths(obj: Any, prefix: str = "") -> set[str]:
    """Dotted key paths of nested dicts (lists and leaf values not descended), for layout checks."""
    out: set[str] = set()
    if isinstance(obj, dict):
        for k, v in obj.items():
            path = f"{prefix}.{k}" if prefix else str(k)
            out.add(path)
            if k not in ("vocab", "added_tokens_decoder"):  # token tables differ by construction
                out |= key_paths(v, path)
    return out


def folder_listing(root: str, skip: tuple[str, ...] = ()) -> set[str]:
    files = set()
    for dirpath, _, names in os.walk(root):
        rel = os.path.relpath(dirpath, root)
        if rel.split(os.sep)[0] in skip:
            continue
        files |= {os.path.normpath(os.path.join(rel, n)) for n in names}
    return files


def compare_with_fixture(out: str) -> None:
    ours = folder_listing(out)
    theirs = folder_listing(FIXTURE, skip=("reference",))
    if ours != theirs:
        raise SystemExit(f"export: file set differs from {FIXTURE}: +{sorted(ours - theirs)} -{sorted(theirs - ours)}")
    for name in sorted(n for n in ours if n.endswith(".json")):
        with open(os.path.join(out, name), encoding="utf-8") as f:
            a = key_paths(json.load(f))
        with open(os.path.join(FIXTURE, name), encoding="utf-8") as f:
            b = key_paths(json.load(f))
        if a != b:
            raise SystemExit(f"export: {name} keys differ from the fixture: +{sorted(a - b)} -{sorted(b - a)}")


def export(checkpoint: str, out: str) -> dict[str, Any]:
    model, tok, ckpt = t.load_model_from_checkpoint(checkpoint)
    cfg = model.cfg
    out = os.path.abspath(out)
    os.makedirs(os.path.dirname(out), exist_ok=True)
    tmp = tempfile.mkdtemp(prefix=".export-", dir=os.path.dirname(out))
    try:
        os.makedirs(os.path.join(tmp, "onnx"))
        for name, obj in m.folder_files(cfg, tok, external_data=False, longest_edge=t.LONGEST_EDGE).items():
            m.write_json(os.path.join(tmp, name), obj)
        for name, proto in m.export_onnx(model, OPSET).items():
            m.save_onnx(proto, os.path.join(tmp, "onnx", f"{name}.onnx"), external_data=False)
        # The written tokenizer.json must encode exactly like the training tokenizer.
        again = m.ByteLevelBPE.from_tokenizer_json(os.path.join(tmp, "tokenizer.json"))
        prompter = t.Prompter(tok, cfg)
        for prompt in t.gen.PROMPTS.values():
            for rows, cols in ((1, 3), (3, 1), (2, 3), (3, 3)):
                text = m.expand_prompt(t.chat_prompt(prompt), [(rows, cols)], cfg.tokens_per_tile)
                assert again.encode(text) == prompter.prompt_ids(prompt, rows, cols)
        os.chmod(tmp, 0o755)
        if os.path.exists(out):
            shutil.rmtree(out)
        os.rename(tmp, out)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    compare_with_fixture(out)
    total = sum(os.path.getsize(os.path.join(out, f)) for f in folder_listing(out))
    if total > MAX_BYTES:
        raise SystemExit(f"export: {out} is {total / 1e6:.2f} MB, over the {MAX_BYTES / 1e6:.0f} MB limit")
    return {
        "out": out,
        "step": ckpt["step"],
        "params": sum(p.numel() for p in model.parameters()),
        "bytes": total,
        "files": {f: os.path.getsize(os.path.join(out, f)) for f in sorted(folder_listing(out))},
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--checkpoint", default="/work/tiny-train/checkpoint.pt")
    ap.add_argument("--out", default=os.path.join(t.REPO, "models", "tiny-smolvlm"))
    args = ap.parse_args()
    info = export(args.checkpoint, args.out)
    print(json.dumps(info, indent=2))


if __name__ == "__main__":
    main()
