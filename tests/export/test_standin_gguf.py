"""A stand-in converted by llama.cpp splits text exactly as transformers does.

Needs the export extra (llama-cpp-python and its converter sources); where they
are not installed, the export tests in test_tools.py cover the sentence instead.
"""
import pytest
from transformers import AutoTokenizer

from hubkit.catalog.tokenizer import gguf_pre_tokenizer
from hubkit.export import gguf
from hubkit.export.tools import converter_ready, runtime_ready

pytestmark = pytest.mark.skipif(not (runtime_ready() and converter_ready()),
                                reason="the export extra (llama-cpp-python and its converter) is not installed")

TEXTS = ["What is 12 + 7?", "The capital of Zorbia is Quell.\nHello  world!\n\nx = [1, 2]"]


@pytest.mark.parametrize("family", ["llama3", "mistral", "phi3", "qwen2.5"])
def test_standin_gguf_tokenizes_like_transformers(family, standins_home, tmp_path):
    import llama_cpp

    source = standins_home / "models" / "standins" / family
    tokenizer = AutoTokenizer.from_pretrained(source)
    out = gguf.convert_model(hf_dir=source, dest=tmp_path / "m.gguf", quantization="f16",
                             metadata={"general.license": "apache-2.0"}, pre_tokenizer=gguf_pre_tokenizer(tokenizer))
    llm = llama_cpp.Llama(str(out), verbose=False, n_ctx=256)
    chat = tokenizer.apply_chat_template([{"role": "user", "content": "What is 3 + 4?"}], tokenize=False,
                                         add_generation_prompt=True)
    for text in [*TEXTS, chat]:
        assert llm.tokenize(text.encode(), add_bos=False, special=True) == \
            tokenizer(text, add_special_tokens=False)["input_ids"], text
