// An instruct model's chat template (Jinja, from tokenizer_config.json or GGUF
// tokenizer.chat_template) rendered with @huggingface/jinja, the implementation transformers.js
// uses: any template a model ships works, ChatML (Qwen), Llama 3 and DeepSeek alike. The
// template's own text names its special tokens (<|im_start|>...), so it is encoded with them
// parsed, while the messages' text (a user's code) is encoded as plain text: code that spells
// <|im_end|> cannot end its message. The template adds BOS itself where the model wants one.
import { Template } from '@huggingface/jinja';
import { TokenizerError, type Tokenizer } from './tokenizer';

export interface ChatMessage {
  role: 'system' | 'user' | 'assistant';
  content: string;
}

export class ChatTemplate {
  private readonly template: Template;

  constructor(
    readonly source: string,
    private readonly tokenizer: Tokenizer,
  ) {
    try {
      this.template = new Template(source);
    } catch (e) {
      throw new TokenizerError(`the model's chat template cannot be parsed (${(e as Error).message.split('\n')[0]}); summaries use a plain prompt instead. Fix chat_template in tokenizer_config.json, or use the model's original files.`);
    }
  }

  /** The prompt text for these messages, ending where the assistant's answer starts. */
  render(messages: readonly ChatMessage[]): string {
    const t = this.tokenizer;
    const text = (id: number | null): string => (id === null ? '' : t.tokenText(id));
    return this.template.render({
      messages,
      add_generation_prompt: true,
      bos_token: text(t.bosId),
      eos_token: text(t.eosIds[0] ?? null),
    });
  }

  /**
   * The rendered prompt as ids. Each message is rendered as a placeholder, so the template's
   * text (special tokens parsed) and the messages' text (plain, trimmed as templates trim it)
   * are encoded apart.
   */
  encode(messages: readonly ChatMessage[]): number[] {
    const mark = (i: number): string => `\u0000limelight-message-${i}\u0000`;
    const rendered = this.render(messages.map((m, i) => ({ role: m.role, content: mark(i) })));
    const out: number[] = [];
    let at = 0;
    for (let i = 0; i < messages.length; i++) {
      const hole = rendered.indexOf(mark(i), at);
      if (hole < 0) throw new TokenizerError(`the model's chat template dropped message ${i + 1}; summaries use a plain prompt instead.`);
      out.push(...this.tokenizer.encodeParsingSpecials(rendered.slice(at, hole)), ...this.tokenizer.encode(messages[i]!.content.trim()));
      at = hole + mark(i).length;
    }
    out.push(...this.tokenizer.encodeParsingSpecials(rendered.slice(at)));
    return out;
  }
}
