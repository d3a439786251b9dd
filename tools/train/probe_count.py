"""Counting probe: fine-tune a training checkpoint on counting items only, for a few minutes, and
report greedy validation accuracy as it goes. It tells whether counting is held back by its share
of the data (accuracy climbs with any encoder setting) or by the encoder's features (it climbs only
when more encoder layers train).

    /usr/bin/python3 tools/train/probe_count.py --checkpoint /work/tiny-train/checkpoint.pt \
        --minutes 8 --vision-train-layers 1

The checkpoint is only read; nothing is written.
"""

from __future__ import annotations

import argparse
import os
import sys
import time

import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import train as T  # noqa: E402

PROBE_SEED = 77  # training items of the probe (below the evaluation seeds)
PROBE_VALID_SEED = 4343  # its validation items (neither a training nor an evaluation seed)
COUNT_ONLY = {"reading": 0.0, "colour": 0.0, "shape": 0.0, "count": 1.0}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--checkpoint", required=True, help="train.py's checkpoint.pt")
    ap.add_argument("--minutes", type=float, default=8.0)
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
    prompter = T.Prompter(tok, model.cfg)
    valid = [T.make_sample(prompter, PROBE_VALID_SEED, i, task="count") for i in range(args.valid_items)]
    print(f"before: count {T.validate(model, prompter, valid)['count']}", flush=True)

    model.train()
    opt = torch.optim.AdamW(model.parameters(), lr=args.lr, betas=(0.9, 0.98), weight_decay=0.05)
    stream = T.Stream(prompter, PROBE_SEED, args.batch, COUNT_ONLY).batches_from(0)
    start, step = time.time(), 0
    while time.time() - start < 60 * args.minutes:
        samples = next(stream)
        ids, labels, pixels = T.collate(samples, model.cfg.text.pad_token_id)
        vis = T.vision_forward(model, pixels, args.vision_train_layers)
        logits, _, _ = T.batch_logits(model, ids, vis)
        loss = F.cross_entropy(logits.reshape(-1, logits.shape[-1]), labels.reshape(-1))
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        step += 1
        if step % 100 == 0:
            count = T.validate(model, prompter, valid)["count"]  # validate() leaves the model in train mode
            print(f"step {step} ({time.time() - start:.0f} s): loss {float(loss):.3f}, count {count}", flush=True)
    print(f"after {step} steps: count {T.validate(model, prompter, valid)['count']}", flush=True)


if __name__ == "__main__":
    main()
