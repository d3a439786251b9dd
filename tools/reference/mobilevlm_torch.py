"""Plain-torch MobileVLM (V1 and V2) reference with seeded weights, saved as checkpoints.

Written from the public MobileVLM repository (Meituan-AutoML/MobileVLM @ 688fdec) and the modules
it builds on; no `transformers`, `timm` or `torchvision` on this machine, so each is re-stated with
the same module tree, which makes `state_dict()` names the real checkpoint names:

    CLIPVisionModel      transformers models/clip/modeling_clip.py: vision_model.{embeddings
                         (class_embedding, patch_embedding Conv2d no bias, position_embedding),
                         pre_layrnorm, encoder.layers.{i} (self_attn.{q,k,v,out}_proj, layer_norm1,
                         mlp.fc1/fc2 with quick_gelu, layer_norm2), post_layernorm}
    feature select       mobilevlm/model/vision_encoder.py: hidden_states[mm_vision_select_layer=-2],
                         `patch` drops the CLS token (post_layernorm never runs)
    LDP (ldpnet)         mobilevlm/model/vision_projector.py LDPNetProjector: model.mlp = (Identity,
                         Linear, GELU, Linear); model.mb_block = (Identity, InvertedResidual s1,
                         InvertedResidual s2), torchvision mobilenetv3.InvertedResidual with
                         expanded == in channels (no expand conv), timm LayerNormAct2d (eps 1e-5,
                         no act) as norm, torchvision SqueezeExcitation with Hardsigmoid
    LDPv2 (ldpnetv2)     LDPNetV2Projector: mlp.mlp = (Linear, GELU, Linear); dwn.dwn =
                         (AdaptiveAvgPool2d((12, 12)),); peg.peg = (Conv2d 3x3 depthwise, bias,)
                         added to its input
    MobileLLaMA          mobilevlm/model/mobilellama.py: transformers LlamaForCausalLM names,
                         model.{embed_tokens, layers.{i}, norm}, untied lm_head; the image sentinel
                         -200 in input_ids is replaced by the projected features
                         (mobilevlm.py prepare_inputs_labels_for_multimodal)

Dimensions are vlmkit's test scale of the mobilevlm presets (src/build/test_scale.ts) except the
vocabulary, cut from 32000 to 512 so the fixtures stay small (see the fixture README).

Everything runs in float64 from the weights as stored (rounded to the checkpoint dtype), so the
saved logits are the exact answer for the saved files. Usage:

    /usr/bin/python3 tools/reference/mobilevlm_torch.py --out test/fixtures/mobilevlm --seed 28
"""
from __future__ import annotations

import argparse
import json
import math
import os
import struct
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

IMAGE_TOKEN_INDEX = -200  # mobilevlm/constants.py


@dataclass(frozen=True)
class VisionConfig:
    image_size: int = 336
    patch_size: int = 14
    hidden_size: int = 32
    intermediate_size: int = 64
    num_hidden_layers: int = 2
    num_attention_heads: int = 2
    layer_norm_eps: float = 1e-5
    hidden_act: str = "quick_gelu"


@dataclass(frozen=True)
class TextConfig:
    vocab_size: int = 512
    hidden_size: int = 32
    intermediate_size: int = 64
    num_hidden_layers: int = 2
    num_attention_heads: int = 2
    num_key_value_heads: int = 2
    rms_norm_eps: float = 1e-6
    rope_theta: float = 10000.0
    max_position_embeddings: int = 2048


# ------------------------------------------------------------------------------------------------
# CLIP vision tower (transformers CLIPVisionModel)
# ------------------------------------------------------------------------------------------------


class CLIPVisionEmbeddings(nn.Module):
    def __init__(self, c: VisionConfig) -> None:
        super().__init__()
        d = c.hidden_size
        self.class_embedding = nn.Parameter(torch.zeros(d))
        self.patch_embedding = nn.Conv2d(3, d, c.patch_size, c.patch_size, bias=False)
        self.num_positions = (c.image_size // c.patch_size) ** 2 + 1
        self.position_embedding = nn.Embedding(self.num_positions, d)

    def forward(self, pixel_values: torch.Tensor) -> torch.Tensor:
        patches = self.patch_embedding(pixel_values).flatten(2).transpose(1, 2)  # [N,P,D]
        cls = self.class_embedding.expand(pixel_values.shape[0], 1, -1)
        return torch.cat([cls, patches], dim=1) + self.position_embedding.weight[None]


class CLIPAttention(nn.Module):
    def __init__(self, c: VisionConfig) -> None:
        super().__init__()
        d = c.hidden_size
        self.heads = c.num_attention_heads
        self.k_proj = nn.Linear(d, d)
        self.v_proj = nn.Linear(d, d)
        self.q_proj = nn.Linear(d, d)
        self.out_proj = nn.Linear(d, d)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        n, s, d = x.shape
        hd = d // self.heads

        def split(t: torch.Tensor) -> torch.Tensor:
            return t.view(n, s, self.heads, hd).transpose(1, 2)

        q = split(self.q_proj(x) * hd**-0.5)
        k, v = split(self.k_proj(x)), split(self.v_proj(x))
        ctx = torch.softmax(q @ k.transpose(-1, -2), dim=-1) @ v
        return self.out_proj(ctx.transpose(1, 2).reshape(n, s, d))


class CLIPMLP(nn.Module):
    def __init__(self, c: VisionConfig) -> None:
        super().__init__()
        self.fc1 = nn.Linear(c.hidden_size, c.intermediate_size)
        self.fc2 = nn.Linear(c.intermediate_size, c.hidden_size)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self.fc1(x)
        return self.fc2(h * torch.sigmoid(1.702 * h))  # quick_gelu (openai CLIP configs)


class CLIPEncoderLayer(nn.Module):
    def __init__(self, c: VisionConfig) -> None:
        super().__init__()
        self.self_attn = CLIPAttention(c)
        self.layer_norm1 = nn.LayerNorm(c.hidden_size, eps=c.layer_norm_eps)
        self.mlp = CLIPMLP(c)
        self.layer_norm2 = nn.LayerNorm(c.hidden_size, eps=c.layer_norm_eps)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x + self.self_attn(self.layer_norm1(x))
        return x + self.mlp(self.layer_norm2(x))


class CLIPEncoder(nn.Module):
    def __init__(self, c: VisionConfig) -> None:
        super().__init__()
        self.layers = nn.ModuleList(CLIPEncoderLayer(c) for _ in range(c.num_hidden_layers))


class CLIPVisionTransformer(nn.Module):
    def __init__(self, c: VisionConfig) -> None:
        super().__init__()
        self.embeddings = CLIPVisionEmbeddings(c)
        self.pre_layrnorm = nn.LayerNorm(c.hidden_size, eps=c.layer_norm_eps)  # CLIP's spelling
        self.encoder = CLIPEncoder(c)
        self.post_layernorm = nn.LayerNorm(c.hidden_size, eps=c.layer_norm_eps)

    def hidden_states(self, pixel_values: torch.Tensor) -> list[torch.Tensor]:
        """transformers' output_hidden_states: the embeddings (after pre_layrnorm), then each layer."""
        x = self.pre_layrnorm(self.embeddings(pixel_values))
        states = [x]
        for layer in self.encoder.layers:
            x = layer(x)
            states.append(x)
        return states


class CLIPVisionModel(nn.Module):
    def __init__(self, c: VisionConfig) -> None:
        super().__init__()
        self.vision_model = CLIPVisionTransformer(c)

    def select_features(self, pixel_values: torch.Tensor, select_layer: int = -2) -> torch.Tensor:
        """CLIPVisionTower.feature_select with select_feature 'patch': the CLS token dropped."""
        return self.vision_model.hidden_states(pixel_values)[select_layer][:, 1:]


# ------------------------------------------------------------------------------------------------
# LDP (V1) — torchvision InvertedResidual / SqueezeExcitation, timm LayerNormAct2d
# ------------------------------------------------------------------------------------------------


def make_divisible(v: float, divisor: int = 8) -> int:
    """torchvision's _make_divisible."""
    new_v = max(divisor, int(v + divisor / 2) // divisor * divisor)
    return new_v + divisor if new_v < 0.9 * v else new_v


class LayerNormAct2d(nn.LayerNorm):
    """timm LayerNormAct2d(act_layer=None): LayerNorm over channels of NCHW, eps 1e-5."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.layer_norm(
            x.permute(0, 2, 3, 1), self.normalized_shape, self.weight, self.bias, self.eps
        ).permute(0, 3, 1, 2)


class SqueezeExcitation(nn.Module):
    def __init__(self, channels: int, squeeze: int) -> None:
        super().__init__()
        self.fc1 = nn.Conv2d(channels, squeeze, 1)
        self.fc2 = nn.Conv2d(squeeze, channels, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        scale = F.adaptive_avg_pool2d(x, 1)
        scale = F.hardsigmoid(self.fc2(F.relu(self.fc1(scale))))
        return scale * x


class InvertedResidual(nn.Module):
    """InvertedResidualConfig(c, 3, c, c, use_se=True, "HS", stride, 1, 1): no expand conv."""

    def __init__(self, c: int, stride: int) -> None:
        super().__init__()
        self.use_res_connect = stride == 1
        dw = nn.Sequential(
            nn.Conv2d(c, c, 3, stride, 1, groups=c, bias=False), LayerNormAct2d(c), nn.Hardswish()
        )
        se = SqueezeExcitation(c, make_divisible(c // 4, 8))
        pw = nn.Sequential(nn.Conv2d(c, c, 1, bias=False), LayerNormAct2d(c))
        self.block = nn.Sequential(dw, se, pw)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.block(x)
        return y + x if self.use_res_connect else y


def tokens_to_image(x: torch.Tensor) -> torch.Tensor:
    b, n, c = x.shape
    h = int(math.isqrt(n))
    assert h * h == n
    return x.permute(0, 2, 1).reshape(b, c, h, h)


class LDPBlock(nn.Module):
    def __init__(self, inc: int, ouc: int) -> None:
        super().__init__()
        self.mlp = nn.Sequential(nn.Identity(), nn.Linear(inc, ouc), nn.GELU(), nn.Linear(ouc, ouc))
        self.mb_block = nn.Sequential(
            nn.Identity(), InvertedResidual(ouc, 1), InvertedResidual(ouc, 2)
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.mb_block(tokens_to_image(self.mlp(x)))
        return x.flatten(2).permute(0, 2, 1)


class LDPNetProjector(nn.Module):
    def __init__(self, inc: int, ouc: int) -> None:
        super().__init__()
        self.model = LDPBlock(inc, ouc)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.model(x)


# ------------------------------------------------------------------------------------------------
# LDPv2
# ------------------------------------------------------------------------------------------------


class FeatureIRLayer(nn.Module):
    def __init__(self, inc: int, ouc: int) -> None:
        super().__init__()
        self.mlp = nn.Sequential(nn.Linear(inc, ouc), nn.GELU(), nn.Linear(ouc, ouc))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.mlp(x)


class TokenDownLayer(nn.Module):
    def __init__(self, shape: tuple[int, int]) -> None:
        super().__init__()
        self.dwn = nn.Sequential(nn.AdaptiveAvgPool2d(shape))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.dwn(tokens_to_image(x)).flatten(2).transpose(1, 2)


class PosInjectLayer(nn.Module):
    def __init__(self, c: int) -> None:
        super().__init__()
        self.peg = nn.Sequential(nn.Conv2d(c, c, 3, 1, 1, bias=True, groups=c))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        feat = tokens_to_image(x)
        return (self.peg(feat) + feat).flatten(2).transpose(1, 2)


class LDPNetV2Projector(nn.Module):
    def __init__(self, inc: int, ouc: int) -> None:
        super().__init__()
        self.mlp = FeatureIRLayer(inc, ouc)
        self.dwn = TokenDownLayer((12, 12))  # fixed 12x12 in MobileVLM, whatever the grid
        self.peg = PosInjectLayer(ouc)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.peg(self.dwn(self.mlp(x)))


# ------------------------------------------------------------------------------------------------
# MobileLLaMA (transformers LlamaForCausalLM)
# ------------------------------------------------------------------------------------------------


class LlamaRMSNorm(nn.Module):
    def __init__(self, d: int, eps: float) -> None:
        super().__init__()
        self.weight = nn.Parameter(torch.ones(d))
        self.eps = eps

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.weight * (x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + self.eps))


def rotate_half(x: torch.Tensor) -> torch.Tensor:
    half = x.shape[-1] // 2
    return torch.cat([-x[..., half:], x[..., :half]], dim=-1)


class LlamaAttention(nn.Module):
    def __init__(self, c: TextConfig) -> None:
        super().__init__()
        self.heads, self.kv = c.num_attention_heads, c.num_key_value_heads
        self.hd = c.hidden_size // c.num_attention_heads
        self.theta = c.rope_theta
        self.q_proj = nn.Linear(c.hidden_size, self.heads * self.hd, bias=False)
        self.k_proj = nn.Linear(c.hidden_size, self.kv * self.hd, bias=False)
        self.v_proj = nn.Linear(c.hidden_size, self.kv * self.hd, bias=False)
        self.o_proj = nn.Linear(self.heads * self.hd, c.hidden_size, bias=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b, s, _ = x.shape
        q = self.q_proj(x).view(b, s, self.heads, self.hd).transpose(1, 2)
        k = self.k_proj(x).view(b, s, self.kv, self.hd).transpose(1, 2)
        v = self.v_proj(x).view(b, s, self.kv, self.hd).transpose(1, 2)
        inv = 1.0 / (
            self.theta ** (torch.arange(0, self.hd, 2, dtype=torch.float64) / self.hd)
        )
        freqs = torch.arange(s, dtype=torch.float64)[:, None] * inv[None]
        emb = torch.cat([freqs, freqs], dim=-1).to(x.dtype)
        cos, sin = emb.cos(), emb.sin()
        q = q * cos + rotate_half(q) * sin
        k = k * cos + rotate_half(k) * sin
        group = self.heads // self.kv  # repeat_kv (GQA); MobileLLaMA itself has kv == heads
        k = k.repeat_interleave(group, dim=1)
        v = v.repeat_interleave(group, dim=1)
        scores = (q @ k.transpose(-1, -2)) / math.sqrt(self.hd)
        causal = torch.ones(s, s, dtype=torch.bool).triu(1)
        scores = scores.masked_fill(causal, float("-inf"))
        ctx = torch.softmax(scores, dim=-1) @ v
        return self.o_proj(ctx.transpose(1, 2).reshape(b, s, -1))


class LlamaMLP(nn.Module):
    def __init__(self, c: TextConfig) -> None:
        super().__init__()
        self.gate_proj = nn.Linear(c.hidden_size, c.intermediate_size, bias=False)
        self.up_proj = nn.Linear(c.hidden_size, c.intermediate_size, bias=False)
        self.down_proj = nn.Linear(c.intermediate_size, c.hidden_size, bias=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.down_proj(F.silu(self.gate_proj(x)) * self.up_proj(x))


class LlamaDecoderLayer(nn.Module):
    def __init__(self, c: TextConfig) -> None:
        super().__init__()
        self.self_attn = LlamaAttention(c)
        self.mlp = LlamaMLP(c)
        self.input_layernorm = LlamaRMSNorm(c.hidden_size, c.rms_norm_eps)
        self.post_attention_layernorm = LlamaRMSNorm(c.hidden_size, c.rms_norm_eps)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x + self.self_attn(self.input_layernorm(x))
        return x + self.mlp(self.post_attention_layernorm(x))


class MobileLlamaModel(nn.Module):
    def __init__(self, c: TextConfig, projector: nn.Module) -> None:
        super().__init__()
        self.embed_tokens = nn.Embedding(c.vocab_size, c.hidden_size)
        self.layers = nn.ModuleList(LlamaDecoderLayer(c) for _ in range(c.num_hidden_layers))
        self.norm = LlamaRMSNorm(c.hidden_size, c.rms_norm_eps)
        self.mm_projector = projector


class MobileLlamaForCausalLM(nn.Module):
    def __init__(self, c: TextConfig, projector: nn.Module) -> None:
        super().__init__()
        self.model = MobileLlamaModel(c, projector)
        self.lm_head = nn.Linear(c.hidden_size, c.vocab_size, bias=False)

    def splice(self, input_ids: torch.Tensor, image_embeds: torch.Tensor) -> torch.Tensor:
        """prepare_inputs_labels_for_multimodal for one sequence with one sentinel."""
        ids = input_ids[0]
        (at,) = torch.where(ids == IMAGE_TOKEN_INDEX)[0].tolist()
        embed = self.model.embed_tokens
        return torch.cat([embed(ids[:at]), image_embeds[0], embed(ids[at + 1 :])])[None]

    def forward(self, inputs_embeds: torch.Tensor) -> torch.Tensor:
        x = inputs_embeds
        for layer in self.model.layers:
            x = layer(x)
        return self.lm_head(self.model.norm(x))


# ------------------------------------------------------------------------------------------------
# Seeded weights, safetensors, configs
# ------------------------------------------------------------------------------------------------


def seed_weights(module: nn.Module, gen: torch.Generator) -> None:
    """Deterministic weights: norms near 1, biases small, matrices ~ 1/sqrt(fan_in)."""
    with torch.no_grad():
        for name, p in sorted(module.named_parameters()):
            leaf = name.rsplit(".", 1)[-1]
            noise = torch.randn(p.shape, generator=gen, dtype=torch.float64)
            is_norm = any(k in name for k in ("norm", "layrnorm", ".0.1.", ".2.1."))
            if leaf == "bias":
                p.copy_(0.1 * noise)
            elif is_norm and p.dim() == 1:
                p.copy_(1.0 + 0.2 * noise)
            elif ("embed" in name and "patch_embedding" not in name) or leaf == "class_embedding":
                p.copy_(0.5 * noise)
            else:
                fan_in = p[0].numel() if p.dim() > 1 else p.numel()
                p.copy_(noise / math.sqrt(fan_in))


DTYPES = {"F32": torch.float32, "F16": torch.float16, "BF16": torch.bfloat16, "I64": torch.int64}


def round_to(module: nn.Module, dtype: str) -> None:
    """Rounds the float64 weights to the checkpoint dtype, so the reference runs what is saved."""
    with torch.no_grad():
        for p in module.parameters():
            p.copy_(p.to(DTYPES[dtype]).to(torch.float64))


def tensor_bytes(t: torch.Tensor, dtype: str) -> bytes:
    t = t.detach().to(DTYPES[dtype]).contiguous()
    if dtype == "BF16":  # numpy has no bfloat16: write the 16-bit patterns
        t = t.view(torch.int16)
    assert struct.pack("=H", 1) == struct.pack("<H", 1), "little-endian host expected"
    return t.numpy().tobytes()


def write_safetensors(path: str, tensors: dict[str, tuple[torch.Tensor, str]]) -> None:
    """safetensors: u64 LE header length, JSON header (padded to 8 bytes), raw LE data."""
    header: dict[str, object] = {"__metadata__": {"format": "pt"}}
    blobs, offset = [], 0
    for name in sorted(tensors):
        t, dtype = tensors[name]
        data = tensor_bytes(t, dtype)
        header[name] = {
            "dtype": dtype,
            "shape": list(t.shape),
            "data_offsets": [offset, offset + len(data)],
        }
        blobs.append(data)
        offset += len(data)
    text = json.dumps(header, separators=(",", ":")).encode()
    text += b" " * (-len(text) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)))
        f.write(text)
        for b in blobs:
            f.write(b)


def write_json(path: str, value: object) -> None:
    with open(path, "w") as f:
        json.dump(value, f, indent=2)
        f.write("\n")


def clip_config(c: VisionConfig) -> dict:
    """config.json as transformers' CLIPVisionModel.save_pretrained writes it."""
    return {
        "architectures": ["CLIPVisionModel"],
        "model_type": "clip_vision_model",
        "attention_dropout": 0.0,
        "dropout": 0.0,
        "hidden_act": c.hidden_act,
        "hidden_size": c.hidden_size,
        "image_size": c.image_size,
        "initializer_factor": 1.0,
        "initializer_range": 0.02,
        "intermediate_size": c.intermediate_size,
        "layer_norm_eps": c.layer_norm_eps,
        "num_attention_heads": c.num_attention_heads,
        "num_channels": 3,
        "num_hidden_layers": c.num_hidden_layers,
        "patch_size": c.patch_size,
        "projection_dim": c.hidden_size,
        "torch_dtype": "float32",
        "transformers_version": "4.33.1",
    }


CLIP_PREPROCESSOR = {
    "crop_size": {"height": 336, "width": 336},
    "do_center_crop": True,
    "do_convert_rgb": True,
    "do_normalize": True,
    "do_rescale": True,
    "do_resize": True,
    "image_mean": [0.48145466, 0.4578275, 0.40821073],
    "image_processor_type": "CLIPImageProcessor",
    "image_std": [0.26862954, 0.26130258, 0.27577711],
    "resample": 3,
    "rescale_factor": 0.00392156862745098,
    "size": {"shortest_edge": 336},
}


def mobilevlm_config(t: TextConfig, v: VisionConfig, projector: str, dtype: str) -> dict:
    """config.json in MobileVLM's format (MobileVLMConfig = LlamaConfig + the mm_* fields)."""
    return {
        "architectures": ["MobileLlamaForCausalLM"],
        "model_type": "mobilevlm",
        "bos_token_id": 1,
        "eos_token_id": 2,
        "pad_token_id": 0,
        "hidden_act": "silu",
        "hidden_size": t.hidden_size,
        "initializer_range": 0.02,
        "intermediate_size": t.intermediate_size,
        "max_position_embeddings": t.max_position_embeddings,
        "num_attention_heads": t.num_attention_heads,
        "num_hidden_layers": t.num_hidden_layers,
        "num_key_value_heads": t.num_key_value_heads,
        "pretraining_tp": 1,
        "rms_norm_eps": t.rms_norm_eps,
        "rope_scaling": None,
        "rope_theta": t.rope_theta,
        "tie_word_embeddings": False,
        "use_cache": True,
        "vocab_size": t.vocab_size,
        "image_aspect_ratio": "pad",
        "mm_hidden_size": v.hidden_size,
        "mm_projector_type": projector,
        "mm_use_im_patch_token": False,
        "mm_use_im_start_end": False,
        "mm_vision_select_feature": "patch",
        "mm_vision_select_layer": -2,
        "mm_vision_tower": "../clip-vit-test",
        "vision_tower_type": "clip",
        "use_mm_proj": True,
        "freeze_mm_mlp_adapter": False,
        "tune_mm_mlp_adapter": False,
        "torch_dtype": {"BF16": "bfloat16", "F16": "float16", "F32": "float32"}[dtype],
        "transformers_version": "4.33.1",
    }


def state(module: nn.Module, dtype: str) -> dict[str, tuple[torch.Tensor, str]]:
    return {k: (v, dtype) for k, v in module.state_dict().items()}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", required=True)
    ap.add_argument("--seed", type=int, default=28)
    args = ap.parse_args()
    torch.set_default_dtype(torch.float64)
    vc, tc = VisionConfig(), TextConfig()
    gen = torch.Generator().manual_seed(args.seed)

    # Fixed inputs: CLIP-normalized pixels of a seeded smooth image, and a prompt with the sentinel.
    os.makedirs(os.path.join(args.out, "reference"), exist_ok=True)
    u8 = torch.rand(1, 3, 12, 12, generator=gen, dtype=torch.float64)
    image = F.interpolate(u8, size=(vc.image_size, vc.image_size), mode="bilinear", align_corners=False)
    image = torch.round(image * 255) / 255
    mean = torch.tensor(CLIP_PREPROCESSOR["image_mean"])[None, :, None, None]
    std = torch.tensor(CLIP_PREPROCESSOR["image_std"])[None, :, None, None]
    pixel_values = ((image - mean) / std).to(torch.float32)
    before = torch.randint(3, tc.vocab_size, (5,), generator=gen)
    after = torch.randint(3, tc.vocab_size, (7,), generator=gen)
    input_ids = torch.cat([torch.tensor([1]), before, torch.tensor([IMAGE_TOKEN_INDEX]), after])[None]
    write_safetensors(
        os.path.join(args.out, "reference", "inputs.safetensors"),
        {"pixel_values": (pixel_values, "F32"), "input_ids": (input_ids, "I64")},
    )

    # CLIP tower, F32 like openai/clip-vit-large-patch14-336's model.safetensors.
    clip = CLIPVisionModel(vc)
    seed_weights(clip, gen)
    round_to(clip, "F32")
    clip_dir = os.path.join(args.out, "clip-vit-test")
    os.makedirs(clip_dir, exist_ok=True)
    write_safetensors(os.path.join(clip_dir, "model.safetensors"), state(clip, "F32"))
    write_json(os.path.join(clip_dir, "config.json"), clip_config(vc))
    write_json(os.path.join(clip_dir, "preprocessor_config.json"), CLIP_PREPROCESSOR)

    with torch.no_grad():
        features = clip.select_features(pixel_values.to(torch.float64))

    manifest: dict[str, object] = {
        "seed": args.seed,
        "script": "tools/reference/mobilevlm_torch.py",
        "inputs": "reference/inputs.safetensors",
        "encoder": "clip-vit-test",
        "models": {},
    }
    # V1 stored in BF16, V2 in F16: the dtypes MobileVLM releases use (trained in bf16).
    for name, kind, projector_type, dtype, variant in [
        ("mobilevlm-test", "ldp", "ldpnet", "BF16", "mobilevlm-1.7b"),
        ("mobilevlm-v2-test", "ldpv2", "ldpnetv2", "F16", "mobilevlm-v2-1.7b"),
    ]:
        projector = (
            LDPNetProjector(vc.hidden_size, tc.hidden_size)
            if kind == "ldp"
            else LDPNetV2Projector(vc.hidden_size, tc.hidden_size)
        )
        model = MobileLlamaForCausalLM(tc, projector)
        seed_weights(model, gen)
        round_to(model, dtype)
        folder = os.path.join(args.out, name)
        os.makedirs(folder, exist_ok=True)
        write_safetensors(os.path.join(folder, "model.safetensors"), state(model, dtype))
        write_json(os.path.join(folder, "config.json"), mobilevlm_config(tc, vc, projector_type, dtype))
        with torch.no_grad():
            image_embeds = model.model.mm_projector(features)
            logits = model(model.splice(input_ids, image_embeds))
        out = f"reference/{name}.safetensors"
        write_safetensors(
            os.path.join(args.out, out),
            {
                "image_features": (features, "F32"),
                "image_embeds": (image_embeds, "F32"),
                "logits": (logits, "F32"),
            },
        )
        manifest["models"][name] = {  # type: ignore[index]
            "variant": variant,
            "scale": "test",
            "vocab": tc.vocab_size,
            "projector": kind,
            "mm_projector_type": projector_type,
            "dtype": dtype,
            "reference": out,
            "sequence": int(logits.shape[1]),
            "logits_abs_max": float(logits.abs().max()),
            "greedy_last": int(logits[0, -1].argmax()),
        }
    write_json(os.path.join(args.out, "manifest.json"), manifest)


if __name__ == "__main__":
    main()
