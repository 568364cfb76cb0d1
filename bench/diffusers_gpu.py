"""Wan 2.1 1.3B-sized denoising on a GPU: seconds per step, end to end, and TFLOP/s vs a floor.

What it measures
    A WanPipeline whose transformer has Wan 2.1 T2V 1.3B's real dimensions (30 blocks, width
    1536, 12 heads, FFN 8960, text width 4096) and whose VAE is Wan 2.1's real VAE, all with
    random weights built on the device (nothing is downloaded), generating 832 × 480 × 81 frames
    with classifier-free guidance (two transformer passes per step), ``--steps`` steps (50).
    The text encoder is a one-layer stand-in with the real output width (UMT5-XXL would be
    ~1 s of the run; it is not what is measured). Each variant is one speed option on top of
    bf16 (plus the float32 baseline): it gets a fresh transformer, one warm-up run (compilation
    happens there), then a timed run. Steps are timed from ``callback_on_step_end`` with the
    device synchronised.

How to read it
    ``s/step`` is the median step (2 passes). ``TFLOP/s`` = 2 × 283 TFLOP / ``s/step`` from the
    analytic count of one transformer pass at 32,760 video tokens (≈ 70 % attention), so a
    cache that skips blocks shows as *more* TFLOP/s than the hardware does: it is the rate of
    the work a plain run would do. ``end to end`` is the whole timed pipeline call (text, 50
    steps, VAE decode). The floor is 100 passes at 790 TFLOP/s (≈ 36 s): an H100's dense bf16
    rate that a real kernel does not reach. Variants that change results (bf16, cache) say so.

Run it on any CUDA machine: ``python bench/diffusers_gpu.py`` (``--tiny`` runs tiny shapes on a
CPU, to check that the script works).
"""

from __future__ import annotations

import argparse
import itertools
import statistics
import string
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

# bench/queue.py would shadow the standard library's queue (torch imports it) when this runs as
# ``python bench/diffusers_gpu.py``: drop the script's own folder from the import path.
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).parent.resolve()]

import torch  # noqa: E402

from kinema.engines.diffusers.loading import apply_speed  # noqa: E402
from kinema.engines.diffusers.options import Speed  # noqa: E402

FLOOR_TFLOPS = 790.0
WAN_1_3B = {"patch_size": (1, 2, 2), "num_attention_heads": 12, "attention_head_dim": 128,
            "in_channels": 16, "out_channels": 16, "text_dim": 4096, "freq_dim": 256,
            "ffn_dim": 8960, "num_layers": 30, "cross_attn_norm": True,
            "qk_norm": "rms_norm_across_heads", "eps": 1e-6}  # fmt: skip
TINY = {**WAN_1_3B, "num_attention_heads": 2, "attention_head_dim": 8, "text_dim": 32,
        "ffn_dim": 32, "num_layers": 2, "freq_dim": 16}  # fmt: skip


@dataclass(frozen=True)
class Variant:
    name: str
    dtype: torch.dtype
    speed: Speed
    changes_results: bool


VARIANTS = (
    Variant("float32 (no option)", torch.float32, Speed(), False),
    Variant("bf16", torch.bfloat16, Speed(), True),
    Variant("bf16 + SDPA flash kernel", torch.bfloat16, Speed(attention="_native_flash"), True),
    Variant("bf16 + SDPA cuDNN kernel", torch.bfloat16, Speed(attention="_native_cudnn"), True),
    Variant("bf16 + torch.compile", torch.bfloat16, Speed(compile=True), True),
    Variant("bf16 + first-block cache 0.05", torch.bfloat16, Speed(cache="first-block"), True),
    Variant("bf16 + first-block cache 0.1", torch.bfloat16,
            Speed(cache="first-block", cache_threshold=0.1), True),
    Variant("bf16 + SeaCache (TeaCache-style) 0.25", torch.bfloat16, Speed(cache="sea"), True),
    Variant("bf16 + compile + first-block cache 0.05", torch.bfloat16,
            Speed(compile=True, cache="first-block"), True),
)  # fmt: skip


def pass_flops(config: dict[str, Any], tokens: int, text_tokens: int = 512) -> float:
    """Multiply-adds × 2 of one transformer pass (linear layers and attention)."""
    d = config["num_attention_heads"] * config["attention_head_dim"]
    per_block = (
        8 * tokens * d * d  # self-attention q, k, v, out
        + 4 * tokens * tokens * d  # QKᵀ and PV
        + 4 * tokens * d * d + 4 * text_tokens * d * d  # cross-attention projections
        + 4 * tokens * text_tokens * d  # cross-attention
        + 4 * tokens * d * config["ffn_dim"]  # feed-forward
    )  # fmt: skip
    return float(per_block * config["num_layers"])


def build_pipeline(config: dict[str, Any], device: torch.device, tiny: bool) -> Any:
    from diffusers import AutoencoderKLWan, UniPCMultistepScheduler, WanPipeline
    from transformers import T5Tokenizer, UMT5Config, UMT5EncoderModel

    vocab = [("<pad>", 0.0), ("</s>", 0.0), ("<unk>", 0.0)]
    vocab += [(c, -1.0) for c in ("▁", *string.ascii_lowercase)]
    tokenizer = T5Tokenizer(vocab=vocab, extra_ids=0)
    with device:
        text_config = UMT5Config(vocab_size=len(vocab), d_model=config["text_dim"], d_kv=64,
                                 d_ff=256, num_layers=1, num_heads=4)  # fmt: skip
        text = UMT5EncoderModel(text_config)
        vae = AutoencoderKLWan(base_dim=8, z_dim=16) if tiny else AutoencoderKLWan()
    scheduler = UniPCMultistepScheduler(prediction_type="flow_prediction", use_flow_sigmas=True,
                                        flow_shift=3.0, num_train_timesteps=1000)  # fmt: skip
    pipe = WanPipeline(tokenizer=tokenizer, text_encoder=text, vae=vae, scheduler=scheduler,
                       transformer=None)  # fmt: skip
    pipe.set_progress_bar_config(disable=True)
    return pipe


def run_variant(pipe: Any, variant: Variant, config: dict[str, Any], args: Any) -> dict[str, Any]:
    from diffusers import WanTransformer3DModel

    device = pipe.text_encoder.device
    torch.manual_seed(0)
    with device:
        transformer = WanTransformer3DModel(**config)
    # As from_pretrained(dtype=...) does: the modules diffusers keeps in float32 stay there.
    keep = set(getattr(transformer, "_keep_in_fp32_modules", None) or ())
    for name, tensor in [*transformer.named_parameters(), *transformer.named_buffers()]:
        if tensor.is_floating_point() and not keep & set(name.split(".")):
            tensor.data = tensor.data.to(variant.dtype)
    apply_speed(transformer, variant.speed)
    pipe.transformer = transformer
    pipe.register_modules(transformer=transformer)
    marks: list[float] = []

    def mark(_pipe: Any, _step: int, _t: Any, kwargs: dict[str, Any]) -> dict[str, Any]:
        if device.type == "cuda":
            torch.cuda.synchronize()
        marks.append(time.perf_counter())
        return kwargs

    def call(steps: int) -> float:
        marks.clear()
        start = time.perf_counter()
        pipe(prompt="a red kite over the sea", height=args.height, width=args.width,
             num_frames=args.frames, num_inference_steps=steps, guidance_scale=5.0,
             generator=torch.Generator().manual_seed(0), output_type="pt",
             callback_on_step_end=mark)  # fmt: skip
        if device.type == "cuda":
            torch.cuda.synchronize()
        return time.perf_counter() - start

    call(args.warmup_steps)
    total = call(args.steps)
    step = statistics.median(b - a for a, b in itertools.pairwise(marks))
    del pipe.transformer
    return {"s_per_step": step, "end_to_end": total}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tiny", action="store_true", help="tiny shapes (checks the script)")
    parser.add_argument("--steps", type=int, default=50)
    parser.add_argument("--warmup-steps", type=int, default=3)
    parser.add_argument("--only", default="", help="comma-separated variant numbers (1-based)")
    args = parser.parse_args()
    cuda = torch.cuda.is_available()
    if not cuda and not args.tiny:
        sys.exit("no CUDA device: run with --tiny to check the script on a CPU")
    device = torch.device("cuda" if cuda else "cpu")
    config = TINY if args.tiny else WAN_1_3B
    args.width, args.height, args.frames = (64, 64, 17) if args.tiny else (832, 480, 81)
    tokens = ((args.frames - 1) // 4 + 1) * (args.height // 16) * (args.width // 16)
    flops = pass_flops(config, tokens)
    name = torch.cuda.get_device_name() if cuda else "CPU (tiny shapes)"
    print(f"device: {name}; torch {torch.__version__}")
    floor = 2 * args.steps * flops / (FLOOR_TFLOPS * 1e12)
    print(f"{args.width}x{args.height}x{args.frames}, {tokens} tokens, "
          f"{flops / 1e12:.1f} TFLOP per pass, {args.steps} steps with CFG; floor "
          f"{floor:.1f} s at {FLOOR_TFLOPS:.0f} TFLOP/s")  # fmt: skip
    pipe = build_pipeline(config, device, args.tiny)
    chosen = [int(i) for i in args.only.split(",") if i] or range(1, len(VARIANTS) + 1)
    print("| variant | s/step | TFLOP/s | end to end (s) | changes results |")
    print("|---|---|---|---|---|")
    for index in chosen:
        variant = VARIANTS[index - 1]
        try:
            result = run_variant(pipe, variant, config, args)
        except Exception as exc:  # an option the machine lacks (a kernel, a compiler)
            print(f"| {variant.name} | failed: {str(exc).splitlines()[0][:80]} | | | |")
            continue
        tflops = 2 * flops / result["s_per_step"] / 1e12
        print(f"| {variant.name} | {result['s_per_step']:.3f} | {tflops:.0f} | "
              f"{result['end_to_end']:.1f} | {'yes' if variant.changes_results else 'no'} |",
              flush=True)  # fmt: skip


if __name__ == "__main__":
    main()
