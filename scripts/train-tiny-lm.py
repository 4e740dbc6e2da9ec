"""Train a small GPT-2-style causal language model on one shipped text and save it in the
transformers format, for `hf:model=FOLDER` where no hub model can be downloaded.

    .venv/bin/python scripts/train-tiny-lm.py                 # build/tiny-lm, a few CPU minutes
    .venv/bin/mdlbench run --suite suites/hf-tiny.toml        # it, mix and zstd on other texts

A byte-level BPE tokenizer (lossless on any UTF-8 text) is trained on the text first, then the
model on random windows of it, each starting with the BOS token <|endoftext|> (so coding
chunks that start from BOS is what the model saw in training). Seeded and run with
deterministic torch settings on a fixed number of threads: the same command on the same
machine writes the same weights. The weights are not committed (a few MB); this script
regenerates them. The tests import `train` to build a much smaller one in seconds.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

BOS = "<|endoftext|>"


def train(text: str, out: Path, *, vocab: int = 2048, layers: int = 2, dim: int = 128,
          heads: int = 4, context: int = 256, steps: int = 1000, batch: int = 16,
          lr: float = 3e-3, seed: int = 0, threads: int = 1, log: bool = False) -> dict:
    """Tokenizer and model trained on `text`, saved to `out`; returns what was trained."""
    from mdlbench.models import runtime

    with runtime.deterministic(threads), runtime.seeded(seed):
        return _train(text, out, vocab=vocab, layers=layers, dim=dim, heads=heads,
                      context=context, steps=steps, batch=batch, lr=lr, seed=seed,
                      threads=threads, log=log)


def _train(text: str, out: Path, *, vocab: int, layers: int, dim: int, heads: int,
           context: int, steps: int, batch: int, lr: float, seed: int, threads: int,
           log: bool) -> dict:
    import torch
    from tokenizers import ByteLevelBPETokenizer
    from transformers import GPT2Config, GPT2LMHeadModel, PreTrainedTokenizerFast
    from transformers.utils import logging

    logging.set_verbosity_error()
    logging.disable_progress_bar()
    bpe = ByteLevelBPETokenizer(add_prefix_space=False)
    bpe.train_from_iterator([text], vocab_size=vocab, min_frequency=2, special_tokens=[BOS],
                            show_progress=False)
    tok = PreTrainedTokenizerFast(tokenizer_object=bpe._tokenizer, bos_token=BOS, eos_token=BOS)
    ids = torch.tensor(tok(text, add_special_tokens=False)["input_ids"])
    cfg = GPT2Config(vocab_size=len(tok), n_positions=context, n_embd=dim, n_layer=layers,
                     n_head=heads, bos_token_id=tok.bos_token_id, eos_token_id=tok.eos_token_id,
                     resid_pdrop=0.0, embd_pdrop=0.0, attn_pdrop=0.0)
    model = GPT2LMHeadModel(cfg)
    opt = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=0.01)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=lr, total_steps=steps)
    gen = torch.Generator().manual_seed(seed)
    bos = torch.full((batch, 1), tok.bos_token_id)
    start = time.time()
    model.train()
    for step in range(steps):
        at = torch.randint(0, len(ids) - context, (batch,), generator=gen)
        x = torch.cat([bos, torch.stack([ids[a:a + context - 1] for a in at.tolist()])], 1)
        loss = model(input_ids=x, labels=x).loss
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        sched.step()
        if log and (step % 100 == 0 or step == steps - 1):
            print(f"step {step:5d}  loss {loss.item():.3f} nats/token  {time.time() - start:.0f} s")
    model.eval()
    out.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(out)
    tok.save_pretrained(out)
    info = {"text_bytes": len(text.encode()), "tokens": len(ids), "vocab": len(tok),
            "parameters": model.num_parameters(), "layers": layers, "dim": dim, "heads": heads,
            "context": context, "steps": steps, "batch": batch, "lr": lr, "seed": seed,
            "threads": threads, "final_loss_nats": round(loss.item(), 4)}
    (out / "training.json").write_text(json.dumps(info, indent=2) + "\n")
    return info


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--text", default="bible", help="a shipped dataset or a path (default bible)")
    ap.add_argument("--bytes", type=int, default=2_000_000, help="train on the first N bytes")
    ap.add_argument("--out", type=Path, default=Path("build/tiny-lm"))
    ap.add_argument("--vocab", type=int, default=2048)
    ap.add_argument("--layers", type=int, default=2)
    ap.add_argument("--dim", type=int, default=128)
    ap.add_argument("--heads", type=int, default=4)
    ap.add_argument("--context", type=int, default=256, help="tokens")
    ap.add_argument("--steps", type=int, default=1000)
    ap.add_argument("--batch", type=int, default=16)
    ap.add_argument("--lr", type=float, default=3e-3)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--threads", type=int, default=1)
    a = ap.parse_args()
    from mdlbench import datasets

    text = datasets.load(a.text).data[:a.bytes].decode("utf-8")
    info = train(text, a.out, vocab=a.vocab, layers=a.layers, dim=a.dim, heads=a.heads,
                 context=a.context, steps=a.steps, batch=a.batch, lr=a.lr, seed=a.seed,
                 threads=a.threads, log=True)
    print(f"wrote {a.out}: {info['parameters']:,} parameters, vocabulary {info['vocab']}")


if __name__ == "__main__":
    main()
