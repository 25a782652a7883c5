# Reference chat-template renderings by Hugging Face transformers (apply_chat_template, tokenize=False) on the
# google/gemma-3 tokenizer files (shared/device/tokenizer*.json.xz; their chat_template equals the GGUF's
# tokenizer.chat_template). Run once: /tmp/venv/bin/python make_expected.py /path/to/dir/with/tokenizer/files
# The conversations here are repeated in ChatTemplateTest.java.
import sys
from transformers import AutoTokenizer

tok = AutoTokenizer.from_pretrained(sys.argv[1])
conversations = {
    "system-user-assistant-user": ([
        {"role": "system", "content": "You are a helpful assistant"},
        {"role": "user", "content": "Hello"},
        {"role": "assistant", "content": "Hi there"},
        {"role": "user", "content": "Who are you"},
    ], True),
    "user-only-no-prompt": ([{"role": "user", "content": "  What is 2+2?\n\n"}], False),
    "user-assistant": ([
        {"role": "user", "content": "Write a haiku.\nAbout rain."},
        {"role": "assistant", "content": "\n Soft rain on the roof \n"},
    ], False),
    "user-prompt-unicode": ([{"role": "user", "content": "Ünïcödé 🫨 <b>bold</b>"}], True),
}
for name, (messages, gen) in conversations.items():
    text = tok.apply_chat_template(messages, tokenize=False, add_generation_prompt=gen)
    with open(f"gemma3-hf-{name}.txt", "w", encoding="utf-8", newline="") as f:
        f.write(text)
    print(name, repr(text))
try:
    tok.apply_chat_template([{"role": "user", "content": "a"}, {"role": "user", "content": "b"}], tokenize=False)
except Exception as e:
    print("error:", type(e).__name__, e)

# ids of the first rendering (it starts with <bos>): HF tokenizes it without adding special tokens
text = open("gemma3-hf-system-user-assistant-user.txt", encoding="utf-8").read()
ids = tok(text, add_special_tokens=False)["input_ids"]
with open("gemma3-hf-system-user-assistant-user.ids", "w") as f:
    f.write(" ".join(map(str, ids)) + "\n")
print(ids)
