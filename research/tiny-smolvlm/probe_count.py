"""Counting probe: fine-tune a training checkpoint on counting items only, for a few minutes, and
report validation accuracy as it goes. It tells whether counting is held back by its share of the
data (accuracy climbs with any encoder setting) or by the encoder's features (it climbs only when
more encoder layers train), and it tries counting mechanisms without a full training run.

    /usr/bin/python3 research/tiny-smolvlm/probe_count.py --checkpoint /work/tiny-train/checkpoint.pt \
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
           accuracy and the error's standard deviation are reported);
  tiles    the whole vision encoder and the connector alone, with a head on the mean of each split
           tile's connector tokens regressing how many shape centres the tile holds; the rounded
           sum over an image's tiles is its count (3 or 6 terms, not 48-96 as with `encoder`);
  tiles-answer
           the whole model: answer loss + that per-tile head + the guided heads of decoder layer
           GUIDE_LAYER, at the positions that predict the answer, taught to spread their attention
           evenly over the split tiles' tokens (their output is then the mean per-tile count, which
           the grid in the prompt turns into the count).

--model-dir starts from an exported folder instead (weights read back from its ONNX files, as
predict.py does), e.g. the shipped models/tiny-smolvlm. The checkpoint or folder is only read.

--mix trains on other tasks beside counting (mechanism `answer`), and --save writes the fine-tuned
model as a checkpoint that export.py turns into a folder, to score it on every task:

    /usr/bin/python3 research/tiny-smolvlm/probe_count.py --model-dir models/tiny-smolvlm --minutes 50 \
        --vision-train-layers 4 --warmup 50 --decay --mix count=0.63,reading=0.3,shape=0.05,colour=0.02 \
        --save /work/tiny-train/mixed.pt
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

# train.py, gen.py and predict.py live in tools/train/ (what rebuilds the shipped model).
REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(REPO, "tools", "train"))
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


def tile_counts(centres: list[tuple[float, float]], rows: int, cols: int) -> np.ndarray:
    """Shape centres (fractions of width and height) -> how many fall in each split tile (tiles
    row-major). The split tiles cover the resized image exactly, so fractions map linearly."""
    out = np.zeros(rows * cols, dtype=np.float32)
    for x, y in centres:
        out[min(rows - 1, int(y * rows)) * cols + min(cols - 1, int(x * cols))] += 1.0
    return out


def with_centre_mass(samples: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Samples of train.make_sample, counting ones plus their tile-token centre mass, per-tile
    centre counts and shape count (other tasks pass through unchanged)."""
    return [
        {
            **s,
            "tile_mass": tile_centre_mass(s["centres"], s["rows"], s["cols"]),
            "tile_count": tile_counts(s["centres"], s["rows"], s["cols"]),
            "n": len(s["centres"]),
        }
        if s["task"] == "count"
        else s
        for s in samples
    ]


def parse_mix(text: str) -> dict[str, float]:
    """`count=0.6,reading=0.3,...` -> task weights (unnamed tasks 0). Exits with a message on an
    unknown task, a negative weight or an all-zero mix."""
    weights = {task: 0.0 for task in T.gen.TASKS}
    for part in text.split(","):
        task, _, value = part.partition("=")
        task = task.strip()
        if task not in weights:
            raise SystemExit(f"probe_count: --mix names {task!r}; tasks are {', '.join(T.gen.TASKS)}")
        try:
            weights[task] = float(value)
        except ValueError:
            raise SystemExit(f"probe_count: --mix weight of {task} is {value!r}, not a number") from None
        if weights[task] < 0:
            raise SystemExit(f"probe_count: --mix weight of {task} is negative")
    if sum(weights.values()) <= 0:
        raise SystemExit("probe_count: --mix gives every task weight 0")
    return weights


def tile_count_loss(head: torch.nn.Linear, feats: torch.Tensor, samples: list[dict[str, Any]]) -> tuple[torch.Tensor, list[float], list[bool]]:
    """Squared error of the per-tile count head on the mean of each split tile's connector tokens
    (summed over a sample's tiles, mean over samples); each sample's summed prediction; per tile,
    whether its rounded prediction is right."""
    means, targets, owner, start = [], [], [], 0
    for j, s in enumerate(samples):
        split = s["rows"] * s["cols"]
        means.append(feats[start : start + split].mean(1))
        targets.append(torch.from_numpy(s["tile_count"]))
        owner += [j] * split
        start += s["frames"].shape[0]
    pred = head(torch.cat(means))[:, 0]
    target = torch.cat(targets)
    loss = F.mse_loss(pred, target, reduction="sum") / len(samples)
    sums = torch.zeros(len(samples)).index_add(0, torch.tensor(owner), pred.detach().float())
    return loss, sums.tolist(), (pred.detach().round() == target).tolist()


def even_tile_guide(probs: torch.Tensor, samples: list[dict[str, Any]], image_token_id: int) -> tuple[torch.Tensor, float]:
    """Cross-entropy of the guided heads' attention (at the positions predicting the space and the
    digit) against an even spread over the split tiles' tokens, and its excess over the target's
    entropy (the KL divergence, nats)."""
    terms, kls = [], []
    for b, s in enumerate(samples):
        image_pos = [i for i, t in enumerate(s["prompt_ids"]) if t == image_token_id]
        tiles = torch.tensor(image_pos[: T.global_token_start(s["rows"], s["cols"])])
        start = len(s["prompt_ids"]) - 1
        ce = -torch.log(probs[b, :, start : start + 2][..., tiles] + 1e-9).mean()
        terms.append(ce)
        kls.append(float(ce) - math.log(len(tiles)))
    return torch.stack(terms).mean(), float(np.mean(kls))


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


def summed_head_accuracy(model, head: torch.nn.Linear, head_loss, valid: list[dict[str, Any]], pad_id: int) -> tuple[float, float, list]:
    """Rounded sum of a counting head (tile_mass_loss: over each image's tile tokens;
    tile_count_loss: over its split tiles) against each image's count: (accuracy, the error's
    standard deviation, the concatenated further outputs of head_loss, e.g. per-tile rightness)."""
    errors, extra = [], []
    with torch.no_grad():
        for i in range(0, len(valid), 30):
            chunk = valid[i : i + 30]
            _, _, pixels = T.collate(chunk, pad_id)
            _, sums, *rest = head_loss(head, model.connector(T.vision_forward(model, pixels, 0)), chunk)
            errors += [total - s["n"] for total, s in zip(sums, chunk)]
            for more in rest:
                extra += more
    accuracy = sum(round(e) == 0 for e in errors) / len(errors)
    return round(accuracy, 4), round(float(np.std(errors)), 3), extra


def load_start(args: argparse.Namespace):
    """(model, tokenizer) from --checkpoint or --model-dir."""
    if args.model_dir:
        import predict

        cfg, _ = predict.config_from_folder(args.model_dir)
        tok = T.build_tokenizer()
        if cfg != T.model_config(tok):
            raise SystemExit(f"probe_count: {args.model_dir} is not a model of train.py's configuration")
        return predict.load_from_onnx(args.model_dir, cfg), tok
    if not os.path.exists(args.checkpoint):
        raise SystemExit(f"probe_count: no checkpoint at {args.checkpoint} (train.py writes DIR/checkpoint.pt)")
    model, tok, _ = T.load_model_from_checkpoint(args.checkpoint)
    return model, tok


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    start_from = ap.add_mutually_exclusive_group(required=True)
    start_from.add_argument("--checkpoint", help="train.py's checkpoint.pt")
    start_from.add_argument("--model-dir", help="an exported folder of train.py's configuration (e.g. models/tiny-smolvlm)")
    ap.add_argument("--minutes", type=float, default=8.0)
    ap.add_argument("--mechanism", choices=("answer", "sink", "encoder", "tiles", "tiles-answer"), default="answer")
    ap.add_argument("--vision-train-layers", type=int, default=1, help="encoder layers that train (4: all)")
    ap.add_argument("--lr", type=float, default=3e-4)
    ap.add_argument("--warmup", type=int, default=0, help="steps of linear learning-rate warm-up")
    ap.add_argument("--decay", action="store_true", help="cosine decay of the learning rate over --minutes, to 5%% (default: constant)")
    ap.add_argument("--score-every", type=int, default=100, help="steps between validation scores")
    ap.add_argument(
        "--mix", type=parse_mix, default=COUNT_ONLY,
        help="task weights of the training items, e.g. count=0.63,reading=0.3,shape=0.05,colour=0.02 "
        "(default: counting only; other tasks need --mechanism answer)",
    )
    ap.add_argument("--save", help="write the fine-tuned model as a checkpoint that export.py reads (default: nothing is written)")
    ap.add_argument("--batch", type=int, default=24)
    ap.add_argument("--valid-items", type=int, default=150)
    ap.add_argument("--threads", type=int, default=2)
    args = ap.parse_args()
    others = [t for t in T.gen.TASKS if t != "count" and args.mix[t] > 0]  # trained beside counting
    if others and args.mechanism != "answer":
        raise SystemExit(f"probe_count: --mechanism {args.mechanism} trains on counting items only; --mix needs --mechanism answer")

    torch.set_num_threads(args.threads)
    model, tok = load_start(args)
    pad_id = model.cfg.text.pad_token_id
    prompter = T.Prompter(tok, model.cfg)
    valid = with_centre_mass([T.make_sample(prompter, PROBE_VALID_SEED, i, task="count") for i in range(args.valid_items)])
    # With --mix, a third as many items of each other trained task, to watch what counting costs them.
    valid += [
        T.make_sample(prompter, PROBE_VALID_SEED, args.valid_items * (1 + k) + i, task=t)
        for k, t in enumerate(others)
        for i in range(args.valid_items // 3)
    ]
    head = torch.nn.Linear(model.cfg.text.hidden_size, 1)  # tile-token centre mass or per-tile count

    def score() -> str:
        if args.mechanism == "encoder":
            accuracy, spread, _ = summed_head_accuracy(model, head, tile_mass_loss, valid, pad_id)
            return f"count from the tile-token head {accuracy} (error std {spread})"
        tiles = ""
        if args.mechanism in ("tiles", "tiles-answer"):
            accuracy, spread, tiles_right = summed_head_accuracy(model, head, tile_count_loss, valid, pad_id)
            per_tile = round(float(np.mean(tiles_right)), 4)
            tiles = f"count from the per-tile head {accuracy} (error std {spread}, tiles right {per_tile})"
            if args.mechanism == "tiles":
                return tiles
            tiles = ", " + tiles
        scores = T.validate(model, prompter, valid)  # leaves train mode on
        if not others:
            return f"count {scores['count']}{tiles}"
        return ", ".join(f"{task} {value}" for task, value in scores.items())

    print(f"before: {score()}", flush=True)
    model.train()
    params = {
        "answer": [*model.parameters()],
        "sink": [*model.parameters(), *head.parameters()],
        "encoder": [*model.vision_model.parameters(), *model.connector.parameters(), *head.parameters()],
        "tiles": [*model.vision_model.parameters(), *model.connector.parameters(), *head.parameters()],
        "tiles-answer": [*model.parameters(), *head.parameters()],
    }[args.mechanism]
    opt = torch.optim.AdamW(params, lr=args.lr, betas=(0.9, 0.98), weight_decay=0.05)
    stream = T.Stream(prompter, PROBE_SEED, args.batch, args.mix).batches_from(0)
    start, step = time.time(), 0
    while time.time() - start < 60 * args.minutes:
        samples = with_centre_mass(next(stream))
        ids, labels, pixels = T.collate(samples, pad_id)
        detail = ""
        if args.mechanism in ("encoder", "tiles"):
            feats = model.connector(T.vision_forward(model, pixels, model.cfg.vision.num_hidden_layers))
            loss = (tile_mass_loss if args.mechanism == "encoder" else tile_count_loss)(head, feats, samples)[0]
        else:
            vis = T.vision_forward(model, pixels, args.vision_train_layers)
            guided = args.mechanism in ("sink", "tiles-answer")
            logits, feats, probs = T.batch_logits(model, ids, vis, T.GUIDE_LAYER if guided else None)
            loss = F.cross_entropy(logits.reshape(-1, logits.shape[-1]), labels.reshape(-1))
            if args.mechanism == "sink":
                guide, kl, share = sink_loss(probs, samples, model.cfg.image_token_id)
                mass, _ = tile_mass_loss(head, feats, samples)
                loss = loss + guide + mass
                detail = f", attention KL {kl:.3f}, first-token share x (k+1) {share:.2f}, centre-mass loss {float(mass):.3f}"
            elif args.mechanism == "tiles-answer":
                guide, kl = even_tile_guide(probs, samples, model.cfg.image_token_id)
                per_tile, _, _ = tile_count_loss(head, feats, samples)
                loss = loss + guide + per_tile
                detail = f", attention KL {kl:.3f}, per-tile count loss {float(per_tile):.3f}"
        if args.decay:  # train.py's schedule, over the wall-clock budget
            lr = T.lr_at(step, (time.time() - start) / (60 * args.minutes), args.lr, args.warmup + 1)
        else:
            lr = args.lr * min(1.0, (step + 1) / (args.warmup + 1))
        for group in opt.param_groups:
            group["lr"] = lr
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(params, 1.0)
        opt.step()
        step += 1
        if step % args.score_every == 0:
            print(f"step {step} ({time.time() - start:.0f} s, lr {lr:.2e}): loss {float(loss):.3f}{detail}, {score()}", flush=True)
    print(f"after {step} steps: {score()}", flush=True)
    if args.save:
        T.save_checkpoint(args.save, {
            "model": model.state_dict(),
            "config": T.config_record(model.cfg),
            "step": step,
            "probe": dict(vars(args)),
        })
        print(f"saved {args.save}", flush=True)


if __name__ == "__main__":
    main()
