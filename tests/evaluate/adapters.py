"""A real LoRA adapter for a stand-in, built in a second (no training needed to test plumbing)."""
from __future__ import annotations

from pathlib import Path


def build_random_adapter(base: Path, folder: Path, *, seed: int = 1) -> Path:
    """LoRA with non-zero weights on the attention projections, so the adapted model differs."""
    import torch
    from peft import LoraConfig, get_peft_model
    from transformers import AutoModelForCausalLM

    torch.manual_seed(seed)
    model = AutoModelForCausalLM.from_pretrained(base)
    peft = get_peft_model(model, LoraConfig(r=4, lora_alpha=8, target_modules=["q_proj", "v_proj"],
                                            init_lora_weights=False))
    peft.save_pretrained(folder)
    return folder
