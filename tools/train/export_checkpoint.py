"""Saves an exported hf-idefics3 folder's weights as a transformers-style safetensors checkpoint.

    /usr/bin/python3 tools/train/export_checkpoint.py --model-dir models/tiny-smolvlm \\
        --out test/fixtures/tiny-smolvlm-checkpoint [--dtype bf16|f32]

The weights are read back from the folder's ONNX files into the plain-torch model exactly as
predict.py does (load_from_onnx), then written under transformers' Idefics3 parameter names
(modeling_idefics3.py: Idefics3ForConditionalGeneration holds `model` = Idefics3Model with
`vision_model`, `connector.modality_projection.proj` and `text_model`; `lm_head` is tied to
`model.text_model.embed_tokens` and so not saved). torch layouts are kept: Linear weights
[out, in], the patch Conv2d [out, in, kh, kw]. BF16 rounds to nearest even (torch's cast).

The safetensors format is written by hand (no `safetensors` package): 8 bytes of little-endian
header length, the JSON header (space-padded to 8 bytes), then the raw little-endian data.
The folder's config, processor and tokenizer files are copied beside model.safetensors.
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import struct
import sys

import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import predict  # noqa: E402

COPIED = ("config.json", "generation_config.json", "preprocessor_config.json", "processor_config.json",
          "special_tokens_map.json", "tokenizer.json", "tokenizer_config.json", "chat_template.json")


def write_safetensors(path: str, tensors: dict[str, torch.Tensor], dtype: str) -> None:
    header: dict[str, object] = {"__metadata__": {"format": "pt"}}
    blobs = []
    offset = 0
    for name, value in tensors.items():
        t = value.detach().contiguous()
        if dtype == "bf16":
            raw = t.to(torch.bfloat16).view(torch.int16).numpy().tobytes()
            code = "BF16"
        else:
            raw = t.to(torch.float32).numpy().astype("<f4").tobytes()
            code = "F32"
        header[name] = {"dtype": code, "shape": list(t.shape), "data_offsets": [offset, offset + len(raw)]}
        offset += len(raw)
        blobs.append(raw)
    text = json.dumps(header, separators=(",", ":"))
    text += " " * ((8 - len(text.encode()) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text.encode())))
        f.write(text.encode())
        for raw in blobs:
            f.write(raw)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model-dir", default=os.path.join(HERE, "..", "..", "models", "tiny-smolvlm"))
    ap.add_argument("--out", required=True)
    ap.add_argument("--dtype", choices=("bf16", "f32"), default="bf16")
    args = ap.parse_args()
    cfg, _ = predict.config_from_folder(args.model_dir)
    model = predict.load_from_onnx(args.model_dir, cfg)
    tensors = {f"model.{name}": p for name, p in model.named_parameters()}
    os.makedirs(args.out, exist_ok=True)
    write_safetensors(os.path.join(args.out, "model.safetensors"), tensors, args.dtype)
    for name in COPIED:
        src = os.path.join(args.model_dir, name)
        if os.path.exists(src):
            shutil.copyfile(src, os.path.join(args.out, name))
    print(json.dumps({"out": args.out, "dtype": args.dtype, "tensors": len(tensors),
                      "parameters": sum(p.numel() for p in tensors.values())}))


if __name__ == "__main__":
    main()
