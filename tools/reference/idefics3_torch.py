"""Plain-torch Idefics3 / SmolVLM reference model, its ONNX export and its folder files.

Written from the equations (no `transformers` on this machine). The parameter names follow
Hugging Face's `Idefics3ForConditionalGeneration` so the structure is easy to compare:

    vision_model   SigLIP-style ViT: Conv2d patch embedding + learned positions, pre-LN blocks,
                   post-layernorm. `pixel_attention_mask` becomes a per-patch key-padding bias.
    connector      Idefics3 pixel shuffle (NHWC space-to-depth, factor r) + Linear(C*r*r -> H).
    text_model     Llama (SmolLM2-style): RMSNorm, RoPE, GQA, SwiGLU, tied lm_head.

It also holds what the `hf-idefics3` folder needs besides weights: a byte-level BPE tokenizer
(trainer, encoder, `tokenizer.json` writer) and the config files. Importing this module has no side
effects; `tools/reference/tiny_idefics3.py` is the CLI that builds a folder.

Known simplifications against Hugging Face (none matters for processor outputs, whose tiles are
always fully valid): vision position ids are arange(P) (HF bucketizes them for partially padded
tiles), and the exported vision encoder keeps all-zero padding images (HF drops them), so it
returns exactly B*N*tokens_per_tile rows.

    /usr/bin/python3 tools/reference/tiny_idefics3.py --out test/fixtures/tiny-idefics3 --seed 7
"""
from __future__ import annotations

import io
import json
import math
import os
import re
import unicodedata
import warnings
from dataclasses import asdict, dataclass, field
from typing import Any, Iterable, Sequence

import torch
import torch.nn.functional as F
from torch import nn

# --------------------------------------------------------------------------------------------
# Configuration
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class VisionConfig:
    """SigLIP-style encoder. Defaults = the tiny test model."""

    image_size: int = 32  # tile side T (= preprocessor max_image_size.longest_edge)
    patch_size: int = 8
    num_channels: int = 3
    hidden_size: int = 32
    num_hidden_layers: int = 2
    num_attention_heads: int = 2
    intermediate_size: int = 64
    layer_norm_eps: float = 1e-6
    hidden_act: str = "gelu_pytorch_tanh"

    @property
    def patches_per_side(self) -> int:
        return self.image_size // self.patch_size

    @property
    def num_patches(self) -> int:
        return self.patches_per_side**2


@dataclass(frozen=True)
class TextConfig:
    """Llama decoder (SmolLM2 family). vocab_size and the special ids come from the tokenizer."""

    vocab_size: int = 0
    hidden_size: int = 48
    intermediate_size: int = 96
    num_hidden_layers: int = 2
    num_attention_heads: int = 4
    num_key_value_heads: int = 2
    head_dim: int = 12
    rms_norm_eps: float = 1e-5
    rope_theta: float = 100000.0
    max_position_embeddings: int = 512
    hidden_act: str = "silu"
    bos_token_id: int = 1
    eos_token_id: int = 2
    pad_token_id: int = 2


@dataclass(frozen=True)
class Idefics3Config:
    vision: VisionConfig = field(default_factory=VisionConfig)
    text: TextConfig = field(default_factory=TextConfig)
    scale_factor: int = 2
    image_token_id: int = 0

    @property
    def tokens_per_tile(self) -> int:
        """image_seq_len = (T/patch)^2 / r^2 (4 for the tiny model, 64 for SmolVLM-256M)."""
        return self.vision.num_patches // (self.scale_factor**2)

    def validate(self) -> None:
        v, t, r = self.vision, self.text, self.scale_factor
        assert v.image_size % v.patch_size == 0, "patch must divide the tile"
        assert v.patches_per_side % r == 0, "scale_factor must divide the patch grid"
        assert v.hidden_size % v.num_attention_heads == 0
        assert t.num_attention_heads % t.num_key_value_heads == 0, "GQA needs heads % kv_heads == 0"
        assert t.head_dim % 2 == 0, "RoPE rotates pairs"
        assert t.vocab_size > 0 and 0 <= self.image_token_id < t.vocab_size


# --------------------------------------------------------------------------------------------
# Vision encoder (SigLIP as used by Idefics3)
# --------------------------------------------------------------------------------------------


def patch_attention_mask(pixel_attention_mask: torch.Tensor, patch_size: int) -> torch.Tensor:
    """[n, T, T] bool (pixel valid) -> [n, P] bool (patch valid), P = (T/patch)^2 row-major.

    Idefics3 unfolds the mask into patch_size x patch_size cells and keeps a patch if ANY of its
    pixels is valid. A reshape does the same cut and exports to plain ONNX ops.
    """
    side = pixel_attention_mask.shape[-1] // patch_size
    cells = pixel_attention_mask.to(torch.float32).reshape(-1, side, patch_size, side, patch_size)
    return (cells.sum(dim=(2, 4)) > 0).reshape(-1, side * side)


class VisionEmbeddings(nn.Module):
    def __init__(self, cfg: VisionConfig) -> None:
        super().__init__()
        self.patch_embedding = nn.Conv2d(
            cfg.num_channels, cfg.hidden_size, kernel_size=cfg.patch_size, stride=cfg.patch_size
        )
        self.position_embedding = nn.Embedding(cfg.num_patches, cfg.hidden_size)
        self.register_buffer("position_ids", torch.arange(cfg.num_patches), persistent=False)

    def forward(self, pixel_values: torch.Tensor) -> torch.Tensor:
        # [n, 3, T, T] -> conv -> [n, D, T/p, T/p] -> [n, P, D]; patch index = row * (T/p) + col
        x = self.patch_embedding(pixel_values).flatten(2).transpose(1, 2)
        # Full tiles only: HF bucketizes positions for partially padded tiles (NaViT); with the
        # processor's all-true masks that is exactly arange(P).
        return x + self.position_embedding(self.position_ids)


class VisionAttention(nn.Module):
    def __init__(self, cfg: VisionConfig) -> None:
        super().__init__()
        self.num_heads = cfg.num_attention_heads
        self.head_dim = cfg.hidden_size // cfg.num_attention_heads
        self.scale = self.head_dim**-0.5
        self.q_proj = nn.Linear(cfg.hidden_size, cfg.hidden_size)
        self.k_proj = nn.Linear(cfg.hidden_size, cfg.hidden_size)
        self.v_proj = nn.Linear(cfg.hidden_size, cfg.hidden_size)
        self.out_proj = nn.Linear(cfg.hidden_size, cfg.hidden_size)

    def forward(self, x: torch.Tensor, key_bias: torch.Tensor) -> torch.Tensor:
        # x [n, P, D]; key_bias [n, 1, 1, P] (0 = attend, finfo.min = padded patch)
        n, p, d = x.shape
        q = self.q_proj(x).view(n, p, self.num_heads, self.head_dim).transpose(1, 2)  # [n,h,P,hd]
        k = self.k_proj(x).view(n, p, self.num_heads, self.head_dim).transpose(1, 2)
        v = self.v_proj(x).view(n, p, self.num_heads, self.head_dim).transpose(1, 2)
        scores = torch.matmul(q, k.transpose(2, 3)) * self.scale + key_bias  # [n,h,P,P]
        attn = torch.softmax(scores, dim=-1)
        out = torch.matmul(attn, v).transpose(1, 2).reshape(n, p, d)
        return self.out_proj(out)


class VisionMLP(nn.Module):
    def __init__(self, cfg: VisionConfig) -> None:
        super().__init__()
        self.fc1 = nn.Linear(cfg.hidden_size, cfg.intermediate_size)
        self.fc2 = nn.Linear(cfg.intermediate_size, cfg.hidden_size)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc2(F.gelu(self.fc1(x), approximate="tanh"))  # gelu_pytorch_tanh


class VisionEncoderLayer(nn.Module):
    """Pre-LN transformer block: x + attn(LN(x)), then x + mlp(LN(x))."""

    def __init__(self, cfg: VisionConfig) -> None:
        super().__init__()
        self.layer_norm1 = nn.LayerNorm(cfg.hidden_size, eps=cfg.layer_norm_eps)
        self.self_attn = VisionAttention(cfg)
        self.layer_norm2 = nn.LayerNorm(cfg.hidden_size, eps=cfg.layer_norm_eps)
        self.mlp = VisionMLP(cfg)

    def forward(self, x: torch.Tensor, key_bias: torch.Tensor) -> torch.Tensor:
        x = x + self.self_attn(self.layer_norm1(x), key_bias)
        return x + self.mlp(self.layer_norm2(x))


class VisionEncoder(nn.Module):
    def __init__(self, cfg: VisionConfig) -> None:
        super().__init__()
        self.layers = nn.ModuleList([VisionEncoderLayer(cfg) for _ in range(cfg.num_hidden_layers)])

    def forward(self, x: torch.Tensor, key_bias: torch.Tensor) -> torch.Tensor:
        for layer in self.layers:
            x = layer(x, key_bias)
        return x


class VisionTransformer(nn.Module):
    def __init__(self, cfg: VisionConfig) -> None:
        super().__init__()
        self.cfg = cfg
        self.embeddings = VisionEmbeddings(cfg)
        self.encoder = VisionEncoder(cfg)
        self.post_layernorm = nn.LayerNorm(cfg.hidden_size, eps=cfg.layer_norm_eps)

    def forward(self, pixel_values: torch.Tensor, pixel_attention_mask: torch.Tensor) -> torch.Tensor:
        # pixel_values [n, 3, T, T] f32, pixel_attention_mask [n, T, T] bool -> [n, P, D]
        valid = patch_attention_mask(pixel_attention_mask, self.cfg.patch_size)  # [n, P]
        # Key padding only (queries of padded patches still compute something; HF does the same).
        # finfo.min instead of -inf keeps an all-padded tile finite (uniform attention, no NaN).
        key_bias = (~valid).to(torch.float32)[:, None, None, :] * torch.finfo(torch.float32).min
        x = self.encoder(self.embeddings(pixel_values), key_bias)
        return self.post_layernorm(x)


# --------------------------------------------------------------------------------------------
# Connector (Idefics3)
# --------------------------------------------------------------------------------------------


def pixel_shuffle(x: torch.Tensor, scale_factor: int) -> torch.Tensor:
    """Idefics3Connector.pixel_shuffle, op for op: [n, seq, C] -> [n, seq/r^2, C*r^2].

    NHWC space-to-depth (not torch.pixel_unshuffle): output token t = h1*(W/r) + w1, channel
    m = (i*r + j)*C + c comes from input patch (h1*r + i)*W + (w1*r + j), channel c.
    """
    bsz, seq, embed_dim = x.size()
    height = width = int(seq**0.5)
    r = scale_factor
    x = x.view(bsz, height, width, embed_dim)
    x = x.view(bsz, height, int(width / r), embed_dim * r)  # fold j into channels
    x = x.permute(0, 2, 1, 3)  # [n, W/r, H, C*r]
    x = x.reshape(bsz, int(width / r), int(height / r), embed_dim * (r**2))  # fold i
    x = x.permute(0, 2, 1, 3)  # [n, H/r, W/r, C*r*r]
    return x.reshape(bsz, int(seq / (r**2)), embed_dim * (r**2))


def pixel_shuffle_by_index(x: torch.Tensor, r: int) -> torch.Tensor:
    """The same map written as the DESIGN.md index formula (slow; for self-tests only)."""
    n, seq, c_dim = x.shape
    w = int(round(seq**0.5))
    out = torch.empty(n, seq // (r * r), c_dim * r * r, dtype=x.dtype)
    for h1 in range(w // r):
        for w1 in range(w // r):
            for i in range(r):
                for j in range(r):
                    m0 = (i * r + j) * c_dim
                    out[:, h1 * (w // r) + w1, m0 : m0 + c_dim] = x[:, (h1 * r + i) * w + (w1 * r + j), :]
    return out


class SimpleMLP(nn.Module):
    def __init__(self, in_features: int, out_features: int) -> None:
        super().__init__()
        self.proj = nn.Linear(in_features, out_features, bias=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.proj(x)


class Connector(nn.Module):
    def __init__(self, cfg: Idefics3Config) -> None:
        super().__init__()
        self.scale_factor = cfg.scale_factor
        self.modality_projection = SimpleMLP(
            cfg.vision.hidden_size * cfg.scale_factor**2, cfg.text.hidden_size
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        # [n, P, D] -> [n, P/r^2, D*r^2] -> [n, tokens_per_tile, H]
        return self.modality_projection(pixel_shuffle(x, self.scale_factor))


# --------------------------------------------------------------------------------------------
# Text decoder (Llama)
# --------------------------------------------------------------------------------------------


class RMSNorm(nn.Module):
    def __init__(self, dim: int, eps: float) -> None:
        super().__init__()
        self.weight = nn.Parameter(torch.ones(dim))
        self.eps = eps

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        variance = x.pow(2).mean(-1, keepdim=True)
        return self.weight * (x * torch.rsqrt(variance + self.eps))


class RotaryEmbedding(nn.Module):
    """Default Llama RoPE (no scaling) over the full head_dim, driven by position_ids."""

    def __init__(self, cfg: TextConfig) -> None:
        super().__init__()
        exponents = torch.arange(0, cfg.head_dim, 2, dtype=torch.int64).to(torch.float32) / cfg.head_dim
        self.register_buffer("inv_freq", 1.0 / (cfg.rope_theta**exponents), persistent=False)

    def forward(self, position_ids: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        # position_ids [B, S] i64 -> cos, sin [B, S, head_dim]
        freqs = position_ids.to(torch.float32)[:, :, None] * self.inv_freq[None, None, :]
        emb = torch.cat((freqs, freqs), dim=-1)
        return emb.cos(), emb.sin()


def rotate_half(x: torch.Tensor) -> torch.Tensor:
    half = x.shape[-1] // 2
    return torch.cat((-x[..., half:], x[..., :half]), dim=-1)


def apply_rotary(x: torch.Tensor, cos: torch.Tensor, sin: torch.Tensor) -> torch.Tensor:
    # x [B, heads, S, hd]; cos/sin [B, S, hd] broadcast over heads
    return x * cos[:, None] + rotate_half(x) * sin[:, None]


def decoder_attention_bias(attention_mask: torch.Tensor, query_len: int) -> torch.Tensor:
    """[B, past+S] (1 = attend) -> additive bias [B, 1, S, past+S].

    Query q sits at absolute index past+q and may see key k iff k <= past+q and mask[k] == 1.
    """
    total = attention_mask.shape[1]
    key_pos = torch.arange(total, device=attention_mask.device)  # [T]
    query_pos = torch.arange(query_len, device=attention_mask.device) + (total - query_len)  # [S]
    causal = key_pos[None, :] <= query_pos[:, None]  # [S, T]
    allowed = causal[None, None, :, :] & (attention_mask[:, None, None, :] != 0)  # [B, 1, S, T]
    # One finfo.min per blocked cell (never -inf, never min+min), as HF's eager mask.
    return (~allowed).to(torch.float32) * torch.finfo(torch.float32).min


def repeat_kv(x: torch.Tensor, rep: int) -> torch.Tensor:
    """GQA: [B, kv, T, hd] -> [B, kv*rep, T, hd]; query head h reads kv head h // rep."""
    b, kv, t, hd = x.shape
    return x[:, :, None].expand(b, kv, rep, t, hd).reshape(b, kv * rep, t, hd)


class LlamaAttention(nn.Module):
    def __init__(self, cfg: TextConfig) -> None:
        super().__init__()
        self.num_heads = cfg.num_attention_heads
        self.num_kv_heads = cfg.num_key_value_heads
        self.head_dim = cfg.head_dim
        self.q_proj = nn.Linear(cfg.hidden_size, cfg.num_attention_heads * cfg.head_dim, bias=False)
        self.k_proj = nn.Linear(cfg.hidden_size, cfg.num_key_value_heads * cfg.head_dim, bias=False)
        self.v_proj = nn.Linear(cfg.hidden_size, cfg.num_key_value_heads * cfg.head_dim, bias=False)
        self.o_proj = nn.Linear(cfg.num_attention_heads * cfg.head_dim, cfg.hidden_size, bias=False)

    def forward(
        self,
        x: torch.Tensor,  # [B, S, H]
        cos: torch.Tensor,
        sin: torch.Tensor,
        bias: torch.Tensor,  # [B, 1, S, T]
        past_key: torch.Tensor,  # [B, kv, past, hd]
        past_value: torch.Tensor,
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        b, s, _ = x.shape
        q = self.q_proj(x).view(b, s, self.num_heads, self.head_dim).transpose(1, 2)  # [B,h,S,hd]
        k = self.k_proj(x).view(b, s, self.num_kv_heads, self.head_dim).transpose(1, 2)  # [B,kv,S,hd]
        v = self.v_proj(x).view(b, s, self.num_kv_heads, self.head_dim).transpose(1, 2)
        q, k = apply_rotary(q, cos, sin), apply_rotary(k, cos, sin)
        # The cache stores rotated keys: present = concat(past, current) on the sequence axis.
        key = torch.cat((past_key, k), dim=2)  # [B, kv, T, hd]
        value = torch.cat((past_value, v), dim=2)
        rep = self.num_heads // self.num_kv_heads
        k_all, v_all = repeat_kv(key, rep), repeat_kv(value, rep)  # [B, h, T, hd]
        scores = torch.matmul(q, k_all.transpose(2, 3)) / math.sqrt(self.head_dim) + bias  # [B,h,S,T]
        attn = torch.softmax(scores, dim=-1)
        out = torch.matmul(attn, v_all).transpose(1, 2).reshape(b, s, self.num_heads * self.head_dim)
        return self.o_proj(out), key, value


class LlamaMLP(nn.Module):
    def __init__(self, cfg: TextConfig) -> None:
        super().__init__()
        self.gate_proj = nn.Linear(cfg.hidden_size, cfg.intermediate_size, bias=False)
        self.up_proj = nn.Linear(cfg.hidden_size, cfg.intermediate_size, bias=False)
        self.down_proj = nn.Linear(cfg.intermediate_size, cfg.hidden_size, bias=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.down_proj(F.silu(self.gate_proj(x)) * self.up_proj(x))  # SwiGLU


class LlamaDecoderLayer(nn.Module):
    def __init__(self, cfg: TextConfig) -> None:
        super().__init__()
        self.input_layernorm = RMSNorm(cfg.hidden_size, cfg.rms_norm_eps)
        self.self_attn = LlamaAttention(cfg)
        self.post_attention_layernorm = RMSNorm(cfg.hidden_size, cfg.rms_norm_eps)
        self.mlp = LlamaMLP(cfg)

    def forward(self, x, cos, sin, bias, past_key, past_value):
        attn, key, value = self.self_attn(self.input_layernorm(x), cos, sin, bias, past_key, past_value)
        x = x + attn
        x = x + self.mlp(self.post_attention_layernorm(x))
        return x, key, value


class LlamaModel(nn.Module):
    def __init__(self, cfg: TextConfig) -> None:
        super().__init__()
        self.cfg = cfg
        self.embed_tokens = nn.Embedding(cfg.vocab_size, cfg.hidden_size)
        self.layers = nn.ModuleList([LlamaDecoderLayer(cfg) for _ in range(cfg.num_hidden_layers)])
        self.norm = RMSNorm(cfg.hidden_size, cfg.rms_norm_eps)
        self.rotary_emb = RotaryEmbedding(cfg)

    def empty_cache(self, batch: int = 1) -> list[torch.Tensor]:
        """[k0, v0, k1, v1, ...], each [B, kv, 0, hd]: what a prefill step receives."""
        shape = (batch, self.cfg.num_key_value_heads, 0, self.cfg.head_dim)
        return [torch.zeros(shape) for _ in range(2 * self.cfg.num_hidden_layers)]

    def forward(
        self,
        inputs_embeds: torch.Tensor,  # [B, S, H]
        attention_mask: torch.Tensor,  # [B, past+S] i64
        position_ids: torch.Tensor,  # [B, S] i64
        past: Sequence[torch.Tensor],  # 2L tensors [B, kv, past, hd]
    ) -> tuple[torch.Tensor, list[torch.Tensor]]:
        cos, sin = self.rotary_emb(position_ids)
        bias = decoder_attention_bias(attention_mask, inputs_embeds.shape[1])
        x, present = inputs_embeds, []
        for i, layer in enumerate(self.layers):
            x, key, value = layer(x, cos, sin, bias, past[2 * i], past[2 * i + 1])
            present += [key, value]
        # Tied embeddings: lm_head.weight is embed_tokens.weight.
        logits = F.linear(self.norm(x), self.embed_tokens.weight)  # [B, S, V]
        return logits, present


# --------------------------------------------------------------------------------------------
# Full model
# --------------------------------------------------------------------------------------------


class Idefics3ForConditionalGeneration(nn.Module):
    def __init__(self, cfg: Idefics3Config) -> None:
        super().__init__()
        cfg.validate()
        self.cfg = cfg
        self.vision_model = VisionTransformer(cfg.vision)
        self.connector = Connector(cfg)
        self.text_model = LlamaModel(cfg.text)

    def image_features(self, pixel_values: torch.Tensor, pixel_attention_mask: torch.Tensor) -> torch.Tensor:
        """[B, N, 3, T, T] f32 + [B, N, T, T] bool -> [B*N*tokens_per_tile, H] (tile-major)."""
        t = self.cfg.vision.image_size
        pv = pixel_values.reshape(-1, self.cfg.vision.num_channels, t, t)
        pm = pixel_attention_mask.reshape(-1, t, t)
        feats = self.connector(self.vision_model(pv, pm))  # [n, tokens, H]
        return feats.reshape(-1, self.cfg.text.hidden_size)

    def merge(self, input_ids: torch.Tensor, embeds: torch.Tensor, features: torch.Tensor) -> torch.Tensor:
        """Overwrite the `<image>` rows of embeds [B, S, H], in order, with features [n, H]."""
        where = input_ids == self.cfg.image_token_id  # [B, S]
        count, rows = int(where.sum()), features.shape[0]
        if count != rows:
            raise ValueError(f"Number of tokens and features do not match: tokens: {count}, features {rows}")
        out = embeds.clone()
        out[where] = features.to(out.dtype)
        return out

    def forward(
        self,
        input_ids: torch.Tensor,
        pixel_values: torch.Tensor | None = None,
        pixel_attention_mask: torch.Tensor | None = None,
    ) -> torch.Tensor:
        """Whole-sequence logits without a cache (for training and checks)."""
        embeds = self.text_model.embed_tokens(input_ids)
        if pixel_values is not None:
            if pixel_attention_mask is None:
                n, t = pixel_values.shape[:2], pixel_values.shape[3:]
                pixel_attention_mask = torch.ones(n + t, dtype=torch.bool)
            features = self.image_features(pixel_values, pixel_attention_mask)
            embeds = self.merge(input_ids, embeds, features)
        b, s = input_ids.shape
        mask = torch.ones(b, s, dtype=torch.int64)
        pos = torch.arange(s, dtype=torch.int64)[None].expand(b, s)
        logits, _ = self.text_model(embeds, mask, pos, self.text_model.empty_cache(b))
        return logits


def init_weights(
    model: Idefics3ForConditionalGeneration,
    seed: int,
    emb_std: float = 0.45,  # tied lm_head: logits std ~ emb_std * sqrt(hidden) ~ 3 for the tiny model
    residual_gain: float = 6.0,
) -> None:
    """Seeded random weights sized so activations stay O(1) and the logits are well spread.

    Linear/conv weights ~ N(0, gain^2 / fan_in); norms ~ 1 + N(0, 0.1^2); biases ~ N(0, 0.05^2).
    Parameters are filled in definition order from one generator, so a seed fixes every value.

    Why `residual_gain`: with tied embeddings a random decoder echoes its last input token (the
    residual stream is mostly that token's embedding, and its self dot product wins the lm_head),
    so greedy output is one token repeated. Larger residual-writing projections (o_proj,
    down_proj) let the layers dominate and the generated ids vary, which makes a stronger test.
    """
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, p in model.named_parameters():
            noise = torch.randn(p.shape, generator=g, dtype=torch.float32)
            if name.endswith("embed_tokens.weight"):
                p.copy_(noise * emb_std)
            elif name.endswith("position_embedding.weight"):
                p.copy_(noise * 0.5)
            elif "norm" in name and name.endswith(".weight"):  # LayerNorm / RMSNorm gains
                p.copy_(1.0 + 0.1 * noise)
            elif name.endswith(".bias"):
                p.copy_(0.05 * noise)
            elif p.dim() >= 2:
                fan_in = p[0].numel()
                gain = 1.0
                if "modality_projection" in name:
                    gain = emb_std  # image rows as large as token rows
                elif name.startswith("text_model.") and name.endswith(("o_proj.weight", "down_proj.weight")):
                    gain = residual_gain
                p.copy_(noise * gain / math.sqrt(fan_in))
            else:
                raise AssertionError(f"no init rule for {name}")


# --------------------------------------------------------------------------------------------
# ONNX export (hf-idefics3 layout)
# --------------------------------------------------------------------------------------------


class VisionEncoderExport(nn.Module):
    """onnx/vision_encoder.onnx: encoder + connector fused."""

    def __init__(self, model: Idefics3ForConditionalGeneration) -> None:
        super().__init__()
        self.model = model

    def forward(self, pixel_values: torch.Tensor, pixel_attention_mask: torch.Tensor) -> torch.Tensor:
        return self.model.image_features(pixel_values, pixel_attention_mask)


class EmbedTokensExport(nn.Module):
    def __init__(self, model: Idefics3ForConditionalGeneration) -> None:
        super().__init__()
        self.embed_tokens = model.text_model.embed_tokens

    def forward(self, input_ids: torch.Tensor) -> torch.Tensor:
        return self.embed_tokens(input_ids)


class DecoderExport(nn.Module):
    """onnx/decoder_model_merged.onnx: flat past inputs, (logits, *present) outputs."""

    def __init__(self, model: Idefics3ForConditionalGeneration) -> None:
        super().__init__()
        self.text_model = model.text_model

    def forward(self, inputs_embeds, attention_mask, position_ids, *past):
        logits, present = self.text_model(inputs_embeds, attention_mask, position_ids, past)
        return (logits, *present)


def cache_names(num_layers: int, prefix: str) -> list[str]:
    return [f"{prefix}.{i}.{kind}" for i in range(num_layers) for kind in ("key", "value")]


def _export(module: nn.Module, args: tuple, input_names, output_names, dynamic_axes, opset: int):
    import onnx  # local import: the model part of this file needs only torch

    buf = io.BytesIO()
    # pixel_shuffle's int(seq ** 0.5) is a trace-time constant on purpose: the patch count is fixed
    # by the tile size, only batch and image counts are dynamic. Silence that TracerWarning.
    with torch.no_grad(), warnings.catch_warnings():
        warnings.filterwarnings("ignore", category=torch.jit.TracerWarning)
        torch.onnx.export(
            module,
            args,
            buf,
            input_names=input_names,
            output_names=output_names,
            dynamic_axes=dynamic_axes,
            opset_version=opset,
            do_constant_folding=True,
        )
    proto = onnx.load_from_string(buf.getvalue())
    onnx.checker.check_model(proto)
    return proto


def export_onnx(model: Idefics3ForConditionalGeneration, opset: int = 14) -> dict[str, Any]:
    """Return {"vision_encoder": ModelProto, "embed_tokens": ..., "decoder_model_merged": ...}.

    The decoder is traced with a dummy past of length 3 (a zero-length past does not trace through
    every op), with all sequence dims symbolic, so an empty past works at run time.
    """
    cfg = model.cfg
    model.eval()
    v, t = cfg.vision, cfg.text
    protos: dict[str, Any] = {}

    pixel_values = torch.zeros(1, 2, v.num_channels, v.image_size, v.image_size)
    pixel_mask = torch.ones(1, 2, v.image_size, v.image_size, dtype=torch.bool)
    protos["vision_encoder"] = _export(
        VisionEncoderExport(model),
        (pixel_values, pixel_mask),
        ["pixel_values", "pixel_attention_mask"],
        ["image_features"],
        {
            "pixel_values": {0: "batch_size", 1: "num_images"},
            "pixel_attention_mask": {0: "batch_size", 1: "num_images"},
            "image_features": {0: "num_image_tokens"},
        },
        opset,
    )
    # reshape(-1, H) leaves the feature width unnamed in the exported shape; it is static.
    features_width = protos["vision_encoder"].graph.output[0].type.tensor_type.shape.dim[1]
    features_width.Clear()
    features_width.dim_value = t.hidden_size

    input_ids = torch.zeros(1, 5, dtype=torch.int64)
    protos["embed_tokens"] = _export(
        EmbedTokensExport(model),
        (input_ids,),
        ["input_ids"],
        ["inputs_embeds"],
        {
            "input_ids": {0: "batch_size", 1: "sequence_length"},
            "inputs_embeds": {0: "batch_size", 1: "sequence_length"},
        },
        opset,
    )

    seq, past_len = 5, 3
    past_names = cache_names(t.num_hidden_layers, "past_key_values")
    present_names = cache_names(t.num_hidden_layers, "present")
    past = [torch.zeros(1, t.num_key_value_heads, past_len, t.head_dim) for _ in past_names]
    axes: dict[str, dict[int, str]] = {
        "inputs_embeds": {0: "batch_size", 1: "sequence_length"},
        "attention_mask": {0: "batch_size", 1: "total_sequence_length"},
        "position_ids": {0: "batch_size", 1: "sequence_length"},
        "logits": {0: "batch_size", 1: "sequence_length"},
    }
    axes.update({n: {0: "batch_size", 2: "past_sequence_length"} for n in past_names})
    axes.update({n: {0: "batch_size", 2: "total_sequence_length"} for n in present_names})
    protos["decoder_model_merged"] = _export(
        DecoderExport(model),
        (
            torch.zeros(1, seq, t.hidden_size),
            torch.ones(1, past_len + seq, dtype=torch.int64),
            torch.arange(past_len, past_len + seq, dtype=torch.int64)[None],
            *past,
        ),
        ["inputs_embeds", "attention_mask", "position_ids", *past_names],
        ["logits", *present_names],
        axes,
        opset,
    )
    return protos


def save_onnx(proto: Any, path: str, external_data: bool) -> None:
    """Write one .onnx file; with external_data every initializer goes to `<file>_data`."""
    import onnx

    data_path = path + "_data"
    for stale in (path, data_path):
        if os.path.exists(stale):
            os.remove(stale)  # onnx appends to an existing external data file
    if not external_data:
        onnx.save_model(proto, path)
        return
    copy = onnx.ModelProto()
    copy.CopyFrom(proto)  # save_model(save_as_external_data=True) rewrites the proto in place
    onnx.save_model(
        copy,
        path,
        save_as_external_data=True,
        all_tensors_to_one_file=True,
        location=os.path.basename(data_path),
        size_threshold=0,
    )


# --------------------------------------------------------------------------------------------
# Byte-level BPE tokenizer (GPT-2 / SmolLM2 style)
# --------------------------------------------------------------------------------------------


def bytes_to_unicode() -> dict[int, str]:
    """GPT-2's byte -> printable char table; dict order = GPT-2's byte-token order."""
    bs = [*range(ord("!"), ord("~") + 1), *range(ord("¡"), ord("¬") + 1), *range(ord("®"), ord("ÿ") + 1)]
    cs = bs[:]
    extra = 0
    for b in range(256):
        if b not in bs:
            bs.append(b)
            cs.append(256 + extra)
            extra += 1
    return {b: chr(c) for b, c in zip(bs, cs)}


# \s as Oniguruma/Unicode White_Space (not str.isspace, which also takes \x1c-\x1f).
_WHITE_SPACE = set("\t\n\x0b\x0c\r \x85\xa0\u1680\u2028\u2029\u202f\u205f\u3000") | {
    chr(c) for c in range(0x2000, 0x200B)
}
_CONTRACTIONS = ("'s", "'t", "'re", "'ve", "'m", "'ll", "'d")


def _char_class(ch: str) -> str:
    if ch in _WHITE_SPACE:
        return "S"
    cat = unicodedata.category(ch)
    return "L" if cat[0] == "L" else "N" if cat[0] == "N" else "O"


def pre_tokenize(text: str) -> list[str]:
    """The GPT-2 split regex of ByteLevel(use_regex=true), as a hand-written scanner:
    's|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)|\\s+
    (Python's `re` has no \\p{..}; Debian's python3 has no `regex` module.)"""
    out, i, n = [], 0, len(text)
    cls = [_char_class(c) for c in text]

    def run(j: int, kind: str) -> int:
        while j < n and cls[j] == kind:
            j += 1
        return j

    while i < n:
        contraction = next((c for c in _CONTRACTIONS if text.startswith(c, i)), None)
        if contraction:
            j = i + len(contraction)
        else:
            j = 0
            for kind in ("L", "N", "O"):  # ` ?X+` in regex order
                if text[i] == " " and i + 1 < n and cls[i + 1] == kind:
                    j = run(i + 1, kind)
                elif cls[i] == kind:
                    j = run(i, kind)
                if j:
                    break
            if not j:  # whitespace run: \s+(?!\S) leaves the last space to the next word
                end = run(i, "S")
                j = end if end == n or end - i == 1 else end - 1
        out.append(text[i:j])
        i = j
    return out


@dataclass
class ByteLevelBPE:
    """vocab: token -> id (specials included); merges in rank order; specials: added tokens."""

    vocab: dict[str, int]
    merges: list[tuple[str, str]]
    specials: list[str]

    def __post_init__(self) -> None:
        self.ranks = {pair: r for r, pair in enumerate(self.merges)}
        self.byte_map = bytes_to_unicode()
        self.inverse_bytes = {c: b for b, c in self.byte_map.items()}
        self.id_to_token = {i: t for t, i in self.vocab.items()}
        # Added tokens are cut out first, longest first (HF matches leftmost-longest).
        alternation = "|".join(re.escape(s) for s in sorted(self.specials, key=len, reverse=True))
        self.special_re = re.compile(f"({alternation})")
        self._cache: dict[str, list[str]] = {}

    def bpe(self, word: str) -> list[str]:
        """Apply merges lowest rank first; within a rank, left to right (tokenizers' BPE)."""
        if word in self._cache:
            return self._cache[word]
        parts = list(word)
        while len(parts) > 1:
            ranked = [(self.ranks.get(p, math.inf), k) for k, p in enumerate(zip(parts, parts[1:]))]
            best, _ = min(ranked)
            if best == math.inf:
                break
            a, b = self.merges[best]
            merged, k = [], 0
            while k < len(parts):
                if k + 1 < len(parts) and parts[k] == a and parts[k + 1] == b:
                    merged.append(a + b)
                    k += 2
                else:
                    merged.append(parts[k])
                    k += 1
            parts = merged
        self._cache[word] = parts
        return parts

    def tokenize(self, text: str) -> list[str]:
        tokens: list[str] = []
        for piece in self.special_re.split(text):
            if not piece:
                continue
            if piece in self.specials:
                tokens.append(piece)
                continue
            for word in pre_tokenize(piece):
                tokens += self.bpe("".join(self.byte_map[b] for b in word.encode("utf-8")))
        return tokens

    def encode(self, text: str) -> list[int]:
        return [self.vocab[t] for t in self.tokenize(text)]

    def decode(self, ids: Iterable[int]) -> str:
        out, pending = [], bytearray()
        for i in ids:
            tok = self.id_to_token[int(i)]
            if tok in self.specials:
                out.append(pending.decode("utf-8", errors="replace") + tok)
                pending = bytearray()
            else:
                pending += bytes(self.inverse_bytes[c] for c in tok)
        return "".join(out) + pending.decode("utf-8", errors="replace")

    @classmethod
    def from_tokenizer_json(cls, path: str) -> "ByteLevelBPE":
        with open(path, encoding="utf-8") as f:
            data = json.load(f)
        raw = data["model"]["merges"]  # "a b" strings (classic) or [a, b] pairs (tokenizers >= 0.20)
        merges = [tuple(m.split(" ")) if isinstance(m, str) else tuple(m) for m in raw]
        specials = [t["content"] for t in data["added_tokens"]]
        return cls(dict(data["model"]["vocab"]), merges, specials)  # type: ignore[arg-type]


def train_bpe(corpus: Sequence[str], num_merges: int) -> list[tuple[str, str]]:
    """Tiny BPE trainer: repeatedly merge the most frequent adjacent pair inside pre-tokens.

    Ties go to the lexicographically smallest pair; pairs whose concatenation already is a token
    are skipped, so every merge adds exactly one vocab entry.
    """
    byte_map = bytes_to_unicode()
    words: dict[tuple[str, ...], int] = {}
    for line in corpus:
        for w in pre_tokenize(line):
            key = tuple(byte_map[b] for b in w.encode("utf-8"))
            words[key] = words.get(key, 0) + 1
    known = set(byte_map.values())
    merges: list[tuple[str, str]] = []
    while len(merges) < num_merges:
        counts: dict[tuple[str, str], int] = {}
        for word, freq in words.items():
            for pair in zip(word, word[1:]):
                if pair[0] + pair[1] not in known:
                    counts[pair] = counts.get(pair, 0) + freq
        if not counts:
            raise ValueError(f"corpus too small: only {len(merges)} merges possible")
        best = min(counts, key=lambda p: (-counts[p], p))
        merges.append(best)
        known.add(best[0] + best[1])
        new_words: dict[tuple[str, ...], int] = {}
        for word, freq in words.items():
            out, k = [], 0
            while k < len(word):
                if k + 1 < len(word) and (word[k], word[k + 1]) == best:
                    out.append(word[k] + word[k + 1])
                    k += 2
                else:
                    out.append(word[k])
                    k += 1
            new_words[tuple(out)] = new_words.get(tuple(out), 0) + freq
        words = new_words
    return merges


# SmolVLM's special-token layout: text specials first, image tokens at the end of the vocab.
HEAD_SPECIALS = ["<|endoftext|>", "<|im_start|>", "<|im_end|>"]
MAX_GRID = 6  # <row_r_col_c> for r, c in 1..6
ADDITIONAL_SPECIALS = ("<fake_token_around_image>", "<image>", "<end_of_utterance>")


def image_specials() -> list[str]:
    grid = [f"<row_{r}_col_{c}>" for r in range(1, MAX_GRID + 1) for c in range(1, MAX_GRID + 1)]
    return ["<global-img>", *grid, "<fake_token_around_image>", "<image>", "<end_of_utterance>"]


def build_tokenizer(corpus: Sequence[str], num_merges: int) -> ByteLevelBPE:
    """ids: 0..2 text specials, then 256 byte tokens (GPT-2 order), merges, image specials."""
    vocab: dict[str, int] = {}
    for tok in HEAD_SPECIALS:
        vocab[tok] = len(vocab)
    for ch in bytes_to_unicode().values():
        vocab[ch] = len(vocab)
    merges = train_bpe(corpus, num_merges)
    for a, b in merges:
        vocab[a + b] = len(vocab)
    for tok in image_specials():
        vocab[tok] = len(vocab)
    return ByteLevelBPE(vocab, merges, HEAD_SPECIALS + image_specials())


def tokenizer_json(tok: ByteLevelBPE) -> dict[str, Any]:
    byte_level = {"type": "ByteLevel", "add_prefix_space": False, "trim_offsets": True, "use_regex": True}
    return {
        "version": "1.0",
        "truncation": None,
        "padding": None,
        "added_tokens": [
            {
                "id": tok.vocab[s],
                "content": s,
                "single_word": False,
                "lstrip": False,
                "rstrip": False,
                "normalized": False,
                "special": True,
            }
            for s in tok.specials
        ],
        "normalizer": None,
        "pre_tokenizer": byte_level,
        "post_processor": byte_level,
        "decoder": byte_level,
        "model": {
            "type": "BPE",
            "dropout": None,
            "unk_token": None,
            "continuing_subword_prefix": None,
            "end_of_word_suffix": None,
            "fuse_unk": False,
            "byte_fallback": False,
            "ignore_merges": False,
            "vocab": tok.vocab,
            "merges": [f"{a} {b}" for a, b in tok.merges],
        },
    }


# --------------------------------------------------------------------------------------------
# Prompt and folder files
# --------------------------------------------------------------------------------------------

# SmolVLM-256M/500M chat_template.json, verbatim.
CHAT_TEMPLATE = (
    "<|im_start|>{% for message in messages %}{{message['role'] | capitalize}}"
    "{% if message['content'][0]['type'] == 'image' %}{{':'}}{% else %}{{': '}}{% endif %}"
    "{% for line in message['content'] %}{% if line['type'] == 'text' %}{{line['text']}}"
    "{% elif line['type'] == 'image' %}{{ '<image>' }}{% endif %}{% endfor %}"
    "<end_of_utterance>\n{% endfor %}{% if add_generation_prompt %}{{ 'Assistant:' }}{% endif %}"
)


def render_chat(messages: Sequence[dict[str, Any]], add_generation_prompt: bool) -> str:
    """CHAT_TEMPLATE rendered by hand (no jinja here)."""
    out = "<|im_start|>"
    for m in messages:
        out += m["role"].capitalize() + (":" if m["content"][0]["type"] == "image" else ": ")
        for item in m["content"]:
            if item["type"] == "text":
                out += item["text"]
            elif item["type"] == "image":
                out += "<image>"
        out += "<end_of_utterance>\n"
    return out + ("Assistant:" if add_generation_prompt else "")


def expand_image(rows: int, cols: int, tokens_per_tile: int) -> str:
    """Idefics3 processor prompt for one image (rows = cols = 0: unsplit)."""
    img, fake = "<image>" * tokens_per_tile, "<fake_token_around_image>"
    if rows == 0 and cols == 0:
        return f"{fake}<global-img>{img}{fake}"
    out = ""
    for r in range(1, rows + 1):
        out += "".join(f"{fake}<row_{r}_col_{c}>{img}" for c in range(1, cols + 1)) + "\n"
    return out + f"\n{fake}<global-img>{img}{fake}"


def expand_prompt(prompt: str, grids: Sequence[tuple[int, int]], tokens_per_tile: int) -> str:
    """Replace the k-th `<image>` of the chat text by the k-th image's expansion."""
    parts = prompt.split("<image>")
    assert len(parts) == len(grids) + 1, "one grid per <image> placeholder"
    out = parts[0]
    for (rows, cols), rest in zip(grids, parts[1:]):
        out += expand_image(rows, cols, tokens_per_tile) + rest
    return out


def _added_token_entry(content: str) -> dict[str, Any]:
    return {
        "content": content,
        "lstrip": False,
        "normalized": False,
        "rstrip": False,
        "single_word": False,
        "special": True,
    }


def folder_files(
    cfg: Idefics3Config, tok: ByteLevelBPE, external_data: bool, longest_edge: int | None = None
) -> dict[str, Any]:
    """Every JSON file of the folder except the reference outputs: {file name: object}.

    `longest_edge` is the processor's stage-1 resize target (size.longest_edge); default 2*T,
    so images split into at most 2x2 tiles.
    """
    v, t = cfg.vision, cfg.text
    text_config = {
        "model_type": "llama",
        "vocab_size": t.vocab_size,
        "hidden_size": t.hidden_size,
        "intermediate_size": t.intermediate_size,
        "num_hidden_layers": t.num_hidden_layers,
        "num_attention_heads": t.num_attention_heads,
        "num_key_value_heads": t.num_key_value_heads,
        "head_dim": t.head_dim,
        "hidden_act": t.hidden_act,
        "rms_norm_eps": t.rms_norm_eps,
        "rope_theta": t.rope_theta,
        "rope_scaling": None,
        "max_position_embeddings": t.max_position_embeddings,
        "attention_bias": False,
        "mlp_bias": False,
        "tie_word_embeddings": True,
        "bos_token_id": t.bos_token_id,
        "eos_token_id": t.eos_token_id,
        "pad_token_id": t.pad_token_id,
        "torch_dtype": "float32",
    }
    vision_config = {
        "model_type": "idefics3_vision",
        "hidden_size": v.hidden_size,
        "image_size": v.image_size,
        "patch_size": v.patch_size,
        "num_channels": v.num_channels,
        "num_hidden_layers": v.num_hidden_layers,
        "num_attention_heads": v.num_attention_heads,
        "intermediate_size": v.intermediate_size,
        "hidden_act": v.hidden_act,
        "layer_norm_eps": v.layer_norm_eps,
        "attention_dropout": 0.0,
    }
    # transformers.js only fetches `<file>_data` when told to (utils/model-loader.js).
    tjs_config: dict[str, Any] = {"use_external_data_format": True} if external_data else {}
    config = {
        "architectures": ["Idefics3ForConditionalGeneration"],
        "model_type": "idefics3",
        "image_token_id": cfg.image_token_id,
        "scale_factor": cfg.scale_factor,
        "tie_word_embeddings": True,
        "vocab_size": t.vocab_size,
        "pad_token_id": t.pad_token_id,
        "use_cache": True,
        "torch_dtype": "float32",
        "text_config": text_config,
        "vision_config": vision_config,
        "transformers.js_config": tjs_config,
    }
    preprocessor = {
        "image_processor_type": "Idefics3ImageProcessor",
        "processor_class": "Idefics3Processor",
        "do_convert_rgb": True,
        "do_resize": True,
        "size": {"longest_edge": longest_edge if longest_edge is not None else 2 * v.image_size},
        "resample": 1,
        "do_rescale": True,
        "rescale_factor": 1 / 255,
        "do_normalize": True,
        "image_mean": [0.5, 0.5, 0.5],
        "image_std": [0.5, 0.5, 0.5],
        "do_pad": True,
        "do_image_splitting": True,
        "max_image_size": {"longest_edge": v.image_size},
    }
    id_of = tok.vocab
    tokenizer_config = {
        "add_bos_token": False,
        "add_prefix_space": False,
        "added_tokens_decoder": {str(id_of[s]): _added_token_entry(s) for s in tok.specials},
        "additional_special_tokens": list(ADDITIONAL_SPECIALS),
        "bos_token": "<|im_start|>",
        "chat_template": CHAT_TEMPLATE,
        "clean_up_tokenization_spaces": False,
        "eos_token": "<end_of_utterance>",
        "model_max_length": t.max_position_embeddings,
        "pad_token": "<|im_end|>",
        "processor_class": "Idefics3Processor",
        "tokenizer_class": "GPT2Tokenizer",
        "unk_token": "<|endoftext|>",
    }

    def special(content: str) -> dict[str, Any]:
        return {k: v for k, v in _added_token_entry(content).items() if k != "special"}

    special_tokens_map = {
        "additional_special_tokens": [special(s) for s in ADDITIONAL_SPECIALS],
        "bos_token": special("<|im_start|>"),
        "eos_token": special("<end_of_utterance>"),
        "pad_token": special("<|im_end|>"),
        "unk_token": special("<|endoftext|>"),
    }
    generation = {
        "bos_token_id": t.bos_token_id,
        "eos_token_id": t.eos_token_id,
        "pad_token_id": t.pad_token_id,
    }
    return {
        "config.json": config,
        "generation_config.json": generation,
        "preprocessor_config.json": preprocessor,
        "processor_config.json": {"image_seq_len": cfg.tokens_per_tile},
        "chat_template.json": {"chat_template": CHAT_TEMPLATE},
        "tokenizer_config.json": tokenizer_config,
        "special_tokens_map.json": special_tokens_map,
        "tokenizer.json": tokenizer_json(tok),
    }


def write_json(path: str, obj: Any) -> None:
    with open(path, "w", encoding="utf-8", newline="\n") as f:
        json.dump(obj, f, indent=2, ensure_ascii=False)
        f.write("\n")


def config_for_tokenizer(tok: ByteLevelBPE, base: Idefics3Config | None = None) -> Idefics3Config:
    """The tiny config (or `base`) with vocab size and special ids taken from the tokenizer."""
    base = base or Idefics3Config()
    text = TextConfig(
        **{
            **asdict(base.text),
            "vocab_size": len(tok.vocab),
            "bos_token_id": tok.vocab["<|im_start|>"],
            "eos_token_id": tok.vocab["<end_of_utterance>"],
            "pad_token_id": tok.vocab["<|im_end|>"],
        }
    )
    cfg = Idefics3Config(
        vision=base.vision, text=text, scale_factor=base.scale_factor, image_token_id=tok.vocab["<image>"]
    )
    cfg.validate()
    return cfg
