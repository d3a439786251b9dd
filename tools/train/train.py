"""Train the tiny SmolVLM (Idefics3 architecture) of models/tiny-smolvlm on the CPU.

    /usr/bin/python3 tools/train/train.py --seed 1 --max-minutes 88 --pretrain-minutes 35 \
        --final-minutes 28 --precision bf16 --dir /work/tiny-train

Data come on the fly from tools/train/gen.py (item i of the stream is gen.make_item(seed, i), seed
< 9001; evaluation sets use seed 9001 and up) and go through the exact Idefics3 image processor
(image_fixtures.idefics3_process: Pillow LANCZOS, longest edge 192, 64x64 tiles row-major + the
global image, rescale 1/255, normalise mean = std = 0.5), i.e. the tensors the vlmkit runtime
builds at inference. The prompt is the folder's chat template with `<image>` expanded for the
image's grid; the loss covers the answer tokens and the closing `<end_of_utterance>` only.

The learning-rate schedule (linear warm-up, cosine decay to 5%) runs over --steps or over the
wall-clock budget --max-minutes, whichever is further along, so a run ends on time on a busy
machine. Training-only auxiliary heads on the vision encoder and the connector (AuxHeads) and
guided attention in one decoder layer (guide_loss) speed up learning; they are not part of the
exported model.

Three phases: first (--pretrain-minutes) the vision encoder and the connector alone, trained by the
auxiliary heads; then the whole model with the vision encoder frozen but for its last
--vision-train-layers layers (the frozen layers' backward pass would be most of a step); last
(--final-minutes, the second half of the learning-rate decay) the whole model with the whole
encoder, on a larger share of counting items (counting needs the early encoder layers; reading items
on the same path keep the features that reading needs).

With --precision bf16 the forward pass runs under CPU autocast (matrix products in bfloat16;
weights, optimiser state and losses in float32): on CPUs with AVX512-BF16 a step is ~1.5-2x
faster. Elsewhere bfloat16 is emulated and ~20x slower, so train.py refuses it there.

Checkpoints (DIR/checkpoint.pt, atomically replaced) every --save-minutes and at the end; a rerun
with the same arguments resumes from it and continues the same data stream. Progress goes to
stdout (and DIR/train.log when started as in the README). This file also holds what export.py and
predict.py share: tokenizer, model configuration, preprocessing, prompt ids and greedy decoding.
"""
from __future__ import annotations

import argparse
import json
import math
import os
import sys
import time
from dataclasses import asdict
from typing import Any, Sequence

import numpy as np
import torch
import torch.nn.functional as F

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(REPO, "tools", "reference"))
sys.path.insert(0, HERE)
import gen  # noqa: E402
import idefics3_torch as m  # noqa: E402
from image_fixtures import idefics3_process  # noqa: E402

# --------------------------------------------------------------------------------------------
# Model geometry and tokenizer
# --------------------------------------------------------------------------------------------

TILE = 64  # max_image_size.longest_edge = vision image_size
LONGEST_EDGE = 192  # size.longest_edge: up to 3x3 tiles + the global image
PATCH = 8
SCALE_FACTOR = 2  # (64/8)^2 / 2^2 = 16 tokens per tile

VISION = m.VisionConfig(
    image_size=TILE,
    patch_size=PATCH,
    hidden_size=128,
    num_hidden_layers=4,
    num_attention_heads=4,
    intermediate_size=512,
)
TEXT = m.TextConfig(
    hidden_size=192,
    intermediate_size=512,
    num_hidden_layers=4,
    num_attention_heads=6,
    num_key_value_heads=2,
    head_dim=32,
    rope_theta=10000.0,
    max_position_embeddings=512,
)

# BPE training text: the user/assistant labels, the four prompts and the lower-case answer words
# (repeated so that each becomes one token). Nothing has a capital next to a capital or a digit,
# and no space precedes a capital or digit, so no merge ever touches the characters of a reading
# answer: every [A-Z0-9] stays its own token after a separate space token (check_tokenizer).
ANSWER_WORDS = [*gen.COLOURS, *gen.SHAPES]
CORPUS = ["User:" + p for p in gen.PROMPTS.values()] + ["Assistant:"] + [" " + " ".join(ANSWER_WORDS)] * 3
NUM_MERGES = 56


def build_tokenizer() -> m.ByteLevelBPE:
    tok = m.build_tokenizer(CORPUS, NUM_MERGES)
    check_tokenizer(tok)
    return tok


def check_tokenizer(tok: m.ByteLevelBPE) -> None:
    """Every answer character is one token; the leading space is its own token or merged with
    the first character; prompts and answers round-trip."""
    space = tok.vocab[m.bytes_to_unicode()[ord(" ")]]
    for a in gen.ALPHABET:
        for b in gen.ALPHABET:
            ids = tok.encode(" " + a + b)
            assert tok.decode(ids) == " " + a + b
            assert ids[-2:] == [tok.vocab[a], tok.vocab[b]] and ids[:-2] == [space], (a, b, ids)
    for text in [*CORPUS, *(chat_prompt(p) for p in gen.PROMPTS.values())]:
        assert tok.decode(tok.encode(text)) == text
    for w in ANSWER_WORDS:
        assert len(tok.encode(" " + w)) == 1, w


def model_config(tok: m.ByteLevelBPE) -> m.Idefics3Config:
    base = m.Idefics3Config(vision=VISION, text=TEXT, scale_factor=SCALE_FACTOR)
    return m.config_for_tokenizer(tok, base)


def new_model(cfg: m.Idefics3Config, seed: int) -> m.Idefics3ForConditionalGeneration:
    """GPT-style init: N(0, 0.02) weights, residual projections scaled by 1/sqrt(2 * layers)."""
    torch.manual_seed(seed)
    model = m.Idefics3ForConditionalGeneration(cfg)
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, p in model.named_parameters():
            if "norm" in name and name.endswith(".weight"):
                p.fill_(1.0)
            elif name.endswith(".bias"):
                p.zero_()
            else:
                std = 0.02
                if name.endswith(("o_proj.weight", "down_proj.weight")):
                    std /= math.sqrt(2 * cfg.text.num_hidden_layers)
                elif name.endswith(("out_proj.weight", "fc2.weight")):
                    std /= math.sqrt(2 * cfg.vision.num_hidden_layers)
                p.copy_(torch.randn(p.shape, generator=g) * std)
        # Vision: patch projection at unit gain and 2-D sin-cos positions, so that attention can
        # find neighbouring patches from the first step (a learned table starts as noise).
        emb = model.vision_model.embeddings
        fan_in = emb.patch_embedding.weight[0].numel()
        emb.patch_embedding.weight.copy_(torch.randn(emb.patch_embedding.weight.shape, generator=g) / math.sqrt(fan_in))
        emb.position_embedding.weight.copy_(POS_GAIN * sincos_2d(cfg.vision.patches_per_side, cfg.vision.hidden_size))
    return model


POS_GAIN = 0.5


def sincos_2d(side: int, dim: int) -> torch.Tensor:
    """[side*side, dim] row-major: first half encodes the row, second half the column, each as
    sin/cos pairs at geometric frequencies (as in MAE)."""
    quarter = dim // 4
    omega = 1.0 / (100.0 ** (torch.arange(quarter, dtype=torch.float64) / quarter))
    pos = torch.arange(side, dtype=torch.float64)
    ang = pos[:, None] * omega[None, :]  # [side, quarter]
    one = torch.cat([ang.sin(), ang.cos()], dim=1)  # [side, dim/2]
    rows = one[:, None, :].expand(side, side, -1)
    cols = one[None, :, :].expand(side, side, -1)
    out = torch.cat([rows, cols], dim=-1).reshape(side * side, -1)
    if out.shape[1] < dim:
        out = torch.cat([out, torch.zeros(side * side, dim - out.shape[1], dtype=out.dtype)], dim=1)
    return out.to(torch.float32)


# --------------------------------------------------------------------------------------------
# Preprocessing and prompts
# --------------------------------------------------------------------------------------------


def preprocess(im) -> tuple[np.ndarray, int, int]:
    """PIL image -> (uint8 [N, T, T, 3] frames: row-major tiles then the global image, rows, cols)."""
    out = idefics3_process(im, LONGEST_EDGE, TILE, split=True)
    frames = np.frombuffer(out["pixels"], dtype=np.uint8).reshape(out["images"], TILE, TILE, 3)
    return frames, out["rows"], out["cols"]


def to_pixel_values(frames: np.ndarray) -> torch.Tensor:
    """uint8 [N, T, T, 3] -> float32 [N, 3, T, T]: x * (1/255), then (x - 0.5) / 0.5."""
    x = torch.from_numpy(np.array(frames)).permute(0, 3, 1, 2).to(torch.float32)
    x = x * np.float32(1 / 255)
    return (x - 0.5) / 0.5


def chat_prompt(prompt: str) -> str:
    return m.render_chat(
        [{"role": "user", "content": [{"type": "image"}, {"type": "text", "text": prompt}]}],
        add_generation_prompt=True,
    )


class Prompter:
    """Token ids of the expanded prompt (cached per prompt and grid) and of answers."""

    def __init__(self, tok: m.ByteLevelBPE, cfg: m.Idefics3Config) -> None:
        self.tok, self.cfg = tok, cfg
        self.eou = tok.vocab["<end_of_utterance>"]
        self._cache: dict[tuple[str, int, int], list[int]] = {}

    def prompt_ids(self, prompt: str, rows: int, cols: int) -> list[int]:
        key = (prompt, rows, cols)
        if key not in self._cache:
            text = m.expand_prompt(chat_prompt(prompt), [(rows, cols)], self.cfg.tokens_per_tile)
            self._cache[key] = self.tok.encode(text)
        return self._cache[key]

    def target_ids(self, answer: str) -> list[int]:
        return self.tok.encode(" " + answer) + [self.eou]


# --------------------------------------------------------------------------------------------
# Forward pieces and greedy decoding
# --------------------------------------------------------------------------------------------


def vision_forward(model: m.Idefics3ForConditionalGeneration, pixel_values: torch.Tensor, trainable_layers: int) -> torch.Tensor:
    """The vision encoder (pixel_values [n_tiles, 3, T, T] -> [n_tiles, patches, D]) with only
    its last `trainable_layers` layers (and the final norm) in the autograd graph: the frozen
    part runs without gradients, which saves its backward pass (the bulk of a step)."""
    vm = model.vision_model
    layers = vm.encoder.layers
    frozen = len(layers) - trainable_layers
    key_bias = torch.zeros(pixel_values.shape[0], 1, 1, 1)  # training tiles are never padded
    with torch.set_grad_enabled(frozen <= 0 and torch.is_grad_enabled()):
        x = vm.embeddings(pixel_values)
        for layer in layers[: max(0, frozen)]:
            x = layer(x, key_bias)
    for layer in layers[max(0, frozen) :]:
        x = layer(x, key_bias)
    return vm.post_layernorm(x)


def batch_logits(
    model: m.Idefics3ForConditionalGeneration,
    ids: torch.Tensor,
    vis: torch.Tensor,
    attn_layer: int | None = None,
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor | None]:
    """ids [B, S] (right padded), vis [n_tiles, patches, D] (vision_forward of all samples' tiles
    in order) -> (logits [B, S, V], connector output [n_tiles, tokens_per_tile, H], attention
    probabilities [B, GUIDE_HEADS, S, S] of the first GUIDE_HEADS heads of decoder layer
    `attn_layer`, or None). The same computation as model.image_features + merge + the decoder,
    with intermediate values kept for the aux losses."""
    text = model.text_model
    feats = model.connector(vis)
    embeds = model.merge(ids, text.embed_tokens(ids), feats.reshape(-1, model.cfg.text.hidden_size))
    b, s = ids.shape
    pos = torch.arange(s, dtype=torch.int64)[None].expand(b, s)
    if attn_layer is None:
        logits, _ = text(embeds, torch.ones(b, s, dtype=torch.int64), pos, text.empty_cache(b))
        return logits, feats, None
    # LlamaModel.forward unrolled, recomputing one layer's attention probabilities on the side
    cos, sin = text.rotary_emb(pos)
    bias = m.decoder_attention_bias(torch.ones(b, s, dtype=torch.int64), s)
    past = text.empty_cache(b)
    x, probs = embeds, None
    for i, layer in enumerate(text.layers):
        if i == attn_layer:
            a = layer.self_attn
            h = layer.input_layernorm(x)
            q = a.q_proj(h).view(b, s, a.num_heads, a.head_dim).transpose(1, 2)
            k = a.k_proj(h).view(b, s, a.num_kv_heads, a.head_dim).transpose(1, 2)
            q, k = m.apply_rotary(q, cos, sin), m.apply_rotary(k, cos, sin)
            # only the guided heads: the other heads' probabilities would be computed for nothing
            q = q[:, :GUIDE_HEADS]
            k = m.repeat_kv(k, a.num_heads // a.num_kv_heads)[:, :GUIDE_HEADS]
            probs = torch.softmax(torch.matmul(q, k.transpose(2, 3)) / math.sqrt(a.head_dim) + bias, dim=-1)
        x, _, _ = layer(x, cos, sin, bias, past[2 * i], past[2 * i + 1])
    logits = F.linear(text.norm(x), text.embed_tokens.weight)
    return logits, feats, probs


GUIDE_LAYER = 2  # decoder layer whose first GUIDE_HEADS heads are taught where each character is
GUIDE_HEADS = 2


TOKEN_SIDE = TILE // PATCH // SCALE_FACTOR  # image tokens per tile side (4)


def global_token_start(rows: int, cols: int) -> int:
    """Index of the global image's first token among a sample's image tokens (after the tiles)."""
    return rows * cols * TOKEN_SIDE * TOKEN_SIDE


def column_token_indices(rows: int, cols: int, token_col: int) -> list[int]:
    """Indices (within a sample's image tokens: split tiles row-major, then the global image) of
    the tokens of the split tiles in global token column `token_col` (0 .. cols * TOKEN_SIDE - 1),
    top to bottom."""
    c, tc = divmod(token_col, TOKEN_SIDE)
    per_tile = TOKEN_SIDE * TOKEN_SIDE
    return [(r * cols + c) * per_tile + tr * TOKEN_SIDE + tc for r in range(rows) for tr in range(TOKEN_SIDE)]


def guide_loss(probs: torch.Tensor, samples: list[dict[str, Any]], image_token_id: int) -> torch.Tensor:
    """Guided attention (training only), on the first GUIDE_HEADS heads of one decoder layer
    (probs [B, GUIDE_HEADS, S, S]). Reading: the query that predicts character k should put its
    attention mass on the split tiles' token column that holds the centre of character k. Count:
    the queries that predict the answer should spread it over the global image's tokens (all
    shapes, each seen once), so the answer can be read from their mean. Loss = -log(attention
    mass on the targets), averaged over the heads and queries of each character or count answer,
    then over those.

    All (query, key) pairs are read with one gather: indexing probs once per character made the
    backward pass add a zero-filled copy of probs per character."""
    pair_b: list[int] = []
    pair_q: list[int] = []
    pair_k: list[int] = []
    pair_group: list[int] = []  # per (query, key) pair: its (sample, query) group
    group_term: list[int] = []  # per group: its loss term (one per character or count answer)
    n_terms = 0
    for b, s in enumerate(samples):
        if s["task"] not in ("reading", "count"):
            continue
        image_pos = [i for i, t in enumerate(s["prompt_ids"]) if t == image_token_id]
        start = len(s["prompt_ids"]) - 1  # predicts the space token; answer token k at start + 1 + k
        if s["task"] == "count":
            terms = [([start, start + 1], image_pos[global_token_start(s["rows"], s["cols"]) :])]
        else:
            terms = [
                ([start + 1 + k], [image_pos[i] for i in column_token_indices(s["rows"], s["cols"], col)])
                for k, col in enumerate(s["centre_token_col"])
            ]
        for queries, targets in terms:
            for q in queries:
                pair_b += [b] * len(targets)
                pair_q += [q] * len(targets)
                pair_k += targets
                pair_group += [len(group_term)] * len(targets)
                group_term.append(n_terms)
            n_terms += 1
    if not n_terms:
        return probs.new_zeros(())
    picked = probs[torch.tensor(pair_b), :, torch.tensor(pair_q), torch.tensor(pair_k)]  # [pairs, heads]
    mass = picked.new_zeros(len(group_term), probs.shape[1]).index_add(0, torch.tensor(pair_group), picked)
    nll = -torch.log(mass + 1e-6).mean(1)  # [groups]
    term_of = torch.tensor(group_term)
    per_term = nll.new_zeros(n_terms).index_add(0, term_of, nll) / torch.bincount(term_of, minlength=n_terms)
    return per_term.mean()


class AuxHeads(torch.nn.Module):
    """Training-only heads on the vision encoder output (never exported).

    Learning everything through the decoder's attention alone left the encoder untrained for a
    long time (colour/shape/count stayed at chance after 11k samples, reading made no progress).
    These give the encoder a direct signal: for reading, each character is classified from the
    mean of the patch columns its advance box covers (patches pooled over the rows; the generator
    knows each character's horizontal span); for the shape tasks one linear head per task
    classifies the mean of all patches of all frames of the image.

    Two more act on the connector output, the decoder's view of the image (`tokens`): for reading,
    the mean over the rows of the token column that holds a character's centre classifies that
    character (the unit the decoder's guided attention reads); for counting, each global-image
    token regresses how many shape centres it holds (so the mean over the global tokens is
    proportional to the count)."""

    def __init__(self, dim: int, text_dim: int) -> None:
        super().__init__()
        self.chars = torch.nn.Linear(dim, len(gen.ALPHABET))
        self.colour = torch.nn.Linear(dim, len(gen.COLOURS))
        self.shape = torch.nn.Linear(dim, len(gen.SHAPES))
        self.count = torch.nn.Linear(dim, 5)
        self.token_chars = torch.nn.Linear(text_dim, len(gen.ALPHABET))
        self.density = torch.nn.Linear(text_dim, 1)

    def tokens(self, feats: torch.Tensor, samples: list[dict[str, Any]]) -> tuple[torch.Tensor, torch.Tensor]:
        """feats [n_tiles, tokens_per_tile, H] (connector output) -> (token-column character loss,
        global-token shape-centre density loss). One gather per loss from the flat token list:
        per-sample slices would each add a zero-filled copy of feats in the backward pass."""
        per_tile = feats.shape[1]
        flat = feats.reshape(-1, feats.shape[-1])
        char_tokens: list[int] = []
        char_of_token: list[int] = []
        labels: list[int] = []
        dens_tokens: list[int] = []
        dens_targets: list[float] = []
        first = 0  # the sample's first token in flat
        for s in samples:
            if s["task"] == "reading":
                for ch, col in zip(s["answer"], s["centre_token_col"]):
                    idx = column_token_indices(s["rows"], s["cols"], col)
                    char_tokens += [first + i for i in idx]
                    char_of_token += [len(labels)] * len(idx)
                    labels.append(gen.ALPHABET.index(ch))
            elif s["task"] == "count":
                g = first + global_token_start(s["rows"], s["cols"])
                dens_tokens += range(g, g + per_tile)
                dens_targets += s["cell_counts"]
            first += s["frames"].shape[0] * per_tile
        chars = density = feats.new_zeros(())
        if labels:
            chars = F.cross_entropy(self.token_chars(group_means(flat, char_tokens, char_of_token, len(labels))), torch.tensor(labels))
        if dens_tokens:
            # every count sample has the same number of global tokens, so the mean over all of
            # them is the mean of the per-sample means
            pred = self.density(flat[torch.tensor(dens_tokens)])[:, 0]
            density = F.mse_loss(pred, torch.tensor(dens_targets, dtype=torch.float32))
        return chars, density

    def forward(self, vis: torch.Tensor, samples: list[dict[str, Any]]) -> tuple[torch.Tensor, torch.Tensor]:
        side = TILE // PATCH
        per_tile = side * side
        flat = vis.reshape(-1, vis.shape[-1])
        col_patches: list[int] = []  # the patches of the columns each character covers
        char_of_patch: list[int] = []
        char_labels: list[int] = []
        cls_tiles: dict[str, list[int]] = {task: [] for task in AUX_CLASSES}  # the samples' tiles
        cls_owner: dict[str, list[int]] = {task: [] for task in AUX_CLASSES}  # per tile: its sample
        cls_labels: dict[str, list[int]] = {task: [] for task in AUX_CLASSES}
        first_tile = 0
        for s in samples:
            rows, cols, n = s["rows"], s["cols"], s["frames"].shape[0]
            if s["task"] == "reading":
                # one vector per character: the mean of all patches of the columns it covers
                for k, ch in enumerate(s["answer"]):
                    covered = [c for c, lab in enumerate(s["char_of_column"]) if lab == k]
                    if not covered:
                        continue
                    for c in covered:
                        tile_col, patch_col = divmod(c, side)
                        for tile_row in range(rows):
                            tile = first_tile + tile_row * cols + tile_col
                            col_patches += [tile * per_tile + r * side + patch_col for r in range(side)]
                    char_of_patch += [len(char_labels)] * (len(covered) * rows * side)
                    char_labels.append(gen.ALPHABET.index(ch))
            else:
                cls_tiles[s["task"]] += range(first_tile, first_tile + n)
                cls_owner[s["task"]] += [len(cls_labels[s["task"]])] * n
                cls_labels[s["task"]].append(AUX_CLASSES[s["task"]].index(s["answer"]))
            first_tile += n
        chars = cls = vis.new_zeros(())
        if char_labels:
            chars = F.cross_entropy(self.chars(group_means(flat, col_patches, char_of_patch, len(char_labels))), torch.tensor(char_labels))
        tile_means = vis.mean(1)  # every tile has the same number of patches
        losses = [
            F.cross_entropy(
                head(group_means(tile_means, cls_tiles[task], cls_owner[task], len(cls_labels[task]))),
                torch.tensor(cls_labels[task]),
                reduction="none",
            )
            for task, head in (("colour", self.colour), ("shape", self.shape), ("count", self.count))
            if cls_labels[task]
        ]
        if losses:
            cls = torch.cat(losses).mean()
        return chars, cls


def group_means(rows: torch.Tensor, index: list[int], group: list[int], n_groups: int) -> torch.Tensor:
    """Mean of rows[index[j]] over the j with group[j] == g, for g < n_groups (every group
    non-empty): one gather and one scatter, whatever the number of groups."""
    owner = torch.tensor(group)
    sums = rows.new_zeros(n_groups, rows.shape[1]).index_add(0, owner, rows[torch.tensor(index)])
    return sums / torch.bincount(owner, minlength=n_groups).to(rows.dtype)[:, None]


AUX_CLASSES = {"colour": list(gen.COLOURS), "shape": list(gen.SHAPES), "count": ["1", "2", "3", "4", "5"]}


def char_of_column(spans: list[tuple[float, float]], cols: int) -> list[int]:
    """Per patch column: the index of the character whose span holds its centre, or -1."""
    n = cols * (TILE // PATCH)
    return [next((k for k, (a, b) in enumerate(spans) if a <= (c + 0.5) / n < b), -1) for c in range(n)]


def centre_token_columns(spans: list[tuple[float, float]], cols: int) -> list[int]:
    """Per character: the global token column (0 .. cols * TOKEN_SIDE - 1) holding its centre."""
    n = cols * TOKEN_SIDE
    return [min(n - 1, max(0, int((a + b) / 2 * n))) for a, b in spans]


def cell_counts(centres: list[tuple[float, float]]) -> list[float]:
    """Shape centres per global-image token (the global frame is the whole image squeezed to one
    tile, TOKEN_SIDE x TOKEN_SIDE tokens, row-major)."""
    out = [0.0] * (TOKEN_SIDE * TOKEN_SIDE)
    for x, y in centres:
        out[min(TOKEN_SIDE - 1, int(y * TOKEN_SIDE)) * TOKEN_SIDE + min(TOKEN_SIDE - 1, int(x * TOKEN_SIDE))] += 1.0
    return out


@torch.no_grad()
def greedy(
    model: m.Idefics3ForConditionalGeneration,
    prompt_ids: Sequence[int],
    pixel_values: torch.Tensor,
    eos_id: int,
    max_new_tokens: int = 16,
) -> list[int]:
    """Prefill with an empty cache, then one token per decoder call (as the ONNX runtime does).
    Returns the generated ids without the stop token."""
    text = model.text_model
    ids = torch.tensor([list(prompt_ids)], dtype=torch.int64)
    mask = torch.ones(1, pixel_values.shape[0], TILE, TILE, dtype=torch.bool)
    feats = model.image_features(pixel_values[None], mask)
    embeds = model.merge(ids, text.embed_tokens(ids), feats)
    s = ids.shape[1]
    logits, past = text(embeds, torch.ones(1, s, dtype=torch.int64), torch.arange(s)[None], text.empty_cache())
    out: list[int] = []
    for step in range(max_new_tokens):
        token = int(torch.argmax(logits[0, -1]))  # first maximum wins
        if token == eos_id:
            break
        out.append(token)
        total = s + step + 1
        logits, past = text(
            text.embed_tokens(torch.tensor([[token]])),
            torch.ones(1, total, dtype=torch.int64),
            torch.tensor([[total - 1]]),
            past,
        )
    return out


# --------------------------------------------------------------------------------------------
# Data stream
# --------------------------------------------------------------------------------------------

# Colour and shape are learnt early; reading and counting take most of phase 2.
TRAIN_WEIGHTS = {"reading": 0.65, "colour": 0.1, "shape": 0.1, "count": 0.15}
# Phase 1 (encoder + connector) is mostly reading: the per-character heads are the slow ones.
PRETRAIN_WEIGHTS = {"reading": 0.85, "colour": 0.05, "shape": 0.05, "count": 0.05}
PRETRAIN_SEED_OFFSET = 1000  # phase 1 draws from seed + 1000 (still below the evaluation seeds)
# Phase 3 (the whole encoder trains): counting at 2.5x its phase-2 share; reading keeps half the
# items, enough to hold the character features in the early encoder layers.
FINAL_WEIGHTS = {"reading": 0.50, "colour": 0.04, "shape": 0.08, "count": 0.38}
FINAL_SEED_OFFSET = 2000  # phase 3 draws from seed + 2000
VALID_SEED = 4242  # a fixed validation set (never an evaluation seed)


def make_sample(prompter: Prompter, seed: int, index: int, weights=TRAIN_WEIGHTS, task=None) -> dict[str, Any]:
    im, prompt, answer, task, info = gen.make_item_info(seed, index, task=task, weights=weights)
    frames, rows, cols = preprocess(im)
    extra = {}
    if task == "reading":
        extra["char_of_column"] = char_of_column(info["spans"], cols)
        extra["centre_token_col"] = centre_token_columns(info["spans"], cols)
    elif task == "count":
        extra["cell_counts"] = cell_counts(info["centres"])
        extra["centres"] = info["centres"]
    return {
        **extra,
        "frames": frames,
        "prompt_ids": prompter.prompt_ids(prompt, rows, cols),
        "target_ids": prompter.target_ids(answer),
        "answer": answer,
        "task": task,
        "rows": rows,
        "cols": cols,
    }


def collate(samples: list[dict[str, Any]], pad_id: int) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """-> ids [B, S] (prompt + target[:-1], right padded), labels [B, S] (-100 but on the answer
    positions), pixel_values [n_tiles, 3, T, T]."""
    seqs = [s["prompt_ids"] + s["target_ids"][:-1] for s in samples]
    width = max(len(q) for q in seqs)
    ids = torch.full((len(samples), width), pad_id, dtype=torch.int64)
    labels = torch.full((len(samples), width), -100, dtype=torch.int64)
    for k, (s, q) in enumerate(zip(samples, seqs)):
        ids[k, : len(q)] = torch.tensor(q)
        start = len(s["prompt_ids"]) - 1  # the last prompt position predicts the first answer token
        labels[k, start : start + len(s["target_ids"])] = torch.tensor(s["target_ids"])
    pixels = to_pixel_values(np.concatenate([s["frames"] for s in samples]))
    return ids, labels, pixels


class Stream:
    """Deterministic batches: pool k = items [k*P, (k+1)*P) of the seed, sorted by sequence length
    (less padding), cut into batches, batch order shuffled with rng (seed, k)."""

    def __init__(self, prompter: Prompter, seed: int, batch: int, weights=TRAIN_WEIGHTS, pool_batches: int = 8) -> None:
        self.prompter, self.seed, self.batch, self.pool_batches = prompter, seed, batch, pool_batches
        self.weights = weights

    def batches_from(self, step: int):
        k, skip = divmod(step, self.pool_batches)
        while True:
            size = self.batch * self.pool_batches
            pool = [make_sample(self.prompter, self.seed, k * size + i, self.weights) for i in range(size)]
            pool.sort(key=lambda s: (len(s["prompt_ids"]) + len(s["target_ids"]), s["frames"].shape[0]))
            chunks = [pool[i : i + self.batch] for i in range(0, size, self.batch)]
            order = np.random.default_rng([self.seed, k, 7]).permutation(len(chunks))
            for j in order[skip:]:
                yield chunks[int(j)]
            skip = 0
            k += 1


# --------------------------------------------------------------------------------------------
# Validation
# --------------------------------------------------------------------------------------------


def levenshtein(a: str, b: str) -> int:
    prev = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        cur = [i]
        for j, cb in enumerate(b, 1):
            cur.append(min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (ca != cb)))
        prev = cur
    return prev[-1]


@torch.no_grad()
def validate(model, prompter: Prompter, samples: list[dict[str, Any]]) -> dict[str, Any]:
    model.eval()
    per: dict[str, list[int]] = {}
    edits = chars = 0
    for s in samples:
        out = greedy(model, s["prompt_ids"], to_pixel_values(s["frames"]), prompter.eou)
        pred = prompter.tok.decode(out).strip()
        per.setdefault(s["task"], []).append(int(pred == s["answer"]))
        if s["task"] == "reading":
            edits += levenshtein(pred, s["answer"])
            chars += len(s["answer"])
    model.train()
    result = {t: round(sum(v) / len(v), 4) for t, v in sorted(per.items())}
    result["cer"] = round(edits / max(chars, 1), 4)
    return result


# --------------------------------------------------------------------------------------------
# Training
# --------------------------------------------------------------------------------------------


def lr_at(step: int, progress: float, peak: float, warmup: int, floor: float = 0.05) -> float:
    """Linear warm-up over the first `warmup` steps times a cosine decay (over `progress` in
    [0, 1]) from peak to floor*peak."""
    warm = min(1.0, (step + 1) / warmup)
    return peak * warm * (floor + (1 - floor) * 0.5 * (1 + math.cos(math.pi * min(1.0, progress))))


class ThreadTuner:
    """Switches between 1 and `max_threads` intra-op threads by measured speed.

    On a 2-core machine shared with other work, two OpenMP threads stall whenever the other job
    holds a core (measured: 6x slower than one thread); when the machine is free two threads are
    ~1.5x faster. The tuner keeps the recent seconds-per-work of the current setting, drops to one
    thread at once when a step is far slower than usual, and now and then tries the other setting
    for a few steps (backing off while the try keeps failing). Only speed depends on this."""

    def __init__(self, max_threads: int, period: int = 30, probe: int = 4) -> None:
        self.choices = sorted({1, max_threads})
        self.current = 1  # safe start; the first try of max_threads comes after a few steps
        self.base_period, self.period, self.probe = period, period, probe
        self.recent: list[float] = []
        self.trial: list[float] | None = None  # per-step rates while trying the other setting
        self.home = 1
        self.since = period - 8
        self.switches = 0
        torch.set_num_threads(self.current)

    def _set(self, n: int) -> None:
        self.current = n
        self.switches += 1
        torch.set_num_threads(n)

    def observe(self, seconds: float, work: int) -> None:
        if len(self.choices) == 1:
            return
        rate = seconds / work
        other = self.choices[0] if self.current == self.choices[1] else self.choices[1]
        if self.trial is not None:
            self.trial.append(rate)
            usual = float(np.median(self.recent)) if self.recent else math.inf
            # the first step after a switch pays for thread start-up; only a clear loss aborts
            if (len(self.trial) > 1 and rate > 2.0 * usual) or len(self.trial) >= self.probe:
                if len(self.trial) >= self.probe and float(np.median(self.trial[1:])) < usual:
                    self.recent, self.period = self.trial[-10:], self.base_period  # keep it
                else:
                    self._set(self.home)
                    self.period = min(8 * self.base_period, 2 * self.period)
                self.trial, self.since = None, 0
            return
        if self.current > 1 and len(self.recent) >= 3 and rate > 2.5 * float(np.median(self.recent)):
            self._set(1)  # the machine just got busy
            self.recent, self.since = [], 0
            return
        self.recent = (self.recent + [rate])[-10:]
        self.since += 1
        if self.since >= self.period and len(self.recent) >= 3:
            self.home, self.trial = self.current, []
            self._set(other)


def save_checkpoint(path: str, payload: dict[str, Any]) -> None:
    tmp = path + ".tmp"
    torch.save(payload, tmp)
    os.replace(tmp, path)


def config_record(cfg: m.Idefics3Config) -> dict[str, Any]:
    """The model configuration as a checkpoint stores it (and loading checks it against)."""
    return {"vision": asdict(cfg.vision), "text": asdict(cfg.text)}


def load_model_from_checkpoint(path: str) -> tuple[m.Idefics3ForConditionalGeneration, m.ByteLevelBPE, dict]:
    ckpt = torch.load(path, map_location="cpu")
    tok = build_tokenizer()
    cfg = model_config(tok)
    assert ckpt["config"] == config_record(cfg), "config changed"
    model = m.Idefics3ForConditionalGeneration(cfg)
    model.load_state_dict(ckpt["model"])
    model.eval()
    return model, tok, ckpt


def log(msg: str) -> None:
    print(time.strftime("%H:%M:%S ") + msg, flush=True)


def cpu_bf16_support() -> bool | None:
    """Whether the CPU multiplies bfloat16 natively (AVX512-BF16 or AMX-BF16), from the flags of
    /proc/cpuinfo; None where that file does not exist (not Linux)."""
    try:
        with open("/proc/cpuinfo") as f:
            flags = {word for line in f if line.startswith("flags") for word in line.split()}
    except OSError:
        return None
    return bool(flags & {"avx512_bf16", "amx_bf16"})


def train(args: argparse.Namespace) -> None:
    if args.precision == "bf16" and cpu_bf16_support() is False:
        # without the instructions autocast converts every product to float32 and back: on a
        # 2-core AVX2 CPU a step took ~20x longer than in float32 (1.8 against 37 samples/s)
        raise SystemExit(
            "train: --precision bf16 needs a CPU with AVX512-BF16 or AMX (this one has neither, so bfloat16 "
            "would be ~20x slower than float32); use --precision fp32"
        )
    if args.seed + FINAL_SEED_OFFSET >= gen.EVAL_SEED_MIN:
        raise SystemExit(
            f"train: seed {args.seed} + {FINAL_SEED_OFFSET} reaches the evaluation seeds (use < {gen.EVAL_SEED_MIN - FINAL_SEED_OFFSET})"
        )
    if args.final_minutes and not (args.max_minutes and args.pretrain_minutes + args.final_minutes < args.max_minutes):
        raise SystemExit("train: --final-minutes needs --max-minutes longer than --pretrain-minutes + --final-minutes")
    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    np.random.seed(args.seed)
    os.makedirs(args.dir, exist_ok=True)
    ckpt_path = os.path.join(args.dir, "checkpoint.pt")

    tok = build_tokenizer()
    cfg = model_config(tok)
    prompter = Prompter(tok, cfg)
    model = new_model(cfg, args.seed)
    n_params = sum(p.numel() for p in model.parameters())
    aux = AuxHeads(cfg.vision.hidden_size, cfg.text.hidden_size)
    named = [*model.named_parameters(), *(("aux." + n, p) for n, p in aux.named_parameters())]
    params = [p for _, p in named]
    decay = [p for n, p in named if p.dim() >= 2 and "embedding" not in n]
    no_decay = [p for n, p in named if not (p.dim() >= 2 and "embedding" not in n)]
    opt = torch.optim.AdamW(
        [{"params": decay, "weight_decay": args.weight_decay}, {"params": no_decay, "weight_decay": 0.0}],
        lr=args.lr,
        betas=(0.9, 0.98),
        eps=1e-8,
    )
    step, elapsed_before, samples_seen = 0, 0.0, 0
    ckpt_phase2_start = ckpt_phase3_start = None
    if os.path.exists(ckpt_path) and not args.fresh:
        ckpt = torch.load(ckpt_path, map_location="cpu")
        if ckpt["args"]["seed"] != args.seed or ckpt["args"]["batch"] != args.batch:
            raise SystemExit("train: checkpoint was made with another --seed/--batch; use --fresh or another --dir")
        model.load_state_dict(ckpt["model"])
        aux.load_state_dict(ckpt["aux"])
        opt.load_state_dict(ckpt["optimizer"])
        step, elapsed_before, samples_seen = ckpt["step"], ckpt["elapsed"], ckpt["samples"]
        ckpt_phase2_start = ckpt.get("phase2_start")
        ckpt_phase3_start = ckpt.get("phase3_start")
        torch.set_rng_state(ckpt["torch_rng"])
        log(f"resumed from {ckpt_path} at step {step}")
    log(
        f"params {n_params} ({n_params / 1e6:.2f}M), vocab {cfg.text.vocab_size}, "
        f"tokens/tile {cfg.tokens_per_tile}, steps {args.steps}, batch {args.batch}, lr {args.lr}, seed {args.seed}"
    )

    valid = [make_sample(prompter, VALID_SEED, i, weights=None) for i in range(args.valid_items)]
    # Phase 1 and phase 2 read separate deterministic streams, each resumable from its own step.
    pre_stream = Stream(prompter, args.seed + PRETRAIN_SEED_OFFSET, args.batch, PRETRAIN_WEIGHTS).batches_from(step)
    stream = None
    model.train()
    t_start = time.time()
    last_save = last_log = time.time()
    ema: dict[str, float] = {}
    window_samples, window_t = 0, time.time()

    def elapsed() -> float:
        return elapsed_before + time.time() - t_start

    def checkpoint() -> None:
        save_checkpoint(
            ckpt_path,
            {
                "model": model.state_dict(),
                "aux": aux.state_dict(),
                "optimizer": opt.state_dict(),
                "step": step,
                "elapsed": elapsed(),
                "samples": samples_seen,
                "phase2_start": phase2_start,
                "phase3_start": phase3_start,
                "torch_rng": torch.get_rng_state(),
                "args": vars(args),
                "config": config_record(cfg),
                "tokenizer": {"corpus": CORPUS, "num_merges": NUM_MERGES},
                "geometry": {"tile": TILE, "longest_edge": LONGEST_EDGE},
            },
        )

    threads = ThreadTuner(args.threads)
    pretrain_seconds = 60 * args.pretrain_minutes
    phase2_start = ckpt_phase2_start
    phase3_start = ckpt_phase3_start
    final_stream = None
    while True:
        # Phase 1 (the first --pretrain-minutes): the vision encoder and the connector with the
        # auxiliary heads, about 2x more samples per second than full steps, at a constant rate
        # after warm-up. Phase 2: the decoder joins and the encoder's first layers are frozen,
        # with a fresh warm-up and a cosine decay over the rest of the budget (steps or wall
        # clock, whichever is further along).
        pretraining = elapsed() < pretrain_seconds
        if pretraining:
            progress, lr = 0.0, lr_at(step, 0.0, args.lr, args.warmup)
        else:
            if phase2_start is None:
                phase2_start = step
                log(f"phase 2 (decoder joins) from step {step}")
            progress = step / args.steps
            if args.max_minutes:
                spent = elapsed() - pretrain_seconds
                progress = max(progress, spent / max(1.0, 60 * args.max_minutes - pretrain_seconds))
            lr = lr_at(step - phase2_start, progress, args.lr, args.warmup)
        if progress >= 1.0:
            break
        # Phase 3 (the last --final-minutes): the learning rate keeps decaying; only the data mix and
        # the trained encoder layers change.
        final = not pretraining and args.final_minutes > 0 and elapsed() >= 60 * (args.max_minutes - args.final_minutes)
        if final and phase3_start is None:
            phase3_start = step
            log(f"phase 3 (whole encoder, more counting) from step {step}")
        if pretraining:
            samples = next(pre_stream)
        elif final:
            if final_stream is None:
                final_stream = Stream(prompter, args.seed + FINAL_SEED_OFFSET, args.batch, FINAL_WEIGHTS).batches_from(step - phase3_start)
            samples = next(final_stream)
        else:
            if stream is None:
                stream = Stream(prompter, args.seed, args.batch).batches_from(step - phase2_start)
            samples = next(stream)
        ids, labels, pixels = collate(samples, cfg.text.pad_token_id)
        t_step = time.time()
        for group in opt.param_groups:
            group["lr"] = lr
        # bf16: the matrix products run in bfloat16 (weights, optimiser and losses stay float32)
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=args.precision == "bf16"):
            if pretraining:
                vis = vision_forward(model, pixels, cfg.vision.num_hidden_layers)
                feats = model.connector(vis)
            else:
                guided = args.guide_weight > 0 and step >= args.guide_start
                vis = vision_forward(model, pixels, cfg.vision.num_hidden_layers if final else args.vision_train_layers)
                logits, feats, probs = batch_logits(model, ids, vis, GUIDE_LAYER if guided else None)
        vis, feats = vis.float(), feats.float()
        chars_loss, cls_loss = aux(vis, samples)
        token_loss, density_loss = aux.tokens(feats, samples)
        if pretraining:
            loss = guide = vis.new_zeros(())
            total = chars_loss + cls_loss + token_loss + density_loss
        else:
            # per-token loss, then per-task means for the log; the optimised loss is the token mean
            flat = F.cross_entropy(logits.float().reshape(-1, logits.shape[-1]), labels.reshape(-1), reduction="none")
            flat = flat.reshape(labels.shape)
            valid_tok = labels != -100
            loss = flat[valid_tok].mean()
            guide = guide_loss(probs.float(), samples, cfg.image_token_id) if guided else loss.new_zeros(())
            aux_total = chars_loss + cls_loss + token_loss + density_loss
            total = loss + args.aux_weight * aux_total + args.guide_weight * guide
        opt.zero_grad(set_to_none=True)
        total.backward()
        torch.nn.utils.clip_grad_norm_(params, 1.0)
        opt.step()
        step += 1
        threads.observe(time.time() - t_step, pixels.shape[0] * 64 + ids.numel())
        samples_seen += len(samples)
        window_samples += len(samples)
        with torch.no_grad():
            if not pretraining:
                per_sample = (flat * valid_tok).sum(1) / valid_tok.sum(1)
                for s, v in zip(samples, per_sample.tolist()):
                    ema[s["task"]] = v if s["task"] not in ema else 0.98 * ema[s["task"]] + 0.02 * v
            for key, value in (("all", float(loss)), ("chars", float(chars_loss)), ("cls", float(cls_loss)), ("guide", float(guide)),
                               ("tchars", float(token_loss)), ("density", float(density_loss))):
                ema[key] = value if key not in ema else 0.95 * ema[key] + 0.05 * value
        now = time.time()
        if now - last_log >= args.log_seconds:
            rate = window_samples / (now - window_t)
            tasks = " ".join(f"{k} {v:.4f}" for k, v in sorted(ema.items()))
            log(f"step {step}/{args.steps} loss {float(loss):.4f} ema[{tasks}] lr {lr:.2e} "
                f"{rate:.1f} samples/s threads {threads.current} (switches {threads.switches}) elapsed {elapsed() / 60:.1f} min")
            last_log, window_samples, window_t = now, 0, now
        if args.valid_every and step % args.valid_every == 0 and not pretraining:
            t0 = time.time()
            log(f"valid step {step}: {json.dumps(validate(model, prompter, valid))} ({time.time() - t0:.0f}s)")
        if now - last_save >= args.save_minutes * 60:
            checkpoint()
            last_save = time.time()
            log(f"saved {ckpt_path} at step {step}")
    log(f"valid step {step}: {json.dumps(validate(model, prompter, valid))}")
    checkpoint()
    log(f"saved {ckpt_path} at step {step}")
    log(f"done: {step} steps, {samples_seen} samples, {elapsed() / 60:.1f} min")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--seed", type=int, default=1, help="training data + init seed (< 9001)")
    ap.add_argument("--steps", type=int, default=100000, help="schedule length in steps (with --max-minutes: whichever ends first)")
    ap.add_argument("--batch", type=int, default=24)
    ap.add_argument("--lr", type=float, default=2e-3)
    ap.add_argument("--warmup", type=int, default=150, help="warm-up steps")
    ap.add_argument("--max-minutes", type=float, default=80.0,
                    help="wall-clock budget: the schedule follows max(step/steps, time/budget) (0: steps only)")
    ap.add_argument("--weight-decay", type=float, default=0.05)
    ap.add_argument("--pretrain-minutes", type=float, default=20.0,
                    help="phase 1: minutes of training the vision encoder and connector alone with the auxiliary heads")
    ap.add_argument("--guide-weight", type=float, default=1.0, help="weight of the guided-attention loss")
    ap.add_argument("--guide-start", type=int, default=0, help="first step with the guided-attention loss")
    ap.add_argument("--aux-weight", type=float, default=1.0, help="weight of the training-only column/class heads")
    ap.add_argument("--vision-train-layers", type=int, default=1,
                    help="phase 2: how many of the vision encoder's last layers keep training (the rest is frozen)")
    ap.add_argument("--final-minutes", type=float, default=0.0,
                    help="phase 3: the last minutes of --max-minutes train the whole encoder on more counting (0: none)")
    ap.add_argument("--dir", default="/work/tiny-train", help="checkpoint folder (outside the repository)")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--precision", choices=["fp32", "bf16"], default="fp32",
                    help="bf16: matrix products in bfloat16 under autocast (~1.5-2x faster on CPUs with AVX512-BF16)")
    ap.add_argument("--save-minutes", type=float, default=5.0)
    ap.add_argument("--log-seconds", type=float, default=30.0)
    ap.add_argument("--valid-every", type=int, default=500, help="steps between greedy checks (0: never)")
    ap.add_argument("--valid-items", type=int, default=120)
    ap.add_argument("--fresh", action="store_true", help="ignore an existing checkpoint")
    train(ap.parse_args())


if __name__ == "__main__":
    main()
