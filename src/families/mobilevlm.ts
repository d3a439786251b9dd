/**
 * The MobileVLM family (V1 and V2): CLIP-L/14@336 penultimate features, LDP or
 * LDPv2 projector, MobileLLaMA decoder, the `v1` conversation with one
 * `<image>` placeholder that becomes the sentinel id −200 and is replaced by
 * 144 feature rows. No ONNX export is published, so it runs in the modular
 * layout; its checkpoints' configs are read by `mobilevlm_config.ts`.
 *
 * @module
 */
import type { SpecIssue } from "../errors/spec_error.ts";
import type { TokensSpec, VariantSpec } from "../spec/types.ts";
import { mobileVlmCheckpointConfig } from "./mobilevlm_config.ts";
import { spliceAsSentinels } from "./splicing.ts";
import { llamaLayerNames, vitLayerNames } from "./transformers_layers.ts";
import type {
  CheckpointModule,
  CheckpointNames,
  ModelFamily,
  PromptFormat,
  UserTurn,
} from "./types.ts";

/** MobileVLM's `v1` conversation system prompt. */
export const MOBILEVLM_SYSTEM_PROMPT: string =
  "A chat between a curious user and an artificial intelligence assistant. " +
  "The assistant gives helpful, detailed, and polite answers to the user's questions.";

/** `{system} USER: <image>\n{text} ASSISTANT:`; the tokenizer adds the BOS id itself. */
function renderUserTurn(turn: UserTurn, _tokens: TokensSpec): string {
  const images = turn.imageBlocks.join("");
  const imageLine = turn.imageBlocks.length > 0 ? `${images}\n` : "";
  return `${MOBILEVLM_SYSTEM_PROMPT} USER: ${imageLine}${turn.text} ASSISTANT:`;
}

/** System prompt, ` USER: <image>\n{text}`, ` ASSISTANT: {text}</s>`. */
function chatTemplate(tokens: TokensSpec): string {
  const endOfUtterance = tokens.endOfUtterance.text;
  return `${MOBILEVLM_SYSTEM_PROMPT}{% for message in messages %}` +
    "{% if message['role'] == 'user' %} USER: " +
    "{% for line in message['content'] %}{% if line['type'] == 'image' %}<image>\n{% endif %}{% endfor %}" +
    "{% for line in message['content'] %}{% if line['type'] == 'text' %}{{line['text']}}{% endif %}{% endfor %}" +
    "{% else %} ASSISTANT: {% for line in message['content'] %}{% if line['type'] == 'text' %}" +
    `{{line['text']}}{% endif %}{% endfor %}${endOfUtterance}{% endif %}{% endfor %}` +
    "{% if add_generation_prompt %} ASSISTANT:{% endif %}";
}

function tokenIssues({ image }: VariantSpec): SpecIssue[] {
  if (!image.splitting && image.padToSquare) return [];
  return [{
    path: "tokens.chatTemplate",
    message: "mobilevlm-v1 conversations take one pad-to-square image",
    fix: "set image.splitting false and image.padToSquare true",
  }];
}

const prompt: PromptFormat = {
  maxImages: 1,
  tokenizerAddsBos: (tokens) => tokens.bos !== null,
  // The placeholder is the sentinel −200, replaced before embedding.
  placeholderInVocabulary: false,
  renderUserTurn,
  imageBlock: (_grid, _tokensPerTile, tokens) => tokens.image.text,
  featureRowsPerPlaceholder: (tokensPerTile) => tokensPerTile,
  splice: spliceAsSentinels,
  chatTemplate,
  fillerTokens: { unknown: "<unk>", pad: "<unk>" },
  tokenIssues,
};

/** transformers' `CLIPVisionModel` root, the names of a CLIP checkpoint (`--encoder-from`). */
const TOWER = "vision_model";
const LDP = "model.mm_projector.model";

/** The LDP MobileNetV3 block `mb_block.{n}` (no expansion conv, SE, two channel LayerNorms). */
function ldpBlock(n: number): string[] {
  const b = `${LDP}.mb_block.${n}.block`;
  return [
    `${b}.0.0.weight`,
    `${b}.0.1.weight`,
    `${b}.0.1.bias`,
    `${b}.1.fc1.weight`,
    `${b}.1.fc1.bias`,
    `${b}.1.fc2.weight`,
    `${b}.1.fc2.bias`,
    `${b}.2.0.weight`,
    `${b}.2.1.weight`,
    `${b}.2.1.bias`,
  ];
}

/** Builder names of LDP block `blocks.{b}` → `mb_block.{b+1}` (index 0 is an Identity). */
function ldpBlockNames(b: number): Record<string, string> {
  const ours = `blocks.${b}`;
  const theirs = `${LDP}.mb_block.${b + 1}.block`;
  return {
    [`${ours}.dw.weight`]: `${theirs}.0.0.weight`,
    [`${ours}.norm1.weight`]: `${theirs}.0.1.weight`,
    [`${ours}.norm1.bias`]: `${theirs}.0.1.bias`,
    // The squeeze-excite fcs and the pointwise conv are 1×1 Conv2d ([out, in, 1, 1]).
    [`${ours}.se.fc1.weight`]: `${theirs}.1.fc1.weight`,
    [`${ours}.se.fc1.bias`]: `${theirs}.1.fc1.bias`,
    [`${ours}.se.fc2.weight`]: `${theirs}.1.fc2.weight`,
    [`${ours}.se.fc2.bias`]: `${theirs}.1.fc2.bias`,
    [`${ours}.pw.weight`]: `${theirs}.2.0.weight`,
    [`${ours}.norm2.weight`]: `${theirs}.2.1.weight`,
    [`${ours}.norm2.bias`]: `${theirs}.2.1.bias`,
  };
}

const ldp: CheckpointModule = {
  prefix: `${LDP}.`,
  parameters: [
    `${LDP}.mlp.1.weight`,
    `${LDP}.mlp.1.bias`,
    `${LDP}.mlp.3.weight`,
    `${LDP}.mlp.3.bias`,
    ...ldpBlock(1),
    ...ldpBlock(2),
  ],
  verified: true,
  note: "Meituan-AutoML/MobileVLM mobilevlm/model/vision_projector.py: LDPNetProjector.model = " +
    "LDPBlock; mlp = (Identity, Linear, GELU, Linear); mb_block = (Identity, InvertedResidual " +
    "stride 1, stride 2), torchvision mobilenetv3.InvertedResidual.block = (dw conv + " +
    "LayerNormAct2d + Hardswish, SqueezeExcitation fc1/fc2, 1×1 conv + LayerNormAct2d). " +
    "Convolution weights keep their 4-D shapes: `block.0.0` [H, 1, 3, 3], `block.1.fc1` " +
    "[H/4, H, 1, 1], `block.2.0` [H, H, 1, 1]",
  // mlp = Sequential(Identity, Linear, GELU, Linear): the Linears are mlp.1 and mlp.3.
  builderNames: {
    "mlp.0.weight": `${LDP}.mlp.1.weight`,
    "mlp.0.bias": `${LDP}.mlp.1.bias`,
    "mlp.1.weight": `${LDP}.mlp.3.weight`,
    "mlp.1.bias": `${LDP}.mlp.3.bias`,
    ...ldpBlockNames(0),
    ...ldpBlockNames(1),
  },
};

const ldpv2: CheckpointModule = {
  prefix: "model.mm_projector.",
  parameters: [
    "model.mm_projector.mlp.mlp.0.weight",
    "model.mm_projector.mlp.mlp.0.bias",
    "model.mm_projector.mlp.mlp.2.weight",
    "model.mm_projector.mlp.mlp.2.bias",
    "model.mm_projector.peg.peg.0.weight",
    "model.mm_projector.peg.peg.0.bias",
  ],
  verified: true,
  note: "Meituan-AutoML/MobileVLM mobilevlm/model/vision_projector.py: LDPNetV2Projector.mlp " +
    "= FeatureIRLayer (mlp = Linear, GELU, Linear), dwn = TokenDownLayer (AdaptiveAvgPool2d " +
    "((12, 12)), no parameters), peg = PosInjectLayer (peg.0 = depthwise Conv2d 3×3 with bias, " +
    "weight [H, 1, 3, 3])",
  builderNames: {
    "mlp.0.weight": "model.mm_projector.mlp.mlp.0.weight",
    "mlp.0.bias": "model.mm_projector.mlp.mlp.0.bias",
    "mlp.1.weight": "model.mm_projector.mlp.mlp.2.weight",
    "mlp.1.bias": "model.mm_projector.mlp.mlp.2.bias",
    "peg.weight": "model.mm_projector.peg.peg.0.weight",
    "peg.bias": "model.mm_projector.peg.peg.0.bias",
  },
};

/**
 * Where MobileVLM's own trainer would put the tower's names: `model.vision_tower` is a
 * `CLIPVisionTower` whose `.vision_tower` is the `CLIPVisionModel` (vision_encoder.py), so a
 * checkpoint that carries the tower holds the vision names under this prefix.
 */
export const MOBILEVLM_EMBEDDED_TOWER_PREFIX = "model.vision_tower.vision_tower.";

/**
 * MobileVLM checkpoint names: the vision tower from a CLIP checkpoint
 * (`openai/clip-vit-large-patch14-336`), decoder, projector and head from a
 * MobileVLM checkpoint (`MobileLlamaForCausalLM`). The text prefix `model.`
 * also contains `model.mm_projector.`: the longer prefix wins.
 */
const checkpoint: CheckpointNames = {
  vision: {
    prefix: `${TOWER}.`,
    parameters: [
      `${TOWER}.embeddings.class_embedding`,
      `${TOWER}.embeddings.patch_embedding.weight`,
      `${TOWER}.embeddings.position_embedding.weight`,
      `${TOWER}.pre_layrnorm.weight`,
      `${TOWER}.pre_layrnorm.bias`,
      ...["layer_norm1", "layer_norm2", "self_attn.q_proj", "self_attn.k_proj", "self_attn.v_proj"]
        .concat(["self_attn.out_proj", "mlp.fc1", "mlp.fc2"])
        .flatMap((m) => [
          `${TOWER}.encoder.layers.{i}.${m}.weight`,
          `${TOWER}.encoder.layers.{i}.${m}.bias`,
        ]),
      `${TOWER}.post_layernorm.weight`,
      `${TOWER}.post_layernorm.bias`,
    ],
    verified: true,
    note: "huggingface/transformers models/clip/modeling_clip.py (CLIPVisionModel." +
      "vision_model: embeddings, pre_layrnorm, encoder.layers, post_layernorm; patch conv " +
      "without bias), loaded by Meituan-AutoML/MobileVLM mobilevlm/model/vision_encoder.py " +
      "(CLIPVisionModel.from_pretrained(mm_vision_tower)). MobileVLM takes hidden_states[-2] " +
      "(mm_vision_select_layer = -2) without the CLS token, so the last layer and " +
      "post_layernorm are in the checkpoint but never run. A CLIPModel checkpoint holds the " +
      "same names beside text_model.*, visual_projection, text_projection and logit_scale",
    builderNames: {
      "class": `${TOWER}.embeddings.class_embedding`,
      "patch.weight": `${TOWER}.embeddings.patch_embedding.weight`,
      "position": `${TOWER}.embeddings.position_embedding.weight`,
      "pre_norm.weight": `${TOWER}.pre_layrnorm.weight`,
      "pre_norm.bias": `${TOWER}.pre_layrnorm.bias`,
      "post_norm.weight": `${TOWER}.post_layernorm.weight`,
      "post_norm.bias": `${TOWER}.post_layernorm.bias`,
      ...vitLayerNames(TOWER),
    },
  },
  projector: { ldp, ldpv2 },
  text: {
    prefix: "model.",
    parameters: [
      "model.embed_tokens.weight",
      "model.layers.{i}.input_layernorm.weight",
      "model.layers.{i}.post_attention_layernorm.weight",
      ...["q_proj", "k_proj", "v_proj", "o_proj"].map((p) =>
        `model.layers.{i}.self_attn.${p}.weight`
      ),
      ...["gate_proj", "up_proj", "down_proj"].map((p) => `model.layers.{i}.mlp.${p}.weight`),
      "model.norm.weight",
    ],
    verified: true,
    note: "Meituan-AutoML/MobileVLM mobilevlm/model/mobilellama.py: MobileLlamaForCausalLM." +
      "model = MobileLlamaModel (a transformers LlamaModel, models/llama/modeling_llama.py: " +
      "embed_tokens, layers.{i}.{self_attn,mlp,input_layernorm,post_attention_layernorm}, norm; " +
      "no attention or MLP biases) that also holds mm_projector",
    builderNames: {
      "embed.weight": "model.embed_tokens.weight",
      "norm.weight": "model.norm.weight",
      ...llamaLayerNames("model"),
    },
  },
  head: {
    prefix: "lm_head.",
    parameters: ["lm_head.weight"],
    verified: true,
    note: "Meituan-AutoML/MobileVLM mobilevlm/model/mobilellama.py: lm_head = " +
      "nn.Linear(hidden, vocab, bias=False), not tied to embed_tokens",
    builderNames: { "lm_head.weight": "lm_head.weight" },
  },
};

/** The MobileVLM family. */
export const mobileVlmFamily: ModelFamily = {
  id: "mobilevlm",
  description: "MobileVLM and MobileVLM V2",
  chatTemplates: ["mobilevlm-v1"],
  layouts: [],
  hfConfig: null,
  prompt,
  checkpoint,
  checkpointConfig: mobileVlmCheckpointConfig,
};
