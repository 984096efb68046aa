"""A real LoRA adapter for a stand-in, built in a second (no training needed to test plumbing)."""
from __future__ import annotations

from pathlib import Path


def build_random_adapter(base: Path, folder: Path, *, seed: int = 1, random_weights: bool = True) -> Path:
    """LoRA on the attention projections: random non-zero weights so the adapted model differs,
    or PEFT's own initialisation (``random_weights=False``), which leaves the model's outputs as they were."""
    import torch
    from peft import LoraConfig, get_peft_model
    from transformers import AutoModelForCausalLM

    torch.manual_seed(seed)
    model = AutoModelForCausalLM.from_pretrained(base)
    peft = get_peft_model(model, LoraConfig(r=4, lora_alpha=8, target_modules=["q_proj", "v_proj"],
                                            init_lora_weights=not random_weights))
    peft.save_pretrained(folder)
    return folder
