"""Pretrains Limelight's starter model on the corpus built by `npm run corpus`.

Runs on the GPU machine (tools/pretrain/run-on-device.sh) with PyTorch and transformers.
The model is a Hugging Face LlamaForCausalLM, so the checkpoint has the exact tensor names
the engine maps (engine/io/hfNames.ts) and loads unchanged.

  python3 tools/pretrain/train.py --data .cache/corpus --out DIR [--time-budget 360]

Reads   DATA/train.bin, DATA/val.bin (uint16 p50k_edit ids), DATA/index.json,
        DATA/prompts.json (reference prompts), DATA/manifest.json (sources, for the card)
Writes  OUT/model.safetensors (F16), OUT/config.json (+ "limelight_encoding": "p50k_edit"),
        OUT/reference.json + OUT/reference.safetensors (float32 logits of the exported F16
        weights for the prompts, greedy continuations), OUT/training.json (settings, loss
        curve, val loss, throughput), OUT/README.md (model card from MODEL_CARD.template.md)

Training is time-boxed: the learning rate follows warmup then cosine decay over the
fraction of the time budget used, so the schedule ends when the budget does, whatever the
GPU's speed. Validation runs at fixed intervals; the best validation checkpoint is the one
exported (the corpus is small, so late steps may overfit).
"""

import argparse
import json
import math
import os
import sys
import time

import numpy as np
import torch
import torch.nn.functional as F
from transformers import LlamaConfig, LlamaForCausalLM

VOCAB = 50284  # p50k_edit: 50281 BPE ranks (incl. <|endoftext|> = 50256) + 3 FIM tokens
EOT = 50256

# ~22.3M parameters: F16 weights of ~44.6 MB fit the 48 MB the extension may ship.
# Narrow and deep (MobileLLM-style) with grouped-query attention for a small KV cache.
MODEL = dict(
    hidden_size=256,
    intermediate_size=768,
    num_hidden_layers=12,
    num_attention_heads=4,
    num_key_value_heads=2,
    head_dim=64,
    max_position_embeddings=1024,
)


def parse_args():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--data", required=True, help="corpus folder (train.bin, val.bin, index.json, prompts.json)")
    p.add_argument("--out", required=True, help="output folder (created)")
    p.add_argument("--time-budget", type=float, default=360.0, help="seconds of training, excluding setup and export")
    p.add_argument("--batch", type=int, default=32, help="sequences per micro-batch")
    p.add_argument("--accum", type=int, default=4, help="micro-batches per optimizer step")
    p.add_argument("--seq", type=int, default=1024)
    p.add_argument("--lr", type=float, default=2e-3)
    p.add_argument("--min-lr-ratio", type=float, default=0.1)
    p.add_argument("--warmup", type=float, default=0.03, help="share of the time budget spent warming up")
    p.add_argument("--weight-decay", type=float, default=0.1)
    p.add_argument("--eval-every", type=float, default=45.0, help="seconds between validation passes")
    p.add_argument("--eval-windows", type=int, default=256)
    p.add_argument("--seed", type=int, default=1234)
    p.add_argument("--compile", action=argparse.BooleanOptionalAction, default=True)
    p.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    p.add_argument("--tiny", action="store_true", help="a 2-layer model for a CPU smoke test of the loop")
    return p.parse_args()


def fail(msg):
    print(f"train.py: {msg}", file=sys.stderr)
    sys.exit(2)


def load_tokens(path):
    if not os.path.exists(path):
        fail(f"{path} not found. Build the corpus first: npm run corpus (and carry .cache/corpus to the GPU machine).")
    arr = np.fromfile(path, dtype="<u2")
    if arr.size < 2 * 1024 or int(arr.max()) >= VOCAB:
        fail(f"{path} is not a p50k_edit uint16 token file (size {arr.size}, max id {int(arr.max()) if arr.size else -1}).")
    return torch.from_numpy(arr.astype(np.int64))


def model_config(tiny):
    m = dict(MODEL)
    if tiny:
        m.update(hidden_size=64, intermediate_size=128, num_hidden_layers=2, num_attention_heads=2, num_key_value_heads=1, head_dim=32)
    return LlamaConfig(
        vocab_size=VOCAB,
        rms_norm_eps=1e-5,
        hidden_act="silu",
        attention_bias=False,
        mlp_bias=False,
        tie_word_embeddings=True,
        bos_token_id=EOT,
        eos_token_id=EOT,
        **m,
    )


def batch(data, B, T, gen):
    # Random windows of T+1 tokens from the packed stream (on the data's device): inputs and next-token targets.
    ix = torch.randint(0, data.numel() - T - 1, (B,), generator=gen, device=data.device)
    rows = ix[:, None] + torch.arange(T + 1, device=data.device)[None, :]  # (B, T+1)
    xy = data[rows]
    return xy[:, :-1], xy[:, 1:]


def loss_fn(model, x, y):
    h = model.model(input_ids=x, use_cache=False).last_hidden_state  # (B, T, C)
    logits = model.lm_head(h)  # (B, T, V)
    return F.cross_entropy(logits.float().view(-1, logits.size(-1)), y.reshape(-1))


@torch.no_grad()
def evaluate(model, val, T, windows, device, B):
    # Fixed, evenly spaced windows so every evaluation sees the same tokens.
    model.eval()
    n = min(windows, (val.numel() - 1) // T)
    starts = torch.linspace(0, val.numel() - T - 1, n).long()
    total, count = 0.0, 0
    for i in range(0, n, B):
        rows = starts[i:i + B, None] + torch.arange(T + 1)[None, :]  # (b, T+1)
        xy = val[rows.to(val.device)]
        with torch.autocast(device_type=device.split(":")[0], dtype=torch.bfloat16, enabled=device.startswith("cuda")):
            loss = loss_fn(model, xy[:, :-1], xy[:, 1:])
        total += loss.item() * rows.size(0)
        count += rows.size(0)
    model.train()
    return total / count


def lr_at(frac, args):
    if frac < args.warmup:
        return args.lr * frac / args.warmup
    p = min(1.0, (frac - args.warmup) / (1.0 - args.warmup))
    return args.lr * (args.min_lr_ratio + (1 - args.min_lr_ratio) * 0.5 * (1 + math.cos(math.pi * p)))


def export(state, config, out):
    # F16 weights via save_pretrained: HF tensor names, tied lm_head left out.
    model = LlamaForCausalLM(config)
    model.load_state_dict(state)
    model.to(torch.float16).save_pretrained(out)
    path = os.path.join(out, "config.json")
    with open(path) as f:
        cfg = json.load(f)
    cfg["limelight_encoding"] = "p50k_edit"
    cfg["limelight_prompt_layout"] = "engine/tokenizer/promptFormats.ts (SPM FIM, <path: ...> header, Summary cue)"
    with open(path + ".tmp", "w") as f:
        json.dump(cfg, f, indent=2)
    os.replace(path + ".tmp", path)
    gen_cfg = os.path.join(out, "generation_config.json")
    if os.path.exists(gen_cfg):
        os.remove(gen_cfg)


@torch.no_grad()
def reference(out, prompts):
    # Logits of the exported F16 weights, run in float32 on the CPU with eager attention:
    # what the engine must reproduce when it loads model.safetensors.
    from safetensors.torch import save_file

    model = LlamaForCausalLM.from_pretrained(out, attn_implementation="eager").float().eval()
    tensors, entries = {}, []
    for p in prompts:
        ids = torch.tensor([p["ids"]])
        logits = model(input_ids=ids).logits[0]  # (T, V)
        # Greedy continuation by full forward passes (no KV cache, no stop token): 16 argmax ids.
        seq, greedy = ids, []
        for _ in range(16):
            nxt = model(input_ids=seq).logits[0, -1].argmax().item()
            greedy.append(nxt)
            seq = torch.cat([seq, torch.tensor([[nxt]])], dim=1)
        last = logits[-2:].contiguous()
        tensors[f"{p['name']}.last_logits"] = last
        entries.append({
            "name": p["name"],
            "ids": p["ids"],
            "argmax": logits.argmax(-1).tolist(),
            "max_logit": logits.max(-1).values.tolist(),
            "logsumexp": torch.logsumexp(logits, -1).tolist(),
            "last_logits": {"tensor": f"{p['name']}.last_logits", "positions": [len(p["ids"]) - 2, len(p["ids"]) - 1]},
            "greedy_16": greedy,
        })
    save_file(tensors, os.path.join(out, "reference.safetensors"))
    with open(os.path.join(out, "reference.json"), "w") as f:
        json.dump({"what": "float32 CPU eager-attention logits of model.safetensors (F16 weights upcast)", "prompts": entries}, f)


def render_card(out, info, manifest):
    template = os.path.join(os.path.dirname(os.path.abspath(__file__)), "MODEL_CARD.template.md")
    with open(template) as f:
        text = f.read()
    npm = sorted({(s["package"], s["version"], s["license"]) for s in manifest.get("sources", []) if s["origin"] == "npm"})
    deb = sorted({(s["package"].split(" (")[0], s["version"], s["license"]) for s in manifest.get("sources", []) if s["origin"] != "npm"})
    rows = [f"| {p} | {v} | {lic} |" for p, v, lic in deb + npm]
    values = {**{k: str(v) for k, v in info.items() if not isinstance(v, (dict, list))}, "sources_table": "\n".join(rows)}
    for k, v in values.items():
        text = text.replace("{{" + k + "}}", v)
    with open(os.path.join(out, "README.md"), "w") as f:
        f.write(text)


def main():
    args = parse_args()
    torch.manual_seed(args.seed)
    os.makedirs(args.out, exist_ok=True)
    t_setup = time.time()
    with open(os.path.join(args.data, "index.json")) as f:
        index = json.load(f)
    if index.get("encoding") != "p50k_edit" or index.get("vocabSize") != VOCAB:
        fail(f"{args.data}/index.json says encoding {index.get('encoding')} with {index.get('vocabSize')} ids; this script trains p50k_edit ({VOCAB}). Rebuild the corpus.")
    with open(os.path.join(args.data, "prompts.json")) as f:
        prompts = json.load(f)
    manifest_path = os.path.join(args.data, "manifest.json")
    manifest = {}
    if os.path.exists(manifest_path):
        with open(manifest_path) as f:
            manifest = json.load(f)
    train = load_tokens(os.path.join(args.data, "train.bin"))
    val = load_tokens(os.path.join(args.data, "val.bin"))
    device = args.device
    on_gpu = device.startswith("cuda")
    if on_gpu:
        train, val = train.to(device), val.to(device)
        torch.backends.cuda.matmul.allow_tf32 = True
        torch.backends.cudnn.allow_tf32 = True

    config = model_config(args.tiny)
    model = LlamaForCausalLM(config).to(device)
    n_params = sum(p.numel() for p in model.parameters())
    print(f"model: llama, {n_params / 1e6:.2f}M parameters, train {train.numel()} tokens, val {val.numel()} tokens", flush=True)
    if n_params > 40e6:
        fail(f"{n_params} parameters is over the 40M limit; shrink MODEL.")

    decay = [p for n, p in model.named_parameters() if p.dim() >= 2]
    no_decay = [p for n, p in model.named_parameters() if p.dim() < 2]
    opt = torch.optim.AdamW(
        [{"params": decay, "weight_decay": args.weight_decay}, {"params": no_decay, "weight_decay": 0.0}],
        lr=args.lr, betas=(0.9, 0.95), eps=1e-8, fused=on_gpu,
    )
    step_loss = torch.compile(loss_fn) if args.compile and on_gpu else loss_fn
    gen = torch.Generator(device=train.device)
    gen.manual_seed(args.seed)

    autocast = dict(device_type=device.split(":")[0], dtype=torch.bfloat16, enabled=on_gpu)

    def train_step(fn):
        total = 0.0
        for _ in range(args.accum):
            x, y = batch(train, args.batch, args.seq, gen)
            with torch.autocast(**autocast):
                loss = fn(model, x, y) / args.accum
            loss.backward()
            total += loss.detach()
        return total

    log, evals = [], []
    best = {"val_loss": float("inf"), "state": None, "step": 0}
    tokens_per_step = args.batch * args.accum * args.seq
    step, t_train, next_eval = 0, None, 0.0
    print(f"setup {time.time() - t_setup:.1f}s; {tokens_per_step} tokens per step; budget {args.time_budget:.0f}s", flush=True)

    while True:
        if t_train is None and step == 1:
            # Step 0 includes compilation; the time budget starts after it.
            if on_gpu:
                torch.cuda.synchronize()
            t_train = time.time()
        elapsed = 0.0 if t_train is None else time.time() - t_train
        frac = elapsed / args.time_budget
        if frac >= 1.0:
            break
        if elapsed >= next_eval:
            vl = evaluate(model, val, args.seq, args.eval_windows, device, args.batch)
            evals.append({"step": step, "seconds": round(elapsed, 1), "val_loss": vl})
            print(f"step {step} t {elapsed:.0f}s val loss {vl:.4f}", flush=True)
            if vl < best["val_loss"]:
                best = {"val_loss": vl, "state": {k: v.detach().float().cpu().clone() for k, v in model.state_dict().items()}, "step": step}
            next_eval = elapsed + args.eval_every
        lr = lr_at(frac, args)
        for g in opt.param_groups:
            g["lr"] = lr
        try:
            total = train_step(step_loss)
        except Exception as e:
            if step > 0 or step_loss is loss_fn:
                raise
            # torch.compile fails lazily, on the first call: train eager instead.
            print(f"compiled step failed ({type(e).__name__}: {e}); running eager", flush=True)
            step_loss = loss_fn
            opt.zero_grad(set_to_none=True)
            total = train_step(step_loss)
        norm = torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        opt.zero_grad(set_to_none=True)
        step += 1
        if step % 20 == 0 or step == 1:
            tl = total.item()
            rate = (step - 1) * tokens_per_step / max(elapsed, 1e-9) if t_train is not None else 0.0
            log.append({"step": step, "seconds": round(elapsed, 1), "loss": tl, "lr": lr, "grad_norm": norm.item(), "tokens_per_s": round(rate)})
            print(f"step {step} t {elapsed:.0f}s loss {tl:.4f} lr {lr:.2e} norm {norm.item():.2f} {rate / 1e3:.0f}k tok/s", flush=True)
            if not math.isfinite(tl):
                fail(f"loss became {tl} at step {step}; lower --lr and rerun.")

    vl = evaluate(model, val, args.seq, args.eval_windows, device, args.batch)
    evals.append({"step": step, "seconds": round(time.time() - t_train, 1), "val_loss": vl})
    print(f"final step {step} val loss {vl:.4f} (best {min(vl, best['val_loss']):.4f})", flush=True)
    if vl <= best["val_loss"]:
        best = {"val_loss": vl, "state": {k: v.detach().float().cpu().clone() for k, v in model.state_dict().items()}, "step": step}

    t_export = time.time()
    export(best["state"], config, args.out)
    reference(args.out, prompts)
    seconds = time.time() - t_train
    info = {
        "parameters": n_params,
        "parameters_m": f"{n_params / 1e6:.2f}",
        "steps": step,
        "best_step": best["step"],
        "tokens_seen": step * tokens_per_step,
        "epochs": f"{step * tokens_per_step / train.numel():.2f}",
        "train_tokens": train.numel(),
        "val_tokens": val.numel(),
        "val_loss": f"{best['val_loss']:.4f}",
        "val_bits_per_token": f"{best['val_loss'] / math.log(2):.4f}",
        "train_seconds": round(seconds, 1),
        "export_seconds": round(time.time() - t_export, 1),
        "device": torch.cuda.get_device_name() if on_gpu else "cpu",
        "torch": torch.__version__,
        "transformers": __import__("transformers").__version__,
        "batch_tokens": tokens_per_step,
        "lr": args.lr,
        "time_budget": args.time_budget,
        "seq": args.seq,
        "hidden_size": config.hidden_size,
        "layers": config.num_hidden_layers,
        "heads": config.num_attention_heads,
        "kv_heads": config.num_key_value_heads,
        "ffn": config.intermediate_size,
        "corpus_seed": index.get("seed"),
        "fim_rate": index.get("fimRate"),
        "log": log,
        "evals": evals,
        "corpus": {"splits": index.get("splits"), "budgets": index.get("budgets")},
    }
    with open(os.path.join(args.out, "training.json"), "w") as f:
        json.dump(info, f, indent=1)
    render_card(args.out, info, manifest)
    print(f"exported to {args.out}: best val loss {best['val_loss']:.4f} at step {best['step']}", flush=True)


if __name__ == "__main__":
    main()
