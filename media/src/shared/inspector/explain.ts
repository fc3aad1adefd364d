// The short explanations each view carries: the idea behind what it shows, in plain words.
import type { InspectorViewId } from '../inspectorProtocol';

export const EXPLAIN: Record<InspectorViewId, { title: string; text: string }> = {
  heads: {
    title: 'Heads',
    text:
      'Self-attention works like a spotlight: to process a token, each head shines on the earlier tokens it finds useful and mixes in what it sees there. ' +
      'Lines go from a token (left) to the tokens it looks at (right); the stronger the line, the brighter the spotlight. ' +
      'Each colour is one head: several heads look at the same text for different relations (the previous token, a matching bracket, a variable’s definition). ' +
      'Click a head to hide or show it, double-click to see it alone; hover a token to see only its lines.',
  },
  model: {
    title: 'Model',
    text:
      'Every layer has its own heads, and layers are stacked: each reads what the layers below wrote. ' +
      'Each square is one head of one layer (rows: layers, columns: heads), drawn as a map from each token (down) to the tokens it attends to (across). ' +
      'Diagonal lines are heads that look at the previous tokens; vertical stripes are heads that always look at one token, often the first. Click a square to open it.',
  },
  heatmap: {
    title: 'Heatmap',
    text:
      'One head as a grid: row = the token doing the looking, column = the token looked at, brightness = attention weight. ' +
      'Each row sums to 1: a head splits a fixed amount of attention among the tokens before it (never after: the model cannot see the future). Hover a cell for its value.',
  },
  aggregate: {
    title: 'Aggregate',
    text:
      'The mean over heads shows where a whole layer looks. Rollout follows attention through the stack: after each attention step a feed-forward layer transforms every token on its own, ' +
      'and a residual connection keeps what was there, so rollout counts half of each token as itself and chains the layers together, estimating how much each input token feeds each position by the given layer.',
  },
  stepper: {
    title: 'Generation',
    text:
      'A model writes one token at a time. Step through the tokens: for each one, the prompt is tinted by how much attention the model paid to each earlier token just before writing it ' +
      '(the current layer’s heads averaged, or the rollout through all layers up to it).',
  },
  lens: {
    title: 'Logit lens',
    text:
      'Between layers, each token is a vector in the residual stream. Applying the model’s final layer early reads out what it would predict if it stopped there: ' +
      'watch the guess for the next token form and sharpen layer by layer. The final distribution below can be re-weighted with a temperature: low makes the top choice surer, high spreads the choice.',
  },
  positions: {
    title: 'Positions',
    text:
      'Attention alone ignores word order, so models add position information. GPT-2 adds a learned vector per position (similar positions get similar vectors: a bright diagonal band). ' +
      'Llama rotates queries and keys by angles that grow with position (RoPE), at many speeds, so their match depends on how far apart they are. The curves show how attention actually falls with distance in this run.',
  },
};

/**
 * Added to the head and model views' explanations when the model groups its heads
 * (grouped-query attention: Llama 3, Qwen2.5-Coder, StarCoder2).
 */
export const KV_GROUPS_TEXT =
  'In this model several query heads share one key/value head (grouped-query attention, which shrinks the memory kept per token): ' +
  'the heads of a key/value group compare their own queries with the same keys and mix the same values, so they often look at similar tokens.';
