"""Tiny, randomly initialised pipelines of every family, saved like real weights folders.

They keep each family's real layout (the VAE's spatial and temporal compression, the
transformer's patching, the text encoder and tokenizer classes) with every width shrunk, so a
folder made here loads through exactly the code path of a downloaded checkpoint
(``from_pretrained(folder, local_files_only=True)``) and generates in well under a second on a
CPU. Tests and ``bench/diffusers_gpu.py --tiny`` use them; they make noise, not video.
"""

from __future__ import annotations

import string
from pathlib import Path
from typing import Any

import torch

from kinema.engines.diffusers.families import FAMILIES

_TEXT_DIM = 16


def _t5_tokenizer() -> Any:
    from transformers import T5Tokenizer

    # transformers >= 5 builds a unigram tokenizer from an in-memory vocabulary; single
    # characters make every prompt tokenise into distinct ids (so prompts matter).
    pieces = ["▁", *string.ascii_lowercase, *string.digits, *".,!?'-"]
    vocab = [("<pad>", 0.0), ("</s>", 0.0), ("<unk>", 0.0)]
    vocab += [(piece, -1.0 - index / 100) for index, piece in enumerate(pieces)]
    return T5Tokenizer(vocab=vocab, extra_ids=0)


def _umt5(vocab_size: int) -> Any:
    from transformers import UMT5Config, UMT5EncoderModel

    config = UMT5Config(vocab_size=vocab_size, d_model=_TEXT_DIM, d_kv=4, d_ff=32, num_layers=1,
                        num_heads=4, relative_attention_num_buckets=8)  # fmt: skip
    return UMT5EncoderModel(config)


def _wan_scheduler() -> Any:
    from diffusers import UniPCMultistepScheduler

    return UniPCMultistepScheduler(prediction_type="flow_prediction", use_flow_sigmas=True,
                                   flow_shift=3.0, num_train_timesteps=1000)  # fmt: skip


def _wan21_vae() -> Any:
    from diffusers import AutoencoderKLWan

    # The real layout: 8x spatial (three downsamples) and 4x temporal compression.
    return AutoencoderKLWan(base_dim=8, z_dim=4, dim_mult=[1, 1, 1, 1], num_res_blocks=1,
                            temperal_downsample=[False, True, True],
                            latents_mean=[0.0] * 4, latents_std=[1.0] * 4)  # fmt: skip


def _wan_transformer(in_channels: int, out_channels: int, **extra: Any) -> Any:
    from diffusers import WanTransformer3DModel

    return WanTransformer3DModel(patch_size=(1, 2, 2), num_attention_heads=2, attention_head_dim=8,
                                 in_channels=in_channels, out_channels=out_channels,
                                 text_dim=_TEXT_DIM, freq_dim=16, ffn_dim=16, num_layers=2,
                                 rope_max_seq_len=32, **extra)  # fmt: skip


def wan21_t2v() -> Any:
    from diffusers import WanPipeline

    tokenizer = _t5_tokenizer()
    return WanPipeline(tokenizer=tokenizer, text_encoder=_umt5(len(tokenizer)), vae=_wan21_vae(),
                       scheduler=_wan_scheduler(), transformer=_wan_transformer(4, 4))  # fmt: skip


def wan21_i2v(first_last: bool = False) -> Any:
    """Wan 2.1 I2V; with ``first_last``, the FLF2V variant (position embeddings for two images)."""
    from diffusers import WanImageToVideoPipeline
    from transformers import CLIPImageProcessor, CLIPVisionConfig, CLIPVisionModel

    tokenizer = _t5_tokenizer()
    vision = CLIPVisionConfig(
        hidden_size=8,
        image_size=32,
        patch_size=8,
        num_hidden_layers=2,
        num_attention_heads=2,
        intermediate_size=16,
        projection_dim=8,
    )
    processor = CLIPImageProcessor(
        size={"shortest_edge": 32}, crop_size={"height": 32, "width": 32}
    )
    # Latents (4) + the encoded condition video (4) + the 4-channel frame mask.
    clip_tokens = (32 // 8) ** 2 + 1
    transformer = _wan_transformer(
        12,
        4,
        image_dim=8,
        added_kv_proj_dim=16,
        pos_embed_seq_len=2 * clip_tokens if first_last else None,
    )
    return WanImageToVideoPipeline(
        tokenizer=tokenizer, text_encoder=_umt5(len(tokenizer)), vae=_wan21_vae(),
        scheduler=_wan_scheduler(), image_processor=processor,
        image_encoder=CLIPVisionModel(vision), transformer=transformer,
    )  # fmt: skip


def wan22_ti2v() -> Any:
    from diffusers import AutoencoderKLWan, WanPipeline

    # Wan 2.2's VAE: 2x2 pixel patching in front of the 8x encoder (16x spatial), residual.
    vae = AutoencoderKLWan(base_dim=16, decoder_base_dim=16, z_dim=8, dim_mult=[1, 1, 1, 1],
                           num_res_blocks=1, temperal_downsample=[False, True, True],
                           is_residual=True, in_channels=12, out_channels=12, patch_size=2,
                           scale_factor_spatial=16, scale_factor_temporal=4,
                           latents_mean=[0.0] * 8, latents_std=[1.0] * 8)  # fmt: skip
    tokenizer = _t5_tokenizer()
    return WanPipeline(tokenizer=tokenizer, text_encoder=_umt5(len(tokenizer)), vae=vae,
                       scheduler=_wan_scheduler(), transformer=_wan_transformer(8, 8),
                       expand_timesteps=True)  # fmt: skip


def ltx_video() -> Any:
    from diffusers import (
        AutoencoderKLLTXVideo,
        FlowMatchEulerDiscreteScheduler,
        LTXPipeline,
        LTXVideoTransformer3DModel,
    )
    from transformers import T5Config, T5EncoderModel

    # The real layout: 4x4 patching then three 2x spatio-temporal stages (32x, 8x).
    vae = AutoencoderKLLTXVideo(
        latent_channels=8, block_out_channels=(8, 8, 8, 8),
        decoder_block_out_channels=(8, 8, 8, 8), layers_per_block=(1, 1, 1, 1, 1),
        decoder_layers_per_block=(1, 1, 1, 1, 1),
        spatio_temporal_scaling=(True, True, True, False),
        decoder_spatio_temporal_scaling=(True, True, True, False),
        decoder_inject_noise=(False,) * 5, upsample_residual=(False,) * 4,
        upsample_factor=(1,) * 4, patch_size=4, patch_size_t=1,
    )  # fmt: skip
    transformer = LTXVideoTransformer3DModel(in_channels=8, out_channels=8, num_attention_heads=2,
                                             attention_head_dim=8, cross_attention_dim=16,
                                             num_layers=1, caption_channels=_TEXT_DIM)  # fmt: skip
    tokenizer = _t5_tokenizer()
    text_encoder = T5EncoderModel(T5Config(vocab_size=len(tokenizer), d_model=_TEXT_DIM, d_kv=4,
                                           d_ff=32, num_layers=1, num_heads=4,
                                           relative_attention_num_buckets=8))  # fmt: skip
    scheduler = FlowMatchEulerDiscreteScheduler(
        use_dynamic_shifting=True, base_shift=0.95, max_shift=2.05, base_image_seq_len=1024,
        max_image_seq_len=4096, shift_terminal=0.1,
    )  # fmt: skip
    return LTXPipeline(scheduler=scheduler, vae=vae, text_encoder=text_encoder,
                       tokenizer=tokenizer, transformer=transformer)  # fmt: skip


BUILDERS = {
    "wan2.1-t2v": wan21_t2v,
    "wan2.1-i2v": wan21_i2v,
    "wan2.1-flf2v": lambda: wan21_i2v(first_last=True),
    "wan2.2-ti2v-5b": wan22_ti2v,
    "ltx-video": ltx_video,
}
"""Tiny pipelines by name: every family, and Wan 2.1's first + last frame variant."""
assert set(FAMILIES) <= set(BUILDERS)


def save_tiny_pipeline(name: str, folder: Path, seed: int = 0) -> Path:
    """Build the tiny pipeline ``name`` (a family, or a BUILDERS variant) from ``seed``; save it."""
    torch.manual_seed(seed)
    pipeline = BUILDERS[name]()
    pipeline.save_pretrained(str(folder))
    return folder
