// Which attention lines to draw for one query: the strongest first, at most topK of them,
// none weaker than threshold. With a thousand keys per row, drawing every line turns the
// head view into a grey wash; a filter keeps it readable and fast.

/**
 * Indices of the kept keys of `row` (probabilities), strongest first. topK <= 0 means no
 * limit; ties keep the earlier key first.
 */
export function filterLines(row: ArrayLike<number>, threshold: number, topK: number): number[] {
  const kept: number[] = [];
  for (let k = 0; k < row.length; k++) if (row[k]! >= threshold && row[k]! > 0) kept.push(k);
  kept.sort((a, b) => row[b]! - row[a]! || a - b);
  return topK > 0 && kept.length > topK ? kept.slice(0, topK) : kept;
}

/** The k largest entries of `values` as (index, value), largest first, in one pass. */
export function topK(values: ArrayLike<number>, k: number, outIdx: Int32Array, outVal: Float32Array): number {
  let n = 0;
  for (let i = 0; i < values.length; i++) {
    const v = values[i]!;
    if (n === k && !(v > outVal[k - 1]!)) continue;
    let j = n < k ? n++ : k - 1;
    while (j > 0 && outVal[j - 1]! < v) {
      outVal[j] = outVal[j - 1]!;
      outIdx[j] = outIdx[j - 1]!;
      j--;
    }
    outVal[j] = v;
    outIdx[j] = i;
  }
  return n;
}
