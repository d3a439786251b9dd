"""Counting probe: fine-tune a training checkpoint on counting items only, for a few minutes, and
report validation accuracy as it goes. It tells whether counting is held back by its share of the
data (accuracy climbs with any encoder setting) or by the encoder's features (it climbs only when
more encoder layers train), and it tries counting mechanisms without a full training run.

    /usr/bin/python3 tools/train/probe_count.py --checkpoint /work/tiny-train/checkpoint.pt \
        --minutes 8 --vision-train-layers 1

--mechanism picks what is trained:
  answer   the answer tokens' cross-entropy only (greedy count accuracy is reported);
  sink     answer loss + the two guided heads of decoder layer GUIDE_LAYER, at the positions that
           predict the answer, taught a soft target: each shape centre's mass spread bilinearly
           over the four nearest split-tile tokens, 1/(k+1) per shape, and 1/(k+1) on the
           sequence's first token (whose share then tells k), + a head regressing that centre
           mass on the connector's tile tokens;
  encoder  the whole vision encoder and the connector alone, with that tile-token centre-mass
           head; the rounded sum of the head over an image's tile tokens is its count (that
           accuracy and the error's standard deviation are reported).

The checkpoint is only read; nothing is written.
"""

from __future__ import annotations

import argparse
import math
import os
import sys
import time
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import train as T  # noqa: E402

PROBE_SEED = 77  # training items of the probe (below the evaluation seeds)
PROBE_VALID_SEED = 4343  # its validation items (neither a training nor an evaluation seed)
COUNT_ONLY = {"reading": 0.0, "colour": 0.0, "shape": 0.0, "count": 1.0}


def tile_centre_mass(centres: list[tuple[float, float]], rows: int, cols: int) -> np.ndarray:
    """Shape centres (fractions of width and height) -> mass per split-tile token, in the order of
    a sample's image tokens (tiles row-major, each tile's tokens row-major). Each centre spreads a
    mass of 1 bilinearly over the four token centres around it (clamped at the image's edges), so
    the masses sum to the number of shapes."""
    side = T.TOKEN_SIDE
    n_rows, n_cols = rows * side, cols * side
    out = np.zeros(rows * cols * side * side, dtype=np.float32)
    for x, y in centres:
        gx, gy = x * n_cols - 0.5, y * n_rows - 0.5
        c0, r0 = math.floor(gx), math.floor(gy)
        fx, fy = gx - c0, gy - r0
        for dr, wy in ((0, 1 - fy), (1, fy)):
            for dc, wx in ((0, 1 - fx), (1, fx)):
                r = min(n_rows - 1, max(0, r0 + dr))
                c = min(n_cols - 1, max(0, c0 + dc))
                out[((r // side) * cols + c // side) * side * side + (r % side) * side + c % side] += wx * wy
    return out


def with_centre_mass(samples: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Counting samples of train.make_sample plus their tile-token centre mass and shape count."""
    return [{**s, "tile_mass": tile_centre_mass(s["centres"], s["rows"], s["cols"]), "n": len(s["centres"])} for s in samples]


def tile_mass_loss(head: torch.nn.Linear, feats: torch.Tensor, samples: list[dict[str, Any]]) -> tuple[torch.Tensor, list[float]]:
    """Squared error of the centre-mass head summed over each sample's tile tokens (mean over
    samples), and each sample's summed prediction."""
    losses, sums, start = [], [], 0
    for s in samples:
        n = s["frames"].shape[0]
        f = feats[start : start + n].reshape(-1, feats.shape[-1])[: T.global_token_start(s["rows"], s["cols"])]
        start += n
        pred = head(f)[:, 0]
        losses.append(((pred - torch.from_numpy(s["tile_mass"])) ** 2).sum())
        sums.append(float(pred.sum()))
    return torch.stack(losses).mean(), sums


def sink_loss(probs: torch.Tensor, samples: list[dict[str, Any]], image_token_id: int) -> tuple[torch.Tensor, float, float]:
    """Cross-entropy of the guided heads' attention (at the positions predicting the space and
    the digit) against the sink target; also its excess over the target's entropy (the KL
    divergence, nats) and the first token's share times k+1 (1 when exact)."""
    terms, kls, shares = [], [], []
    for b, s in enumerate(samples):
        image_pos = [i for i, t in enumerate(s["prompt_ids"]) if t == image_token_id]
        k = s["n"]
        target = torch.zeros(probs.shape[-1])
        target[torch.tensor(image_pos[: T.global_token_start(s["rows"], s["cols"])])] = torch.from_numpy(s["tile_mass"]) / (k + 1)
        target[0] = 1.0 / (k + 1)
        start = len(s["prompt_ids"]) - 1
        p = probs[b, : T.GUIDE_HEADS, start : start + 2]
        ce = -(target * torch.log(p + 1e-9)).sum(-1).mean()
        nz = target[target > 0]
        terms.append(ce)
        kls.append(float(ce + (nz * torch.log(nz)).sum()))
        shares.append(float(p[..., 0].mean()) * (k + 1))
    return torch.stack(terms).mean(), float(np.mean(kls)), float(np.mean(shares))


def encoder_count_accuracy(model, head: torch.nn.Linear, valid: list[dict[str, Any]], pad_id: int) -> tuple[float, float]:
    """Rounded sum of the centre-mass head over each image's tile tokens against its count."""
    errors = []
    with torch.no_grad():
        for i in range(0, len(valid), 30):
            chunk = valid[i : i + 30]
            _, _, pixels = T.collate(chunk, pad_id)
            _, sums = tile_mass_loss(head, model.connector(T.vision_forward(model, pixels, 0)), chunk)
            errors += [total - s["n"] for total, s in zip(sums, chunk)]
    accuracy = sum(round(e) == 0 for e in errors) / len(errors)
    return round(accuracy, 4), round(float(np.std(errors)), 3)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--checkpoint", required=True, help="train.py's checkpoint.pt")
    ap.add_argument("--minutes", type=float, default=8.0)
    ap.add_argument("--mechanism", choices=("answer", "sink", "encoder"), default="answer")
    ap.add_argument("--vision-train-layers", type=int, default=1, help="encoder layers that train (4: all)")
    ap.add_argument("--lr", type=float, default=3e-4)
    ap.add_argument("--batch", type=int, default=24)
    ap.add_argument("--valid-items", type=int, default=150)
    ap.add_argument("--threads", type=int, default=2)
    args = ap.parse_args()
    if not os.path.exists(args.checkpoint):
        raise SystemExit(f"probe_count: no checkpoint at {args.checkpoint} (train.py writes DIR/checkpoint.pt)")

    torch.set_num_threads(args.threads)
    model, tok, _ = T.load_model_from_checkpoint(args.checkpoint)
    pad_id = model.cfg.text.pad_token_id
    prompter = T.Prompter(tok, model.cfg)
    valid = with_centre_mass([T.make_sample(prompter, PROBE_VALID_SEED, i, task="count") for i in range(args.valid_items)])
    head = torch.nn.Linear(model.cfg.text.hidden_size, 1)  # tile-token centre mass (sink, encoder)

    def score() -> str:
        if args.mechanism == "encoder":
            accuracy, spread = encoder_count_accuracy(model, head, valid, pad_id)
            return f"count from the tile-token head {accuracy} (error std {spread})"
        return f"count {T.validate(model, prompter, valid)['count']}"  # validate() leaves train mode on

    print(f"before: {score()}", flush=True)
    model.train()
    params = {
        "answer": [*model.parameters()],
        "sink": [*model.parameters(), *head.parameters()],
        "encoder": [*model.vision_model.parameters(), *model.connector.parameters(), *head.parameters()],
    }[args.mechanism]
    opt = torch.optim.AdamW(params, lr=args.lr, betas=(0.9, 0.98), weight_decay=0.05)
    stream = T.Stream(prompter, PROBE_SEED, args.batch, COUNT_ONLY).batches_from(0)
    start, step = time.time(), 0
    while time.time() - start < 60 * args.minutes:
        samples = with_centre_mass(next(stream))
        ids, labels, pixels = T.collate(samples, pad_id)
        detail = ""
        if args.mechanism == "encoder":
            loss, _ = tile_mass_loss(head, model.connector(T.vision_forward(model, pixels, model.cfg.vision.num_hidden_layers)), samples)
        else:
            vis = T.vision_forward(model, pixels, args.vision_train_layers)
            guided = args.mechanism == "sink"
            logits, feats, probs = T.batch_logits(model, ids, vis, T.GUIDE_LAYER if guided else None)
            loss = F.cross_entropy(logits.reshape(-1, logits.shape[-1]), labels.reshape(-1))
            if guided:
                guide, kl, share = sink_loss(probs, samples, model.cfg.image_token_id)
                mass, _ = tile_mass_loss(head, feats, samples)
                loss = loss + guide + mass
                detail = f", attention KL {kl:.3f}, first-token share x (k+1) {share:.2f}, centre-mass loss {float(mass):.3f}"
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(params, 1.0)
        opt.step()
        step += 1
        if step % 100 == 0:
            print(f"step {step} ({time.time() - start:.0f} s): loss {float(loss):.3f}{detail}, {score()}", flush=True)
    print(f"after {step} steps: {score()}", flush=True)


if __name__ == "__main__":
    main()
