// "Export Training Data": the workspace dataset as JSON Lines in the layout Hugging Face
// `datasets` reads without a loading script (data/train.jsonl and data/test.jsonl become the
// train and test splits of load_dataset("<folder>")), with the same 90/10 split by file as
// Fine-tune on Workspace, and a README on fine-tuning a larger model on it with PEFT.
// Nothing is overwritten: the export refuses a folder that already holds a dataset.
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { writeFileAtomic } from '../io/atomicFile';
import { splitByFile, type SourceFile } from './workspaceDataset';
import { FIM_RATE } from './sourceExamples';

export interface ExportedDataset {
  dir: string;
  train: number;
  test: number;
  files: string[];
}

export class ExportError extends Error {
  override name = 'ExportError';
}

const README = (train: number, test: number): string => `---
configs:
- config_name: default
  data_files:
  - split: train
    path: data/train.jsonl
  - split: test
    path: data/test.jsonl
---

# Workspace dataset exported by Limelight

${train} training files and ${test} held-out files (split by file, as Limelight's own
fine-tune does). Each line of \`data/*.jsonl\` is one source file:
\`{"path": "src/foo.ts", "language": "ts", "text": "..."}\`. Files that Limelight skips
(ignored, excluded, dependencies, build output, lock files, binaries, minified or generated
code, anything that looks like a secret) are not in it. Check it before you upload it anywhere.

## Fine-tune a larger model with PEFT (on a GPU machine)

\`\`\`bash
pip install "transformers>=4.44" "peft>=0.12" datasets accelerate
python finetune.py   # the script below
\`\`\`

\`\`\`python
from datasets import load_dataset
from peft import LoraConfig, get_peft_model
from transformers import (AutoModelForCausalLM, AutoTokenizer, DataCollatorForLanguageModeling,
                          Trainer, TrainingArguments)

base = "bigcode/starcoderbase-1b"   # any causal LM; keep Limelight's layout if it is Limelight's model
ds = load_dataset(".")              # this folder: train and test splits
tok = AutoTokenizer.from_pretrained(base)
tok.pad_token = tok.pad_token or tok.eos_token

def to_text(ex):
    # Limelight's left-to-right layout: a path header, the code, end of text.
    # (Limelight also trains fill-in-the-middle on ${Math.round(FIM_RATE * 100)} % of files; add it if your model has FIM tokens.)
    return {"text": f"<path: {ex['path']}>\\n{ex['text']}{tok.eos_token}"}

def tokenize(batch):
    return tok(batch["text"], truncation=True, max_length=1024)

ds = ds.map(to_text).map(tokenize, batched=True, remove_columns=["path", "language", "text"])
model = AutoModelForCausalLM.from_pretrained(base)
model = get_peft_model(model, LoraConfig(r=16, lora_alpha=32, lora_dropout=0.05, task_type="CAUSAL_LM"))
args = TrainingArguments("out", per_device_train_batch_size=4, gradient_accumulation_steps=4,
                         num_train_epochs=3, learning_rate=2e-4, eval_strategy="epoch",
                         logging_steps=10, bf16=True, report_to=[])
Trainer(model=model, args=args, train_dataset=ds["train"], eval_dataset=ds["test"],
        data_collator=DataCollatorForLanguageModeling(tok, mlm=False)).train()
model.save_pretrained("adapter")    # adapter_config.json + adapter_model.safetensors
\`\`\`

Bring the adapter back with **Limelight: Import Adapter** (a folder holding
\`adapter_config.json\` and \`adapter_model.safetensors\`). Limelight can run it only on the
model it was trained for: the base model must be the one set in \`limelight.model.path\`.

## Serve the adapter from your team's inference server

Limelight's remote backend (\`limelight.backend\`: \`remote\`) sends completions and summaries
to a server, so the whole team gets the adapted model. vLLM serves a PEFT adapter beside its
base model, under a name of its own:

\`\`\`bash
vllm serve bigcode/starcoderbase-1b --enable-lora --lora-modules workspace=./adapter
\`\`\`

User settings: \`"limelight.remote.endpoint": "https://HOST/v1"\` (vLLM's port 8000 behind https),
\`"limelight.remote.api": "openai-completions"\`, \`"limelight.remote.model": "workspace"\`,
\`"limelight.remote.fimTemplate": "starcoder"\` (the base model's FIM markers; the adapter's
name does not say them).

llama.cpp's server takes the adapter converted to GGUF (the converter is in llama.cpp's
repository) beside the base model in GGUF:

\`\`\`bash
python convert_lora_to_gguf.py adapter --base /path/to/base-model-folder --outfile adapter.gguf
llama-server -m base.gguf --lora adapter.gguf --port 8080
\`\`\`

User settings: \`"limelight.remote.endpoint": "https://HOST"\` (port 8080 behind https),
\`"limelight.remote.api": "llama-infill"\`. Run **Limelight: Set Remote API Key** if the server
asks for one (\`--api-key\` in both servers). Plain http to another machine sends your code
unencrypted, so Limelight refuses it unless \`limelight.remote.allowHttp\` is on.
`;

function jsonl(files: readonly SourceFile[]): string {
  return files.map((f) => JSON.stringify({ path: f.path, language: f.path.slice(f.path.lastIndexOf('.') + 1), text: f.text })).join('\n') + (files.length > 0 ? '\n' : '');
}

/** Writes README.md, data/train.jsonl and data/test.jsonl into `dir` (created if needed). */
export function exportTrainingData(dir: string, files: readonly SourceFile[]): ExportedDataset {
  const targets = [join(dir, 'README.md'), join(dir, 'data', 'train.jsonl'), join(dir, 'data', 'test.jsonl')];
  const present = targets.filter((p) => existsSync(p));
  if (present.length > 0) throw new ExportError(`${present[0]} already exists; Limelight never overwrites files. Choose an empty folder.`);
  if (files.length === 0) throw new ExportError('No workspace file passed the filters, so there is nothing to export. Check limelight.fineTune.include.');
  const split = splitByFile(files);
  mkdirSync(join(dir, 'data'), { recursive: true });
  writeFileAtomic(targets[1]!, jsonl(split.train));
  writeFileAtomic(targets[2]!, jsonl(split.heldOut));
  writeFileAtomic(targets[0]!, README(split.train.length, split.heldOut.length));
  return { dir, train: split.train.length, test: split.heldOut.length, files: targets };
}
